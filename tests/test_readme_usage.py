"""The README's Usage block, executed as written: every command line, with each
``--format`` alternative, on a copy of the training-application fixture (placeholders
become that project, a component of it, the certificate the audit line wrote)."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from integ_lint.cli import main

REPO = Path(__file__).resolve().parent.parent
USAGE = REPO.joinpath("README.md").read_text(encoding="utf-8").split("## Usage", 1)[1]
BLOCK = USAGE.split("```bash\n", 1)[1].split("```", 1)[0]
LINES = [line.split("  #", 1)[0].strip() for line in BLOCK.splitlines() if line.strip()]


def expand(line: str, project: Path, out: Path) -> list[list[str]]:
    """The argument lists one Usage line stands for."""
    line = line.replace("[PATHS]...", str(project)).replace("[PATHS]", str(project))
    line = line.replace("[PATH]", str(project)).replace("NAME", "trainer_app.training")
    alternatives = [""]
    formats = re.search(r"\[--format ([a-z|]+)\]", line)
    if formats:
        # Every format of check; the views' formats have their own tests (one here).
        names = formats.group(1).split("|")
        alternatives = [
            f"--format {fmt}" for fmt in (names if " check " in f" {line}" else names[-1:])
        ]
        line = line.replace(formats.group(0), "{format}")
    line = re.sub(r"\[--output FILE\]", f"--output {out / 'report.out'}", line)
    line = re.sub(r"\[[^\]]*\]", "", line)  # other optional parts: the plain form
    commands = []
    for alternative in alternatives:
        argv = shlex.split(line.replace("{format}", alternative))
        assert argv[0] == "integ-lint"
        commands.append(argv[1:])
    return commands


def test_usage_block_lists_every_command() -> None:
    listed = {line.split()[1] for line in LINES}
    assert set(main.commands) <= listed | {"baseline", "files"}, set(main.commands) - listed


@pytest.mark.slow
def test_every_usage_line_runs_as_written(tmp_path: Path) -> None:
    project = tmp_path / "training_app"
    shutil.copytree(REPO / "fixtures" / "training_app", project)
    out = tmp_path / "out"
    out.mkdir()
    ran = 0
    certificate = "CERT.md"
    for line in LINES:
        for argv in expand(line, project, out):
            argv = [certificate if arg == "CERT.md" else arg for arg in argv]
            if argv[:1] == ["audit"]:
                argv += ["--out-dir", str(out)]
            result = CliRunner().invoke(main, argv)
            assert result.exception is None or isinstance(result.exception, SystemExit), (
                line,
                argv,
                result.output,
            )
            assert result.exit_code in (0, 1), (argv, result.exit_code, result.output)
            if argv[:1] == ["audit"]:
                written = sorted(out.glob("integration_review_*.md"))
                assert written, result.output
                certificate = str(written[-1])
            ran += 1
    assert ran >= len(LINES)
