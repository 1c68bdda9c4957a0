"""Manager facts as small picklable records: what the manager collector
(:mod:`integ_lint.facts.managers`) stores per file and the cache pickles.

They live apart from the collector so that the readers (the coupling model, the
``graph`` view) do not import LibCST on a warm run.
"""

from __future__ import annotations

from dataclasses import dataclass

from integ_lint.findings.model import Site

# The collector's KEY: the facts of a file are stored under it.
MANAGERS_KEY = "managers"

# Root kinds of a value or chain.
SELF = "self"  # the instance of the enclosing class
PARAM = "param"  # a parameter of the enclosing function (``types``: its annotation)
NEW = "new"  # a construction ``X(...)`` (``types``: the callee)
ANNOTATED = "annotated"  # a value whose declared type is known (``types``)


@dataclass(frozen=True)
class Root:
    """What an expression starts from."""

    kind: str
    name: str = ""
    types: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClassFact:
    qualname: str  # within the module, e.g. ``Trainer`` or ``Outer.Inner``
    bases: tuple[str, ...]
    site: Site
    # attribute -> candidate type references, from annotations
    attr_types: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class AttrAssign:
    """``self.<attr> = <root>.<attrs...>`` inside a method of ``owner``."""

    owner: str
    attr: str
    root: Root
    attrs: tuple[str, ...]
    site: Site


@dataclass(frozen=True)
class Chain:
    """A maximal attribute chain ``<root>.a.b.c``; ``via_local`` when its root was a
    local variable bound to another chain (substituted here)."""

    owner: str  # the class whose method holds it ("" outside classes)
    root: Root
    attrs: tuple[str, ...]
    site: Site
    via_local: bool = False


@dataclass(frozen=True)
class SelfPass:
    """A call ``X(..., self, ...)`` in a method of ``owner`` handing ``self`` to what
    is presumably a constructor (``callee``); method calls on ``self``, parameters and
    locals are not recorded."""

    owner: str
    callee: str
    keyword: str
    site: Site


@dataclass(frozen=True)
class ImportedName:
    target: str  # qualified name or module
    site: Site
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
