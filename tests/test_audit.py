"""``integ-lint audit``: the certificate of one component of the bundled training
application reviews that component only (the rest of the project is context), groups
its findings by root cause, states strengths whose counts match the facts, follows the
status policy, and parses into the reference's sections in order."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libcst as cst
import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt
from markdown_it.token import Token

from integ_lint import api
from integ_lint.audit.certificate import md_text
from integ_lint.audit.model import (
    APPROVED,
    CONDITIONALLY_APPROVED,
    MAX_CRITICAL,
    NEEDS_FURTHER_REVIEW,
    REJECTED,
    REQUIRES_REMEDIATION,
    IssueGroup,
    Policy,
    Problem,
    decide,
    resolve_component,
    site_score,
    snake_name,
)
from integ_lint.cli import main
from integ_lint.engine import RunOptions
from integ_lint.findings import Severity

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "training_app"
CERT_DIR = Path("docs/ai/agents/integration-specialist/certificates")
# The sections of ../shared/reference/CERTIFICATES.md, in order, with the extra sections
# of its examples (metrics, next actions) between EVIDENCE and SIGNATURE.
SECTIONS = [
    "REVIEW SCOPE",
    "FINDINGS",
    "DECISION/OUTCOME",
    "EVIDENCE",
    "INTEGRATION ASSESSMENT METRICS",
    "RECOMMENDED NEXT ACTIONS",
    "SIGNATURE",
]
FINDINGS_SUBSECTIONS = [
    "Integration Points Analysis",
    "Critical Issues Identified",
    "Strengths Observed",
    "Manager Coupling",
]
HEADER_FIELDS = ["Component", "Agent", "Date", "Certificate ID"]


# -- helpers ----------------------------------------------------------------------------


def parse(markdown: str) -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(markdown)


def headings(tokens: list[Token]) -> list[tuple[str, str]]:
    return [
        (token.tag, tokens[index + 1].content)
        for index, token in enumerate(tokens)
        if token.type == "heading_open"
    ]


def list_after(tokens: list[Token], heading: str) -> tuple[str, list[Token]]:
    """The kind and top-level item texts of the first list after ``heading``."""
    start = next(
        i
        for i, t in enumerate(tokens)
        if t.type == "inline" and t.content == heading and tokens[i - 1].type == "heading_open"
    )
    index = start + 1
    while tokens[index].type not in ("bullet_list_open", "ordered_list_open"):
        assert tokens[index].type != "heading_open", f"no list after {heading!r}"
        index += 1
    opening = tokens[index]
    level = opening.level
    items: list[Token] = []
    index += 1
    while not (tokens[index].type.endswith("_list_close") and tokens[index].level == level):
        token = tokens[index]
        if token.type == "list_item_open" and token.level == level + 1:
            items.append(tokens[index + 2])  # paragraph_open, inline
        index += 1
    return opening.type, items


def audit(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main, ["audit", str(root), "--jobs", "1", "--no-cache", *args], catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


def written(root: Path, *args: str) -> tuple[int, str, dict[str, Any]]:
    """Exit code, Markdown and JSON payload of an audit."""
    code, out, err = audit(root, *args)
    assert out.strip(), err
    path = Path(out.strip())
    return (
        code,
        path.read_text(encoding="utf-8"),
        json.loads(path.with_suffix(".json").read_text(encoding="utf-8")),
    )


def project(tmp_path: Path, files: dict[str, str], config: str = "") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    # IL201 (an error) is opt-in; the policy tests use it as their high-precision error.
    # IL405 (torch.load, opt-in too) is their warning.
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.integ-lint]\nextend-select = ["IL201", "IL405"]\n{config}\n'
    )
    for relpath, text in files.items():
        path = tmp_path / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@dataclass
class FixtureAudit:
    root: Path
    exit_code: int
    markdown: str
    payload: dict[str, Any]
    json_bytes: bytes
    markdown_path: Path


@pytest.fixture(scope="module")
def training(tmp_path_factory: pytest.TempPathFactory) -> FixtureAudit:
    root = tmp_path_factory.mktemp("audit") / "training_app"
    shutil.copytree(FIXTURE, root)
    # The fixture's host syncs and torch.load are opt-in rules (IL403, IL405).
    with (root / "pyproject.toml").open("a", encoding="utf-8") as config:
        config.write('\n[tool.integ-lint]\nextend-select = ["IL403", "IL405"]\n')
    code, out, _ = audit(root, "--component", "trainer_app.training")
    path = Path(out.strip())
    json_path = path.with_suffix(".json")
    return FixtureAudit(
        root=root,
        exit_code=code,
        markdown=path.read_text(encoding="utf-8"),
        payload=json.loads(json_path.read_text(encoding="utf-8")),
        json_bytes=json_path.read_bytes(),
        markdown_path=path,
    )


# -- scope ------------------------------------------------------------------------------


def test_scope_holds_only_the_components_files(training: FixtureAudit) -> None:
    component = training.payload["scope"]["component"]
    expected = sorted(
        p.relative_to(training.root).as_posix()
        for p in (training.root / "trainer_app" / "training").rglob("*.py")
    )
    assert component["files"] == expected
    assert component["packages"] == ["trainer_app.training"]
    # The whole project was the context: every file was hashed and scanned.
    assert training.payload["scope"]["project_files"] > len(expected)
    assert "trainer_app/evaluation/manager.py" in training.payload["files"]
    # Findings, groups and integration sites of the component only.
    assert training.payload["findings"]
    assert {f["path"] for f in training.payload["findings"]} <= set(expected)
    for group in training.payload["groups"]:
        assert {loc.rsplit(":", 1)[0] for loc in group["locations"]} <= set(expected)
    for point in training.payload["integration_points"]:
        if point["kind"] in ("config", "devices", "event-loops", "imports-out"):
            assert {d["path"] for d in point["details"]} <= set(expected), point["kind"]


def test_out_of_scope_findings_are_not_reviewed(training: FixtureAudit) -> None:
    """The evaluation manager's findings are real findings of the project, but not of
    the training component."""
    report = api.check([training.root], options=RunOptions(jobs=1, use_cache=False))
    outside = [f for f in report.findings if f.path.startswith("trainer_app/evaluation/")]
    assert outside
    assert not any(
        f["path"].startswith("trainer_app/evaluation/") for f in training.payload["findings"]
    )
    scope = set(training.payload["scope"]["component"]["files"])
    expected = sorted(f.fingerprint for f in report.findings if f.path in scope)
    assert sorted(f["fingerprint"] for f in training.payload["findings"]) == expected


def test_resolve_component_forms() -> None:
    files = [
        ("app/__init__.py", "app"),
        ("app/training/__init__.py", "app.training"),
        ("app/training/loop.py", "app.training.loop"),
        ("app/evaluation/__init__.py", "app.evaluation"),
        ("app/evaluation/run.py", "app.evaluation.run"),
        ("scripts/go.py", "go"),
    ]
    dotted = resolve_component("app.training", files, {})
    assert dotted.files == ("app/training/__init__.py", "app/training/loop.py")
    assert dotted.kind == "package"
    suffix = resolve_component("training", files, {})
    assert suffix.files == dotted.files and suffix.packages == ("app.training",)
    module = resolve_component("app.evaluation.run", files, {})
    assert module.files == ("app/evaluation/run.py",)
    globs = resolve_component("app/evaluation/**,scripts/*.py", files, {})
    assert globs.files == ("app/evaluation/__init__.py", "app/evaluation/run.py", "scripts/go.py")
    assert globs.kind == "paths"
    folder = resolve_component("app/training", files, {})
    assert folder.files == dotted.files
    configured = resolve_component(
        "core", files, {"core": ["app.training", "app/evaluation/run.py"]}
    )
    assert configured.kind == "configured"
    assert configured.files == tuple(sorted((*dotted.files, "app/evaluation/run.py")))
    nothing = resolve_component("app.missing", files, {})
    assert nothing.files == () and nothing.kind == "none" and nothing.unmatched == ("app.missing",)
    # "app" names the root package (everything under it), never a prefix of another name.
    assert len(resolve_component("ap", files, {}).files) == 0
    # The last part is matched as a whole part: `training` is not `training_utils`.
    near = [*files, ("app/training_utils/training.py", "app.training_utils.training")]
    assert resolve_component("training", near, {}).packages == ()
    assert resolve_component("training_utils.training", near, {}).files == (
        "app/training_utils/training.py",
    )


# -- critical issues ---------------------------------------------------------------------


def test_critical_issues_are_grouped_by_root_cause_and_capped(training: FixtureAudit) -> None:
    payload = training.payload
    groups = payload["groups"]
    assert payload["critical"] == [g["id"] for g in groups[:MAX_CRITICAL]]
    assert len(groups) > MAX_CRITICAL  # the fixture has more root causes than the cap
    # Every finding belongs to exactly one group and the groups partition the findings.
    by_group: dict[str, list[dict[str, Any]]] = {}
    for finding in payload["findings"]:
        by_group.setdefault(finding["group"], []).append(finding)
    assert sorted(by_group) == sorted(g["id"] for g in groups)
    for group in groups:
        members = by_group[group["id"]]
        assert sorted(f"{f['path']}:{f['line']}" for f in members) == sorted(group["locations"])
        kind = group["key"].split(":", 1)[0]
        if kind == "scope":  # same rule, same top-level class or function, same file
            assert {(f["code"], f["path"], f["scope"].split(".")[0]) for f in members} == {
                (group["code"], members[0]["path"], members[0]["scope"].split(".")[0])
            }
    # The three host syncs of StepManager.optimize are one root cause.
    syncs = [g for g in groups if g["code"] == "IL403" and "`StepManager`" in g["cause"]]
    assert len(syncs) == 1
    assert sorted(syncs[0]["locations"]) == [
        f"trainer_app/training/step_manager.py:{line}" for line in (110, 113, 117)
    ]
    # Ordered by severity, then precision.
    ranks = [
        (
            {"error": 3, "warning": 2, "note": 1}[g["severity"]],
            {"high": 3, "medium": 2}[g["precision"]],
        )
        for g in groups
    ]
    assert ranks == sorted(ranks, reverse=True)


def test_critical_issues_in_the_markdown(training: FixtureAudit) -> None:
    tokens = parse(training.markdown)
    kind, items = list_after(tokens, "Critical Issues Identified")
    assert kind == "ordered_list_open"
    assert len(items) == MAX_CRITICAL
    groups = training.payload["groups"]
    for item, group in zip(items, groups):
        text = item.content
        assert group["code"] in text and group["locations"][0] in text
    block = training.markdown.split("### Critical Issues Identified", 1)[1].split("###", 1)[0]
    assert block.count("- Fix:") == MAX_CRITICAL
    assert "- At run time:" in block
    rest = groups[MAX_CRITICAL:]
    assert (
        f"{len(rest)} further root causes ({sum(len(g['locations']) for g in rest)} findings"
        in (block)
    )
    # Findings beyond the critical ten are not listed in the Markdown.
    for group in rest:
        for location in group["locations"]:
            if not any(location in g["locations"] for g in groups[:MAX_CRITICAL]):
                assert location not in training.markdown


# -- strengths ---------------------------------------------------------------------------


def _calls(root: Path, files: list[str], names: set[str]) -> list[tuple[str, str]]:
    """``(file, top-level scope)`` of every call of a method or function in ``names``
    (read with LibCST here, independently of the audit's collector)."""

    class Finder(cst.CSTVisitor):
        def __init__(self) -> None:
            self.stack: list[str] = []
            self.found: list[str] = []

        def visit_ClassDef(self, node: cst.ClassDef) -> None:
            self.stack.append(node.name.value)

        def leave_ClassDef(self, node: cst.ClassDef) -> None:
            self.stack.pop()

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            self.stack.append(node.name.value)

        def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
            self.stack.pop()

        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            name = func.attr.value if isinstance(func, cst.Attribute) else ""
            if name in names:
                self.found.append(self.stack[0] if self.stack else "")

    found = []
    for relpath in files:
        source = (root / relpath).read_text(encoding="utf-8")
        if "torch" not in source and "asyncio" not in source:
            continue
        finder = Finder()
        cst.parse_module(source).visit(finder)
        found += [(relpath, top) for top in finder.found]
    return found


_INDEXES: dict[Path, Any] = {}


def _probed_loop_calls(root: Path, files: list[str]) -> tuple[int, int]:
    """``(loop calls in functions that call get_running_loop(), loop calls)``."""
    loop_names = {"run", "run_until_complete", "run_forever", "new_event_loop"}

    class Finder(cst.CSTVisitor):
        def __init__(self) -> None:
            self.stack: list[str] = []
            self.loops: list[str] = []
            self.probing: set[str] = set()

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            self.stack.append(node.name.value)

        def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
            self.stack.pop()

        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Attribute):
                where = ".".join(self.stack)
                if node.func.attr.value in ("get_running_loop", "_get_running_loop"):
                    self.probing.add(where)
                elif node.func.attr.value in loop_names:
                    self.loops.append(where)

    probed = total = 0
    for relpath in files:
        finder = Finder()
        cst.parse_module((root / relpath).read_text(encoding="utf-8")).visit(finder)
        total += len(finder.loops)
        probed += sum(1 for where in finder.loops if where and where in finder.probing)
    assert probed == total, "the strength is stated only when every call is probed"
    return probed, total


