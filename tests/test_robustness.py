"""Nothing breaks it: every kind of bad file becomes a notification (a warning in the
text report, a SARIF toolExecutionNotification with file and line) and the scan goes
on; bad config and arguments are one line and exit 2; a crashing rule is contained.

Everything runs through the CLI (``click.testing.CliRunner`` in process, or a
subprocess where the C stack is at risk).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from probe_rules import CrashingRule, ProbeCall

from integ_lint.cli import main
from integ_lint.engine import EXIT_INCOMPLETE, EXIT_USAGE
from integ_lint.engine.registry import load_registry
from integ_lint.findings import Finding
from integ_lint.model.project import ProjectIndex
from integ_lint.rule import ProjectRule

RUN = "import asyncio\nasyncio.run(main())\n"  # IL201 on line 2
# IL201 (asyncio.run in library code) is opt-in: selected so that RUN is a finding.
CONFIG = '[tool.integ-lint]\nselect = ["IL201"]\n'


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def no_traceback(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception,
        result.output,
    )
    assert "Traceback" not in result.output


def write_bad_files(root: Path) -> None:
    (root / "pyproject.toml").write_text(CONFIG)
    files: dict[str, bytes] = {
        "good.py": RUN.encode(),
        "syntax.py": b"x = 1\ndef f(:\n    pass\n",
        "py2.py": b"import os\nprint 'hello'\n",
        # Python 2 with print statements; LibCST's grammar accepts `except E, e:`
        # (docs/robustness.md), so that alone is analysed rather than rejected.
        "py2_print.py": b"try:\n    pass\nexcept Exception, e:\n    print e\n",
        "latin_cookie.py": "# -*- coding: latin-1 -*-\nx = 'caf\xe9'\n".encode("latin-1"),
        "latin_no_cookie.py": "x = 1\ny = 'caf\xe9'\n".encode("latin-1"),
        "wrong_cookie.py": "# coding: ascii\nx = 'caf\xe9'\n".encode(),
        "unknown_cookie.py": b"# -*- coding: klingon -*-\nx = 1\n",
        "bom_and_cookie.py": b"\xef\xbb\xbf# coding: latin-1\nx = 1\n",
        "binary.py": bytes(range(256)) * 4,
        "nul.py": b"x = 1\ny = 2\x00\n",
        "empty.py": b"",
        "bom.py": b"\xef\xbb\xbf" + RUN.encode(),
        "crlf.py": RUN.replace("\n", "\r\n").encode(),
        "mixed.py": b"x = 1\r\nimport asyncio\ny = 2\rz = 3\nasyncio.run(main())\r\n",
        "tabs.py": b"import asyncio\nif True:\n\tif True:\n\t\tasyncio.run(main())\n",
        "tab_error.py": b"if True:\n        x = 1\n\ty = 2\n",
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    os.symlink("loop_b.py", root / "loop_a.py")
    os.symlink("loop_a.py", root / "loop_b.py")
    os.symlink("..", root / "up")  # a directory loop: not followed
    os.symlink("missing.py", root / "dangling.py")
    with open(os.path.join(os.fsencode(root), b"caf\xe9.py"), "wb") as handle:
        handle.write(RUN.encode())


# (kind, line or None when not known) of the notification each bad file gets.
EXPECTED_NOTES: dict[str, tuple[str, int | None]] = {
    "syntax.py": ("parse-error", 2),
    "py2.py": ("parse-error", 2),
    "py2_print.py": ("parse-error", 3),
    "latin_no_cookie.py": ("read-error", 2),
    "wrong_cookie.py": ("read-error", 2),
    "unknown_cookie.py": ("read-error", 1),
    "bom_and_cookie.py": ("read-error", 1),
    "binary.py": ("read-error", 1),
    "nul.py": ("read-error", 2),
    "tab_error.py": ("parse-error", 3),
    "loop_a.py": ("read-error", None),
    "loop_b.py": ("read-error", None),
    "dangling.py": ("read-error", None),
    "caf\\xe9.py": ("file-name", None),
}
# Files that analyse cleanly, with the line of their IL201 finding (None: no finding).
EXPECTED_FINDINGS: dict[str, int | None] = {
    "good.py": 2,
    "bom.py": 2,
    "crlf.py": 2,
    "mixed.py": 5,
    "tabs.py": 4,
    "caf\\xe9.py": 2,
    "empty.py": None,
    "latin_cookie.py": None,
}


@pytest.fixture
def bad_project(tmp_path: Path) -> Path:
    write_bad_files(tmp_path)
    return tmp_path


def check(root: Path, *extra: str) -> Result:
    # The gate's strict mode: an incomplete run exits 3 (the default lets findings decide).
    result = cli(
        "check",
        str(root),
        "--no-cache",
        "-j",
        "1",
        "--select",
        "IL201",
        "--fail-on-incomplete",
        *extra,
    )
    no_traceback(result)
    return result


def test_bad_files_become_notifications_in_json(bad_project: Path) -> None:
    result = check(bad_project, "--format", "json")
    assert result.exit_code == EXIT_INCOMPLETE, result.output
    data = json.loads(result.stdout)
    notes = {n["project_path"]: n for n in data["notifications"]}
    for path, (kind, line) in EXPECTED_NOTES.items():
        assert path in notes, (path, sorted(notes))
        assert notes[path]["kind"] == kind, notes[path]
        assert notes[path]["line"] == line, notes[path]
        assert "\n" not in notes[path]["message"]
    assert set(notes) == set(EXPECTED_NOTES), "no other file gets a notification"
    found = {f["project_path"]: f["line"] for f in data["findings"]}
    for path, line in EXPECTED_FINDINGS.items():
        assert found.get(path) == line, (path, found)
    assert data["summary"]["incomplete"] is True


def test_messages_say_what_is_wrong(bad_project: Path) -> None:
    data = json.loads(check(bad_project, "--format", "json").stdout)
    messages = {n["project_path"]: n["message"] for n in data["notifications"]}
    assert "Missing parentheses in call to 'print'" in messages["py2.py"]
    assert messages["py2_print.py"].startswith("syntax error")
    assert messages["syntax.py"].startswith("syntax error")
    assert "unknown encoding 'klingon'" in messages["unknown_cookie.py"]
    assert "cannot decode as ascii" in messages["wrong_cookie.py"]
    assert "cannot decode as utf-8" in messages["latin_no_cookie.py"]
    assert "BOM" in messages["bom_and_cookie.py"]
    assert "NUL" in messages["binary.py"] and "NUL" in messages["nul.py"]
    assert "symbolic links" in messages["loop_a.py"]
    assert "vanished" in messages["dangling.py"] or "cannot read" in messages["dangling.py"]
    assert "not valid UTF-8" in messages["caf\\xe9.py"]
    syntax = next(n for n in data["notifications"] if n["project_path"] == "syntax.py")
    assert syntax["column"] == 7  # CPython's parser: the ':' after 'def f('


def test_bad_files_are_warnings_in_the_text_report(
    bad_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(bad_project)  # the text report names files relative to here
    result = check(bad_project, "--no-color")
    assert result.exit_code == EXIT_INCOMPLETE
    lines = result.stdout.splitlines()
    for path, (_, line) in EXPECTED_NOTES.items():
        where = f"{path}:{line}" if line else f"{path}: "
        assert any(x.startswith(f"warning: {where}") for x in lines), (path, result.stdout)
    assert "run incomplete" in lines[-1]


def test_bad_files_are_sarif_tool_execution_notifications(bad_project: Path) -> None:
    result = check(bad_project, "--format", "sarif")
    assert result.exit_code == EXIT_INCOMPLETE
    run = json.loads(result.stdout)["runs"][0]
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    by_uri: dict[str, dict[str, Any]] = {}
    for note in invocation["toolExecutionNotifications"]:
        location = note["locations"][0]["physicalLocation"]
        by_uri[location["artifactLocation"]["uri"]] = location
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    from urllib.parse import quote

    for path, (_, line) in EXPECTED_NOTES.items():
        location = by_uri[quote(path, safe="/")]
        assert location.get("region", {}).get("startLine") == line, path


@pytest.mark.parametrize("fmt", ["text", "concise", "json", "sarif", "github"])
def test_every_format_survives_bad_files_and_writes_valid_utf8(
    bad_project: Path, tmp_path_factory: pytest.TempPathFactory, fmt: str
) -> None:
    out = tmp_path_factory.mktemp("out") / f"report.{fmt}"
    result = check(bad_project, "--format", fmt, "--output", str(out))
    assert result.exit_code == EXIT_INCOMPLETE, result.output
    text = out.read_bytes().decode("utf-8")  # strict: no lone surrogates leak out
    assert "xe9.py" in text  # caf\xe9.py (JSON escapes the backslash, SARIF URIs quote it)
    if fmt in ("json", "sarif"):
        json.loads(text)


def test_fix_skips_a_file_with_an_undecodable_name(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    with open(os.path.join(os.fsencode(tmp_path), b"\xff.py"), "wb") as handle:
        handle.write(RUN.encode())
    result = check(tmp_path, "--fix")
    assert result.exit_code == 1  # the finding stays; nothing crashed


def test_deleted_during_the_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    (tmp_path / "a.py").write_text(RUN)
    (tmp_path / "gone.py").write_text(RUN)
    # The pipeline asks engine.discovery for the run's files, then reads them.
    import integ_lint.engine.pipeline as engine

    real_discover = engine.discover_files

    def discover_then_delete(*args: Any, **kwargs: Any) -> Any:
        files = real_discover(*args, **kwargs)
        (tmp_path / "gone.py").unlink(missing_ok=True)
        return files

    monkeypatch.setattr(engine, "discover_files", discover_then_delete)
    result = check(tmp_path, "--format", "concise")
    assert result.exit_code == EXIT_INCOMPLETE
    assert "a.py:2:1: IL201" in result.stdout
    assert "gone.py:0:0: read-error file vanished during the scan" in result.stdout


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """chmod 000 does not stop root (the tests run as root), so the refusal is
    simulated where the analysis reads the bytes."""
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    (tmp_path / "a.py").write_text(RUN)
    secret = tmp_path / "secret.py"
    secret.write_text(RUN)
    secret.chmod(0)
    real_open = os.open

    def refusing_open(path: Any, *args: Any, **kwargs: Any) -> int:
        if os.fspath(path).endswith("secret.py"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    result = check(tmp_path, "--format", "concise")
    secret.chmod(0o644)
    assert result.exit_code == EXIT_INCOMPLETE
    assert "a.py:2:1: IL201" in result.stdout
    assert "secret.py:0:0: read-error cannot read file: Permission denied" in result.stdout


def test_a_directory_named_like_a_module(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    (tmp_path / "weird.py").mkdir()
    (tmp_path / "weird.py" / "inner.py").write_text(RUN)
    result = check(tmp_path, "--format", "concise")
    assert result.exit_code == 1, result.output
    assert "weird.py/inner.py:2:1: IL201" in result.stdout


DEEP = {
    "parens": "x = " + "(" * 1000 + "1" + ")" * 1000 + "\n",
    "lists": "x = " + "[" * 1000 + "]" * 1000 + "\n",
    "binop": "x = " + "1 + " * 1000 + "1\n",
    "calls": "x = " + "f(" * 1000 + ")" * 1000 + "\n",
    "attributes": "x = a" + ".b" * 1000 + "\n",
    "subscripts": "x = a" + "[0]" * 1000 + "\n",
    "unary": "x = " + "-" * 1000 + "1\n",
    "blocks": "".join("    " * i + "if x:\n" for i in range(99)) + "    " * 99 + "pass\n",
}


def test_deeply_nested_code_never_raises_recursion_error(tmp_path: Path) -> None:
    """A subprocess: should the C stack overflow, only it dies, and the test says so."""
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    for name, text in DEEP.items():
        (tmp_path / f"deep_{name}.py").write_text(text + RUN)
    process = subprocess.run(
        [sys.executable, "-m", "integ_lint", "check", ".", "--no-cache", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert process.returncode in (1, EXIT_INCOMPLETE), process.stderr
    assert "RecursionError" not in process.stderr + process.stdout
    assert "Traceback" not in process.stderr
    data = json.loads(process.stdout)
    for note in data["notifications"]:
        assert note["kind"] == "parse-error", note  # never an internal error
        assert "nested too deeply" in note["message"] or "syntax error" in note["message"]
    analysed = {f["project_path"] for f in data["findings"]}
    failed = {n["project_path"] for n in data["notifications"]}
    assert analysed | failed == {f"deep_{name}.py" for name in DEEP}


@pytest.mark.slow
def test_a_50000_line_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    body = "".join(f"value_{i} = {i}\n" for i in range(49_998))
    (tmp_path / "big.py").write_text(body + RUN)
    result = check(tmp_path, "--format", "json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert [(f["project_path"], f["line"]) for f in data["findings"]] == [("big.py", 50_000)]
    assert data["summary"]["lines"] == 50_000
    assert data["notifications"] == []


# -- contained failures -------------------------------------------------------------


@pytest.fixture
def probes() -> Iterator[None]:
    registry = load_registry()
    for rule in (ProbeCall, CrashingRule):
        registry.add_rule(rule)
    yield
    for rule in (ProbeCall, CrashingRule):
        registry.rules.pop(rule.code, None)


@pytest.mark.usefixtures("probes")
def test_a_crashing_rule_is_contained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the text report names files relative to here
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    (tmp_path / "a.py").write_text("boom\nprobe()\n" + RUN)
    (tmp_path / "b.py").write_text("probe()\n")
    args = (
        "check",
        str(tmp_path),
        "--no-cache",
        "-j",
        "1",
        "--select",
        "IL901,IL902,IL201",
        "--fail-on-incomplete",
    )
    text = cli(*args, "--no-color")
    no_traceback(text)
    assert text.exit_code == EXIT_INCOMPLETE
    assert "a.py:2:1: IL901" in text.stdout  # the other rules' findings for that file
    assert "a.py:4:1: IL201" in text.stdout
    assert "b.py:1:1: IL901" in text.stdout  # the other files
    assert "error: a.py: internal error in IL902: ValueError: rule bug" in text.stdout

    sarif = cli(*args, "--format", "sarif")
    assert sarif.exit_code == EXIT_INCOMPLETE
    run = json.loads(sarif.stdout)["runs"][0]
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert note["level"] == "error"
    assert note["associatedRule"] == {"id": "IL902"}
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "a.py"
    assert sorted(r["ruleId"] for r in run["results"]) == ["IL201", "IL901", "IL901"]


# -- bad config and arguments --------------------------------------------------------


def leaf_commands(
    group: click.Group = main, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from leaf_commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


def scanning_commands() -> list[tuple[str, ...]]:
    """Every registered command that scans PATHS (so new ones are covered)."""
    return [
        names
        for names, command in leaf_commands()
        if any(isinstance(p, click.Argument) and p.name == "paths" for p in command.params)
    ]


def required_options(names: tuple[str, ...]) -> list[str]:
    command = dict(leaf_commands())[names]
    extra: list[str] = []
    for param in command.params:
        if isinstance(param, click.Option) and param.required:
            extra += [param.opts[0], "x"]
    return extra


def one_line_error(result: Result) -> str:
    no_traceback(result)
    assert result.exit_code == EXIT_USAGE, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("integ-lint: error: ") or lines[0].startswith("Error: ")
    return lines[0]


def test_every_scanning_command_is_covered() -> None:
    commands = scanning_commands()
    assert ("check",) in commands and len(commands) >= 3


@pytest.mark.parametrize("names", scanning_commands(), ids=" ".join)
def test_missing_path_is_one_line_exit_2(tmp_path: Path, names: tuple[str, ...]) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    missing = tmp_path / "nope"
    line = one_line_error(cli(*names, str(missing), *required_options(names)))
    assert str(missing) in line and "no such file or directory" in line


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("selct = ['IL2']", "tool.integ-lint.selct"),
        ("select = 'IL2'", "tool.integ-lint.select"),
        ("fail-on = 3", "tool.integ-lint.fail-on"),
        ("exclude = ['[oops']", "exclude"),
        ("select = ['IL999']", "select"),
        ("plugins = ['evil_plugin']", "tool.integ-lint.plugins"),
        ("[tool.integ-lint.gpu]\nmanagers = 'x'", "tool.integ-lint.gpu.managers"),
        ("[tool.integ-lint.nonsense]\nx = 1", "tool.integ-lint.nonsense"),
    ],
)
@pytest.mark.parametrize("names", scanning_commands(), ids=" ".join)
def test_bad_config_is_one_line_naming_file_and_key(
    tmp_path: Path, names: tuple[str, ...], toml: str, key: str
) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text(f"[tool.integ-lint]\n{toml}\n")
    (tmp_path / "a.py").write_text(RUN)
    line = one_line_error(cli(*names, str(tmp_path), *required_options(names)))
    assert str(config) in line and key in line, line


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xff\xfe[tool.integ-lint]\n", "pyproject.toml"),
        (b"[tool.integ-lint\n", "invalid TOML"),
        (b"[tool]\ninteg", "invalid TOML"),
    ],
)
def test_unreadable_config_file_is_one_line(tmp_path: Path, content: bytes, expected: str) -> None:
    (tmp_path / "pyproject.toml").write_bytes(content)
    (tmp_path / "a.py").write_text(RUN)
    line = one_line_error(cli("check", str(tmp_path)))
    assert expected in line


def test_missing_config_option_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(RUN)
    missing = tmp_path / "nope.toml"
    line = one_line_error(cli("check", str(tmp_path), "--config", str(missing)))
    assert str(missing) in line


@pytest.mark.parametrize(
    "args", [("--select", "IL999"), ("--ignore", "XYZ"), ("--extend-select", "IL9999")]
)
def test_unknown_rule_codes_are_one_line_exit_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / "a.py").write_text(RUN)
    line = one_line_error(cli("check", str(tmp_path), *args))
    assert f"unknown rule code {args[1]!r}" in line


@pytest.mark.parametrize(
    "args", [("--fail-on", "fatal"), ("--format", "xml"), ("--jobs", "-3"), ("--colour",)]
)
def test_bad_option_values_are_click_usage_errors(tmp_path: Path, args: tuple[str, ...]) -> None:
    """Click's own usage errors: exit 2, the usage line, and one error line naming the
    option."""
    (tmp_path / "a.py").write_text(RUN)
    result = cli("check", str(tmp_path), *args)
    no_traceback(result)
    assert result.exit_code == EXIT_USAGE
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and args[0] in errors[0], result.stderr


def test_unreadable_baseline_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(RUN)
    baseline = tmp_path / "baseline.toml"
    baseline.write_bytes(b"\x00\xff\xfe not toml")
    line = one_line_error(cli("check", str(tmp_path), "--baseline", str(baseline)))
    assert str(baseline) in line


def test_text_excerpts_follow_the_file_encoding_and_python_line_breaks(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    latin = "# -*- coding: latin-1 -*-\nimport asyncio\nx = 'caf\xe9'; asyncio.run(main())\n"
    (tmp_path / "latin.py").write_bytes(latin.encode("latin-1"))
    odd = "import asyncio\n\x0c\nx = '\u2028'\nasyncio.run(main())\n"  # form feed, U+2028
    (tmp_path / "odd.py").write_text(odd, encoding="utf-8")
    (tmp_path / "bom.py").write_bytes(b"\xef\xbb\xbf" + RUN.encode())
    result = check(tmp_path, "--no-color")
    assert result.exit_code == 1
    assert "    3 | x = 'caf\xe9'; asyncio.run(main())" in result.stdout
    assert "    4 | asyncio.run(main())" in result.stdout
    assert "    2 | asyncio.run(main())" in result.stdout


class CrashingProjectRule(ProjectRule):
    """Raises on every project."""

    code = "IL904"
    name = "crashing-project-rule"
    family = "probe"
    VALID = ()
    INVALID = ()

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        raise KeyError("project rule bug")


def test_a_crashing_project_rule_is_contained(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    (tmp_path / "a.py").write_text(RUN)
    registry = load_registry()
    registry.add_rule(CrashingProjectRule)
    try:
        result = check(tmp_path, "--select", "IL201,IL904", "--format", "json")
    finally:
        registry.rules.pop(CrashingProjectRule.code, None)
    assert result.exit_code == EXIT_INCOMPLETE
    data = json.loads(result.stdout)
    assert [(f["project_path"], f["code"]) for f in data["findings"]] == [("a.py", "IL201")]
    (note,) = data["notifications"]
    assert note["kind"] == "internal-error" and note["rule"] == "IL904"
    assert "project rule bug" in note["message"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_does_not_hang_the_scan(tmp_path: Path) -> None:
    """A subprocess with a timeout: reading a FIFO would block forever."""
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    (tmp_path / "a.py").write_text(RUN)
    os.mkfifo(tmp_path / "pipe.py")
    process = subprocess.run(
        [sys.executable, "-m", "integ_lint", "check", ".", "--format", "concise"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert process.returncode == 1, process.stderr
    assert process.stdout.startswith("a.py:2:1: IL201")
