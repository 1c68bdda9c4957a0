"""``integ-lint audit`` (write a review certificate from the analysis) and
``integ-lint certificate verify`` (tell valid, tampered and stale certificates apart).

Exit codes of ``audit``: 0 APPROVED or CONDITIONALLY_APPROVED; 1 REQUIRES_REMEDIATION or
REJECTED; 2 usage or configuration error; 3 NEEDS_FURTHER_REVIEW.
Exit codes of ``certificate verify``: 0 valid; 1 stale or tampered; 2 unusable input.
"""

from __future__ import annotations

import datetime as _dt
import json
import secrets
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import click

from integ_lint import __version__
from integ_lint.audit.certificate import (
    TAMPERED,
    UNUSABLE,
    CertificateError,
    verify_certificate,
    write_certificate,
)
from integ_lint.audit.model import (
    APPROVED,
    CONDITIONALLY_APPROVED,
    NEEDS_FURTHER_REVIEW,
    AuditError,
    Comparison,
    ComponentScope,
    Header,
    audit_collectors,
    build_certificate,
    build_scope,
    coupling_view,
    extract_revision,
    policy_from_settings,
    relative_to,
    resolve_component,
    snake_name,
)
from integ_lint.cli.options import (
    baseline_option,
    config_file_option,
    fail,
    jobs_option,
    load_project_config,
    no_baseline_option,
    run_scan,
)
from integ_lint.config.loader import Config, ConfigError, load_config
from integ_lint.config.settings import AuditSettings
from integ_lint.engine.discovery import DiscoveryError
from integ_lint.engine.exits import EXIT_FINDINGS, EXIT_INCOMPLETE
from integ_lint.engine.members import Member, joined, reached_members, split_by_member
from integ_lint.engine.pipeline import (
    RunOptions,
    discover_files,
    run,
)
from integ_lint.engine.registry import load_registry
from integ_lint.findings.changes import ChangesError, changed_since, git_toplevel, resolve_base
from integ_lint.model.layout import did_you_mean

AUDIT_EXIT_HELP = (
    "Exit codes: 0 APPROVED or CONDITIONALLY_APPROVED; 1 REQUIRES_REMEDIATION or REJECTED; "
    "2 usage or configuration error; 3 NEEDS_FURTHER_REVIEW."
)
VERIFY_EXIT_HELP = "Exit codes: 0 valid; 1 stale or tampered; 2 unusable input."


