"""The rule API: per-file rules, fact collectors, project rules, and their examples.

* A :class:`FileRule` is a LibCST visitor run on one file, in one batched traversal with
  every other selected file rule. It calls :meth:`FileRule.report` on a node.
* A :class:`FactCollector` is a visitor that distils a file into a small picklable
  value (its *facts*), so that project rules never need the syntax tree.
* A :class:`ProjectRule` runs once over the :class:`~integ_lint.model.project.ProjectIndex`
  built from every file's facts.

Every rule carries a stable ``code``, a short ``name``, a ``family``, a default
``severity``, a ruff-style docstring, and ``VALID`` / ``INVALID`` examples that
``tests/test_rule_examples.py`` runs.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import libcst as cst

from integ_lint.facts.collector import FactCollector
from integ_lint.facts.context import FileContext, PendingFinding
from integ_lint.findings.model import Finding, Fix, RelatedLocation, RuleInfo, Severity, Site

__all__ = [
    "AnyRule",
    "FactCollector",
    "FileContext",
    "FileRule",
    "Invalid",
    "PendingFinding",
    "ProjectRule",
    "RuleMixin",
    "Valid",
]

if TYPE_CHECKING:
    from integ_lint.model.project import ProjectIndex


@dataclass(frozen=True)
class Valid:
    """An example on which the rule must stay silent.

    ``code`` is the source of ``path``; ``files`` adds other files to the example
    project (for project rules); ``config`` is TOML placed under ``[tool.integ-lint]``
    (``project`` is TOML for the ``[project]`` table).
    """

    code: str
    path: str = "pkg/example.py"
    files: Mapping[str, str] = field(default_factory=dict)
    config: str = ""
    project: str = ""


@dataclass(frozen=True)
class Invalid:
    """An example on which the rule must report exactly at ``line`` (1-based, in the
    dedented ``code``); ``lines`` when it reports several times. ``expected_fix`` is the
    source after ``--fix`` where the rule has a fix. ``message`` is a substring that
    the (first) message must contain."""

    code: str
    line: int = 0
    lines: tuple[int, ...] = ()
    path: str = "pkg/example.py"
    files: Mapping[str, str] = field(default_factory=dict)
    config: str = ""
    project: str = ""
    expected_fix: str | None = None
    message: str = ""
    finding_path: str = ""  # when the finding is in another file of ``files``

    @property
    def expected_lines(self) -> tuple[int, ...]:
        return self.lines or (self.line,)


_CODE = re.compile(r"^[A-Z]{1,5}[0-9]{3,4}$")


class RuleMixin:
    """What every rule kind declares."""

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.WARNING
    tags: ClassVar[tuple[str, ...]] = ()
    fixable: ClassVar[bool] = False
    # The file roles (integ_lint.config.roles) the rule REPORTS on; files of every role still
    # feed facts. The engine drops findings in files of other roles.
    roles: ClassVar[frozenset[str]] = frozenset({"library"})
    # False: an opt-in rule (below 90% precision on the ecosystem check with its
    # defaults). Selecting a prefix ("IL", "IL6") does not enable it; naming its code
    # exactly in select / extend-select does, as ruff's preview rules.
    default_enabled: ClassVar[bool] = True
    VALID: ClassVar[Sequence[Valid]] = ()
    INVALID: ClassVar[Sequence[Invalid]] = ()

    @classmethod
    def documentation(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        doc = cls.documentation()
        return doc.split("\n\n", 1)[0].replace("\n", " ").strip() if doc else cls.name

    @classmethod
    def kind(cls) -> str:
        return "project" if issubclass(cls, ProjectRule) else "file"

    @classmethod
    def info(cls) -> RuleInfo:
        return RuleInfo.of(cls)

    @classmethod
    def validate_declaration(cls) -> list[str]:
        problems = []
        if not _CODE.match(cls.code or ""):
            problems.append(f"{cls.__qualname__}: code {cls.code!r} is not like 'IL201'")
        if not cls.name or not re.match(r"^[a-z][a-z0-9-]*$", cls.name):
            problems.append(f"{cls.__qualname__}: name {cls.name!r} must be kebab-case")
        if not cls.family:
            problems.append(f"{cls.__qualname__}: no family")
        if not cls.__doc__:
            problems.append(f"{cls.__qualname__}: no docstring")
        from integ_lint.config.roles import ALL_ROLES

        unknown_roles = sorted(set(cls.roles) - ALL_ROLES)
        if not cls.roles or unknown_roles:
            problems.append(f"{cls.__qualname__}: roles {sorted(cls.roles)!r} must be known roles")
        return problems


class FileRule(RuleMixin, cst.BatchableCSTVisitor):
    """A rule that inspects one file's syntax tree.

    Subclasses define ``visit_<Node>`` / ``leave_<Node>`` methods and call
    :meth:`report`. ``self.context`` gives the file's module name, path, config,
    import aliases and the enclosing scope.
    """

    def __init__(self, context: FileContext) -> None:
        super().__init__()
        self.context = context

    @classmethod
    def applies_to(cls, context: FileContext) -> bool:
        """Whether the rule can report anything in this file at all. A cheap test on
        the source text (``"torch" in context.source``) lets the engine skip the
        rule's visitors; it must never change what the rule reports."""
        return True

    def report(
        self,
        node: cst.CSTNode,
        message: str,
        *,
        replacement: cst.CSTNode | cst.RemovalSentinel | None = None,
        fix_description: str = "",
        related: Iterable[RelatedLocation] = (),
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        """Report ``node``. ``replacement`` (a node to put in its place) makes the
        finding fixable with ``--fix``."""
        self.context.pending.append(
            PendingFinding(
                rule=type(self),
                node=node,
                message=message,
                scope=self.context.scope,
                replacement=replacement,
                fix_description=fix_description,
                related=tuple(related),
                properties=tuple((properties or {}).items()),
            )
        )


class ProjectRule(RuleMixin):
    """A rule over the whole project, reading facts through the project index.

    ``FACTS`` lists the collectors whose facts it reads; the engine runs them on every
    file when the rule is selected.
    """

    FACTS: ClassVar[tuple[type[FactCollector], ...]] = ()

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        raise NotImplementedError

    def finding(
        self,
        path: str,
        site: Site,
        message: str,
        *,
        related: Iterable[RelatedLocation] = (),
        properties: Mapping[str, Any] | None = None,
        fix: Fix | None = None,
    ) -> Finding:
        """A finding of this rule; the engine fills in fingerprint and severity.
        ``fix`` is a text edit precomputed from the syntax tree by a fact collector."""
        return Finding(
            code=self.code,
            rule_name=self.name,
            severity=self.severity,
            message=message,
            path=path,
            site=site,
            related=tuple(related),
            properties=tuple((properties or {}).items()),
            fix=fix,
        )


AnyRule = type[FileRule] | type[ProjectRule]