def expected_strength(root: Path, payload: dict[str, Any], fact: str) -> tuple[int, int]:
    """``(count, total)`` of a strength, recomputed from the project's facts."""
    from integ_lint.config import load_config
    from integ_lint.engine import index_project
    from integ_lint.engine.registry import load_registry
    from integ_lint.facts.imports import ImportFacts
    from integ_lint.facts.managers import ManagerFactCollector
    from integ_lint.facts.messages import MessageFactCollector
    from integ_lint.facts.schemas import SchemaFactCollector
    from integ_lint.model.import_graph import import_graph
    from integ_lint.model.schema_index import schema_index

    files = payload["scope"]["component"]["files"]
    scope = set(files)
    if root not in _INDEXES:  # one facts-only pass per project
        config = load_config([root], None, extra_sections=load_registry().sections)
        _INDEXES[root], _ = index_project(
            [root],
            config,
            [ImportFacts, SchemaFactCollector, ManagerFactCollector, MessageFactCollector],
            jobs=0,
        )
    index = _INDEXES[root]
    modules = {index.files[p].module for p in files if p in index.files}
    if fact == "no-module-cycle":
        return len(modules), len(modules)
    if fact in ("imports-in-public", "imports-out-public"):
        graph = import_graph(index)
        sites = 0
        for importer, imported, edge_sites in graph.edges():
            if graph.is_external(imported):
                continue
            crossing = (
                importer in modules and imported not in modules
                if fact == "imports-out-public"
                else importer not in modules and imported in modules
            )
            if crossing:
                sites += len(edge_sites)
        return sites, sites
    if fact == "config-reads-declared":
        reads = [s for s in schema_index(index).sites if s.path in scope]
        return sum(1 for s in reads if s.declaring), len(reads)
    if fact == "device-owners":
        moves = _calls(root, files, {"to", "cuda", "cpu", "set_device"})
        return len(set(moves)), len(moves)  # owners: (file, top-level class or function)
    if fact == "loop-calls-clean":
        loops = _calls(
            root,
            files,
            {
                "run",
                "run_until_complete",
                "run_forever",
                "new_event_loop",
                "get_event_loop",
                "set_event_loop",
                "run_coroutine_threadsafe",
            },
        )
        return len(loops), len(loops)
    if fact == "loop-calls-probed":
        return _probed_loop_calls(root, files)
    if fact == "messages-clean":
        from integ_lint.model.messages import build_message_index

        event_sites: set[tuple[str, int]] = set()
        for entry in build_message_index(index).events.values():
            uses: list[tuple[str, Any]] = [*entry.publications, *entry.subscriptions]
            for path, use in uses:
                if path in scope:
                    event_sites.add((path, use.site.span.start_line))
        return len(event_sites), len(event_sites)
    if fact == "no-manager-cycle":
        from integ_lint.model.coupling import manager_graph

        managers_graph = manager_graph(index)
        managers = [
            k
            for k, c in managers_graph.classes.items()
            if c.relpath in scope and k in managers_graph.metrics
        ]
        return len(managers), len(managers)
    raise AssertionError(f"unknown strength {fact}")


