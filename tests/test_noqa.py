"""``# noqa: IL201`` is a synonym of ``# integ-lint: ignore[IL201]``; a bare ``# noqa``
(which belongs to other tools) is not."""

from __future__ import annotations

from pathlib import Path

from integ_lint.api import check
from integ_lint.findings.suppressions import parse_suppressions

LOOP = "import asyncio\n\n\ndef run_sync(coro):\n    return asyncio.run(coro){comment}\n"


def _codes(tmp_path: Path, comment: str, select: list[str]) -> list[tuple[str, int]]:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "run.py").write_text(LOOP.format(comment=comment))
    report = check([tmp_path], select=select, cache_dir=str(tmp_path / ".cache"))
    return sorted((f.code, f.line) for f in report.findings)


def test_noqa_with_our_code_suppresses(tmp_path: Path) -> None:
    assert _codes(tmp_path, "  # noqa: IL201", ["IL001", "IL201"]) == []


def test_bare_noqa_is_not_ours(tmp_path: Path) -> None:
    assert _codes(tmp_path, "  # noqa", ["IL001", "IL201"]) == [("IL201", 5)]


def test_noqa_with_only_foreign_codes_is_left_alone(tmp_path: Path) -> None:
    # E501 belongs to another tool: neither a suppression of IL201 nor an unused one.
    assert _codes(tmp_path, "  # noqa: E501", ["IL001", "IL201"]) == [("IL201", 5)]


def test_mixed_noqa_suppresses_ours_and_ignores_foreign(tmp_path: Path) -> None:
    assert _codes(tmp_path, "  # noqa: E501, IL201", ["IL001", "IL201"]) == []


def test_unused_noqa_code_of_ours_is_il001(tmp_path: Path) -> None:
    assert _codes(tmp_path, "  # noqa: IL201, IL202", ["IL001", "IL201", "IL202"]) == [("IL001", 5)]


def test_noqa_on_its_own_line_does_not_cover_the_next() -> None:
    (comment,) = parse_suppressions("# noqa: IL201\nx = 1\n")
    assert comment.noqa
    assert comment.covers(1)
    assert not comment.covers(2)


def test_noqa_is_case_insensitive_and_space_separated() -> None:
    (comment,) = parse_suppressions("x = 1  # NOQA:IL201 IL202\n")
    assert comment.codes == ("IL201", "IL202")


def test_no_comment_that_could_match_means_no_tokenizing() -> None:
    from unittest import mock

    from integ_lint.findings import suppressions

    with mock.patch.object(suppressions.tokenize, "generate_tokens") as tokens:
        assert parse_suppressions('x = "integ-lint: and noqa"  # noqa\n# integ-lint: x\n') == []
    tokens.assert_not_called()
    found = parse_suppressions("x = 1  # NOQA: IL201\ny = 2  #integ-lint:ignore[IL1]\n")
    assert [(c.line, c.codes, c.noqa) for c in found] == [
        (1, ("IL201",), True),
        (2, ("IL1",), False),
    ]
