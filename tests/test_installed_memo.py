"""What a run reads of the installed distributions (the rule packs' entry points,
LibCST's version) is kept under a stamp of ``sys.path`` and of the distributions'
entry points (integ_lint.engine.installed.installed): read again when a distribution
is added or its entry points change, never from ``importlib.metadata`` otherwise."""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

import pytest

from integ_lint.engine import installed as installed_memo
from integ_lint.engine.user_files import KEY_FILE_ENV


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "user" / "cache-key"))
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setattr(installed_memo, "_INSTALLED", {})
    return folder


def _install(site: Path, name: str, value: str) -> Path:
    dist_info = site / f"{name}-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    points = dist_info / "entry_points.txt"
    points.write_text(f"[integ_lint.rules]\n{name} = {value}\n")
    return points


def _forbid_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("importlib.metadata read again")

    monkeypatch.setattr(importlib.metadata, "entry_points", refuse)
    monkeypatch.setattr(importlib.metadata, "version", refuse)


def test_unchanged_distributions_are_not_read_again(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install(site, "acme", "acme_rules")
    first = installed_memo.installed()
    assert ["acme", "acme_rules"] in first["packs"]
    assert first["libcst"] == importlib.metadata.version("libcst")
    assert installed_memo.installed_file().is_file()
    _forbid_metadata(monkeypatch)
    monkeypatch.setattr(installed_memo, "_INSTALLED", {})  # another process: from the file
    assert installed_memo.installed() == first


def test_a_distribution_added_or_its_entry_points_rewritten_is_seen(site: Path) -> None:
    assert installed_memo.installed()["packs"] == []
    points = _install(site, "acme", "acme_rules")
    assert ["acme", "acme_rules"] in installed_memo.installed()["packs"]
    # Rewritten in place (the folder's time does not change): its own time does.
    points.write_text("[integ_lint.rules]\nacme = acme_rules_v2\n")
    later = points.stat().st_mtime_ns + 5_000_000_000
    os.utime(points, ns=(later, later))
    assert ["acme", "acme_rules_v2"] in installed_memo.installed()["packs"]


def test_a_damaged_file_is_read_again_not_trusted(site: Path) -> None:
    _install(site, "acme", "acme_rules")
    first = installed_memo.installed()
    installed_memo.installed_file().write_text('{"format": 1, "packs": "not a list"}')
    installed_memo._INSTALLED.clear()
    assert installed_memo.installed() == first