def check_strengths(root: Path, payload: dict[str, Any], markdown: str) -> None:
    tokens = parse(markdown)
    _, items = list_after(tokens, "Strengths Observed")
    if payload["strengths"]:
        assert [i.content for i in items] == [md_text(s["text"]) for s in payload["strengths"]]
    else:
        assert [i.content for i in items] == ["None established by the facts."]
    for strength in payload["strengths"]:
        assert str(strength["count"]) in strength["text"]
        assert (strength["count"], strength["total"]) == expected_strength(
            root, payload, strength["fact"]
        ), strength


def test_each_strength_count_matches_the_facts(training: FixtureAudit) -> None:
    facts = {s["fact"] for s in training.payload["strengths"]}
    assert facts, "the training component has strengths"
    check_strengths(training.root, training.payload, training.markdown)


def test_strengths_of_a_clean_component(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p",
        {
            "app/__init__.py": "",
            "app/core/__init__.py": "from .engine import Engine\n",
            "app/core/engine.py": (
                "import asyncio\nimport torch\nfrom app.core.util import helper\n\n"
                "class EngineManager:\n    pass\n\n"
                "class Engine:\n"
                "    def __init__(self, device):\n"
                "        self.manager = EngineManager()\n"
                "        self.model = torch.nn.Linear(1, 1).to(device)\n\n"
                "def main():\n    asyncio.run(helper())\n\n"
                "if __name__ == '__main__':\n    main()\n"
            ),
            "app/core/util.py": "async def helper():\n    return 1\n",
            "app/api/__init__.py": "",
            "app/api/routes.py": "from app.core import Engine\n\nENGINE = Engine\n",
        },
        config='[tool.integ-lint.gpu]\nmanagers = ["app.core.engine.Engine"]\n',
    )
    _, markdown, payload = written(root, "--component", "app.core")
    facts = {s["fact"]: s for s in payload["strengths"]}
    assert {"no-module-cycle", "imports-in-public"} <= set(facts), payload["strengths"]
    assert facts["no-module-cycle"]["count"] == 3
    assert facts["imports-in-public"]["count"] == 1
    check_strengths(root, payload, markdown)


