"""``integ-lint rules`` and ``integ-lint explain``: the rules and their documentation."""

from __future__ import annotations

import sys

import click

from integ_lint.cli.options import fail, use_color
from integ_lint.engine.registry import load_registry


@click.command("rules")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def rules_command(output_format: str) -> None:
    """List every rule: code, name, family, default severity."""
    from integ_lint import api

    infos = api.rules()
    if output_format == "json":
        import json

        click.echo(
            json.dumps(
                [
                    {
                        "code": r.code,
                        "name": r.name,
                        "family": r.family,
                        "severity": r.severity.value,
                        "summary": r.summary,
                        "fixable": r.fixable,
                        "kind": r.kind,
                        "default": r.default_enabled,
                    }
                    for r in infos
                ],
                indent=2,
            )
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="integ-lint rules", show_lines=False)
    for column in ("Code", "Name", "Family", "Severity", "Fix", "Default", "Summary"):
        table.add_column(column)
    for r in infos:
        table.add_row(
            r.code,
            r.name,
            r.family,
            r.severity.value,
            "yes" if r.fixable else "",
            "on" if r.default_enabled else "opt-in",
            r.summary,
        )
    Console(no_color=not use_color(sys.stdout, None), width=160).print(table)


@click.command()
@click.argument("code")
def explain(code: str) -> None:
    """Show a rule's documentation and examples."""
    registry = load_registry()
    if code.upper() not in registry.codes:
        fail(f"unknown rule code {code!r} (see 'integ-lint rules')")
    rule = registry.ref(code.upper())  # a handle imports its class for the examples
    from rich.console import Console
    from rich.markdown import Markdown

    text = f"# {rule.code} {rule.name}\n\nFamily: {rule.family}. Default severity: {rule.severity.value}."
    text += f" Reports on {', '.join(sorted(rule.roles))} files."
    text += f"\n\n{rule.documentation()}\n"
    from integ_lint.engine.examples import dedent

    if rule.INVALID:
        text += "\n## Reported\n"
        for example in rule.INVALID:
            text += f"\n```python\n{dedent(example.code)}```\n"
    if rule.VALID:
        text += "\n## Not reported\n"
        for valid in rule.VALID:
            text += f"\n```python\n{dedent(valid.code)}```\n"
    Console(no_color=not use_color(sys.stdout, None), width=100).print(Markdown(text))
