"""The project phase's memo across an edit that only moves lines.

An edit above or between the facts of a file (a line inserted at the top, a blank line
removed) leaves every fact as it was but its line numbers. The project phase's outcome
(:class:`integ_lint.engine.cache.ProjectMemo`) then still holds, with its positions in
that file moved the same way: :func:`line_map` finds the renumbering, and
:func:`remap_outcome` applies it to the memo's findings and notifications. Anything this
module cannot account for exactly returns None, and the phase runs: the outcome must be
byte-identical to a run without the memo.

Why the renumbering is enough (audited for the built-in project rules and the project
model, session 5): the phase reads positions only

* by copying them into findings, related locations and fixes;
* by equality or order between positions of ONE file (sort keys ``(path, line, col)``,
  dict and set keys ``(relpath, line, col)``, the call graph's ``(line, col)`` overrides
  from ``ModuleLoopFacts.known_calls``, ``ModuleCallFacts.always_loop_starts``);
* by writing ``path:line`` into messages and properties (``schema.location``,
  ``EdgeSite``, the config feeds' ``source``, the GPU sync call sites);
* as one constant, ``Span(1, 1, 1, 1)`` (a whole module: the layers contract).

No line arithmetic, distance or ``+ 1`` is made on a Python file's positions (the
config files' positions, which are, are not facts and never move here). A map that is
strictly increasing, with columns unchanged, keeps every equality and order of one
file; the messages are rewritten where they cite a moved line; the constant is kept.
Anything else (a line with no image, a text citing a changed file's line in another
form, a rule from another pack, an internal error) gives up.

The audit (re-do it when a project rule or model builder reads positions anew): every
use of ``start_line``, ``end_line``, ``.line``, ``.col``, ``.span`` and every ``Span(``,
``Site(``, ``RelatedLocation(`` and ``Notification(`` in ``rules/`` and
``integ_lint/model/``; every sort, ``min``/``max`` and set iteration there (positions
only ever follow a path in a key, and sets of positions are only tested for membership);
every fact holding a line outside a ``Span`` (``_RAW_POSITIONS``, and the records with a
flattened site, :class:`~integ_lint.facts.records.SiteRecord`: the project phase reads
their span fields as it would the ``Span``, and builds their ``site`` from them). A finding's path and
span always come from the same record. The suppressions (a comment on its own line
applies to the line below) are applied after the phase, to the moved findings.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from integ_lint.facts.records import SPAN_FIELDS, SiteRecord
from integ_lint.findings.model import Finding, Notification, NotificationKind, Span

# old line -> new line, for the lines the facts of one file hold (strictly increasing).
LineMap = dict[int, int]

# The constant a rule reports a whole module at (rules/boundaries.py, the layers
# contract): not a fact's position, so never moved.
_WHOLE_FILE = Span(1, 1, 1, 1)

# Positions a fact holds as plain ints rather than a Span: (module.qualname of the
# fact's class, field) -> shape. "rows": a tuple of (line, col, ...) tuples; "pairs": a
# set of (line, col). Any other int compares exactly (a count, a level), so a raw line
# not listed here that moved makes the facts differ and the phase run.
_RAW_POSITIONS: dict[tuple[str, str], str] = {
    ("integ_lint.rules._loop_state.ModuleLoopFacts", "known_calls"): "rows",
    ("integ_lint.facts.calls.ModuleCallFacts", "always_loop_starts"): "pairs",
}
# A record with a flattened site (facts.records.SiteRecord) is matched by its span
# fields as that Span; any other tuple's ints compare exactly.

# Values compared as they are: they hold no position.
_ATOMS: frozenset[type] = frozenset({str, int, float, bool, bytes, complex, type(None)})

# The built-in pack's project rules are the ones audited (see the module docstring).
_AUDITED_PACK = "integ_lint.rules"


class _GiveUp(Exception):
    """The memo cannot be carried over exactly: run the phase."""


def audited(rule_modules: Iterable[str]) -> bool:
    """Whether every project rule comes from the built-in pack, whose use of positions
    was audited; another pack's rule may do line arithmetic."""
    return all(m == _AUDITED_PACK or m.startswith(_AUDITED_PACK + ".") for m in rule_modules)


def line_map(before: Any, after: Any) -> LineMap | None:
    """The renumbering that turns the facts ``before`` into ``after``, or None when they
    differ otherwise: every value equal but the lines of positions, columns included,
    and the map from old lines to new strictly increasing (so every equality and order
    between positions of the file holds after it). ``{}`` when nothing has a position."""
    matcher = _Matcher()
    try:
        if not matcher.match(before, after):
            return None
    except RecursionError:
        return None
    lines = matcher.lines
    previous = 0
    for old in sorted(lines):
        new = lines[old]
        if new <= previous:
            return None
        previous = new
    if matcher.whole_file and lines.get(1, 1) != 1:
        return None  # a fact at the constant's position moved: which one a finding is, is unknown
    return lines


