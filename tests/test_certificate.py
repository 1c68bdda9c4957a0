"""``integ-lint certificate verify``: valid, tampered (edited Markdown or JSON) and stale
(a scanned file changed, added or removed) told apart, with exit codes 0 / 1 / 1 and 2
for unusable input; plus the Markdown escaping and the canonical JSON."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from markdown_it import MarkdownIt

from integ_lint.audit.certificate import (
    STALE,
    TAMPERED,
    UNUSABLE,
    VALID,
    canonical_json,
    code,
    markdown_digest,
    md_text,
    verify_certificate,
)
from integ_lint.cli import main

SOURCE = "import torch\n\n\ndef load(p):\n    return torch.load(p)\n"


def make_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    # torch.load without map_location (IL405, opt-in) is the certificate's warning.
    (root / "pyproject.toml").write_text('[tool.integ-lint]\nextend-select = ["IL405"]\n')
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "a.py").write_text(SOURCE)
    (root / "pkg" / "b.py").write_text("VALUE = 1\n")
    return root


def write_certificate(root: Path, *args: str) -> Path:
    result = CliRunner().invoke(
        main,
        ["audit", str(root), "--component", "pkg", "--jobs", "1", "--no-cache", *args],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return Path(result.stdout.strip())


def verify(path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["certificate", "verify", str(path), *args])


@pytest.fixture
def certified(tmp_path: Path) -> tuple[Path, Path]:
    root = make_project(tmp_path / "project")
    return root, write_certificate(root)


def test_fresh_certificate_is_valid(certified: tuple[Path, Path]) -> None:
    _, cert = certified
    result = verify(cert)
    assert result.exit_code == 0, result.output
    assert ": valid: 3 scanned files unchanged" in result.stdout
    assert verify_certificate(cert).status == VALID


def test_reformatted_json_with_the_same_content_is_still_valid(
    certified: tuple[Path, Path],
) -> None:
    _, cert = certified
    json_path = cert.with_suffix(".json")
    json_path.write_text(json.dumps(json.loads(json_path.read_text()), indent=4))
    assert verify_certificate(cert).status == VALID


def test_edited_markdown_is_tampered(certified: tuple[Path, Path]) -> None:
    _, cert = certified
    text = cert.read_text()
    cert.write_text(text.replace("**Status**: CONDITIONALLY_APPROVED", "**Status**: APPROVED"))
    result = verify(cert)
    assert result.exit_code == 1
    assert "tampered" in result.stdout
    assert "Markdown was edited" in result.stdout


def test_edited_hash_line_is_tampered(certified: tuple[Path, Path]) -> None:
    _, cert = certified
    text = cert.read_text()
    head, digest = text.rsplit("sha256:", 1)
    cert.write_text(head + "sha256:" + ("0" if digest[0] != "0" else "1") + digest[1:])
    assert verify_certificate(cert).status == TAMPERED


def test_edited_json_is_tampered(certified: tuple[Path, Path]) -> None:
    _, cert = certified
    json_path = cert.with_suffix(".json")
    original = json_path.read_bytes()
    data = json.loads(original)
    data["findings"][0]["message"] = "nothing to see here"
    json_path.write_bytes(canonical_json(data))
    result = verify(cert)
    assert result.exit_code == 1
    assert "tampered" in result.stdout
    assert "the JSON or the hash line was edited" in result.stdout
    # recording a file hash that matches an edited file is tampering too, not freshness
    data = json.loads(original)
    data["files"]["pkg/b.py"] = "0" * 64
    json_path.write_bytes(canonical_json(data))
    assert verify_certificate(cert).status == TAMPERED


@pytest.mark.parametrize("change", ["changed", "added", "removed"])
def test_changed_added_or_removed_file_is_stale(certified: tuple[Path, Path], change: str) -> None:
    root, cert = certified
    if change == "changed":
        (root / "pkg" / "b.py").write_text("VALUE = 2\n")
    elif change == "added":
        (root / "pkg" / "c.py").write_text("x = 1\n")
    else:
        (root / "pkg" / "b.py").unlink()
    expected = "pkg/c.py" if change == "added" else "pkg/b.py"
    result = verify(cert)
    assert result.exit_code == 1
    assert ": stale: " in result.stdout
    assert f"  {change}: {expected}" in result.stdout
    outcome = verify_certificate(cert)
    assert outcome.status == STALE
    assert getattr(outcome, change) == [expected]
    assert sum(len(x) for x in (outcome.changed, outcome.added, outcome.removed)) == 1


def test_changed_configuration_is_stale(certified: tuple[Path, Path]) -> None:
    root, cert = certified
    (root / "pyproject.toml").write_text("[tool.integ-lint]\nignore = ['IL405']\n")
    outcome = verify_certificate(cert)
    assert outcome.status == STALE
    assert outcome.changed == ["pyproject.toml (configuration)"]


def test_certificate_and_project_moved_together_stay_valid(
    certified: tuple[Path, Path], tmp_path: Path
) -> None:
    root, cert = certified
    moved = tmp_path / "elsewhere"
    shutil.move(str(root), moved)
    relative = cert.relative_to(root)
    assert verify_certificate(moved / relative).status == VALID


def test_unusable_input_exits_2(certified: tuple[Path, Path], tmp_path: Path) -> None:
    _, cert = certified
    missing = verify(tmp_path / "nope.md")
    assert missing.exit_code == 2
    assert missing.stderr.startswith("integ-lint: error: ")
    assert "no such certificate" in missing.stderr

    json_path = cert.with_suffix(".json")
    saved = json_path.read_bytes()
    json_path.write_text("{not json")
    broken = verify(cert)
    assert broken.exit_code == 2
    assert "invalid JSON" in broken.stderr
    json_path.unlink()
    assert verify(cert).exit_code == 2
    json_path.write_text(json.dumps({"format": "something else"}))
    assert verify_certificate(cert).status == UNUSABLE
    json_path.write_bytes(saved)

    plain = tmp_path / "notes.md"
    plain.write_text("# Notes\n")
    plain.with_suffix(".json").write_bytes(saved)
    assert verify_certificate(plain).status == UNUSABLE


def test_json_output_of_verify(certified: tuple[Path, Path]) -> None:
    root, cert = certified
    (root / "pkg" / "b.py").write_text("VALUE = 3\n")
    result = verify(cert, "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["status"] == "stale"
    assert data["changed"] == ["pkg/b.py"]


def test_signature_covers_the_markdown(certified: tuple[Path, Path]) -> None:
    _, cert = certified
    json_bytes = cert.with_suffix(".json").read_bytes()
    data = json.loads(json_bytes)
    markdown = cert.read_text()
    assert data["markdown_sha256"] == markdown_digest(markdown)
    assert canonical_json(data) == json_bytes
    assert f"sha256:{hashlib.sha256(json_bytes).hexdigest()}" in markdown


# -- Markdown helpers -----------------------------------------------------------------


def rendered(text: str) -> str:
    tokens = MarkdownIt("commonmark").parseInline(text)
    return "".join(c.content for c in tokens[0].children or [] if c.type in ("text", "code_inline"))


@pytest.mark.parametrize(
    "message",
    [
        "a *b* and __init__ and _private_ names",
        "x <module> y [link](http://e) z | pipe \\ backslash",
        "`code*with_stars` stays code, snake_case_name stays",
        "1. not a list",
    ],
)
def test_md_text_renders_literally(message: str) -> None:
    assert rendered(md_text(message)) == message.replace("`", "")


def test_code_span_with_backticks() -> None:
    assert rendered(code("a`b")) == "a`b"


def test_unmatched_backtick_renders_literally() -> None:
    assert rendered(md_text("a ` b")) == "a ` b"


def test_since_revision_in_the_heading_renders_literally() -> None:
    from integ_lint.audit.certificate import _delta_lines
    from integ_lint.audit.model import Delta

    heading = _delta_lines(Delta("since", "feature/*_x*", [], [], 0))[1]
    assert rendered(heading.removeprefix("### ")) == "Changes Since feature/*_x*"


def test_resigned_json_with_a_path_outside_the_root_is_unusable(
    certified: tuple[Path, Path],
) -> None:
    _, cert = certified
    json_path = cert.with_suffix(".json")
    data = json.loads(json_path.read_text())
    data["files"]["../outside.py"] = "0" * 64
    payload = canonical_json(data)
    json_path.write_bytes(payload)
    text = cert.read_text()
    head = text.rsplit("Certificate Hash: ", 1)[0]
    cert.write_text(f"{head}Certificate Hash: sha256:{hashlib.sha256(payload).hexdigest()}\n")
    outcome = verify_certificate(cert)
    assert outcome.status == UNUSABLE
    assert "../outside.py" in outcome.messages[0]


def _resign(cert: Path, data: dict[str, object]) -> None:
    payload = canonical_json(data)
    cert.with_suffix(".json").write_bytes(payload)
    head = cert.read_text().rsplit("Certificate Hash: ", 1)[0]
    cert.write_text(f"{head}Certificate Hash: sha256:{hashlib.sha256(payload).hexdigest()}\n")


def test_resigned_json_with_a_nul_byte_in_a_path_is_a_message_not_a_crash(
    certified: tuple[Path, Path],
) -> None:
    _, cert = certified
    data = json.loads(cert.with_suffix(".json").read_text())
    data["files"]["pkg/a\x00.py"] = "0" * 64
    _resign(cert, data)
    outcome = verify_certificate(cert)
    assert outcome.status == UNUSABLE and "unusable file entry" in outcome.messages[0]
    del data["files"]["pkg/a\x00.py"]
    data["scope"]["config_file"] = "pyproject\x00.toml"
    _resign(cert, data)
    outcome = verify_certificate(cert)
    assert outcome.status == STALE and "pyproject\x00.toml (configuration)" in outcome.changed


def test_a_change_outside_the_component_makes_it_stale(tmp_path: Path) -> None:
    """The whole project is the context of a component's review: its files are hashed."""
    root = make_project(tmp_path / "project")
    (root / "other").mkdir()
    (root / "other" / "c.py").write_text("C = 1\n")
    path = write_certificate(root)
    data = json.loads(path.with_suffix(".json").read_text())
    assert "other/c.py" in data["files"]
    assert "other/c.py" not in data["scope"]["component"]["files"]
    (root / "other" / "c.py").write_text("C = 2\n")
    result = verify(path)
    assert result.exit_code == 1 and "changed: other/c.py" in result.output
