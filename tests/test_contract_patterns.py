"""Module patterns of the boundaries table (integ_lint.config.contracts.match_module),
compiled once: the same answers as matching part by part, on every combination of
names and wildcards up to four parts."""

from __future__ import annotations

import itertools

from integ_lint.config.contracts import match_module


def _by_parts(pattern: list[str], parts: list[str]) -> bool:
    """The definition: ``*`` is one dotted part, ``**`` zero or more."""
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_by_parts(rest, parts[i:]) for i in range(len(parts) + 1))
    if not parts:
        return False
    if head in ("*", parts[0]):
        return _by_parts(rest, parts[1:])
    return False


def test_compiled_patterns_match_as_the_definition_says() -> None:
    words = ["a", "b", "*", "**"]
    names = ["a", "b", "c"]
    patterns = [".".join(p) for n in range(1, 5) for p in itertools.product(words, repeat=n)]
    modules = [".".join(m) for n in range(1, 5) for m in itertools.product(names, repeat=n)]
    for pattern in patterns:
        for module in modules:
            expected = _by_parts(pattern.split("."), module.split("."))
            assert match_module(pattern, module) is expected, (pattern, module)


def test_literal_names_and_regex_characters() -> None:
    assert match_module(" app.models ", "app.models")
    assert not match_module("app.models", "app.models.user")
    assert match_module("app.**", "app")
    assert match_module("app.*.views", "app.shop.views")
    assert not match_module("app.*.views", "app.views")
    # A part is a name, never a regular expression.
    assert not match_module("a+.*", "aa.b")
    assert match_module("a+.*", "a+.b")
