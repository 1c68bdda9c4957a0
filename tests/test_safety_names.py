"""Item 10 of issue 25: file (and so module) names that are not valid UTF-8 never
break an output. Every format of ``check``, ``imports`` and ``graph``, the baseline
and the audit certificate stay valid UTF-8 without lone surrogates, parse as what
they claim to be, and name the files with ``\\xNN`` escapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import networkx as nx
import pytest

CONFIG = '[tool.integ-lint]\nselect = ["IL"]\nextend-select = ["IL201"]\n'
MANAGER_A = """\
import asyncio
from pkg import mod


class TrainManager:
    def __init__(self, evaluator: "mod.EvalManager") -> None:
        self.evaluator = evaluator

    def step(self) -> None:
        self.evaluator.trainer.evaluator.run()
        asyncio.run(self.evaluator.go())
"""
MANAGER_B = """\
from pkg import caf\xe9 as other


class EvalManager:
    def __init__(self, trainer: "other.TrainManager") -> None:
        self.trainer = trainer

    def run(self) -> None:
        self.trainer.evaluator.trainer.step()
"""

ESCAPED = ("caf\\xe9", "caf\\\\xe9", "caf%5Cxe9")
OUTPUTS = (
    [("check", fmt) for fmt in ("text", "concise", "json", "sarif", "github")]
    + [("imports", fmt) for fmt in ("text", "dot", "graphml", "json", "mermaid")]
    + [("graph", fmt) for fmt in ("table", "dot", "graphml", "json", "mermaid", "svg", "html")]
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("names")
    (root / "pyproject.toml").write_text(CONFIG)
    package = root / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    # "café.py" in Latin-1 bytes: not valid UTF-8, so Python names it with a surrogate.
    (package / os.fsdecode(b"caf\xe9.py")).write_text(MANAGER_A)
    (package / "mod.py").write_text(MANAGER_B.replace("caf\xe9", "mod_a"))
    (package / "mod_a.py").write_text("from pkg.mod import EvalManager\n")
    sub = package / os.fsdecode(b"sub\xff")
    sub.mkdir()
    (sub / "__init__.py").write_text("from pkg import mod\n")
    (sub / os.fsdecode(b"m\xe9.py")).write_text(MANAGER_B.replace("caf\xe9", "mod"))
    return root


def run(project: Path, *args: str) -> tuple[int, bytes, bytes]:
    process = subprocess.run(
        [sys.executable, "-m", "integ_lint", *args],
        cwd=project,
        capture_output=True,
        timeout=600,
        check=False,
    )
    return process.returncode, process.stdout, process.stderr


def clean_text(data: bytes, what: str) -> str:
    text = data.decode("utf-8")  # strict: invalid UTF-8 raises
    assert not any("\ud800" <= char <= "\udfff" for char in text), what
    return text


def parses_as(fmt: str, text: str) -> None:
    if fmt in ("json", "sarif"):
        json.loads(text)
    elif fmt == "graphml":
        nx.parse_graphml(text)
    elif fmt == "svg":
        ElementTree.fromstring(text)
    elif fmt == "github":
        assert any(line.startswith("::") for line in text.splitlines())


@pytest.mark.parametrize(("command", "fmt"), OUTPUTS, ids=[f"{c}-{f}" for c, f in OUTPUTS])
@pytest.mark.parametrize("where", ["stdout", "file"])
def test_every_output_stays_valid_utf8(project: Path, command: str, fmt: str, where: str) -> None:
    out = project.parent / f"out-{command}-{fmt}-{where}"
    args = [command, ".", "--format", fmt, "-j", "1"]
    if command == "check":
        args.append("--no-cache")
    if where == "file":
        if (command, fmt) in (("graph", "table"), ("imports", "text")):
            pytest.skip("a table is printed, not written (--output needs a graph format)")
        args += ["-o", str(out)]
    code, stdout, stderr = run(project, *args)
    assert code in (0, 1, 3), stderr.decode("utf-8", "replace")[-2000:]
    assert b"Traceback" not in stderr
    data = out.read_bytes() if where == "file" else stdout
    text = clean_text(data, f"{command} {fmt}")
    clean_text(stderr, "stderr")
    parses_as(fmt, text)
    if command == "check" or (command == "imports" and fmt in ("json", "graphml")):
        # Escaped once, or again by the format (JSON strings, SARIF URIs).
        assert any(name in text for name in ESCAPED), text[:3000]


def test_baseline_and_certificate_stay_valid_utf8(project: Path) -> None:
    baseline = project.parent / "baseline.toml"
    code, _, stderr = run(project, "baseline", "create", ".", "-o", str(baseline))
    assert code == 0, stderr.decode("utf-8", "replace")
    assert "caf\\\\xe9" in clean_text(baseline.read_bytes(), "baseline")
    code, _, stderr = run(project, "check", ".", "--baseline", str(baseline), "--no-cache")
    assert code == 0, stderr.decode("utf-8", "replace")  # the baseline matches again
    certs = project.parent / "certs"
    code, _, stderr = run(project, "audit", ".", "--component", "x", "--out-dir", str(certs))
    assert code in (0, 1, 3), stderr.decode("utf-8", "replace")
    for path in certs.iterdir():
        clean_text(path.read_bytes(), path.name)
