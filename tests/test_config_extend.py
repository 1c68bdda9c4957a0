"""``extend = "../pyproject.toml"``: inherit another file's [tool.integ-lint], as ruff does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from integ_lint.config import ConfigError, load_config


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_extend_inherits_and_the_extending_file_wins(tmp_path: Path) -> None:
    base = write(
        tmp_path / "pyproject.toml",
        '[tool.integ-lint]\nselect = ["IL2"]\nfail-on = "error"\n'
        '[tool.integ-lint.gpu]\nmanagers = ["Trainer"]\nhot-paths = ["*.step"]\n',
    )
    child = write(
        tmp_path / "svc" / "pyproject.toml",
        '[tool.integ-lint]\nextend = "../pyproject.toml"\nfail-on = "warning"\n'
        '[tool.integ-lint.gpu]\nmanagers = ["Worker"]\n',
    )
    (tmp_path / "svc" / "a.py").write_text("")
    config = load_config([tmp_path / "svc" / "a.py"])
    assert config.config_file == child
    assert config.general.select == ["IL2"]
    assert config.general.fail_on == "warning"
    gpu = config.sections["gpu"]
    assert gpu.managers == ["Worker"]  # type: ignore[attr-defined]
    assert gpu.hot_paths == ["*.step"]  # type: ignore[attr-defined]
    assert config.provenance["select"] == str(base.resolve())
    assert config.provenance["fail-on"] == str(child)
    assert config.provenance["gpu.hot-paths"] == str(base.resolve())


def test_extend_cycle_and_missing_file_are_one_line_errors(tmp_path: Path) -> None:
    write(tmp_path / "a" / "pyproject.toml", '[tool.integ-lint]\nextend = "../b/pyproject.toml"\n')
    write(tmp_path / "b" / "pyproject.toml", '[tool.integ-lint]\nextend = "../a/pyproject.toml"\n')
    with pytest.raises(ConfigError, match="extends itself"):
        load_config([tmp_path / "a"], tmp_path / "a" / "pyproject.toml")
    write(tmp_path / "c" / "pyproject.toml", '[tool.integ-lint]\nextend = "../nope.toml"\n')
    with pytest.raises(ConfigError) as error:
        load_config([tmp_path / "c"], tmp_path / "c" / "pyproject.toml")
    assert "tool.integ-lint.extend" in str(error.value) and "not found" in str(error.value)
    assert "\n" not in str(error.value)


def test_an_unknown_key_in_the_extended_file_names_it(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.integ-lint]\nselekt = ["IL2"]\n')
    write(tmp_path / "svc" / "pyproject.toml", '[tool.integ-lint]\nextend = "../pyproject.toml"\n')
    with pytest.raises(ConfigError, match="selekt"):
        load_config([tmp_path / "svc"], tmp_path / "svc" / "pyproject.toml")


@pytest.mark.parametrize("target", ["loop.toml", "fifo.toml", "folder", "bad.toml"])
def test_an_unreadable_extend_target_is_a_one_line_error(tmp_path: Path, target: str) -> None:
    """A symlink loop, a FIFO (never opened for a blocking read: the scan would
    hang), a folder or invalid TOML: one line naming the key and the target."""
    (tmp_path / "loop.toml").symlink_to("loop.toml")
    os.mkfifo(tmp_path / "fifo.toml")
    (tmp_path / "folder").mkdir()
    write(tmp_path / "bad.toml", "select = [\n")
    config_file = write(tmp_path / "pyproject.toml", f'[tool.integ-lint]\nextend = "{target}"\n')
    with pytest.raises(ConfigError) as error:
        load_config([tmp_path], config_file)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{config_file}: tool.integ-lint.extend: ")
    assert repr(target) in message


def test_a_fifo_given_as_the_config_file_is_a_one_line_error(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "integ-lint.toml")
    with pytest.raises(ConfigError, match=r"cannot read config file: .*not a regular file"):
        load_config([tmp_path], tmp_path / "integ-lint.toml")


def test_a_bad_inherited_key_names_the_file_it_came_from(tmp_path: Path) -> None:
    base = write(tmp_path / "base.toml", 'selct = ["IL2"]\n[gpu]\nmanagers = "Trainer"\n')
    child = write(
        tmp_path / "svc" / "pyproject.toml", '[tool.integ-lint]\nextend = "../base.toml"\n'
    )
    with pytest.raises(ConfigError) as error:
        load_config([child.parent], child)
    assert str(error.value).startswith(f"{base.resolve()}: tool.integ-lint.selct: unknown key")
    write(base, '[gpu]\nmanagers = "Trainer"\n')
    with pytest.raises(ConfigError) as error:
        load_config([child.parent], child)
    assert str(error.value).startswith(f"{base.resolve()}: tool.integ-lint.gpu.managers: ")
