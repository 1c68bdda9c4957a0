"""The one resolver of re-exported names, shared by every structure of the project model.

``pkg.Config`` where ``pkg/__init__.py`` does ``from pkg.config import Config`` names
``pkg.config.Config``; with ``from pkg.config import *`` it names it too, when
``pkg.config`` defines it. The call graph, the message model, the manager graph and the
schema index each have their own table of what counts as a target; the walk itself is
:func:`follow_reexports`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

MAX_HOPS = 8


def follow_reexports(
    name: str,
    is_target: Callable[[str], bool],
    aliases: Mapping[str, Mapping[str, str]],
    max_hops: int = MAX_HOPS,
    *,
    star_imports: Mapping[str, Sequence[str]] | None = None,
    memo: dict[str, str] | None = None,
) -> str:
    """The name ``name`` ends at: itself when ``is_target`` accepts it; else, for the
    longest prefix that is a module with bindings, the binding of the next part with
    the rest appended, and so on. A part the module does not bind is searched in the
    modules it star-imports (``star_imports``, module -> star-imported modules), first
    match wins. The result is a target, or the last name reached (the caller tells a
    missing project name from an outside one by its prefix).

    ``memo`` (kept by the caller across calls with the same ``is_target``) remembers
    where each star-import search ended: chains of star imports make the plain search
    exponential on names that resolve nowhere (a Django subset never finished)."""
    seen: set[str] = set()
    for hop in range(max_hops + 1):
        if is_target(name) or name in seen:
            return name
        seen.add(name)
        parts = name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            bindings = aliases.get(module)
            if bindings is None:
                continue
            target = bindings.get(parts[cut])
            if not target:
                if star_imports:
                    found = _through_stars(
                        module,
                        parts[cut:],
                        is_target,
                        aliases,
                        max_hops - hop - 1,
                        star_imports,
                        {} if memo is None else memo,
                    )
                    if found is not None:
                        return found
                return name
            name = ".".join([target, *parts[cut + 1 :]])
            break
        else:
            return name
    return name


def _through_stars(
    module: str,
    rest: Sequence[str],
    is_target: Callable[[str], bool],
    aliases: Mapping[str, Mapping[str, str]],
    hops_left: int,
    star_imports: Mapping[str, Sequence[str]],
    memo: dict[str, str],
) -> str | None:
    """The target ``module.rest`` reaches through ``module``'s star imports, or None."""
    if hops_left < 0:
        return None
    for star in star_imports.get(module, ()):
        candidate = ".".join([star, *rest])
        if candidate not in memo:
            memo[candidate] = ""  # a cycle back to this name resolves to nothing
            memo[candidate] = follow_reexports(
                candidate, is_target, aliases, hops_left, star_imports=star_imports, memo=memo
            )
        found = memo[candidate]
        if found and is_target(found):
            return found
    return None
