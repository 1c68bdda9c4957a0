"""Manager facts as small picklable records: what the manager collector
(:mod:`integ_lint.facts.managers`) stores per file and the cache pickles.

They live apart from the collector so that the readers (the coupling model, the
``graph`` view) do not import LibCST on a warm run.
"""

from __future__ import annotations

from dataclasses import dataclass

from integ_lint.facts.records import SiteRecord, TupleRecord

# The collector's KEY: the facts of a file are stored under it.
MANAGERS_KEY = "managers"

# Root kinds of a value or chain.
SELF = "self"  # the instance of the enclosing class
PARAM = "param"  # a parameter of the enclosing function (``types``: its annotation)
NEW = "new"  # a construction ``X(...)`` (``types``: the callee)
ANNOTATED = "annotated"  # a value whose declared type is known (``types``)


# Records: tuples with the site flattened into their first six fields, as the call
# facts, declared as integ_lint.facts.records says (which says why): a warm run unpickles
# every file's manager facts (Django: 9 MB); ``site`` is built for the few records that
# become edges of the manager graph.


class Root(TupleRecord):
    """What an expression starts from."""

    kind: str
    name: str = ""
    types: tuple[str, ...] = ()


class ClassFact(SiteRecord):
    qualname: str  # within the module, e.g. ``Trainer`` or ``Outer.Inner``
    bases: tuple[str, ...]
    # attribute -> candidate type references, from annotations
    attr_types: tuple[tuple[str, tuple[str, ...]], ...] = ()


class AttrAssign(SiteRecord):
    """``self.<attr> = <root>.<attrs...>`` inside a method of ``owner``."""

    owner: str
    attr: str
    root: Root
    attrs: tuple[str, ...]


class Chain(SiteRecord):
    """A maximal attribute chain ``<root>.a.b.c``; ``via_local`` when its root was a
    local variable bound to another chain (substituted here)."""

    owner: str  # the class whose method holds it ("" outside classes)
    root: Root
    attrs: tuple[str, ...]
    via_local: bool = False


class SelfPass(SiteRecord):
    """A call ``X(..., self, ...)`` in a method of ``owner`` handing ``self`` to what
    is presumably a constructor (``callee``); method calls on ``self``, parameters and
    locals are not recorded."""

    owner: str
    callee: str
    keyword: str


class ImportedName(SiteRecord):
    target: str  # qualified name or module
    type_checking: bool = False  # under ``if TYPE_CHECKING:``


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
