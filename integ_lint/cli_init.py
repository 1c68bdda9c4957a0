"""``integ-lint init [PATH]``: inspect a project and propose a starter
``[tool.integ-lint]`` table, with a baseline of today's findings so that the gate starts
green. Nothing is written without ``--write``; an existing table is replaced only with
``--force``; every write is atomic."""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from .atomic import write_atomic
from .cli import fail, load_project_config, main
from .config import Config, tomllib
from .project import ProjectIndex

BASELINE_NAME = ".integ-lint-baseline.toml"
HOT_PATH_NAMES = (
    "train",
    "train_*",
    "fit",
    "fit_*",
    "*_step",
    "step",
    "learn",
    "rollout",
    "rollout_*",
    "collect_rollouts",
    "*_epoch",
    "run_epoch",
)
_TABLE_HEADER = re.compile(r"^\s*\[\[?\s*tool\s*\.\s*(\"integ-lint\"|integ-lint)\b[^\]]*\]\]?\s*$")
_ANY_HEADER = re.compile(r"^\s*\[")
# Option tables of [tool.integ-lint] (written as [tool.integ-lint.NAME] even when empty).
_SUB_TABLES = frozenset(
    {"event-loops", "boundaries", "config-schema", "gpu", "coupling", "audit", "messages"}
)


@dataclass
class Proposal:
    """What ``init`` decided (``values``: the table, nested tables as dicts), and why
    (one line each)."""

    values: dict[str, Any] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)  # appended after the table
    reasons: list[str] = field(default_factory=list)
    findings: int = 0

    def table(self, name: str) -> dict[str, Any]:
        table: dict[str, Any] = self.values.setdefault(name, {})
        return table

    def toml(self, keep: dict[str, Any] | None = None) -> str:
        """The ``[tool.integ-lint]`` text: ``keep`` (an existing table) with this
        proposal's values over it; lists of names are merged, not replaced."""
        merged = _merge(keep or {}, self.values)
        if not merged:
            merged = {"select": ["IL"]}
        lines = dump_table("tool.integ-lint", merged)
        if self.comments:
            lines.extend(["", *self.comments])
        return "\n".join(lines) + "\n"


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            merged[key] = _merge(old, value)
        elif isinstance(old, list) and isinstance(value, list) and key == "managers":
            merged[key] = list(dict.fromkeys([*old, *value]))
        else:
            merged[key] = value
    return merged


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_string(key)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def dump_table(name: str, table: dict[str, Any]) -> list[str]:
    """TOML lines for ``[name]``: scalars and lists first, then sub-tables and arrays of
    tables (``[[name.key]]``), as a person would write them."""
    lines = [f"[{name}]"]
    nested: list[tuple[str, Any]] = []
    for key, value in table.items():
        if (
            (isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()))
            or (isinstance(value, dict) and key in _SUB_TABLES)
            or _is_table_array(value)
        ):
            nested.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in nested:
        if isinstance(value, dict):
            lines.extend(["", *dump_table(f"{name}.{_toml_key(key)}", value)])
        else:
            for item in value:
                sub = dump_table(f"{name}.{_toml_key(key)}", item)
                sub[0] = f"[[{name}.{_toml_key(key)}]]"
                lines.extend(["", *sub])
    return lines


_TOML_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _toml_string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in value:
        if char in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def propose(root: Path, config: Config, baseline: bool) -> Proposal:
    """Inspect the project at ``root`` (reading it, never running it)."""
    from .engine import RunOptions, project_files, project_layout, run
    from .importlinter_config import find_importlinter_config

    proposal = Proposal()
    layout = project_layout(config)
    roots = [r for r in layout.relative_roots() if r != "."]
    if roots:
        proposal.values["source-roots"] = roots
        proposal.reasons.append(f"source roots {', '.join(roots)} (from {layout.origin})")
    else:
        proposal.reasons.append(
            "source root: the project folder (no src/ layout or packaging hint)"
        )
    files = project_files(config)
    roles = Counter(f.role for f in files)
    described = ", ".join(f"{count} {role}" for role, count in sorted(roles.items()))
    proposal.reasons.append(
        f"{len(files)} Python files: {described}; findings are reported in library files, "
        "the others are read for context (test-paths, script-paths, ... to adjust)"
    )
    contracts = find_importlinter_config(root)
    if contracts is not None and contracts.error is None:
        proposal.reasons.append(
            f"{len(contracts.contracts)} import-linter contracts in {contracts.label}: "
            "checked as written (IL102), nothing to translate"
        )
    report = run(
        [root], config, RunOptions(jobs=config.general.jobs, use_cache=True, keep_project=True)
    )
    project = report.project
    if project is not None:
        _describe_schemas_and_managers(project, proposal)
        _describe_gpu(project, proposal)
    proposal.findings = len(report.findings)
    if baseline:
        proposal.values["baseline"] = BASELINE_NAME
        proposal.reasons.append(
            f"baseline {BASELINE_NAME} records today's {len(report.findings)} findings: "
            "the gate starts green and fails only on new ones"
        )
    return proposal


def _describe_schemas_and_managers(project: ProjectIndex, proposal: Proposal) -> None:
    from .coupling import manager_graph
    from .schema_index import schema_index

    try:
        schemas = [s for s in schema_index(project).schemas.values() if s.is_config]
    except Exception:  # a view only: the run itself reported any rule failure
        schemas = []
    if schemas:
        shown = _listing(sorted(s.name for s in schemas))
        proposal.reasons.append(f"config schemas: {shown} (IL3 checks reads against them)")
    try:
        managers = sorted(m.name for m in manager_graph(project).metrics.values())
    except Exception:
        managers = []
    if managers:
        proposal.reasons.append(f"managers: {_listing(managers)} (integ-lint graph draws them)")