@click.command("audit", epilog=AUDIT_EXIT_HELP)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--component",
    required=True,
    help="What is reviewed: a name from [tool.integ-lint.audit.components], dotted "
    "packages or modules, or path globs (comma-separated). The whole project is read "
    "as context; findings are reported on the component's files only.",
)
@click.option(
    "--descriptor",
    help="Kind of review, e.g. integration_review [default: the config's audit.descriptor].",
)
@click.option("--agent", help="Who reviewed [default: integ-lint <version>].")
@click.option(
    "--out-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Certificate folder [default: the config's audit.out-dir under the project root].",
)
@click.option(
    "--since",
    metavar="REV",
    help="Pull-request review: the findings new and fixed since git revision REV (its "
    "merge base with HEAD) and the integration points the changes touch; the status "
    "rests on the new findings.",
)
@click.option(
    "--previous",
    type=click.Path(path_type=Path, dir_okay=False),
    help="An earlier certificate (.md with its .json) to compare with: new, fixed and "
    "unchanged findings.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["markdown", "json"]),
    default="markdown",
    show_default=True,
    help="markdown: print the certificate's path; json: print its content as data.",
)
@config_file_option
@baseline_option
@no_baseline_option
@jobs_option
@click.option("--no-cache", is_flag=True, help="Neither read nor write the per-file cache.")
def audit_command(
    paths: tuple[Path, ...],
    component: str,
    descriptor: str | None,
    agent: str | None,
    out_dir: Path | None,
    since: str | None,
    previous: Path | None,
    output_format: str,
    config_file: Path | None,
    baseline_file: Path | None,
    no_baseline: bool,
    jobs: int | None,
    no_cache: bool,
) -> None:
    """Review COMPONENT of the project at PATHS (default: the current folder) and write
    a certificate (Markdown, plus the canonical JSON its hash covers)."""
    scan_paths = list(paths) or [Path(".")]
    config = load_project_config(scan_paths, config_file)
    settings = config.section(AuditSettings)
    try:
        settings.validate(str(config.config_file) if config.config_file else "default")
    except ConfigError as exc:
        fail(str(exc))
    if since is not None and previous is not None:
        fail("--since and --previous: give one comparison at a time")
    try:
        component_name = snake_name(component, "--component")
        descriptor_name = snake_name(descriptor or settings.descriptor, "--descriptor")
    except AuditError as exc:
        fail(str(exc))
    if agent is not None and not agent.strip():
        fail("--agent: must not be empty")

    from integ_lint.cli.baseline import configured_baseline, prepare_gate

    subprojects: list[Path] = []
    general = config.general
    # Paths inside monorepo members are the members' (named from their own roots).
    own_paths = split_by_member(scan_paths, config.root, general.excluded)[0]
    try:
        discovered = discover_files(own_paths, config, subprojects) if own_paths else []
    except DiscoveryError as exc:
        fail(str(exc))
    scope_files = resolve_component(
        component, [(f.relpath, f.module) for f in discovered], settings.components
    )
    names = [name for f in discovered for name in (f.module, f.relpath) if name]
    if not scope_files.files:
        # A monorepo: the component may live in a member, audited as its own project.
        found = _member_component(component, scan_paths, config, subprojects, names)
        if found is not None:
            member, scope_files = found
            config, scan_paths, discovered = member.config, member.paths, member.files
            settings = config.section(AuditSettings)
            try:
                settings.validate(str(config.config_file))
            except ConfigError as exc:
                fail(str(exc))
            click.echo(
                f"integ-lint: --component {component!r} is in the project at "
                f"{member.prefix}; auditing it there, with its own configuration",
                err=True,
            )
    target = out_dir if out_dir is not None else config.root / settings.out_dir
    options = RunOptions(
        jobs=jobs,
        use_cache=not no_cache,
        report_paths=set(scope_files.files),
        collectors=audit_collectors(),
    )
    prepare_gate(options, scan_paths, config, baseline_file, None, False, no_baseline)
    baseline_path = None if no_baseline else (baseline_file or configured_baseline(config))
    # The comparison first: a bad revision or certificate fails before the project scan.
    comparison = None
    if since is not None:
        comparison = _since(since, scan_paths, config, config_file, component, baseline_path, jobs)
    elif previous is not None:
        comparison = _previous(previous)
    report = run_scan(scan_paths, config, options)
    scope = build_scope(
        report,
        config.root,
        scan_paths,
        target,
        [f.relpath for f in discovered],
        scope_files,
        baseline=baseline_path,
        since=since,
        previous=str(previous) if previous is not None else None,
    )
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
    header = Header(
        title=f"{descriptor_name.replace('_', ' ').upper()} CERTIFICATE",
        descriptor=descriptor_name,
        component=component_name,
        agent=" ".join(agent.split()) if agent else f"integ-lint {__version__}",
        timestamp=now.strftime("%Y-%m-%d %H:%M:%S UTC"),
        certificate_id=(
            f"IL-{component_name.upper().replace('_', '-')[:40]}-{now.strftime('%Y%m%d-%H%M%S')}-"
            f"{secrets.token_hex(4).upper()}"
        ),
        tool_version=__version__,
    )
    coupling = coupling_view(report, scope_files)
    certificate = build_certificate(
        report, scope, header, policy_from_settings(settings), coupling, comparison
    )
    try:
        written = write_certificate(certificate, target)
    except CertificateError as exc:
        fail(str(exc))
    status = certificate.decision.status
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "markdown_path": str(written.markdown_path),
                    "json_path": str(written.json_path),
                    "certificate_hash": f"sha256:{written.certificate_hash}",
                    "certificate": written.payload,
                },
                indent=2,
                ensure_ascii=False,
                sort_keys=True,
            )
        )
    else:
        click.echo(str(written.markdown_path))
    reason = ""
    if not scope_files.files:  # the certificate says why; the one line on stderr too
        spec = (scope_files.unmatched or (component,))[0]
        reason = f": --component {component!r} matched no file{did_you_mean(spec, names)}"
    click.echo(f"Status: {status}{reason}", err=True)
    if status in (APPROVED, CONDITIONALLY_APPROVED):
        sys.exit(0)
    if status == NEEDS_FURTHER_REVIEW:
        sys.exit(EXIT_INCOMPLETE)
    sys.exit(EXIT_FINDINGS)