def test_events_are_an_integration_point(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p",
        {
            "app/__init__.py": "",
            "app/bus.py": "class EventBus:\n    def publish(self, e, d): ...\n    def subscribe(self, e, h): ...\n\n\nevent_bus = EventBus()\n",
            "app/core/__init__.py": "",
            "app/core/users.py": (
                "from app.bus import event_bus\n\n\n"
                "def create(name):\n    event_bus.publish('user.created', {'name': name})\n"
            ),
            "app/api/__init__.py": "",
            "app/api/mail.py": (
                "from app.bus import event_bus\n\n\n"
                "def welcome(data):\n    return data['name']\n\n\n"
                "event_bus.subscribe('user.created', welcome)\n"
            ),
        },
    )
    _, markdown, payload = written(root, "--component", "app.core")
    events = next(p for p in payload["integration_points"] if p["kind"] == "events")
    assert events["sites"] == 1
    assert [d["event"] for d in events["details"]] == ['"user.created"']
    assert events["details"][0]["consumed_elsewhere"] == 1
    assert "1 consumed outside the component" in events["summary"]
    metrics = {m["family"]: m for m in payload["metrics"]}
    assert metrics["messages"]["checked"] == 1 and metrics["messages"]["defective"] == 0
    assert "messages-clean" in {s["fact"] for s in payload["strengths"]}
    check_strengths(root, payload, markdown)


