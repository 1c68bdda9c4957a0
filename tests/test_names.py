"""``follow_reexports``: the one walk through module-level import bindings."""

from __future__ import annotations

from integ_lint.model.names import follow_reexports

ALIASES = {
    "pkg": {"Config": "pkg.settings.Config", "events": "pkg.core.events", "loop": "pkg"},
    "pkg.settings": {"Base": "lib.Base"},
    "pkg.core.events": {},
}
TARGETS = {"pkg.settings.Config", "pkg.core.events.LOGIN"}


def follow(name: str) -> str:
    return follow_reexports(name, TARGETS.__contains__, ALIASES)


def test_follows_chains_of_bindings_to_a_target() -> None:
    assert follow("pkg.Config") == "pkg.settings.Config"
    assert follow("pkg.events.LOGIN") == "pkg.core.events.LOGIN"


def test_stops_at_the_last_name_it_reaches() -> None:
    assert follow("pkg.settings.Base") == "lib.Base"  # outside the project
    assert follow("pkg.core.events.MISSING") == "pkg.core.events.MISSING"
    assert follow("other.thing") == "other.thing"


def test_a_cycle_or_a_long_chain_ends() -> None:
    assert follow("pkg.loop.x") == "pkg.x"
    cyclic = {"a": {"x": "b.x"}, "b": {"x": "a.x"}}
    assert follow_reexports("a.x", lambda _: False, cyclic) in ("a.x", "b.x")
    chain = {f"m{i}": {"x": f"m{i + 1}.x"} for i in range(20)}
    assert follow_reexports("m0.x", lambda n: n == "m20.x", chain, max_hops=8) == "m9.x"


STAR_ALIASES = {
    "app": {"Other": "app.other.Other"},
    "app.api": {},
    "app.impl": {"helper": "app.util.helper"},
    "app.util": {},
    "app.a": {},
    "app.b": {},
}
STARS = {"app": ("app.api", "app.impl"), "app.a": ("app.b",), "app.b": ("app.a",)}
STAR_TARGETS = {"app.impl.AppConfig", "app.util.helper", "app.other.Other"}


def follow_stars(name: str, memo: dict[str, str] | None = None) -> str:
    return follow_reexports(
        name, STAR_TARGETS.__contains__, STAR_ALIASES, star_imports=STARS, memo=memo
    )


def test_a_name_not_bound_is_searched_in_the_star_imported_modules() -> None:
    # app/__init__.py: from .api import *; from .impl import *
    assert follow_stars("app.AppConfig") == "app.impl.AppConfig"
    assert follow_stars("app.helper") == "app.util.helper"  # a binding behind the star
    assert follow_stars("app.Other") == "app.other.Other"  # an explicit binding first
    assert follow_stars("app.Missing") == "app.Missing"  # the last name reached


def test_star_import_cycles_end_and_are_remembered() -> None:
    memo: dict[str, str] = {}
    assert follow_stars("app.a.Nothing", memo) == "app.a.Nothing"
    assert "app.b.Nothing" in memo  # the search is not repeated by the next lookup
    assert follow_stars("app.a.Nothing", memo) == "app.a.Nothing"
