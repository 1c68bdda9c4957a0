"""``integ-lint audit``: the certificate of the bundled training application reads like
the reference certificates (sections, order, status, evidence one to one with the
findings, Markdown structure, Mermaid block), plus the status policy and scores."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt
from markdown_it.token import Token

from integ_lint import api
from integ_lint.audit import (
    APPROVED,
    CONDITIONALLY_APPROVED,
    CRITICAL,
    GOOD,
    MINOR,
    NEEDS_FURTHER_REVIEW,
    REJECTED,
    REQUIRES_REMEDIATION,
    FindingGroup,
    Policy,
    Problem,
    decide,
    score,
    snake_name,
    verdict,
)
from integ_lint.cli import main
from integ_lint.engine import RunOptions
from integ_lint.findings import Severity

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "training_app"
CERT_DIR = Path("docs/ai/agents/integration-specialist/certificates")
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


# -- helpers ----------------------------------------------------------------------------


def parse(markdown: str) -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(markdown)


def plain(token: Token) -> str:
    """The rendered text of an inline token (code spans without their backticks)."""
    return "".join(
        child.content
        for child in token.children or []
        if child.type in ("text", "code_inline", "softbreak")
    )


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


def audit(root: Path, *args: str, cache: bool = False) -> tuple[int, str, str]:
    options = ["--jobs", "1"] if cache else ["--jobs", "1", "--no-cache"]
    result = CliRunner().invoke(main, ["audit", str(root), *options, *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def project(tmp_path: Path, files: dict[str, str], config: str = "") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "pyproject.toml").write_text(f"[tool.integ-lint]\n{config}\n")
    for relpath, text in files.items():
        path = tmp_path / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@dataclass
class FixtureAudit:
    root: Path
    exit_code: int
    markdown_path: Path
    markdown: str
    payload: dict[str, Any]
    json_bytes: bytes
    findings: list[Any]


@pytest.fixture(scope="module")
def training(tmp_path_factory: pytest.TempPathFactory) -> FixtureAudit:
    root = tmp_path_factory.mktemp("audit") / "training_app"
    shutil.copytree(FIXTURE, root)
    code, out, _ = audit(root, "--component", "Training App", cache=True)
    path = Path(out.strip())
    # An independent run (from the cache the audit filled) to compare the evidence with.
    report = api.check([root], options=RunOptions(jobs=1))
    json_path = path.with_suffix(".json")
    return FixtureAudit(
        root=root,
        exit_code=code,
        markdown_path=path,
        markdown=path.read_text(encoding="utf-8"),
        payload=json.loads(json_path.read_text(encoding="utf-8")),
        json_bytes=json_path.read_bytes(),
        findings=report.findings,
    )


# -- the training application certificate ---------------------------------------------


def test_certificate_is_written_into_the_default_folder(training: FixtureAudit) -> None:
    path = training.markdown_path
    assert path.parent == training.root / CERT_DIR
    assert re.fullmatch(r"integration_review_training_app_\d{8}_\d{6}\.md", path.name)
    assert path.with_suffix(".json").is_file()


def test_sections_and_their_order(training: FixtureAudit) -> None:
    found = headings(parse(training.markdown))
    assert found[0] == ("h1", "INTEGRATION REVIEW CERTIFICATE")
    assert [text for tag, text in found if tag == "h2"] == SECTIONS
    h2_index = {text: i for i, (tag, text) in enumerate(found) if tag == "h2"}
    within_findings = [
        text
        for i, (tag, text) in enumerate(found)
        if tag == "h3" and h2_index["FINDINGS"] < i < h2_index["DECISION/OUTCOME"]
    ]
    assert within_findings == FINDINGS_SUBSECTIONS
    header = training.markdown.split("## REVIEW SCOPE")[0]
    for field in ("**Component**: training_app", "**Agent**: integ-lint ", "**Date**: "):
        assert field in header
    assert re.search(r"\*\*Date\*\*: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", header)
    assert "**Certificate ID**: IL-TRAINING-APP-" in header


def test_status_follows_the_policy(training: FixtureAudit) -> None:
    errors = sum(1 for f in training.findings if f.severity is Severity.ERROR)
    assert errors > 0
    expected = REJECTED if errors > 10 else REQUIRES_REMEDIATION
    assert f"**Status**: {expected}\n" in training.markdown
    assert training.payload["decision"]["status"] == expected
    assert training.exit_code == 1
    assert f"{errors} error" in training.payload["decision"]["rationale"]


def test_evidence_matches_the_findings_one_to_one(training: FixtureAudit) -> None:
    kind, items = list_after(parse(training.markdown), f"Findings ({len(training.findings)})")
    assert kind == "bullet_list_open"
    texts = [plain(item) for item in items]
    expected = [
        f"{f.path}:{f.line} {f.code} ({f.severity.value}): "
        + " ".join(f.message.split()).replace("`", "")
        for f in sorted(training.findings, key=lambda f: f.sort_key())
    ]
    assert texts == expected
    located = Counter((f.path, f.line, f.code) for f in training.findings)
    in_json = Counter((f["path"], f["line"], f["code"]) for f in training.payload["findings"])
    assert located == in_json


def test_related_locations_are_evidence_too(training: FixtureAudit) -> None:
    with_related = [f for f in training.findings if f.related]
    assert with_related, "the fixture has findings with related locations (IL303, IL103)"
    for finding in with_related:
        for related in finding.related:
            assert f"  - related: `{related.path}:{related.span.start_line}`" in training.markdown
    drift = [f for f in training.findings if f.code == "IL303"]
    for finding in drift:  # a default drift points at the schema field's line
        assert any("defaults to" in r.message for r in finding.related)


def test_verdicts_per_family(training: FixtureAudit) -> None:
    tokens = parse(training.markdown)
    _, items = list_after(tokens, "Integration Points Analysis")
    lines = {plain(i).split(" (")[0]: plain(i) for i in items}
    by_family = {f["family"]: f for f in training.payload["families"]}
    assert set(by_family) >= {"event-loops", "config-schema", "gpu", "coupling", "boundaries"}
    for family in by_family.values():
        expected = (
            CRITICAL
            if family["errors"]
            else MINOR
            if family["warnings"] + family["notes"]
            else GOOD
        )
        assert family["verdict"] == expected
        assert expected in lines[family["title"]]
    assert by_family["event-loops"]["verdict"] == CRITICAL  # asyncio.run in the evaluator
    _, strengths = list_after(tokens, "Strengths Observed")
    clean = [f["title"] for f in by_family.values() if not f["errors"] + f["warnings"] + f["notes"]]
    assert [plain(s).split(":")[0] for s in strengths] == clean or not clean


def test_critical_issues_are_the_errors(training: FixtureAudit) -> None:
    kind, items = list_after(parse(training.markdown), "Critical Issues Identified")
    assert kind == "ordered_list_open"
    errors = sorted(
        (f for f in training.findings if f.severity is Severity.ERROR), key=lambda f: f.sort_key()
    )
    assert [plain(i).split(" ")[:2] for i in items] == [
        [f"{f.path}:{f.line}", f.code] for f in errors
    ]


def test_manager_coupling_table_and_mermaid(training: FixtureAudit) -> None:
    tokens = parse(training.markdown)
    coupling = training.payload["coupling"]
    assert coupling["rows"], "the training app has managers"
    cells = [
        plain(t)
        for t in tokens
        if t.type == "inline" and tokens[tokens.index(t) - 1].type == "td_open"
    ]
    names = {row["manager"] for row in coupling["rows"]}
    assert {"Trainer", "StepManager", "MetricsManager"} <= names
    assert names <= set(cells)
    fences = [t for t in tokens if t.type == "fence"]
    assert len(fences) == 1
    assert fences[0].info == "mermaid"
    assert fences[0].content == coupling["mermaid"]
    assert "flowchart" in fences[0].content
    assert "n_Trainer" in fences[0].content


def test_metrics_and_actions(training: FixtureAudit) -> None:
    tokens = parse(training.markdown)
    _, metrics = list_after(tokens, "INTEGRATION ASSESSMENT METRICS")
    texts = [plain(m) for m in metrics]
    assert texts[0] == f"Overall Integration Quality: {training.payload['overall_score']}%"
    for family in training.payload["families"]:
        assert any(t.startswith(f"{family['title']}: {family['score']}%") for t in texts)
    kind, actions = list_after(tokens, "RECOMMENDED NEXT ACTIONS")
    assert kind == "ordered_list_open"
    severities = [re.search(r"\((error|warning|note),", plain(a)) for a in actions]
    ranks = [Severity(m.group(1)).rank for m in severities if m]
    assert ranks == sorted(ranks, reverse=True)
    assert len(ranks) == len({f.code for f in training.findings})


def test_signature_hash_is_the_sha256_of_the_json(training: FixtureAudit) -> None:
    signature = training.markdown.split("## SIGNATURE\n")[1]
    lines = signature.splitlines()
    assert lines[0].startswith("Agent: integ-lint ")
    assert lines[1].startswith("Timestamp: ")
    assert lines[2] == f"Certificate Hash: sha256:{hashlib.sha256(training.json_bytes).hexdigest()}"
    scanned = {p.relative_to(training.root).as_posix() for p in training.root.rglob("*.py")}
    assert set(training.payload["files"]) == scanned


def test_scope_records_what_was_analysed(training: FixtureAudit) -> None:
    scope = training.payload["scope"]
    assert scope["config_file"] == "pyproject.toml"
    assert scope["files_scanned"] == len(training.payload["files"])
    assert scope["git"] is None  # a copy in a temporary folder
    assert set(scope["families"]) >= {"event-loops", "config-schema", "gpu"}
    assert "- **Git**: not a git repository" in training.markdown
    assert (
        f"- **Rule codes run**: {', '.join(sorted(c for v in scope['families'].values() for c in v))}"
        in training.markdown
    )


def test_json_format_prints_the_same_content(tmp_path: Path) -> None:
    root = project(tmp_path, {"pkg/a.py": "import torch\ntorch.load('m.pt')\n"})
    code, out, _ = audit(root, "--component", "pkg", "--format", "json")
    data = json.loads(out)
    on_disk = json.loads(Path(data["json_path"]).read_text())
    assert data["certificate"] == on_disk
    assert data["certificate_hash"] in Path(data["markdown_path"]).read_text()
    assert code == 0


# -- statuses on small projects -------------------------------------------------------


def test_clean_project_is_approved(tmp_path: Path) -> None:
    root = project(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "def f() -> int:\n    return 1\n"})
    code, out, _ = audit(root, "--component", "pkg", "--agent", "reviewer bot")
    markdown = Path(out.strip()).read_text()
    assert code == 0
    assert "**Status**: APPROVED\n" in markdown
    assert "**Conditions**: None" in markdown
    assert "**Agent**: reviewer bot" in markdown
    assert "No manager classes found." in markdown
    assert "```mermaid" not in markdown
    tokens = parse(markdown)
    _, strengths = list_after(tokens, "Strengths Observed")
    assert len(strengths) == len(
        json.loads(Path(out.strip()).with_suffix(".json").read_text())["families"]
    )
    assert "Overall Integration Quality: 100%" in [plain(t) for t in tokens if t.type == "inline"]


def test_warnings_only_is_conditionally_approved_with_one_condition_per_group(
    tmp_path: Path,
) -> None:
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "import torch\n\ndef f(p):\n    return torch.load(p)\n\ndef g(p):\n    return torch.load(p)\n",
        },
    )
    code, out, _ = audit(root, "--component", "pkg")
    markdown = Path(out.strip()).read_text()
    payload = json.loads(Path(out.strip()).with_suffix(".json").read_text())
    assert {f["severity"] for f in payload["findings"]} == {"warning"}
    assert code == 0
    assert payload["decision"]["status"] == CONDITIONALLY_APPROVED
    codes = {f["code"] for f in payload["findings"]}
    assert len(payload["decision"]["conditions"]) == len(codes)
    kind, conditions = list_after(parse(markdown), "DECISION/OUTCOME")
    assert kind == "ordered_list_open"
    assert [plain(c).split(" of ")[1].split(" ")[0] for c in conditions] == sorted(codes)
    assert plain(conditions[0]).startswith("Resolve or justify 2 findings of IL405")


def test_unparsable_file_needs_further_review(tmp_path: Path) -> None:
    root = project(tmp_path, {"pkg/__init__.py": "", "pkg/broken.py": "def f(:\n"})
    code, out, _ = audit(root, "--component", "pkg")
    markdown = Path(out.strip()).read_text()
    assert code == 3
    assert "**Status**: NEEDS_FURTHER_REVIEW\n" in markdown
    assert "### Analysis Problems (1)" in markdown
    assert "`pkg/broken.py:1`" in markdown


def test_reject_threshold_is_configurable(tmp_path: Path) -> None:
    source = "import asyncio\n\ndef f(c):\n    asyncio.run(c)\n\ndef g(c):\n    asyncio.run(c)\n"
    root = project(
        tmp_path,
        {"pkg/__init__.py": "", "pkg/a.py": source},
        "[tool.integ-lint.audit]\nreject-above-errors = 1\n",
    )
    code, out, _ = audit(root, "--component", "pkg")
    assert code == 1
    assert "**Status**: REJECTED\n" in Path(out.strip()).read_text()
    (root / "pyproject.toml").write_text("[tool.integ-lint.audit]\nreject-above-errors = 2\n")
    code, out, _ = audit(root, "--component", "pkg")
    assert "**Status**: REQUIRES_REMEDIATION\n" in Path(out.strip()).read_text()


def test_out_dir_and_descriptor_options(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"a.py": "x = 1\n"})
    out_dir = tmp_path / "certs"
    code, out, _ = audit(
        root,
        "--component",
        "../../evil/name",
        "--descriptor",
        "Technical Review",
        "--out-dir",
        str(out_dir),
    )
    path = Path(out.strip())
    assert code == 0
    assert path.parent == out_dir
    assert re.fullmatch(r"technical_review_evil_name_\d{8}_\d{6}\.md", path.name)
    assert path.read_text().startswith("# TECHNICAL REVIEW CERTIFICATE\n")
    # a second audit in the same second does not overwrite the first
    code, out2, _ = audit(
        root,
        "--component",
        "../../evil/name",
        "--descriptor",
        "Technical Review",
        "--out-dir",
        str(out_dir),
    )
    assert Path(out2.strip()) != path
    assert path.is_file() and Path(out2.strip()).is_file()


def test_since_limits_findings_but_not_the_scope(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    source = "import asyncio\n\ndef f(c):\n    asyncio.run(c)\n"
    root = project(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": source, "pkg/b.py": source})

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args],
            cwd=root,
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "base")
    (root / "pkg" / "b.py").write_text(source + "\ndef g(c):\n    asyncio.run(c)\n")
    code, out, _ = audit(root, "--component", "pkg", "--since", "HEAD")
    assert code == 1  # asyncio.run in library code is an error
    payload = json.loads(Path(out.strip()).with_suffix(".json").read_text())
    assert {f["path"] for f in payload["findings"]} == {"pkg/b.py"}
    assert payload["scope"]["changed_files"] == ["pkg/b.py"]
    assert set(payload["files"]) == {"pkg/__init__.py", "pkg/a.py", "pkg/b.py"}
    assert payload["scope"]["git"]["commit"]
    assert payload["scope"]["git"]["dirty"] is True
    markdown = Path(out.strip()).read_text()
    assert "1 files changed since `HEAD`" in markdown
    assert "uncommitted changes" in markdown


# -- bad input ------------------------------------------------------------------------


def test_bad_component_is_a_one_line_error(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": "x = 1\n"})
    code, _, err = audit(root, "--component", "!!!")
    assert code == 2
    assert err.strip() == "integ-lint: error: --component: '!!!' must contain letters or digits"


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("conditions-from = 'error'", "conditions-from"),
        ("reject-above-errors = -1", "reject-above-errors"),
        ("descriptor = '***'", "descriptor"),
        ("reject-above-errors = 'many'", "reject-above-errors"),
    ],
)
def test_bad_audit_settings_name_the_key(tmp_path: Path, table: str, key: str) -> None:
    root = project(tmp_path, {"a.py": "x = 1\n"}, f"[tool.integ-lint.audit]\n{table}\n")
    code, _, err = audit(root, "--component", "c")
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert f"tool.integ-lint.audit.{key}" in err


def test_bad_since_revision(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": "x = 1\n"})
    code, _, err = audit(root, "--component", "c", "--since", "no-such-rev")
    assert code == 2
    assert err.startswith("integ-lint: error: ")


# -- policy and scores as functions ---------------------------------------------------


def _group(severity: str) -> FindingGroup:
    return FindingGroup("IL999", "probe", "probes", severity, "probe", ("a.py:1",))


def test_decide_status_policy() -> None:
    policy = Policy(reject_above_errors=2)
    problem = [Problem("parse-error", "a.py:1", "bad")]
    assert decide(3, [_group("error")], [], False, policy) == REJECTED
    assert decide(2, [_group("error")], [], False, policy) == REQUIRES_REMEDIATION
    assert decide(1, [_group("error")], problem, True, policy) == REQUIRES_REMEDIATION
    assert decide(0, [_group("warning")], problem, True, policy) == NEEDS_FURTHER_REVIEW
    assert decide(0, [_group("warning")], problem, True, Policy(review_incomplete=False)) == (
        CONDITIONALLY_APPROVED
    )
    assert decide(0, [_group("warning")], [], False, policy) == CONDITIONALLY_APPROVED
    assert decide(0, [], [], False, policy) == APPROVED


def test_scores_and_verdicts() -> None:
    assert score(0, 0, 0) == 100
    assert score(1, 0, 0) == 80
    assert score(0, 1, 0) == 95
    assert score(0, 0, 1) == 99
    assert score(2, 1, 0) == 61  # 100 * .64 * .95 = 60.8
    assert score(50, 0, 0) == 0
    assert score(1, 1, 0) < score(1, 0, 0) < score(0, 0, 0)
    assert verdict(1, 5, 5) == CRITICAL
    assert verdict(0, 1, 0) == MINOR
    assert verdict(0, 0, 1) == MINOR
    assert verdict(0, 0, 0) == GOOD


def test_snake_name() -> None:
    assert snake_name("Training Infrastructure", "x") == "training_infrastructure"
    assert snake_name("../a/b", "x") == "a_b"
