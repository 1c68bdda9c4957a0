"""Audit certificates embed the message-flow map of the component's events."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from integ_lint.audit.certificate import VALID, verify_certificate
from integ_lint.cli import main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def audit(root: Path, component: str) -> tuple[str, dict]:
    out = root / "certs"
    result = CliRunner().invoke(
        main,
        [
            "audit",
            str(root),
            "--component",
            component,
            "--jobs",
            "1",
            "--no-cache",
            "--out-dir",
            str(out),
        ],
    )
    assert result.exit_code in (0, 1, 3), result.output
    (markdown_path,) = out.glob("*.md")
    assert verify_certificate(markdown_path).status == VALID
    payload = json.loads(markdown_path.with_suffix(".json").read_text())
    return markdown_path.read_text(), payload


def test_certificate_embeds_the_component_event_map(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(FIXTURES / "message_services", root)
    markdown, payload = audit(root, "shop.streams")
    section = markdown.split("### Event Map", 1)[1].split("\n## ", 1)[0]
    assert "```mermaid\nflowchart LR" in section
    # the component's streams and channels, not the hub's events of other modules
    assert "redis stream 'orders'" in section and "order.placed" not in section
    events = {e["event"]: e for e in payload["event_map"]["events"]}
    assert set(events) == {
        'redis stream "orders"',
        'redis stream "audit"',
        'redis stream "order"',
        'redis stream "jobs.render"',
        'redis channel "cache.invalidate"',
        'redis channel "config.changed"',
    }
    assert events['redis stream "orders"']["publishers"] == ["shop.streams"]
    assert payload["event_map"]["mermaid"].startswith("flowchart LR")


def test_event_map_draws_the_other_side_of_the_component_events(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(FIXTURES / "message_services", root)
    _, payload = audit(root, "shop.orders")
    events = {e["event"]: e for e in payload["event_map"]["events"]}
    assert events['"order.placed"']["publishers"] == ["shop.orders"]
    assert events['"order.placed"']["subscribers"] == ["shop.handlers"]


def test_component_without_events_says_so(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(FIXTURES / "message_services", root)
    markdown, payload = audit(root, "shop.payloads")
    assert payload["event_map"]["events"] == []
    assert (
        "The component publishes and subscribes to no event."
        in markdown.split("### Event Map", 1)[1]
    )
