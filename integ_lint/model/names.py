"""Following a dotted name through module-level import bindings (re-exports).

``pkg.Config`` where ``pkg/__init__.py`` does ``from pkg.config import Config`` names
``pkg.config.Config``. The project phase resolves names this way for several models
(the call graph, the message model), each with its own table of what counts as a
target; the walk itself is this one function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

MAX_HOPS = 8


def follow_reexports(
    name: str,
    is_target: Callable[[str], bool],
    aliases: Mapping[str, Mapping[str, str]],
    max_hops: int = MAX_HOPS,
) -> str:
    """The name ``name`` ends at: itself when ``is_target`` accepts it; else, for the
    longest prefix that is a module with bindings, the binding of the next part with
    the rest appended, and so on. The result is a target, or the last name reached
    (the caller tells a missing project name from an outside one by its prefix)."""
    seen: set[str] = set()
    for _ in range(max_hops + 1):
        if is_target(name) or name in seen:
            return name
        seen.add(name)
        parts = name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            bindings = aliases.get(".".join(parts[:cut]))
            if bindings is None:
                continue
            target = bindings.get(parts[cut])
            if not target:
                return name
            name = ".".join([target, *parts[cut + 1 :]])
            break
        else:
            return name
    return name