def _member_component(
    component: str,
    scan_paths: list[Path],
    config: Config,
    subprojects: list[Path],
    names: list[str],
) -> tuple[Member, ComponentScope] | None:
    """The monorepo member holding ``component`` and its files there, when the run's
    project itself has none: a dotted module of the member, a component configured in
    the member (or at the top, its paths taken from the run's root), or path globs
    from the member's folder or from the run's root. A component found in several
    members is a usage error; ``names`` gets every member's modules and paths (from the
    run's root) for the did-you-mean of a component found nowhere."""
    notes: list[str] = []
    matches: list[tuple[Member, ComponentScope]] = []
    top_components = config.section(AuditSettings).components
    for member in reached_members(scan_paths, config, subprojects, notes):
        configured = {
            name: [_from_member(spec, member.prefix) for spec in specs]
            for name, specs in top_components.items()
        }
        configured.update(member.config.section(AuditSettings).components)
        spec = ",".join(_from_member(s, member.prefix) for s in component.split(","))
        scope = resolve_component(
            component if component.strip() in configured else spec,
            [(f.relpath, f.module) for f in member.files],
            configured,
        )
        names.extend(n for f in member.files for n in (f.module, joined(member.prefix, f.relpath)))
        if scope.files:
            matches.append((member, scope))
    for note in notes:
        click.echo(f"integ-lint: warning: {note}", err=True)
    if len(matches) > 1:
        projects = ", ".join(member.prefix for member, _ in matches)
        fail(
            f"--component {component!r} names files in several projects ({projects}): "
            f"audit one at a time, e.g. integ-lint audit {matches[0][0].prefix} "
            f"--component {component!r}"
        )
    return matches[0] if matches else None


def _from_member(spec: str, prefix: str) -> str:
    """A path glob written from the run's root (``packages/a/src/**``) as seen from the
    member at ``prefix`` (``src/**``); other specs unchanged."""
    spec = spec.strip()
    return spec[len(prefix) + 1 :] if spec.startswith(prefix + "/") else spec


