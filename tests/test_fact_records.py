"""The shared shape of the call and manager fact records (integ_lint.facts.records)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import ClassVar

import pytest

from integ_lint.config.loader import load_config
from integ_lint.engine import cache
from integ_lint.facts.calls import BlockingCall, CallFact, ClassFact, FunctionFact
from integ_lint.facts.manager_records import (
    AttrAssign,
    Chain,
    ImportedName,
    Root,
    SelfPass,
)
from integ_lint.facts.manager_records import ClassFact as ManagedClass
from integ_lint.facts.records import RECORDS_FORMAT, SITE_FIELDS, SiteRecord, TupleRecord
from integ_lint.findings.model import Site, Span

SITE = (3, 5, 4, 9, "Owner.method", "g(x)")
RECORDS = [
    FunctionFact(*SITE, "Owner.method", False, owner="Owner"),
    CallFact(*SITE, "Owner.method", "name", "m.g", dropped=True),
    BlockingCall(*SITE, "Owner.method", "time.sleep"),
    ManagedClass(*SITE, "Owner", ("Base",)),
    AttrAssign(*SITE, "Owner", "bus", Root("self", "self"), ("bus",)),
    Chain(*SITE, "Owner", Root("param", "app", ("App",)), ("a", "b"), via_local=True),
    SelfPass(*SITE, "Owner", "m.Child", ""),
    ImportedName(*SITE, "m.Child", type_checking=True),
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


def test_a_record_declares_its_own_fields_after_the_inherited_ones() -> None:
    class Sample(SiteRecord):
        name: str
        count: ClassVar[int] = 0  # a class variable, not a field
        tags: tuple[str, ...] = ()

    record = Sample(*SITE, "n")
    assert Sample._fields == (*SITE_FIELDS, "name", "tags")
    assert record == (*SITE, "n", ()) and record.name == "n" and record.tags == ()
    assert record.site == Site(Span(3, 5, 4, 9), "Owner.method", "g(x)")
    assert Sample.count == 0
    assert record._replace(name="m") == (*SITE, "m", ())
    with pytest.raises(AttributeError):
        record.name = "other"  # type: ignore[misc]


def test_a_field_without_a_default_after_one_with_a_default_is_refused() -> None:
    with pytest.raises(TypeError, match="without a default follows one with a default"):

        class _Broken(TupleRecord):
            name: str = ""
            count: int


def test_the_records_layout_is_part_of_the_cache_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries and memos pickled with another field layout are never read: the fields
    are read by position when unpickled."""
    config = load_config([tmp_path], None)
    before = cache.namespace(config, [], [])
    monkeypatch.setattr(cache, "RECORDS_FORMAT", RECORDS_FORMAT + 1)
    assert cache.namespace(config, [], []) != before
