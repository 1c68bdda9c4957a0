"""Manager facts as small picklable records: what the manager collector
(:mod:`integ_lint.facts.managers`) stores per file and the cache pickles.

They live apart from the collector so that the readers (the coupling model, the
``graph`` view) do not import LibCST on a warm run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from integ_lint.findings.model import Site, Span

# The collector's KEY: the facts of a file are stored under it.
MANAGERS_KEY = "managers"

# Root kinds of a value or chain.
SELF = "self"  # the instance of the enclosing class
PARAM = "param"  # a parameter of the enclosing function (``types``: its annotation)
NEW = "new"  # a construction ``X(...)`` (``types``: the callee)
ANNOTATED = "annotated"  # a value whose declared type is known (``types``)


# Records: tuples (``typing.NamedTuple``) with the site flattened into six fields, as the
# call facts (integ_lint.facts.calls): a warm run unpickles every file's manager facts
# (Django: 14 MB), and a frozen dataclass with its Site and Span is three instances and
# three ``__dict__``s per record. ``site`` is built on access, for the few records that
# become edges of the manager graph.


def _pickled_as_tuple(record: tuple[object, ...]) -> tuple[Any, ...]:
    """Pickle a record as ``tuple.__new__(cls, fields)``, a C call: NamedTuple's own
    ``cls.__new__(cls, *fields)`` is a Python function, a third slower to unpickle."""
    return (tuple.__new__, (type(record), tuple(record)))


class Root(NamedTuple):
    """What an expression starts from."""

    kind: str
    name: str = ""
    types: tuple[str, ...] = ()

    def __reduce__(self) -> tuple[Any, ...]:
        return _pickled_as_tuple(self)


class ClassFact(NamedTuple):
    qualname: str  # within the module, e.g. ``Trainer`` or ``Outer.Inner``
    bases: tuple[str, ...]
    start_line: int
    start_col: int
    end_line: int
    end_col: int
    scope: str
    snippet: str
    # attribute -> candidate type references, from annotations
    attr_types: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __reduce__(self) -> tuple[Any, ...]:
        return _pickled_as_tuple(self)

    @property
    def span(self) -> Span:
        return Span(self.start_line, self.start_col, self.end_line, self.end_col)

    @property
    def site(self) -> Site:
        return Site(self.span, self.scope, self.snippet)


class AttrAssign(NamedTuple):
    """``self.<attr> = <root>.<attrs...>`` inside a method of ``owner``."""

    owner: str
    attr: str
    root: Root
    attrs: tuple[str, ...]
    start_line: int
    start_col: int
    end_line: int
    end_col: int
    scope: str
    snippet: str

    def __reduce__(self) -> tuple[Any, ...]:
        return _pickled_as_tuple(self)

    @property
    def span(self) -> Span:
        return Span(self.start_line, self.start_col, self.end_line, self.end_col)

    @property
    def site(self) -> Site:
        return Site(self.span, self.scope, self.snippet)


class Chain(NamedTuple):
    """A maximal attribute chain ``<root>.a.b.c``; ``via_local`` when its root was a
    local variable bound to another chain (substituted here)."""

    owner: str  # the class whose method holds it ("" outside classes)
    root: Root
    attrs: tuple[str, ...]
    start_line: int
    start_col: int
    end_line: int
    end_col: int
    scope: str
    snippet: str
    via_local: bool = False

    def __reduce__(self) -> tuple[Any, ...]:
        return _pickled_as_tuple(self)

    @property
    def span(self) -> Span:
        return Span(self.start_line, self.start_col, self.end_line, self.end_col)

    @property
    def site(self) -> Site:
        return Site(self.span, self.scope, self.snippet)


class SelfPass(NamedTuple):
    """A call ``X(..., self, ...)`` in a method of ``owner`` handing ``self`` to what
    is presumably a constructor (``callee``); method calls on ``self``, parameters and
    locals are not recorded."""

    owner: str
    callee: str
    keyword: str
    start_line: int
    start_col: int
    end_line: int
    end_col: int
    scope: str
    snippet: str

    def __reduce__(self) -> tuple[Any, ...]:
        return _pickled_as_tuple(self)

    @property
    def span(self) -> Span:
        return Span(self.start_line, self.start_col, self.end_line, self.end_col)

    @property
    def site(self) -> Site:
        return Site(self.span, self.scope, self.snippet)


class ImportedName(NamedTuple):
    target: str  # qualified name or module
    start_line: int
    start_col: int
    end_line: int
    end_col: int
    scope: str
    snippet: str
    type_checking: bool = False  # under ``if TYPE_CHECKING:``

    def __reduce__(self) -> tuple[Any, ...]:
        return _pickled_as_tuple(self)

    @property
    def span(self) -> Span:
        return Span(self.start_line, self.start_col, self.end_line, self.end_col)

    @property
    def site(self) -> Site:
        return Site(self.span, self.scope, self.snippet)


@dataclass(frozen=True)
class ManagerFacts:
    module: str
    classes: tuple[ClassFact, ...] = ()
    assigns: tuple[AttrAssign, ...] = ()
    chains: tuple[Chain, ...] = ()
    self_passes: tuple[SelfPass, ...] = ()
    imports: tuple[ImportedName, ...] = ()
    # local name -> target, for following re-exports through package ``__init__``s
    aliases: tuple[tuple[str, str], ...] = ()