def _since(
    since: str,
    scan_paths: list[Path],
    config: Config,
    config_file: Path | None,
    component: str,
    baseline_path: Path | None,
    jobs: int | None,
) -> Comparison:
    """The component's findings at the merge base of ``since`` and HEAD (its tree is
    extracted read-only into a temporary folder and analysed like the current one)."""
    from integ_lint.cli.baseline import prepare_gate

    root = config.root.resolve()
    try:
        changes = changed_since(since, root)
        toplevel = git_toplevel(root)
        base = resolve_base(since, toplevel)
    except ChangesError as exc:
        fail(str(exc).replace("--changed-since", "--since"))
    with tempfile.TemporaryDirectory(prefix="integ-lint-since-") as folder:
        try:
            extract_revision(toplevel, base, Path(folder))
        except (ChangesError, AuditError, OSError, tarfile.TarError) as exc:
            fail(f"--since {since}: cannot read the tree of {base[:12]}: {exc}")
        base_root = Path(folder) / root.relative_to(toplevel)
        base_paths = [
            base_root / relative_to(p, root)
            for p in scan_paths
            if not Path(relative_to(p, root)).is_absolute()
        ]
        base_paths = [p for p in base_paths if p.exists()]
        earlier: list[dict[str, Any]] = []
        if base_paths:
            explicit = None
            if config_file is not None:
                inside = relative_to(config_file, root)
                explicit = base_root / inside if not Path(inside).is_absolute() else config_file
                if not explicit.exists():
                    explicit = None
            try:
                base_config = load_config(
                    base_paths, explicit, extra_sections=load_registry().sections
                )
                base_files = discover_files(base_paths, base_config)
            except (ConfigError, DiscoveryError) as exc:
                fail(f"--since {since}: the project at {base[:12]}: {exc}")
            base_scope = resolve_component(
                component,
                [(f.relpath, f.module) for f in base_files],
                base_config.section(AuditSettings).components,
            )
            options = RunOptions(jobs=jobs, use_cache=False, report_paths=set(base_scope.files))
            prepare_gate(
                options, base_paths, base_config, baseline_path, None, False, baseline_path is None
            )
            try:
                base_report = run(base_paths, base_config, options)
            except (ConfigError, DiscoveryError) as exc:
                fail(f"--since {since}: the project at {base[:12]}: {exc}")
            in_scope = set(base_scope.files)
            earlier = [
                {
                    "code": f.code,
                    "severity": f.severity.value,
                    "path": f.path,
                    "line": f.line,
                    "message": " ".join(f.message.split()),
                    "fingerprint": f.fingerprint,
                }
                for f in base_report.findings
                if f.path in in_scope
            ]
    return Comparison("since", since, tuple(earlier), tuple(sorted(changes.paths)))


def _previous(previous: Path) -> Comparison:
    """The findings recorded by an earlier certificate (which must not be tampered)."""
    checked = verify_certificate(previous)
    if checked.status in (TAMPERED, UNUSABLE):
        fail(f"--previous {previous}: {checked.status}: {'; '.join(checked.messages)}")
    try:
        data = json.loads(previous.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"--previous {previous}: cannot read its JSON: {exc}")
    findings = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(findings, list):
        fail(f"--previous {previous}: its JSON has no findings")
    for number, record in enumerate(findings, 1):
        if not (
            isinstance(record, dict)
            and isinstance(record.get("fingerprint"), str)
            and isinstance(record.get("path"), str)
            and isinstance(record.get("line"), int)
        ):
            fail(
                f"--previous {previous}: finding {number} of its JSON is not a record with a "
                "fingerprint, path and line"
            )
    return Comparison("previous", previous.name, tuple(findings))


@click.group("certificate")
def certificate_group() -> None:
    """Work with review certificates written by 'integ-lint audit'."""


@certificate_group.command("verify", epilog=VERIFY_EXIT_HELP)
@click.argument("certificate", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def verify_command(certificate: Path, output_format: str) -> None:
    """Check CERTIFICATE (.md, with its .json beside it): valid, tampered (edited after
    signing) or stale (a scanned file changed, was added or removed)."""
    result = verify_certificate(certificate)
    if output_format == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
        sys.exit(result.exit_code)
    if result.status == "unusable":
        for message in result.messages:
            click.echo(f"integ-lint: error: {message}", err=True)
        sys.exit(result.exit_code)
    if result.status == "tampered":
        click.echo(f"{certificate}: tampered")
        for message in result.messages:
            click.echo(f"  {message}")
        sys.exit(result.exit_code)
    for message in result.messages:
        click.echo(message)
    for label, items in (
        ("changed", result.changed),
        ("added", result.added),
        ("removed", result.removed),
    ):
        for item in items:
            click.echo(f"  {label}: {item}")
    sys.exit(result.exit_code)