def _listing(names: list[str], limit: int = 8) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _describe_gpu(project: ProjectIndex, proposal: Proposal) -> None:
    from .facts.gpu import GpuFacts, device_owners

    try:
        owners = [o for o in device_owners(project) if o.path]
    except Exception:
        owners = []
    if owners:
        names = sorted({o.name for o in owners})
        proposal.table("gpu")["managers"] = names
        proposal.reasons.append(f"device owners (inferred, now explicit): {_listing(names, 6)}")
    candidates: list[str] = []
    for facts, value in project.facts("gpu"):
        if not isinstance(value, GpuFacts) or not value.uses_torch:
            continue
        if project.role_of(facts.relpath) != "library":
            continue
        for qualname in value.functions:
            last = qualname.rsplit(".", 1)[-1]
            if any(fnmatch.fnmatchcase(last, pattern) for pattern in HOT_PATH_NAMES):
                candidates.append(qualname)
    if candidates:
        shown = sorted(set(candidates))[:10]
        proposal.comments.append(
            "# Candidate hot paths (every host sync in them is reported); to use them, add"
        )
        proposal.comments.append("# under [tool.integ-lint.gpu]:")
        proposal.comments.append(f"# hot-paths = {_toml_value(shown)}")
        proposal.reasons.append(
            f"{len(set(candidates))} candidate hot paths (training/step loops), left commented"
        )


def replace_table(text: str, table: str) -> str:
    """``text`` (a pyproject.toml) without its ``[tool.integ-lint...]`` tables, with
    ``table`` appended."""
    kept: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        if _TABLE_HEADER.match(line):
            skipping = True
            continue
        if skipping and _ANY_HEADER.match(line):
            skipping = False
        if not skipping:
            kept.append(line)
    body = "".join(kept).rstrip("\n")
    return (body + "\n\n" if body else "") + table


@main.command("init")
@click.argument("path", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option("--write", is_flag=True, help="Write the table (and the baseline); default: show.")
@click.option("--force", is_flag=True, help="Replace an existing [tool.integ-lint] table.")
@click.option(
    "--baseline/--no-baseline",
    default=True,
    show_default=True,
    help="Record today's findings in a baseline so that the gate starts green.",
)
def init_command(path: Path | None, write: bool, force: bool, baseline: bool) -> None:
    """Inspect PATH (default: here) and propose a starter [tool.integ-lint] table."""
    root = (path or Path(".")).resolve()
    if not root.is_dir():
        fail(f"{root}: not a folder")
    pyproject = root / "pyproject.toml"
    existing = ""
    if pyproject.exists():
        try:
            existing = pyproject.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"{pyproject}: cannot read: {exc}")
    has_table = any(_TABLE_HEADER.match(line) for line in existing.splitlines())
    if has_table and write and not force:
        fail(
            f"{pyproject}: already has a [tool.integ-lint] table; --force replaces it "
            "(run without --write to see the proposal)"
        )
    # With --force the proposal is made under the existing table, whose keys it keeps.
    config = load_project_config([root], pyproject if pyproject.exists() else None)
    proposal = propose(root, config, baseline)
    keep: dict[str, Any] = {}
    if has_table:
        try:
            keep = tomllib.loads(existing).get("tool", {}).get("integ-lint", {})
        except tomllib.TOMLDecodeError as exc:
            fail(f"{pyproject}: invalid TOML: {exc}")
        proposal.reasons.append(
            "keys of the existing table that init does not decide are kept "
            "(allowlists, contracts, components, severities)"
        )
    click.echo("integ-lint init decided:", err=True)
    for reason in proposal.reasons:
        click.echo(f"  - {reason}", err=True)
    text = proposal.toml(keep)
    click.echo(text, nl=False)
    if not write:
        click.echo(f"\n(nothing written: integ-lint init {path or '.'} --write)", err=True)
        return
    new_text = replace_table(existing, text)
    try:
        tomllib.loads(new_text)
    except tomllib.TOMLDecodeError as exc:  # a bug of ours: never write it
        fail(f"{pyproject}: not written: the new table would not parse ({exc})")
    try:
        write_atomic(pyproject, new_text)
    except OSError as exc:
        fail(f"{pyproject}: cannot write: {exc.strerror or exc}")
    click.echo(f"Wrote [tool.integ-lint] to {pyproject}.", err=True)
    if baseline:
        from .baseline import baseline_from_findings, write_baseline
        from .engine import RunOptions, run

        # Recorded with the table just written, so the first check is green.
        written = load_project_config([root], pyproject)
        report = run([root], written, RunOptions(jobs=written.general.jobs))
        target = root / BASELINE_NAME
        try:
            write_baseline(baseline_from_findings(report.findings), target)
        except OSError as exc:
            fail(f"{target}: cannot write baseline: {exc.strerror or exc}")
        click.echo(f"Recorded {len(report.findings)} findings in {target}.", err=True)
    click.echo(
        "Next: integ-lint check (green now; new findings fail), then add the pre-commit "
        "hook and the CI job from the README (sections pre-commit and GitHub Actions).",
        err=True,
    )
