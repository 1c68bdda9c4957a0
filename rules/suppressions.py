"""IL001: suppression comments that suppress nothing (the engine computes them once the
other rules have run; see :func:`integ_lint.findings.suppressions.unused_suppressions`)."""

from __future__ import annotations

from collections.abc import Iterable

from integ_lint.config.roles import ALL_ROLES
from integ_lint.findings.model import Finding
from integ_lint.findings.suppressions import UNUSED_CODE, UNUSED_NAME, UNUSED_SEVERITY
from integ_lint.rule import Invalid, ProjectRule, Valid


class UnusedSuppression(ProjectRule):
    """Reports ``# integ-lint: ignore`` comments that suppress nothing.

    **What it does**: after every other rule has run, finds suppression comments (or
    codes inside them) that matched no finding on their line or, for a comment on its
    own line, the line below.

    **Why is this bad?** A stale suppression hides the next real defect that lands on
    that line, and tells readers a problem exists where none does.

    **Example**:
    ```python
    value = compute()  # integ-lint: ignore[IL201]
    ```

    **How to fix**: delete the comment, or the codes in it that no longer apply.
    Suppressions of rules that were not selected for the run are left alone.
    """

    code = UNUSED_CODE
    name = UNUSED_NAME
    family = "suppressions"
    severity = UNUSED_SEVERITY
    # A stale comment is stale in a test or a script too.
    roles = ALL_ROLES

    VALID = (
        Valid(
            """
            import asyncio

            def run_sync(coro):
                return asyncio.run(coro)  # integ-lint: ignore[IL201] -- sync facade for old callers
            """,
            config='select = ["IL001", "IL201"]',
        ),
    )
    INVALID = (
        Invalid(
            """
            def add(a, b):
                return a + b  # integ-lint: ignore[IL201]
            """,
            line=2,
            config='select = ["IL001", "IL201"]',
            message="IL201 reported nothing here",
        ),
        Invalid(
            """
            # integ-lint: ignore
            x = 1
            """,
            line=1,
        ),
    )

    def check(self, project: object) -> Iterable[Finding]:
        # Computed by the engine once suppressions are applied (see unused_suppressions).
        return ()