class _Matcher:
    """Walks two values in step, pairing the lines of their positions."""

    def __init__(self) -> None:
        self.lines: LineMap = {}
        self.whole_file = False  # the old facts hold a span equal to _WHOLE_FILE
        self._fields: dict[type, tuple[str, ...] | None] = {}
        self._span_indices: dict[type, tuple[int, int, int, int] | None] = {}

    def pair(self, old: int, new: int) -> bool:
        return type(old) is int and type(new) is int and self.lines.setdefault(old, new) == new

    def match(self, a: Any, b: Any) -> bool:
        kind = type(a)
        if kind is not type(b):
            return False
        if kind in _ATOMS:
            return bool(a == b)
        if kind is Span:
            return self._span(
                (a.start_line, a.start_col, a.end_line, a.end_col),
                (b.start_line, b.start_col, b.end_line, b.end_col),
            )
        if kind is tuple or kind is list or issubclass(kind, tuple):
            if len(a) != len(b):
                return False
            indices = self._flat_span(kind) if kind is not tuple and kind is not list else None
            if indices is None:
                return all(self.match(x, y) for x, y in zip(a, b, strict=True))
            if not self._span(tuple(a[i] for i in indices), tuple(b[i] for i in indices)):
                return False
            return all(
                self.match(x, y)
                for i, (x, y) in enumerate(zip(a, b, strict=True))
                if i not in indices
            )
        if kind is dict:
            # In order: the phase may iterate a dict, and its order is part of the facts.
            return len(a) == len(b) and all(
                self.match(ka, kb) and self.match(va, vb)
                for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True)
            )
        if kind is set or kind is frozenset:
            # Equal elements, each walked against itself: what positions they hold stay.
            return bool(a == b) and all(self.match(x, x) for x in a)
        if isinstance(a, enum.Enum):
            return a is b
        names = self._names(kind)
        if names is None:
            return False  # an object this walk does not know: never assumed equal
        qualified = f"{kind.__module__}.{kind.__qualname__}"
        for name in names:
            x, y = getattr(a, name), getattr(b, name)
            shape = _RAW_POSITIONS.get((qualified, name))
            if shape == "rows":
                if not self._rows(x, y):
                    return False
            elif shape == "pairs":
                if not self._pairs(x, y):
                    return False
            elif not self.match(x, y):
                return False
        return True

    def _span(self, old: tuple[Any, ...], new: tuple[Any, ...]) -> bool:
        """(start line, start column, end line, end column) of a span, before and after:
        columns equal, lines paired."""
        start_line, start_col, end_line, end_col = old
        if old == (1, 1, 1, 1):  # _WHOLE_FILE
            self.whole_file = True
        return (
            start_col == new[1]
            and end_col == new[3]
            and self.pair(start_line, new[0])
            and self.pair(end_line, new[2])
        )

    def _flat_span(self, kind: type) -> tuple[int, int, int, int] | None:
        """The indices of the span fields in a record with a flattened site (a
        :class:`SiteRecord`), else None."""
        if kind not in self._span_indices:
            indices = None
            if issubclass(kind, SiteRecord):
                fields: tuple[str, ...] = getattr(kind, "_fields", ())
                line, col, end_line, end_col = (fields.index(n) for n in SPAN_FIELDS)
                indices = (line, col, end_line, end_col)
            self._span_indices[kind] = indices
        return self._span_indices[kind]

    def _names(self, kind: type) -> tuple[str, ...] | None:
        if kind not in self._fields:
            fields = dataclasses.fields(kind) if dataclasses.is_dataclass(kind) else None
            self._fields[kind] = None if fields is None else tuple(f.name for f in fields)
        return self._fields[kind]

    def _rows(self, a: Any, b: Any) -> bool:
        """Tuples of ``(line, col, ...)``, in the same order."""
        if type(a) is not tuple or type(b) is not tuple or len(a) != len(b):
            return False
        for x, y in zip(a, b, strict=True):
            if type(x) is not tuple or type(y) is not tuple or len(x) != len(y) or not x:
                return False
            if not (self.pair(x[0], y[0]) and self.match(x[1:], y[1:])):
                return False
        return True

    def _pairs(self, a: Any, b: Any) -> bool:
        """Sets of ``(line, col)``: a strictly increasing map keeps their sorted order,
        so the n-th of each is the same call."""
        if type(a) is not type(b) or not isinstance(a, (set, frozenset)) or len(a) != len(b):
            return False
        try:
            old, new = sorted(a), sorted(b)
        except TypeError:
            return False
        for x, y in zip(old, new, strict=True):
            if type(x) is not tuple or type(y) is not tuple or len(x) != 2 or len(y) != 2:
                return False
            if x[1] != y[1] or not self.pair(x[0], y[0]):
                return False
        return True


