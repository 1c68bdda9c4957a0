"""Exit codes of integ-lint (the command line and the API agree on them) and how a
report maps to one."""

from __future__ import annotations

from integ_lint.findings.model import NotificationKind, Report, Severity

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3


def exit_code(
    report: Report, fail_on: str, exit_zero: bool = False, fail_on_incomplete: bool = False
) -> int:
    """0: nothing at or above ``fail_on``; 1: findings; 3: the run was incomplete and
    ``fail_on_incomplete`` is on (otherwise the findings decide, and the notifications
    still say what was not checked)."""
    if report.incomplete and fail_on_incomplete:
        return EXIT_INCOMPLETE
    if exit_zero:
        return EXIT_OK
    if any(n.kind == NotificationKind.EXPIRED for n in report.notifications):
        return EXIT_FINDINGS  # expired baseline entries fail the run
    threshold = Severity.parse(fail_on).rank
    if any(f.severity.rank >= threshold for f in report.findings):
        return EXIT_FINDINGS
    return EXIT_OK