def test_loop_calls_in_probing_functions(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p",
        {
            "pkg/__init__.py": "",
            "pkg/sync.py": (
                "import asyncio\n\n\n"
                "def run_sync(coro):\n"
                "    try:\n"
                "        asyncio.get_running_loop()\n"
                "    except RuntimeError:\n"
                "        return asyncio.run(coro)\n"
                "    raise RuntimeError('call the async API from async code')\n"
            ),
        },
    )
    _, markdown, payload = written(root, "--component", "pkg")
    facts = {s["fact"]: s for s in payload["strengths"]}
    assert facts["loop-calls-probed"]["count"] == 1
    assert payload["findings"] == []  # guarded: no IL201 although it is selected
    check_strengths(root, payload, markdown)
    (root / "pkg" / "other.py").write_text(
        "import asyncio\n\n\ndef main():\n    asyncio.run(work())\n"
    )
    _, _, payload = written(root, "--component", "pkg")
    assert "loop-calls-probed" not in {s["fact"] for s in payload["strengths"]}


def test_no_filler_strengths(tmp_path: Path) -> None:
    """A component with nothing to say about gets no strength at all."""
    root = project(tmp_path / "p", {"pkg/__init__.py": "", "pkg/a.py": "VALUE = 1\n"})
    code, markdown, payload = written(root, "--component", "pkg")
    assert code == 0 and payload["decision"]["status"] == APPROVED
    assert payload["strengths"] == []
    assert "- None established by the facts." in markdown


# -- status policy -------------------------------------------------------------------------


def _group(severity: str, precision: str = "high") -> IssueGroup:
    return IssueGroup(
        id="G1", key="k", code="IL999", codes=("IL999",), rule="r", family="f",
        severity=severity, precision=precision, cause="c", message="m", runtime="", fix="x",
        locations=("a.py:1",), fingerprints=("f",),
    )  # fmt: skip


def test_decide_status_policy() -> None:
    policy = Policy(reject_above_errors=1)
    problem = [Problem("parse-error", "a.py:1", "bad")]
    assert decide(0, [], [], policy) == NEEDS_FURTHER_REVIEW
    assert decide(0, [_group("error")], [], policy) == NEEDS_FURTHER_REVIEW
    assert decide(3, [_group("error"), _group("error")], [], policy) == REJECTED
    assert decide(3, [_group("error")], problem, policy) == REQUIRES_REMEDIATION
    assert decide(3, [_group("warning")], problem, policy) == NEEDS_FURTHER_REVIEW
    assert decide(3, [_group("warning")], [], policy) == CONDITIONALLY_APPROVED
    # A medium-precision error is a condition, not a blocker.
    assert decide(3, [_group("error", "medium")], [], policy) == CONDITIONALLY_APPROVED
    assert decide(3, [_group("note")], [], policy) == APPROVED
    assert decide(3, [_group("note")], [], Policy(conditions_from=Severity.NOTE)) == (
        CONDITIONALLY_APPROVED
    )
    assert decide(3, [], [], policy) == APPROVED


def test_training_component_requires_remediation(training: FixtureAudit) -> None:
    decision = training.payload["decision"]
    blocking = [
        g
        for g in training.payload["groups"]
        if g["severity"] == "error" and g["precision"] == "high"
    ]
    assert 0 < len(blocking) <= training.payload["policy"]["reject_above_errors"]
    assert decision["status"] == REQUIRES_REMEDIATION and training.exit_code == 1
    assert decision["decided_by"] == [g["id"] for g in blocking]
    # One condition per root cause at or above the threshold (warnings and errors).
    conditional = [g for g in training.payload["groups"] if g["severity"] != "note"]
    assert len(decision["conditions"]) == len(conditional)


ERROR_SOURCE = "import asyncio\n\n\ndef {name}():\n    asyncio.run(work())\n"
WARNING_SOURCE = (
    "import torch\n\n\ndef {name}(p):\n    a = torch.load(p)\n    return torch.load(p), a\n"
)


def test_empty_scope_needs_further_review(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p", {"pkg/__init__.py": "", "pkg/a.py": ERROR_SOURCE.format(name="f")}
    )
    code, markdown, payload = written(root, "--component", "pkg.nothing_here")
    assert code == 3
    assert payload["decision"]["status"] == NEEDS_FURTHER_REVIEW
    assert payload["scope"]["component"]["files"] == [] and payload["findings"] == []
    assert "matched no file" in payload["decision"]["rationale"]
    assert payload["actions"][0].startswith("Name the component's files")
    assert "**Status**: NEEDS_FURTHER_REVIEW" in markdown


