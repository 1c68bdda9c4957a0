"""The project phase's memo, rule by rule (integ_lint.engine.phase_memo): after an edit,
only the rules that read a changed fact key run again; the others keep their outcome
(moved with the lines of the facts when only those moved). Every run gives the report
of a run without a cache, findings and notifications alike, in the same order. Reads
are recorded as the rules run; a read the recorder cannot name (a file's facts
iterated) makes the rule run again on any change; cached facts are unpickled per key,
only the keys a rule that runs reads."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
from phase_runs import copy_fixture, count_phases
from phase_runs import every_rule_outcome as _outcome

from integ_lint.engine import pipeline
from integ_lint.engine.registry import load_registry
from integ_lint.findings import Finding, Site, Span
from integ_lint.findings.model import Notification, NotificationKind
from integ_lint.model.project import ProjectIndex
from integ_lint.rule import ProjectRule

pytestmark = pytest.mark.usefixtures("private_cache_key")


def _edit(path: Path, change: Callable[[list[str]], list[str]]) -> None:
    path.write_text("".join(change(path.read_text().splitlines(keepends=True))))


def _function_added(lines: list[str]) -> list[str]:
    """A function before the first top-level def or class (benchmarks/run.py's edit)."""
    first = next(
        (i for i, line in enumerate(lines) if line.startswith(("def ", "class ", "async def "))),
        len(lines),
    )
    while first > 0 and lines[first - 1].startswith("@"):
        first -= 1
    added = ["def _edit(values):\n", "    return sorted(set(values))\n", "\n", "\n"]
    return [*lines[:first], *added, *lines[first:]]


def _calling_function_added(lines: list[str]) -> list[str]:
    """The same, but the function is a coroutine that calls one of the project's (an
    edge of the call graph, from a function that runs under a loop): a function no call
    reaches and that reaches nothing leaves the event-loop rules' outcome as it was
    (tests/test_derived_memo_edits.py), this one does not."""
    first = next(i for i, line in enumerate(lines) if line.startswith("def "))
    added = ["async def _edit(values):\n", "    return evaluate(values, values)\n", "\n", "\n"]
    return [*lines[:first], *added, *lines[first:]]


def _sink_calling_function_added(lines: list[str]) -> list[str]:
    """A plain function nothing calls that calls one of the project's whose loop
    context is unknown already and that makes no loop call: the edge changes no
    context, so the call graph's summary judges it inert (tests/test_call_graph_update.py)."""
    first = next(i for i, line in enumerate(lines) if line.startswith("def "))
    added = ["def _edit(values):\n", "    return evaluate(values, values)\n", "\n", "\n"]
    return [*lines[:first], *added, *lines[first:]]


def _import_added(lines: list[str]) -> list[str]:
    at = next(i for i, line in enumerate(lines) if line.startswith(("import ", "from ")))
    return [*lines[: at + 1], "import app.auth.models\n", *lines[at + 1 :]]


def _topic_changed(lines: list[str]) -> list[str]:
    """The archived-article event's topic becomes the one the user-deleted publisher
    sends: its subscriber, reported without a publisher (IL602), now has one."""
    old = 'ARTICLE_ARCHIVED = "article.archived"'
    assert any(line.startswith(old) for line in lines)
    return [line.replace(old, 'ARTICLE_ARCHIVED = "user.deleted"') for line in lines]


def _config_read_added(lines: list[str]) -> list[str]:
    at = next(i for i, line in enumerate(lines) if "def warmup" in line)
    read = [
        "    def patience(self) -> int:\n",
        '        return getattr(self.config.training, "patience", 5)\n',
        "\n",
    ]
    return [*lines[:at], *read, *lines[at:]]


def _lines_shifted(lines: list[str]) -> list[str]:
    return ["# a note at the top\n", *lines]


EDITS = [
    # (fixture, file, edit, a family whose rules must run again, one that must not)
    ("async_app", "async_app/jobs.py", _calling_function_added, "IL2", "IL1"),
    ("async_app", "async_app/jobs.py", _sink_calling_function_added, None, "IL2"),
    ("async_app", "async_app/jobs.py", _function_added, None, "IL2"),
    ("web_backend", "src/app/drive/services.py", _import_added, "IL1", "IL6"),
    ("message_backend", "src/backend/core/events.py", _topic_changed, "IL6", "IL1"),
    ("config_app", "config_app/app.py", _config_read_added, "IL3", "IL6"),
    ("message_services", "src/shop/stock.py", _lines_shifted, None, "IL"),
]


@pytest.mark.parametrize(("fixture", "relpath", "change", "reruns", "kept"), EDITS)
def test_an_edit_reruns_only_the_rules_that_read_what_changed(
    tmp_path: Path,
    rules_run: list[str],
    fixture: str,
    relpath: str,
    change: Callable[[list[str]], list[str]],
    reruns: str | None,
    kept: str,
) -> None:
    root = copy_fixture(tmp_path, fixture)
    _outcome(root)  # the warm cache and memo
    every = list(rules_run)
    assert any(code.startswith(kept) for code in every)
    rules_run.clear()
    _edit(root / relpath, change)
    after = _outcome(root)
    rerun = list(rules_run)
    assert after == _outcome(root, use_cache=False)  # findings and notifications, in order
    assert not any(code.startswith(kept) for code in rerun)
    if reruns is not None:
        assert any(code.startswith(reruns) for code in rerun)
    assert len(rerun) < len(every)


def test_a_rule_that_reads_a_changed_key_reruns_and_sees_the_change(
    tmp_path: Path, rules_run: list[str]
) -> None:
    root = copy_fixture(tmp_path, "message_backend")
    before, _ = _outcome(root)
    rules_run.clear()
    _edit(root / "src/backend/core/events.py", _topic_changed)
    after, _ = _outcome(root)
    assert {code for code in rules_run} == {
        code for code in rules_run if code.startswith("IL6")
    }  # only the message rules read the messages facts
    assert rules_run
    assert after != before  # the subscriber to "user.deleted" lost its publisher
    assert after == _outcome(root, use_cache=False)[0]


# -- rules of this test: what each reads is recorded --------------------------------


class _Probe(ProjectRule):
    """The probes' shared metadata (warnings of a family of their own, no examples)."""

    family = "probe"
    VALID = ()
    INVALID = ()


class _ImportCount(_Probe):
    """Reports, on the first file importing anything, how many files import something."""

    code = "IL951"
    name = "import-count"

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        files = [file for file, value in project.facts("imports") if value]
        if files:
            first = min(f.relpath for f in files)
            yield self.finding(first, Site(Span(1, 1, 1, 2)), f"{len(files)} files import")


class _KeysEverywhere(_Probe):
    """Reports the number of fact keys of the first file, read by iterating its facts (a
    read that names no key)."""

    code = "IL952"
    name = "keys-everywhere"

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        counts = {relpath: len(dict(file.facts.items())) for relpath, file in project.files.items()}
        first = min(counts)
        yield self.finding(first, Site(Span(1, 1, 1, 2)), f"{counts[first]} keys")


def _imports_noted(project: ProjectIndex) -> int:
    """A derived structure whose build raises a notification."""
    count = sum(1 for _ in project.facts("imports"))
    project.notifications.append(Notification(NotificationKind.CONFIG, f"{count} importing"))
    return count


def _messages_noted(project: ProjectIndex) -> int:
    count = sum(1 for _ in project.facts("messages"))
    project.notifications.append(Notification(NotificationKind.CONFIG, f"{count} messaging"))
    return count


class _FirstUser(_Probe):
    """The first rule to ask for the imports structure (its build's notification is
    emitted here in a run of every rule)."""

    code = "IL953"
    name = "first-user"

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        project.derived("probe.imports", _imports_noted)
        return []


class _LaterUser(_Probe):
    """Asks for the messages structure, then the imports one, and crashes."""

    code = "IL954"
    name = "later-user"

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        messaging = project.derived("probe.messages", _messages_noted)
        project.notifications.append(Notification(NotificationKind.CONFIG, "later"))
        importing = project.derived("probe.imports", _imports_noted)
        raise RuntimeError(f"crashed after {messaging} and {importing}")


class _LazyCount:
    """A derived structure that reads the messages facts only when first asked (a
    memoised method), through the index it keeps."""

    def __init__(self, project: ProjectIndex) -> None:
        self.project = project
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            # The length of their text: a topic renamed changes it.
            self._count = sum(len(repr(value)) for _, value in self.project.facts("messages"))
        return self._count


class _AsksFirst(_Probe):
    """Asks the lazy structure first: the facts are read while it runs."""

    code = "IL955"
    name = "asks-first"

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        count = project.derived("probe.lazy", _LazyCount).count()
        first = min(project.files)
        yield self.finding(first, Site(Span(1, 1, 1, 2)), f"{count} characters (first)")


class _AsksLater(_Probe):
    """Gets the count already computed: it reads no fact itself."""

    code = "IL956"
    name = "asks-later"

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        count = project.derived("probe.lazy", _LazyCount).count()
        first = min(project.files)
        yield self.finding(first, Site(Span(1, 1, 1, 2)), f"{count} characters (later)")


class _Digests(_Probe):
    """Reports the content digest of the first file (it changes with any edit)."""

    code = "IL957"
    name = "digests"

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        digests = sorted(file.digest[:8] for file in project.files.values())
        yield self.finding(min(project.files), Site(Span(1, 1, 1, 2)), " ".join(digests))


_PROBES = (
    _ImportCount,
    _KeysEverywhere,
    _FirstUser,
    _LaterUser,
    _AsksFirst,
    _AsksLater,
    _Digests,
)


@pytest.fixture
def probes() -> Iterator[None]:
    registry = load_registry()
    for rule in _PROBES:
        registry.add_rule(rule)
    yield
    for rule in _PROBES:
        registry.rules.pop(rule.code, None)


def _probe_notes(notifications: list[Notification]) -> list[str]:
    return [
        n.message.split()[-1]
        for n in notifications
        if n.message.endswith((" importing", " messaging")) or n.message == "later"
    ]


@pytest.mark.usefixtures("probes")
def test_notifications_keep_the_order_of_a_full_run(tmp_path: Path, rules_run: list[str]) -> None:
    """A kept rule built a structure another rule, run again, uses: the structure's
    notification stays where the kept rule's request put it, the internal error of the
    rule run again among the errors, in the rules' order."""
    root = copy_fixture(tmp_path, "message_backend")
    _, before = _outcome(root)
    assert _probe_notes(before) == ["importing", "messaging", "later"]
    rules_run.clear()
    _edit(root / "src/backend/core/events.py", _topic_changed)
    after = _outcome(root)
    assert "IL954" in rules_run and "IL953" not in rules_run
    assert after == _outcome(root, use_cache=False)
    assert _probe_notes(after[1]) == ["importing", "messaging", "later"]
    messages = [n.message for n in after[1]]
    assert any("internal error in IL954" in m for m in messages)


@pytest.mark.usefixtures("probes")
def test_an_unrecorded_read_reruns_the_rule_on_any_change(
    tmp_path: Path, rules_run: list[str]
) -> None:
    root = copy_fixture(tmp_path, "message_backend")
    _outcome(root)
    assert {"IL951", "IL952"} <= set(rules_run)
    rules_run.clear()
    # The messages facts change; no rule reads them but the message rules and the
    # rule that iterates every file's facts (it cannot say which keys it read).
    _edit(root / "src/backend/core/events.py", _topic_changed)
    after = _outcome(root)
    assert "IL952" in rules_run
    assert "IL957" in rules_run  # a file's content digest: no fact key either
    assert "IL951" not in rules_run  # it read the imports facts only: kept
    assert after == _outcome(root, use_cache=False)


@pytest.mark.usefixtures("probes")
def test_derived_structures_count_for_every_rule_that_uses_them(
    tmp_path: Path, rules_run: list[str]
) -> None:
    """The import graph is built by the first boundary rule that asks for it; the next
    ones read it already built, yet depend on the imports facts it read."""
    root = copy_fixture(tmp_path, "web_backend")
    _outcome(root)
    boundary_rules = [code for code in rules_run if code.startswith("IL1")]
    assert len(boundary_rules) > 1
    rules_run.clear()
    _edit(root / "src/app/drive/services.py", _import_added)
    after = _outcome(root)
    assert [code for code in rules_run if code.startswith("IL1")] == boundary_rules
    assert after == _outcome(root, use_cache=False)


def test_no_rule_rerun_unpickles_no_fact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rules_run: list[str]
) -> None:
    """An edit that leaves every fact equal (a comment at the end) reruns no rule and
    unpickles no fact; one that changes only the messages facts unpickles only the keys
    the message rules read."""
    from integ_lint.engine import executor

    root = copy_fixture(tmp_path, "message_backend")
    first = _outcome(root)
    loaded: list[str] = []
    real = executor.fact_unpickler

    def counting(*args: object) -> Callable[[str, str, bytes], object]:
        unpickle = real(*args)  # type: ignore[arg-type]

        def counted(relpath: str, key: str, pickled: bytes) -> object:
            loaded.append(key)
            return unpickle(relpath, key, pickled)

        return counted

    monkeypatch.setattr(pipeline, "fact_unpickler", counting)
    phases = count_phases(monkeypatch)
    rules_run.clear()
    service = root / "src/backend/core/events.py"
    service.write_text(service.read_text() + "# a note at the end\n")
    assert _outcome(root) == first
    assert phases == [] and rules_run == [] and loaded == []
    _edit(root / "src/backend/core/events.py", _topic_changed)
    after = _outcome(root)
    rerun, rules_run[:] = list(rules_run), []
    assert after == _outcome(root, use_cache=False)
    assert rerun and all(code.startswith("IL6") for code in rerun)
    assert loaded and "calls" not in loaded and "config-schema" not in loaded


@pytest.mark.usefixtures("probes")
def test_a_read_made_lazily_through_a_derived_structure_counts_for_its_other_users(
    tmp_path: Path, rules_run: list[str]
) -> None:
    """The structure reads the messages facts after its build, in the first rule's run;
    the second rule only gets the memoised count, yet depends on those facts too."""
    root = copy_fixture(tmp_path, "message_backend")
    before, _ = _outcome(root)
    rules_run.clear()
    _edit(root / "src/backend/core/events.py", _topic_changed)
    after = _outcome(root)
    assert {"IL955", "IL956"} <= set(rules_run)
    assert after == _outcome(root, use_cache=False)
    later = [f.message for f in after[0] if f.code == "IL956"]
    assert later and later != [f.message for f in before if f.code == "IL956"]
