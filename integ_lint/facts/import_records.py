"""Import facts as small picklable records: what the ``imports`` collector
(:mod:`integ_lint.facts.imports`) stores per file and the cache pickles.

They live apart from the collector so that the readers (the import graph, the
``imports`` and ``graph`` views) do not import LibCST (~0.2 s) on a warm run.
"""

from __future__ import annotations

from dataclasses import dataclass

from integ_lint.findings.model import AtSite, Site

# The collector's KEY: the facts of a file are stored under it.
IMPORTS_KEY = "imports"


@dataclass(frozen=True)
class ImportRecord(AtSite):
    """One import statement (or one dynamic import call with a literal name).

    ``module`` is the absolute module named by the statement: ``a.b`` for ``import
    a.b`` and for ``from a.b import c`` (``names`` then holds ``("c",)``), the
    resolved package for relative imports. ``names`` is ``("*",)`` for a star
    import and empty for ``import a.b`` and for dynamic imports.
    """

    module: str
    names: tuple[str, ...]
    site: Site
    level: int = 0  # leading dots of a relative import
    # Runs only later, not when the module is imported: inside a function body, or in
    # the ``if __name__ == "__main__":`` block of a script.
    lazy: bool = False
    type_checking: bool = False  # under ``if TYPE_CHECKING:``
    guarded: bool = False  # inside ``try: ... except ImportError``
    dynamic: bool = False  # importlib.import_module / __import__ with a literal

    @property
    def star(self) -> bool:
        return self.names == ("*",)

    @property
    def kind(self) -> str:
        """``dynamic``, ``type-checking``, ``lazy`` or ``regular`` (in that priority)."""
        if self.dynamic:
            return "dynamic"
        if self.type_checking:
            return "type-checking"
        if self.lazy:
            return "lazy"
        return "regular"


@dataclass(frozen=True)
class ImportFactsValue:
    """The import facts of one file."""

    imports: tuple[ImportRecord, ...] = ()
    # ``__all__`` when it is a literal list/tuple of strings (None otherwise).
    all_names: tuple[str, ...] | None = None
