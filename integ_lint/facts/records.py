"""The shape of the fact records a warm run unpickles by the hundred thousand.

The call facts (:mod:`integ_lint.facts.calls`) and the manager facts
(:mod:`integ_lint.facts.manager_records`) are tuples, not frozen dataclasses: a warm run
unpickles every file's facts (Django: 167k calls, 30k functions), and a frozen dataclass
costs an instance and its ``__dict__``, with a :class:`Site` and its :class:`Span` two
more of each, per record. A record with a position holds its site flattened into six
fields (:data:`SITE_FIELDS`); ``span`` and ``site`` are built on access, for the few
records that become findings, while the project phase reads the flat fields where it
walks every record.

A record is declared like a dataclass, by subclassing :class:`TupleRecord` (or
:class:`SiteRecord`, which declares the six site fields once) and annotating its own
fields::

    class CallFact(SiteRecord):
        caller: str
        how: str
        method: str = ""

The fields are the inherited ones first, then the class's own, in declaration order, as
for a dataclass (``CallFact(start_line, start_col, end_line, end_col, scope, snippet,
caller, how)``); mypy checks the constructor through ``dataclass_transform``. At run time
the class is a plain tuple built by :func:`collections.namedtuple`: the same C field
getters, constructor, ``_replace`` and tuple equality as a ``typing.NamedTuple``, no
``__dict__``, and pickled as ``tuple.__new__(cls, fields)``. The project memo
(:mod:`integ_lint.engine.memo_remap`) moves the span fields of every :class:`SiteRecord`
when lines shift.

This module imports no LibCST: the readers of the facts load it on a warm run.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar

from integ_lint.findings.model import Site, Span

if TYPE_CHECKING:
    from typing_extensions import Self, dataclass_transform
else:

    def dataclass_transform(**_: object) -> Callable[[type], type]:
        """typing.dataclass_transform (3.11+) only tells the type checker."""
        return lambda target: target


# The layout of the records' fields, in the cache's key (integ_lint.engine.cache.namespace):
# entries and memos pickled with another layout are never read. 2: the site fields first.
RECORDS_FORMAT = 2
# Typed as a plain callable: mypy reads a literal ``namedtuple(...)`` call as a class
# declaration, and these are built from the annotations.
_tuple_class: Callable[..., type[tuple[Any, ...]]] = namedtuple
_NO_DEFAULT = object()
# What a record class takes from the namedtuple built for its fields: the field getters
# (C descriptors), the constructor and the public namedtuple API.
_TUPLE_API = (
    "__new__",
    "__repr__",
    "__match_args__",
    "_fields",
    "_field_defaults",
    "_make",
    "_replace",
    "_asdict",
)


@dataclass_transform(frozen_default=True)
class _RecordType(type):
    """Makes each record class a tuple of its fields: inherited first, then its own
    annotations (a ``ClassVar`` annotation is not a field), defaults at the end."""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> _RecordType:
        if "__annotations__" not in namespace and "__annotate__" in namespace:
            raise TypeError(f"{name}: declare records under `from __future__ import annotations`")
        fields: dict[str, object] = {}
        for base in reversed(bases):
            fields.update(getattr(base, "_record_fields", {}))
        for field, annotation in namespace.get("__annotations__", {}).items():
            if not str(annotation).startswith(("ClassVar", "typing.ClassVar")):
                fields[field] = namespace.pop(field, _NO_DEFAULT)
        defaults = [d for d in fields.values() if d is not _NO_DEFAULT]
        if list(fields.values())[len(fields) - len(defaults) :] != defaults:
            raise TypeError(f"{name}: a field without a default follows one with a default")
        shape = _tuple_class(name, tuple(fields), defaults=defaults)
        namespace.update({key: shape.__dict__[key] for key in (*fields, *_TUPLE_API)})
        namespace["__slots__"] = ()  # no ``__dict__``: a plain tuple
        namespace["_record_fields"] = fields
        return super().__new__(mcs, name, bases, namespace)


class TupleRecord(tuple[Any, ...], metaclass=_RecordType):
    """A record pickled as ``tuple.__new__(cls, fields)``, a C call: the namedtuple's
    own ``cls.__new__(cls, *fields)`` is a Python function, a third slower to
    unpickle."""

    if TYPE_CHECKING:
        _fields: ClassVar[tuple[str, ...]]

        def _replace(self, **changes: Any) -> Self: ...

    def __reduce__(self) -> tuple[Any, ...]:
        return (tuple.__new__, (type(self), tuple(self)))


class SiteRecord(TupleRecord):
    """A :class:`TupleRecord` whose first six fields are its site: the span's four
    numbers, then the :class:`Site`'s scope and snippet."""

    start_line: int
    start_col: int
    end_line: int
    end_col: int
    scope: str
    snippet: str

    @property
    def span(self) -> Span:
        return Span(*_span_fields(self))

    @property
    def site(self) -> Site:
        start_line, start_col, end_line, end_col, scope, snippet = _site_fields(self)
        return Site(Span(start_line, start_col, end_line, end_col), scope, snippet)


SITE_FIELDS: tuple[str, ...] = SiteRecord._fields
SPAN_FIELDS = SITE_FIELDS[:4]
_span_fields = attrgetter(*SPAN_FIELDS)
_site_fields = attrgetter(*SITE_FIELDS)
