"""Item 1 of issue 25: ``--fix`` never corrupts a file.

Positions count lines as Python's tokenizer does, so a fix after a form feed, a
vertical tab, ``\\x1c``-``\\x1e``, ``\\x85``, U+2028 or U+2029 (where ``str.splitlines``
also breaks) or in a file with lone ``\\r`` line ends lands where it should; and a
fix whose result does not parse is refused with an internal-error notification
(exit 3), the file left as it was.
"""

from __future__ import annotations

import ast
import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from test_fixes import FIXED, USE, make_project

import integ_lint.findings.fixes
from integ_lint.cli import main
from integ_lint.files.source import content_digest
from integ_lint.findings import Finding, Fix, Severity, Site, Span
from integ_lint.findings.fixes import apply_text_fixes, fix_files

SEPARATORS = ["\f", "\x0b", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", "-j", "1", "--no-cache", *args])


@pytest.mark.parametrize("separator", SEPARATORS, ids=[f"U+{ord(s):04X}" for s in SEPARATORS])
def test_fix_after_a_character_splitlines_breaks_at_lands_right(
    tmp_path: Path, separator: str
) -> None:
    comment = f"        # a comment{separator}that must survive"
    use = USE.replace("        # a comment that must survive", comment)
    target = make_project(tmp_path, use)
    result = invoke(str(tmp_path), "--fix")
    fixed = target.read_text(encoding="utf-8")
    ast.parse(fixed)
    assert fixed == FIXED.replace("        # a comment that must survive", comment)
    assert "Fixed 3 findings." in result.stderr


def test_fix_in_a_file_with_lone_cr_line_ends(tmp_path: Path) -> None:
    target = make_project(tmp_path)
    target.write_bytes(USE.replace("\n", "\r").encode())
    invoke(str(tmp_path), "--fix")
    assert target.read_bytes() == FIXED.replace("\n", "\r").encode()


def test_split_lines_counts_as_the_tokenizer_counts() -> None:
    from integ_lint.files.source import split_lines

    text = "a\fb\x85c\r\nd\re\u2028f\ng"
    assert split_lines(text) == ["a\fb\x85c\r\n", "d\r", "e\u2028f\n", "g"]
    fix = Fix("x", Span(4, 1, 4, 2), "G")
    assert apply_text_fixes(text, [fix])[0] == text[:-1] + "G"


def _finding(path: str, span: Span, replacement: str) -> Finding:
    return Finding(
        code="IL399",
        rule_name="probe",
        severity=Severity.WARNING,
        message="m",
        path=path,
        site=Site(span=span, scope="", snippet=""),
        fix=Fix("break it", span, replacement),
    )


def test_a_fix_whose_result_does_not_parse_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "m.py"
    original = "value = compute(1)\n"
    target.write_text(original)
    finding = _finding("m.py", Span(1, 9, 1, 19), "compute((1)")
    outcome = fix_files(tmp_path, [finding], {"m.py": content_digest(original.encode())}, True)
    assert target.read_text() == original
    assert outcome.fixed == [] and outcome.diffs == []
    [note] = outcome.notifications
    assert note.makes_run_incomplete and note.path == "m.py" and "IL399" in note.message


def test_cli_reports_a_refused_fix_as_a_notification_and_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = make_project(tmp_path)

    def breaking(text: str, fixes: list[Fix]) -> tuple[str, list[Fix]]:
        return text + "def (:\n", list(fixes)

    monkeypatch.setattr(integ_lint.findings.fixes, "apply_text_fixes", breaking)
    result = invoke(str(tmp_path), "--fix", "--format", "json", "--fail-on-incomplete")
    assert target.read_text() == USE
    assert result.exit_code == 3
    notes = json.loads(result.stdout)["notifications"]
    assert any("fix refused" in n["message"] and n["project_path"] == "pkg/use.py" for n in notes)
    assert "Fixed" not in result.stderr


def test_fix_refuses_a_read_only_file(tmp_path: Path) -> None:
    target = make_project(tmp_path)
    os.chmod(target, 0o444)
    try:
        result = invoke(str(tmp_path), "--fix")
        assert target.read_text() == USE
        assert "pkg/use.py: not fixed: the file is read-only" in result.stderr
        assert stat.S_IMODE(os.stat(target).st_mode) == 0o444
    finally:
        os.chmod(target, 0o644)


def test_a_file_swapped_for_a_fifo_before_fixing_is_skipped_not_waited_on(
    tmp_path: Path,
) -> None:
    original = "value = compute(1)\n"
    os.mkfifo(tmp_path / "m.py")
    finding = _finding("m.py", Span(1, 9, 1, 19), "compute(2)")
    outcome = fix_files(tmp_path, [finding], {"m.py": content_digest(original.encode())}, True)
    assert outcome.fixed == []
    assert outcome.skipped and "m.py: not fixed: cannot read it again" in outcome.skipped[0]
