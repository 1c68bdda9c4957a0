"""Suppression comments and the engine's handling of them."""

from __future__ import annotations

from integ_lint.findings.suppressions import parse_suppressions


def test_parse_codes_reason_and_placement() -> None:
    text = (
        "x = f()  # integ-lint: ignore[IL201, IL203] -- legacy sync facade\n"
        "# integ-lint: ignore\n"
        "y = g()\n"
        "s = '# integ-lint: ignore[IL201]'\n"
    )
    comments = parse_suppressions(text)
    assert [(c.line, c.codes, c.reason, c.own_line) for c in comments] == [
        (1, ("IL201", "IL203"), "legacy sync facade", False),
        (2, (), "", True),
    ]
    trailing, own_line = comments
    assert trailing.covers(1) and not trailing.covers(2)
    assert own_line.covers(2) and own_line.covers(3)
    assert trailing.matches("IL201") and not trailing.matches("IL301")
    assert own_line.matches("IL999")


def test_prefix_codes_match() -> None:
    (comment,) = parse_suppressions("x = 1  # integ-lint: ignore[IL2]\n")
    assert comment.matches("IL205") and not comment.matches("IL301")


def test_no_marker_is_cheap() -> None:
    assert parse_suppressions("x = 1  # noqa\n") == []