def test_unknown_component_says_why_in_one_line(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p", {"pkg/__init__.py": "", "pkg/training/__init__.py": "", "pkg/a.py": ""}
    )
    code, out, err = audit(root, "--component", "pkg.trainig")
    assert code == 3 and out.strip().endswith(".md")
    assert err.strip().splitlines() == [
        "Status: NEEDS_FURTHER_REVIEW: --component 'pkg.trainig' matched no file "
        "(did you mean 'pkg.training'?)"
    ]


def test_empty_folder_is_not_approved(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {})
    code, _, payload = written(root, "--component", "anything")
    assert code == 3 and payload["decision"]["status"] == NEEDS_FURTHER_REVIEW


def test_unparsable_file_in_scope_needs_further_review(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p",
        {"pkg/__init__.py": "", "pkg/ok.py": "X = 1\n", "pkg/bad.py": "def broken(:\n"},
    )
    code, _, payload = written(root, "--component", "pkg")
    assert code == 3 and payload["decision"]["status"] == NEEDS_FURTHER_REVIEW
    assert [p["location"].split(":")[0] for p in payload["problems"]] == ["pkg/bad.py"]


def test_findings_outside_the_scope_never_decide(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p",
        {
            "pkg/__init__.py": "",
            "pkg/ok.py": "X = 1\n",
            "other/__init__.py": "",
            "other/loops.py": ERROR_SOURCE.format(name="f"),
            "other/bad.py": "def broken(:\n",
        },
    )
    code, _, payload = written(root, "--component", "pkg")
    assert code == 0 and payload["decision"]["status"] == APPROVED
    assert payload["findings"] == [] and payload["problems"] == []


def test_warnings_only_is_conditionally_approved_one_condition_per_root_cause(
    tmp_path: Path,
) -> None:
    root = project(
        tmp_path / "p",
        {
            "pkg/__init__.py": "",
            "pkg/a.py": WARNING_SOURCE.format(name="load_a"),
            "pkg/b.py": WARNING_SOURCE.format(name="load_b"),
        },
    )
    code, markdown, payload = written(root, "--component", "pkg")
    assert code == 0 and payload["decision"]["status"] == CONDITIONALLY_APPROVED
    assert len(payload["findings"]) == 4  # two torch.load per function
    assert len(payload["groups"]) == 2
    assert len(payload["decision"]["conditions"]) == 2
    assert markdown.count("Resolve or justify IL405") == 2


def test_high_precision_errors_require_remediation_or_reject(tmp_path: Path) -> None:
    files = {"pkg/__init__.py": ""}
    files |= {f"pkg/m{n}.py": ERROR_SOURCE.format(name=f"run{n}") for n in range(3)}
    root = project(
        tmp_path / "p", files, config="[tool.integ-lint.audit]\nreject-above-errors = 2\n"
    )
    code, _, payload = written(root, "--component", "pkg")
    assert code == 1 and payload["decision"]["status"] == REJECTED
    (root / "pkg" / "m2.py").write_text("X = 1\n")
    code, _, payload = written(root, "--component", "pkg")
    assert code == 1 and payload["decision"]["status"] == REQUIRES_REMEDIATION


def test_twelve_root_causes_show_ten(tmp_path: Path) -> None:
    body = "import asyncio\n\n\n" + "".join(
        f"def run{n}():\n    asyncio.run(work())\n    asyncio.run(work())\n\n\n" for n in range(12)
    )
    root = project(
        tmp_path / "p",
        {"pkg/__init__.py": "", "pkg/loops.py": body},
        config="[tool.integ-lint.audit]\nreject-above-errors = 20\n",
    )
    _, markdown, payload = written(root, "--component", "pkg")
    assert len(payload["findings"]) == 24 and len(payload["groups"]) == 12
    assert all(len(g["locations"]) == 2 for g in payload["groups"])
    assert len(payload["critical"]) == MAX_CRITICAL
    _, items = list_after(parse(markdown), "Critical Issues Identified")
    assert len(items) == MAX_CRITICAL
    assert "2 further root causes (4 findings, G11-G12)" in markdown


# -- Markdown structure and size ------------------------------------------------------------


def check_structure(markdown: str) -> None:
    tokens = parse(markdown)
    found = headings(tokens)
    assert found[0][0] == "h1" and found[0][1].endswith("CERTIFICATE")
    assert [text for tag, text in found if tag == "h2"] == SECTIONS
    h3 = [text for tag, text in found if tag == "h3"]
    assert [t for t in h3 if t in FINDINGS_SUBSECTIONS] == FINDINGS_SUBSECTIONS
    first = next(t for t in tokens if t.type == "inline" and t.content.startswith("**Component**"))
    assert [m for m in re.findall(r"\*\*([^*]+)\*\*:", first.content)] == HEADER_FIELDS
    signature = markdown.split("## SIGNATURE\n", 1)[1].splitlines()
    assert [line.split(":", 1)[0] for line in signature] == [
        "Agent",
        "Timestamp",
        "Certificate Hash",
    ]
    status = re.search(r"^\*\*Status\*\*: ([A-Z_]+)$", markdown, re.MULTILINE)
    assert status is not None


