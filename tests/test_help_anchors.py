"""Every rule's SARIF ``helpUri`` points at a heading that exists: the family doc is
parsed with markdown-it-py and its headings slugged as GitHub does."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from markdown_it import MarkdownIt

from integ_lint.engine.registry import load_registry
from integ_lint.findings.reporters.sarif import INFORMATION_URI, help_uri

REPO = Path(__file__).resolve().parent.parent


def github_slug(text: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped (hyphens and
    underscores kept), spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    tokens = MarkdownIt().parse(path.read_text(encoding="utf-8"))
    found = set()
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            inline = tokens[index + 1]
            text = "".join(child.content for child in inline.children or [] if child.content)
            found.add(github_slug(text))
    return found


def test_slug_matches_github() -> None:
    assert github_slug("IL201 event-loop-run-in-library") == "il201-event-loop-run-in-library"
    assert github_slug("Suppressing a finding") == "suppressing-a-finding"
    assert github_slug("IL403: host `.item()` syncs") == "il403-host-item-syncs"


REGISTRY = load_registry()


@pytest.mark.parametrize("code", REGISTRY.codes)
def test_help_uri_anchor_exists(code: str) -> None:
    rule = REGISTRY.rules[code].info()
    uri = help_uri(rule)
    assert uri.startswith(INFORMATION_URI)
    parsed = urlparse(uri)
    relative = (
        unquote(parsed.path).split("/blob/main/", 1)[1]
        if "/blob/main/" in parsed.path
        else "README.md"
    )
    target = REPO / relative
    assert target.exists(), f"{code}: {uri} names a missing file {relative}"
    assert parsed.fragment in anchors(target), (
        f"{code}: no heading #{parsed.fragment} in {relative}"
    )


@pytest.mark.parametrize("code", REGISTRY.codes)
def test_family_doc_says_whether_the_rule_is_on_by_default(code: str) -> None:
    rule = REGISTRY.rules[code]
    if rule.family == "suppressions":
        return  # documented in the README
    text = (REPO / "docs" / "rules" / f"{rule.family}.md").read_text(encoding="utf-8")
    section = re.split(r"^#+ ", text.split(f"{code} {rule.name}", 1)[1], maxsplit=1, flags=re.M)[0]
    table_row = re.search(rf"^\|\s*{code}\s*\|.*$", text, re.M)
    stated = section + (table_row.group(0) if table_row else "")
    if rule.default_enabled:
        assert "opt-in" not in section, f"{code} is on by default but its doc says opt-in"
    else:
        assert "opt-in" in stated.lower(), f"{code} is opt-in but its doc does not say so"
