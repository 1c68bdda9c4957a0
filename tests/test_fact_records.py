"""The shared shape of the call and manager fact records (integ_lint.facts.records)."""

from __future__ import annotations

import pickle
from typing import NamedTuple

import pytest

from integ_lint.facts.calls import BlockingCall, CallFact, ClassFact, FunctionFact
from integ_lint.facts.manager_records import (
    AttrAssign,
    Chain,
    ImportedName,
    Root,
    SelfPass,
)
from integ_lint.facts.manager_records import ClassFact as ManagedClass
from integ_lint.facts.records import SITE_FIELDS, SiteRecord, TupleRecord
from integ_lint.findings.model import Site, Span

SITE = (3, 5, 4, 9, "Owner.method", "g(x)")
RECORDS = [
    FunctionFact("Owner.method", False, *SITE, owner="Owner"),
    CallFact("Owner.method", "name", "m.g", *SITE, dropped=True),
    BlockingCall("Owner.method", "time.sleep", *SITE),
    ManagedClass("Owner", ("Base",), *SITE),
    AttrAssign("Owner", "bus", Root("self", "self"), ("bus",), *SITE),
    Chain("Owner", Root("param", "app", ("App",)), ("a", "b"), *SITE, via_local=True),
    SelfPass("Owner", "m.Child", "", *SITE),
    ImportedName("m.Child", *SITE, type_checking=True),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_a_site_record_builds_its_span_and_site_from_its_flat_fields(record: SiteRecord) -> None:
    assert record.span == Span(3, 5, 4, 9)
    assert record.site == Site(Span(3, 5, 4, 9), "Owner.method", "g(x)")
    fields = record._fields  # type: ignore[attr-defined]
    assert tuple(getattr(record, name) for name in SITE_FIELDS) == SITE
    assert set(SITE_FIELDS) <= set(fields)


@pytest.mark.parametrize(
    "record",
    [*RECORDS, ClassFact("m.Owner", ("m.Base",)), Root("new", "", ("m.X",))],
    ids=lambda r: type(r).__name__,
)
def test_a_record_is_a_plain_tuple_pickled_by_tuple_new(record: TupleRecord) -> None:
    assert not hasattr(record, "__dict__")
    rebuild, arguments = record.__reduce__()
    assert rebuild is tuple.__new__
    assert arguments == (type(record), tuple(record))
    loaded = pickle.loads(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
    assert type(loaded) is type(record)
    assert loaded == record
    assert loaded._replace() == record  # type: ignore[attr-defined]
    assert type(loaded._replace()) is type(record)  # type: ignore[attr-defined]


def test_a_site_record_without_the_site_fields_is_refused_when_declared() -> None:
    class _Fields(NamedTuple):
        name: str
        start_line: int

    with pytest.raises(TypeError, match="no field start_col, end_line, end_col, scope"):

        class _Broken(SiteRecord, _Fields):
            __slots__ = ()
