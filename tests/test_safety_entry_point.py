"""Item 4 of issue 25: ``python -m integ_lint`` never imports a module from the folder
it is run in (the scanned project), for every command.

The working folder holds a module for every standard-library name and every runtime
dependency (``tempfile.py``, ``difflib.py``, ``inspect.py``, ``datetime.py``,
``click.py``, ...). Each writes a marker when imported and then hands over to the
real module, so that a command which does import one still runs to the end and every
such import is seen.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_never_executes import invocations, make_corpus

DEPENDENCIES = (
    "click",
    "rich",
    "libcst",
    "networkx",
    "yaml",
    "tomli",
    "pygments",
    "markdown_it",
    "mdurl",
    "typing_extensions",
    "importlib_metadata",
)
SHIM = """\
open({marker!r}, "w").close()
import sys
_name = __name__
del sys.modules[_name]
_saved = list(sys.path)
sys.path[:] = [p for p in sys.path if p not in ("", ".", {folder!r})]
try:
    import importlib
    _real = importlib.import_module(_name)
finally:
    sys.path[:] = _saved
sys.modules[_name] = _real
"""


def plant_shadow_modules(folder: Path, markers: Path) -> list[str]:
    names = sorted({*sys.stdlib_module_names, *DEPENDENCIES} - {"this", "antigravity"})
    for name in names:
        code = SHIM.format(marker=str(markers / name), folder=str(folder))
        (folder / f"{name}.py").write_text(code)
    return names


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("hostile")
    markers = base / "markers"
    markers.mkdir()
    corpus = make_corpus(base, markers)
    names = plant_shadow_modules(corpus, markers)
    assert {"tempfile", "difflib", "inspect", "datetime", "click"} <= set(names)
    return corpus, markers


def test_every_command_imports_nothing_from_the_working_folder(
    hostile: tuple[Path, Path],
) -> None:
    corpus, markers = hostile
    runs = invocations(corpus)
    assert len({tuple(r[:1]) for r in runs}) >= 8
    logs = corpus.parent / "logs"
    logs.mkdir(exist_ok=True)
    processes = []
    for index, args in enumerate(runs):
        # The shims are the working folder's business, not the scan's: scanning only
        # the package keeps this quick (and --fix from rewriting them).
        args = ["ilmark_pkg" if arg == "." else arg for arg in args]
        log = logs / f"{index}.err"
        with open(log, "wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "integ_lint", *args],
                cwd=corpus,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        processes.append((args, process, log))
    failures = []
    for args, process, log in processes:
        process.wait(timeout=600)
        stderr = log.read_text()
        usage_error = process.returncode == 2 and stderr.startswith("integ-lint: error:")
        if (process.returncode not in (0, 1, 3) and not usage_error) or "Traceback" in stderr:
            failures.append((args, process.returncode, stderr[-500:]))
    assert failures == []
    assert sorted(p.name for p in markers.iterdir()) == []
