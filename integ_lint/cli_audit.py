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
from pathlib import Path

import click

from . import __version__
from .audit import (
    APPROVED,
    CONDITIONALLY_APPROVED,
    NEEDS_FURTHER_REVIEW,
    AuditError,
    Header,
    build_certificate,
    build_scope,
    coupling_view,
    policy_from_settings,
    snake_name,
)
from .certificate import (
    CertificateError,
    discover_relpaths,
    verify_certificate,
    write_certificate,
)
from .cli import (
    baseline_option,
    config_file_option,
    fail,
    jobs_option,
    load_project_config,
    main,
    no_baseline_option,
    run_scan,
)
from .config import ConfigError
from .discovery import DiscoveryError
from .engine import EXIT_FINDINGS, EXIT_INCOMPLETE, RunOptions
from .settings import AuditSettings

AUDIT_EXIT_HELP = (
    "Exit codes: 0 APPROVED or CONDITIONALLY_APPROVED; 1 REQUIRES_REMEDIATION or REJECTED; "
    "2 usage or configuration error; 3 NEEDS_FURTHER_REVIEW."
)
VERIFY_EXIT_HELP = "Exit codes: 0 valid; 1 stale or tampered; 2 unusable input."


@main.command("audit", epilog=AUDIT_EXIT_HELP)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--component", required=True, help="The component reviewed (snake_case in names).")
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
    help="Report findings only on files changed since git revision REV (a pull-request "
    "review); the whole project is still analysed.",
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
    output_format: str,
    config_file: Path | None,
    baseline_file: Path | None,
    no_baseline: bool,
    jobs: int | None,
    no_cache: bool,
) -> None:
    """Run every rule family over PATHS (default: the current folder) and write a review
    certificate (Markdown, plus the canonical JSON its hash covers)."""
    scan_paths = list(paths) or [Path(".")]
    config = load_project_config(scan_paths, config_file)
    settings = config.section(AuditSettings)
    try:
        settings.validate(str(config.config_file) if config.config_file else "default")
    except ConfigError as exc:
        fail(str(exc))
    try:
        component_name = snake_name(component, "--component")
        descriptor_name = snake_name(descriptor or settings.descriptor, "--descriptor")
    except AuditError as exc:
        fail(str(exc))
    if agent is not None and not agent.strip():
        fail("--agent: must not be empty")
    target = out_dir if out_dir is not None else config.root / settings.out_dir

    from .cli_baseline import configured_baseline, prepare_gate

    options = RunOptions(jobs=jobs, use_cache=not no_cache)
    prepare_gate(options, scan_paths, config, baseline_file, since, False, no_baseline)
    baseline_path = None if no_baseline else (baseline_file or configured_baseline(config))
    report = run_scan(scan_paths, config, options)
    try:
        discovered = discover_relpaths(scan_paths, config)
    except DiscoveryError as exc:
        fail(str(exc))
    scope = build_scope(
        report,
        config.root,
        scan_paths,
        target,
        discovered,
        baseline=baseline_path,
        since=since,
        changed_files=options.report_paths if since is not None else None,
    )
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
    header = Header(
        title=f"{descriptor_name.replace('_', ' ').upper()} CERTIFICATE",
        descriptor=descriptor_name,
        component=component_name,
        agent=" ".join(agent.split()) if agent else f"integ-lint {__version__}",
        timestamp=now.strftime("%Y-%m-%d %H:%M:%S UTC"),
        certificate_id=(
            f"IL-{component_name.upper().replace('_', '-')}-{now.strftime('%Y%m%d-%H%M%S')}-"
            f"{secrets.token_hex(4).upper()}"
        ),
        tool_version=__version__,
    )
    coupling = coupling_view(report, scan_paths, config, jobs=jobs if jobs is not None else 1)
    certificate = build_certificate(report, scope, header, policy_from_settings(settings), coupling)
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
        click.echo(f"Status: {status}", err=True)
    else:
        click.echo(str(written.markdown_path))
        click.echo(f"Status: {status}", err=True)
    if status in (APPROVED, CONDITIONALLY_APPROVED):
        sys.exit(0)
    if status == NEEDS_FURTHER_REVIEW:
        sys.exit(EXIT_INCOMPLETE)
    sys.exit(EXIT_FINDINGS)


@main.group("certificate")
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
