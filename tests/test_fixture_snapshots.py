"""Whole-fixture snapshots: the findings on each bundled fixture, per rule family,
compared exactly with ``fixtures/<name>/expected/<PREFIX>.txt`` (nothing missing,
nothing extra).

Each expected file is named after the code prefix it covers (``IL2.txt`` holds every
IL2xx finding) and holds the ``--format concise`` lines. Regenerate after a deliberate
change with ``INTEG_LINT_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_fixture_snapshots.py``
and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from integ_lint import api

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SNAPSHOTS = sorted(FIXTURES.glob("*/expected/*.txt"))


def findings_for(fixture: Path, prefix: str) -> list[str]:
    report = api.check([fixture], select=[prefix], jobs=1)
    assert not report.incomplete, [n.message for n in report.notifications]
    return api.render(report, "concise").splitlines()


@pytest.mark.parametrize(
    "snapshot", SNAPSHOTS, ids=[f"{p.parent.parent.name}-{p.stem}" for p in SNAPSHOTS]
)
def test_fixture_findings_match_snapshot(snapshot: Path) -> None:
    fixture = snapshot.parent.parent
    got = findings_for(fixture, snapshot.stem)
    if os.environ.get("INTEG_LINT_UPDATE_SNAPSHOTS"):
        snapshot.write_text("".join(line + "\n" for line in got))
    expected = snapshot.read_text().splitlines()
    missing = [line for line in expected if line not in got]
    extra = [line for line in got if line not in expected]
    assert not missing and not extra, f"missing: {missing}\nextra: {extra}"
    assert got == expected