def test_markdown_parses_into_the_reference_sections(training: FixtureAudit) -> None:
    check_structure(training.markdown)
    fences = [t for t in parse(training.markdown) if t.type == "fence"]
    assert [f.info for f in fences] == ["mermaid"]
    _, points = list_after(parse(training.markdown), "Integration Points Analysis")
    assert [p.content.split("**")[1] for p in points] == [
        p["title"] for p in training.payload["integration_points"]
    ]


def test_markdown_reads_in_five_minutes(training: FixtureAudit) -> None:
    lines = training.markdown.count("\n")
    assert lines <= 200, lines
    # ... while the JSON holds everything: every finding, group, site and file hash.
    assert len(training.payload["findings"]) == sum(
        len(g["locations"]) for g in training.payload["groups"]
    )


def test_signature_hash_covers_json_and_markdown(training: FixtureAudit) -> None:
    digest = hashlib.sha256(training.json_bytes).hexdigest()
    assert f"Certificate Hash: sha256:{digest}" in training.markdown
    unsigned = re.sub(r"^Certificate Hash: .*\n", "", training.markdown, flags=re.MULTILINE)
    assert hashlib.sha256(unsigned.encode()).hexdigest() == training.payload["markdown_sha256"]


# -- metrics ----------------------------------------------------------------------------------


def test_metrics_are_checked_and_defective_sites(training: FixtureAudit) -> None:
    metrics = {m["family"]: m for m in training.payload["metrics"]}
    findings = training.payload["findings"]
    for family, metric in metrics.items():
        sites = {(f["path"], f["line"]) for f in findings if f["family"] == family}
        assert metric["defective"] == len(sites), family
        if metric["checked"] is None:
            assert metric["score"] is None
            continue
        assert metric["checked"] >= metric["defective"]
        assert metric["score"] == site_score(metric["checked"], metric["defective"])
    # The config-schema family checks every defensive config read of the component.
    config = next(p for p in training.payload["integration_points"] if p["kind"] == "config")
    assert metrics["config-schema"]["checked"] == len(
        {(d["path"], d["line"]) for d in config["details"]}
    )
    assert metrics["suppressions"]["checked"] is None  # no site model: counted, not scored
    overall = training.payload["overall"]
    scored = [m for m in metrics.values() if m["checked"] is not None]
    assert overall["checked"] == sum(m["checked"] for m in scored)
    assert overall["defective"] == sum(m["defective"] for m in scored)


def test_site_score_formula() -> None:
    assert site_score(0, 0) is None
    assert site_score(43, 2) == 95
    assert site_score(8, 1) == 88  # 87.5 rounds half up
    assert site_score(3, 3) == 0


# -- options ------------------------------------------------------------------------------------


def test_json_format_prints_the_same_content(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"pkg/__init__.py": "", "pkg/a.py": "X = 1\n"})
    code, out, _ = audit(root, "--component", "pkg", "--format", "json")
    data = json.loads(out)
    on_disk = json.loads(Path(data["json_path"]).read_text(encoding="utf-8"))
    assert data["certificate"] == on_disk and code == 0


def test_default_folder_and_name(training: FixtureAudit) -> None:
    assert training.markdown_path.parent == training.root / CERT_DIR
    assert re.fullmatch(
        r"integration_review_trainer_app_training_\d{8}_\d{6}\.md", training.markdown_path.name
    )


def test_configured_component(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p",
        {"a/__init__.py": "", "a/x.py": "X = 1\n", "b/__init__.py": "", "b/y.py": "Y = 1\n"},
        config='[tool.integ-lint.audit.components]\ncore = ["a", "b/y.py"]\n',
    )
    _, markdown, payload = written(root, "--component", "core")
    assert payload["scope"]["component"]["files"] == ["a/__init__.py", "a/x.py", "b/y.py"]
    assert payload["scope"]["component"]["kind"] == "configured"
    assert "**Component**: core (3 files)" in markdown


