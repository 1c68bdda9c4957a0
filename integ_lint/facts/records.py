"""The shape of the fact records a warm run unpickles by the hundred thousand.

The call facts (:mod:`integ_lint.facts.calls`) and the manager facts
(:mod:`integ_lint.facts.manager_records`) are tuples (``typing.NamedTuple``), not frozen
dataclasses: a warm run unpickles every file's facts (Django: 167k calls, 30k functions),
and a frozen dataclass costs an instance and its ``__dict__``, with a :class:`Site` and
its :class:`Span` two more of each, per record. A record with a position holds its site
flattened into six fields (:data:`SITE_FIELDS`); ``span`` and ``site`` are built on
access, for the few records that become findings, while the project phase reads the flat
fields where it walks every record.

A record declares its fields in a NamedTuple and takes its behaviour from a mixin here
by subclassing both (``typing.NamedTuple`` accepts no other base in its own class
statement)::

    class _CallFields(NamedTuple):
        caller: str
        start_line: int
        ...

    class CallFact(SiteRecord, _CallFields):
        __slots__ = ()  # no ``__dict__``: still a plain tuple

The subclass keeps the NamedTuple's constructor, fields, ``_replace`` and tuple equality.
The project memo (:mod:`integ_lint.engine.memo_remap`) moves the span fields of every
:class:`SiteRecord` when lines shift.

This module imports no LibCST: the readers of the facts load it on a warm run.
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import attrgetter
from typing import Any, Protocol

from integ_lint.findings.model import Site, Span

# The flattened site, in the order of a record's fields: a Span's four, then the Site's
# scope and snippet.
SPAN_FIELDS = ("start_line", "start_col", "end_line", "end_col")
SITE_FIELDS = (*SPAN_FIELDS, "scope", "snippet")
# Read by name: every SiteRecord has these fields (checked when the class is declared).
_span_fields = attrgetter(*SPAN_FIELDS)
_site_fields = attrgetter(*SITE_FIELDS)


class _Fields(Protocol):
    def __iter__(self) -> Iterator[object]: ...


class TupleRecord:
    """A NamedTuple record pickled as ``tuple.__new__(cls, fields)``, a C call:
    NamedTuple's own ``cls.__new__(cls, *fields)`` is a Python function, a third slower
    to unpickle."""

    __slots__ = ()

    def __reduce__(self: _Fields) -> tuple[Any, ...]:
        return (tuple.__new__, (type(self), tuple(self)))


class SiteRecord(TupleRecord):
    """A :class:`TupleRecord` with its site in the fields :data:`SITE_FIELDS`."""

    __slots__ = ()

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        missing = [name for name in SITE_FIELDS if name not in getattr(cls, "_fields", ())]
        if missing:
            raise TypeError(f"{cls.__qualname__} has no field {', '.join(missing)}")

    @property
    def span(self) -> Span:
        return Span(*_span_fields(self))

    @property
    def site(self) -> Site:
        start_line, start_col, end_line, end_col, scope, snippet = _site_fields(self)
        return Site(Span(start_line, start_col, end_line, end_col), scope, snippet)
