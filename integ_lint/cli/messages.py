"""``integ-lint messages PATH``: the message-flow map. A table of events (publishers,
subscribers, payload keys sent and read), or a picture of components -> events ->
components as Mermaid, DOT, JSON, SVG or HTML."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from integ_lint.cli.options import (
    emit,
    fail,
    gather_view,
    use_color,
    view_command,
)
from integ_lint.config.loader import Config
from integ_lint.config.settings import MessageSettings
from integ_lint.facts.messages import MessageFactCollector
from integ_lint.model.messages import build_message_index
from integ_lint.model.project import ProjectIndex
from integ_lint.views.messages import (
    TITLE,
    EventRow,
    dot,
    event_rows,
    html_page,
    mermaid,
    svg,
)

MESSAGE_FORMATS = ("table", "json", "mermaid", "dot", "svg", "html")


def render_table(rows: list[EventRow], color: bool, title: str = TITLE) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(no_color=not color, width=180, soft_wrap=False)
    if not rows:
        console.print(
            "No events found with a name known statically (event-bus publish/subscribe "
            "calls on receivers named like [tool.integ-lint.messages] bus-receivers, the "
            "configured publish/subscribe patterns, pyee emitters, redis streams and "
            "channels, or the project's Signal objects).",
            markup=False,
        )
        return
    table = Table(title=title)
    for column in ("Event", "Publishers", "Subscribers", "Keys sent", "Keys read"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row.event,
            ", ".join(row.publishers) or "-",
            ", ".join(row.subscribers) or "-",
            "unknown" if row.sent is None else ", ".join(row.sent) or "-",
            ", ".join(row.read) or "-",
        )
    console.print(table)


def message_rows(project: ProjectIndex) -> list[EventRow]:
    receivers = project.config.section(MessageSettings).bus_receivers
    return event_rows(build_message_index(project, tuple(receivers)), project)


@view_command(
    "messages",
    MESSAGE_FORMATS,
    "table",
    "table: events with publishers, subscribers and payload keys; otherwise the "
    "components -> events -> components map.",
)
def messages_command(
    paths: tuple[Path, ...],
    config_file: Path | None,
    output_format: str,
    output: Path | None,
    jobs: int | None,
    color: bool | None,
) -> None:
    """Show which components publish and subscribe to which events in PATHS."""
    from integ_lint.engine.members import each_project
    from integ_lint.engine.pipeline import index_project
    from integ_lint.views.messages import merge_event_rows

    def gather(
        scan_paths: list[Path], config: Config, notes: list[str]
    ) -> list[tuple[str, list[EventRow]]]:
        def build(
            own: list[Path], project_config: Config, subprojects: list[Path]
        ) -> list[EventRow]:
            project, project_notes = index_project(
                own,
                project_config,
                [MessageFactCollector],
                jobs=config.general.jobs if jobs is None else jobs,
                subprojects=subprojects,
            )
            notes.extend(project_notes)
            return message_rows(project)

        # Every monorepo member the paths reach, each with its own settings.
        return each_project(scan_paths, config, build, notes)

    parts = gather_view(paths, config_file, gather)
    rows = merge_event_rows(parts)
    summary = f"{len(rows)} events."
    if output_format == "table":
        if output is not None:
            fail("--output needs a map format (--format json|mermaid|dot|svg|html)")
        if len(parts) == 1 and not parts[0][0]:
            render_table(rows, use_color(sys.stdout, color))
            return
        for prefix, project_rows in parts:  # one section per project
            title = f"{TITLE} ({prefix or '.'})"
            if project_rows:
                render_table(project_rows, use_color(sys.stdout, color), title)
            else:
                click.echo(f"{title}: no events found.")
        return
    renderers = {
        "json": lambda r: (
            json.dumps({"events": [row.__dict__ for row in r]}, indent=2, sort_keys=True) + "\n"
        ),
        "mermaid": mermaid,
        "dot": dot,
        "svg": svg,
        "html": html_page,
    }
    emit(renderers[output_format](rows), output, summary)