def _import_points(payload: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {
        p["kind"]: p["details"]
        for p in payload["integration_points"]
        if p["kind"] in ("imports-in", "imports-out")
    }


@pytest.mark.parametrize(
    ("public", "component", "kind", "public_sites"),
    [
        # `app.core` exposes only `app.core.api`: the import of `app.core.engine` from
        # app.api reaches past it, seen from either side (IL101 reports it).
        ('"app.core" = ["api"]', "app.core", "imports-in", [False, True]),
        ('"app.core" = ["api"]', "app.api", "imports-out", [False, True]),
        # Every submodule without a leading underscore is public.
        ('"app.core" = "convention"', "app.core", "imports-in", [True, True]),
        ('"app.core" = "convention"', "app.api", "imports-out", [True, True]),
    ],
)
def test_imports_in_and_out_are_judged_as_il101_judges_them(
    tmp_path: Path, public: str, component: str, kind: str, public_sites: list[bool]
) -> None:
    root = project(
        tmp_path / "p",
        {
            "app/__init__.py": "",
            "app/core/__init__.py": "",
            "app/core/engine.py": "X = 1\n",
            "app/core/api.py": "Y = 1\n",
            "app/api/__init__.py": "",
            "app/api/views.py": "from app.core.engine import X\nfrom app.core.api import Y\n",
        },
        config=(
            '[tool.integ-lint.boundaries]\nmodules = ["app.core", "app.api"]\n'
            f"[tool.integ-lint.boundaries.public]\n{public}\n"
        ),
    )
    _, _, payload = written(root, "--component", component)
    sites = sorted(_import_points(payload)[kind], key=lambda s: s["line"])
    assert [s["imported"] for s in sites] == ["app.core.engine", "app.core.api"]
    assert [s["public"] for s in sites] == public_sites


def test_bad_component_settings_name_the_key(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p",
        {"a.py": "X = 1\n"},
        config="[tool.integ-lint.audit]\ncomponents = { core = [] }\n",
    )
    code, _, err = audit(root, "--component", "core")
    assert code == 2 and "components.core" in err and len(err.strip().splitlines()) == 1


def test_since_and_previous_are_exclusive(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"a.py": "X = 1\n"})
    code, _, err = audit(root, "--component", "a", "--since", "HEAD", "--previous", "x.md")
    assert code == 2 and "--since" in err


def test_snake_name() -> None:
    assert snake_name("Training App", "--component") == "training_app"
    assert snake_name("trainer_app.training", "--component") == "trainer_app_training"


# -- root causes and their texts ----------------------------------------------------------


def _finding(code: str, message: str, scope: str = "", **props: Any) -> Any:
    from integ_lint.findings import Finding, Site, Span

    return Finding(
        code=code,
        rule_name="r",
        severity=Severity.WARNING,
        message=message,
        path="pkg/a.py",
        site=Site(Span(3, 1, 3, 9), scope, "x.y"),
        properties=tuple(props.items()),
    )


DOC = """Summary.

**Why is this bad?**
It breaks. Badly, at run time. And more.

**How to fix**
Declare the field in the schema (with a default) and read it as `cfg.example_field`.
Then run again.
"""


def test_fix_and_runtime_texts() -> None:
    from integ_lint.audit.model import doc_section, fix_text

    assert doc_section(DOC, "Why is this bad") == "It breaks. Badly, at run time."
    # The message's own advice wins; the documentation's example never leaks in.
    advised = _finding("IL302", "'x' is declared in C; use 'self.cfg.x'")
    assert fix_text(advised, DOC) == "Use 'self.cfg.x'."
    plain = _finding("IL301", "attribute 'y' is not declared in C")
    assert fix_text(plain, DOC) == "Declare the field in the schema (with a default)."
    aside = _finding("IL101", "a imports b (B is re-exported by pkg: import from there)")
    assert fix_text(aside, DOC) == "B is re-exported by pkg: import from there."
    assert fix_text(plain, "Summary.") == "See `integ-lint explain IL301`."


def test_root_cause_keys() -> None:
    from integ_lint.audit.model import root_cause

    cycle = _finding("IL103", "m", cycle=("b", "a", "b"))
    assert root_cause(cycle, "boundaries")[0] == "cycle:IL103:a|b"
    field_key = root_cause(_finding("IL301", "m", attribute="x", schemas=("p.C",)), "config-schema")
    assert field_key[0] == "config:p.C:x"
    internals = root_cause(_finding("IL101", "m", imported="lib.util._impl"), "boundaries")
    assert internals == ("imports:IL101:lib.util", "imports of `lib.util` internals")
    method = root_cause(_finding("IL403", "m", scope="Step.optimize"), "gpu")
    assert method[0] == "scope:IL403:pkg/a.py:Step"
    assert root_cause(_finding("IL403", "m"), "gpu")[1] == "`pkg/a.py` (module level)"


def test_manager_coupling_shows_the_components_managers(training: FixtureAudit) -> None:
    coupling = training.payload["coupling"]
    files = set(training.payload["scope"]["component"]["files"])
    rows = coupling["rows"]
    assert 0 < len(rows) <= 12
    inside = [r["file"] in files for r in rows]
    assert inside == sorted(inside, reverse=True)  # the component's managers first
    assert "StepManager" in {r["manager"] for r in rows}
    edges = [line for line in coupling["mermaid"].splitlines() if "-->" in line]
    assert 0 < len(edges) <= 30
    assert coupling["mermaid"].strip() in training.markdown