def remap_outcome(
    findings: Sequence[Finding],
    notifications: Sequence[Notification],
    maps: Mapping[str, LineMap],
) -> tuple[list[Finding], list[Notification]] | None:
    """The memo's ``findings`` and ``notifications`` with every position in the files of
    ``maps`` (relpath -> line map) moved, in spans and in ``path:line`` texts; None when
    one cannot be moved exactly."""
    moved = {path: lines for path, lines in maps.items() if any(o != n for o, n in lines.items())}
    if not moved:
        return list(findings), list(notifications)
    remapper = _Remapper(moved)
    try:
        return (
            [remapper.finding(f) for f in findings],
            [remapper.notification(n) for n in notifications],
        )
    except _GiveUp:
        return None


# A line cited without a path ("line 12", "lines 3-4"): which file it is in is unknown.
_BARE_LINE = re.compile(r"\blines? \d")


class _Remapper:
    def __init__(self, maps: Mapping[str, LineMap]) -> None:
        self.maps = maps
        paths = sorted(maps, key=len, reverse=True)
        alternatives = "|".join(re.escape(p) for p in paths)
        # A changed file's path, not the tail of a longer one, then ":" and its line.
        self.cited = re.compile(rf"(?<![\w./\\-])({alternatives}):(\d+)(?!\d)")
        # Its name followed by a line: every such citation must be a whole path above.
        names = sorted({p.rsplit("/", 1)[-1] for p in paths}, key=len, reverse=True)
        self.named = re.compile(rf"(?:{'|'.join(re.escape(n) for n in names)}):\d")

    def line(self, path: str, line: int) -> int:
        lines = self.maps.get(path)
        if lines is None:
            return line
        new = lines.get(line)
        if new is None:
            raise _GiveUp
        return new

    def span(self, path: str, span: Span) -> Span:
        if path not in self.maps or span == _WHOLE_FILE:
            return span  # line_map gave up if a fact sat at the constant and moved
        return Span(
            self.line(path, span.start_line),
            span.start_col,
            self.line(path, span.end_line),
            span.end_col,
        )

    def text(self, text: str) -> str:
        if _BARE_LINE.search(text):
            raise _GiveUp
        cited = self.cited.findall(text)
        if len(cited) != len(self.named.findall(text)):
            raise _GiveUp  # a changed file's line cited some other way
        if not cited:
            return text
        return self.cited.sub(
            lambda m: f"{m.group(1)}:{self.line(m.group(1), int(m.group(2)))}", text
        )

    def value(self, value: Any) -> Any:
        """A property's value: texts rewritten, positions in it unknown (give up)."""
        kind = type(value)
        if kind is str:
            return self.text(value)
        if kind in _ATOMS or isinstance(value, enum.Enum):
            return value
        if kind is tuple or kind is list:
            return kind(self.value(v) for v in value)
        if kind is dict:
            return {self.value(k): self.value(v) for k, v in value.items()}
        if kind is set or kind is frozenset:
            return kind(self.value(v) for v in value)
        raise _GiveUp

    def finding(self, finding: Finding) -> Finding:
        path, fix = finding.path, finding.fix
        related = tuple(
            dataclasses.replace(r, span=self.span(r.path, r.span), message=self.text(r.message))
            for r in finding.related
        )
        if fix is not None:
            fix = dataclasses.replace(
                fix, description=self.text(fix.description), span=self.span(path, fix.span)
            )
        return dataclasses.replace(
            finding,
            message=self.text(finding.message),
            site=dataclasses.replace(finding.site, span=self.span(path, finding.site.span)),
            related=related,
            fix=fix,
            properties=tuple((key, self.value(v)) for key, v in finding.properties),
        )

    def notification(self, note: Notification) -> Notification:
        if note.kind == NotificationKind.INTERNAL_ERROR:
            raise _GiveUp  # a crash's text may hold anything, positions included
        line = note.line
        if note.path is not None and line is not None:
            line = self.line(note.path, line)
        return dataclasses.replace(note, message=self.text(note.message), line=line)
