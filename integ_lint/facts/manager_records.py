"""Manager facts as small picklable records: what the manager collector
(:mod:`integ_lint.facts.managers`) stores per file and the cache pickles.

They live apart from the collector so that the readers (the coupling model, the
``graph`` view) do not import LibCST on a warm run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from integ_lint.facts.records import SiteRecord, TupleRecord

# The collector's KEY: the facts of a file are stored under it.
MANAGERS_KEY = "managers"

# Root kinds of a value or chain.
SELF = "self"  # the instance of the enclosing class
PARAM = "param"  # a parameter of the enclosing function (``types``: its annotation)
NEW = "new"  # a construction ``X(...)`` (``types``: the callee)
ANNOTATED = "annotated"  # a value whose declared type is known (``types``)


# Records: NamedTuples with the site flattened, as the call facts, their pickling,
# ``span`` and ``site`` from the mixins of integ_lint.facts.records (which says why):
# a warm run unpickles every file's manager facts (Django: 14 MB); ``site`` is built for
# the few records that become edges of the manager graph.


class _RootFields(NamedTuple):
    kind: str
    name: str = ""
    types: tuple[str, ...] = ()


class Root(TupleRecord, _RootFields):
    """What an expression starts from."""

    __slots__ = ()


class _ClassFields(NamedTuple):
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


class ClassFact(SiteRecord, _ClassFields):
    __slots__ = ()


class _AttrAssignFields(NamedTuple):
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


class AttrAssign(SiteRecord, _AttrAssignFields):
    """``self.<attr> = <root>.<attrs...>`` inside a method of ``owner``."""

    __slots__ = ()


class _ChainFields(NamedTuple):
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


class Chain(SiteRecord, _ChainFields):
    """A maximal attribute chain ``<root>.a.b.c``; ``via_local`` when its root was a
    local variable bound to another chain (substituted here)."""

    __slots__ = ()


class _SelfPassFields(NamedTuple):
    owner: str
    callee: str
    keyword: str
    start_line: int
    start_col: int
    end_line: int
    end_col: int
    scope: str
    snippet: str


class SelfPass(SiteRecord, _SelfPassFields):
    """A call ``X(..., self, ...)`` in a method of ``owner`` handing ``self`` to what
    is presumably a constructor (``callee``); method calls on ``self``, parameters and
    locals are not recorded."""

    __slots__ = ()


class _ImportedNameFields(NamedTuple):
    target: str  # qualified name or module
    start_line: int
    start_col: int
    end_line: int
    end_col: int
    scope: str
    snippet: str
    type_checking: bool = False  # under ``if TYPE_CHECKING:``


class ImportedName(SiteRecord, _ImportedNameFields):
    __slots__ = ()


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
