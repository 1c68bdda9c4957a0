"""The findings side: what a run reports and everything that happens to it afterwards.

``model`` is the data model (:class:`Finding`, :class:`Site`, :class:`Span`,
:class:`Fix`, :class:`Notification`, :class:`RuleInfo`, :class:`Report`);
``fingerprint`` gives findings stable identities; ``suppressions`` reads
``# integ-lint: ignore[...]`` comments; ``baseline`` and ``changes`` (changed lines
against git) filter a report; ``fixes`` and ``add_ignore`` write to the user's files
atomically; ``reporters`` render a report as text, concise, JSON, SARIF or GitHub
annotations.

May import: ``integ_lint.files`` only. Never configuration, rules, facts, the project
model, the engine or the command line: everything above reads findings, findings read
nothing above.
"""

# Re-exported: the names callers imported from here before the package existed.
from integ_lint.findings.model import (  # noqa: F401
    Finding,
    Fix,
    Notification,
    NotificationKind,
    RelatedLocation,
    Report,
    RuleInfo,
    RunStats,
    Severity,
    Site,
    Span,
    Suppression,
)
