"""The option tables of ``[tool.integ-lint]``, one dataclass per table.

Each field is a TOML key (``snake_case`` here, ``kebab-case`` in TOML). The loader in
:mod:`integ_lint.config` validates types from the annotations, so adding an option is
adding a field. Third-party rule packs may contribute more tables through their
``SECTIONS`` attribute.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .roles import DEFAULT_ROLE_PATHS

DEFAULT_TEST_PATHS = DEFAULT_ROLE_PATHS["test"]
DEFAULT_SCRIPT_PATHS = DEFAULT_ROLE_PATHS["script"]


@dataclass
class Section:
    """Base of an option table; ``TABLE`` is its name under ``[tool.integ-lint]``."""

    TABLE: ClassVar[str] = ""

    def validate(self, source: str) -> None:
        """Check values beyond their types; raise ``ConfigError`` with one line naming
        ``source`` and the key. Called by ``engine.select_rules`` for every table."""

    def cache_salt(self) -> str:
        """What per-file results depend on besides the values (today's date when an
        entry can expire); part of the cache namespace."""
        return ""


@dataclass
class GeneralSettings(Section):
    """The top-level ``[tool.integ-lint]`` keys."""

    TABLE: ClassVar[str] = ""
    select: list[str] = field(default_factory=lambda: ["IL"])
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    extend_ignore: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    extend_exclude: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    fail_on: str = "warning"
    # An incomplete run (a file not parsed, a rule that crashed) is reported, and the
    # findings decide the exit code; a gate that must not pass with files unchecked
    # sets this to true (exit 3), as CI recipes usually do not.
    fail_on_incomplete: bool = False
    baseline: str = ""
    test_paths: list[str] = field(default_factory=lambda: list(DEFAULT_TEST_PATHS))
    script_paths: list[str] = field(default_factory=lambda: list(DEFAULT_SCRIPT_PATHS))
    example_paths: list[str] = field(default_factory=lambda: list(DEFAULT_ROLE_PATHS["example"]))
    docs_paths: list[str] = field(default_factory=lambda: list(DEFAULT_ROLE_PATHS["docs"]))
    benchmark_paths: list[str] = field(
        default_factory=lambda: list(DEFAULT_ROLE_PATHS["benchmark"])
    )
    migration_paths: list[str] = field(
        default_factory=lambda: list(DEFAULT_ROLE_PATHS["migration"])
    )
    generated_paths: list[str] = field(
        default_factory=lambda: list(DEFAULT_ROLE_PATHS["generated"])
    )
    # Folders (relative to the project root) that module names start from; empty:
    # inferred from the project's packaging and tool settings (integ_lint.layout).
    source_roots: list[str] = field(default_factory=list)
    respect_gitignore: bool = True
    cache_dir: str = ".integ-lint-cache"
    cache_max_mb: int = 256
    # Files larger than this are not read (a read-error notification): a symlink to an
    # endless device or a huge generated file must not exhaust memory.
    max_file_size_kb: int = 16384
    jobs: int = 0  # 0: the CPU count
    sarif_category: str = "integ-lint"


@dataclass
class EventLoopSettings(Section):
    TABLE: ClassVar[str] = "event-loops"
    # Decorators (qualified names, fnmatch globs) that make a function a CLI entry point.
    entry_point_decorators: list[str] = field(
        default_factory=lambda: [
            "click.command",
            "click.group",
            "*.command",
            "*.group",
            "typer.Typer.command",
        ]
    )
    # IL207 also counts waits without a timeout (Queue.get(), Lock.acquire(),
    # Future.result()): often guarded by an .empty()/.done() check, so opt-in.
    blocking_waits: bool = False


@dataclass
class BoundarySettings(Section):
    TABLE: ClassVar[str] = "boundaries"
    modules: list[str] = field(default_factory=list)
    # component -> public submodules, or "convention" (every non-underscore submodule)
    public: dict[str, list[str] | str] = field(default_factory=dict)
    shared: list[str] = field(default_factory=list)
    contracts: list[dict[str, Any]] = field(default_factory=list)
    cycles_include_lazy: bool = False
    cycles_include_type_checking: bool = False
    cycles_include_tests: bool = False  # imports in tests/scripts/examples/docs count for IL103

    def validate(self, source: str) -> None:
        from .boundaries import validate_boundary_settings

        validate_boundary_settings(self, source)


@dataclass
class ConfigSchemaSettings(Section):
    TABLE: ClassVar[str] = "config-schema"
    schema_patterns: list[str] = field(
        default_factory=lambda: [
            "*Config",
            "*Settings",
            "*Cfg",
            "*Conf",
            "*HParams",
        ]
    )
    receiver_patterns: list[str] = field(
        default_factory=lambda: [
            "config",
            "cfg",
            "conf",
            "settings",
            "options",
            "opts",
            "params",
            "hparams",
            "*_config",
            "*_cfg",
            "*_conf",
            "*_settings",
            "configuration",
        ]
    )
    schema_bases: list[str] = field(default_factory=list)
    # Module-level dict literals that are configs besides those named like one
    # (qualified-name globs: "pkg.settings.DEFAULTS").
    dict_schemas: list[str] = field(default_factory=list)
    # Check receivers of unknown type whose name looks like a config against every
    # config schema (opt-in: most such receivers are raw dicts or library objects).
    name_match: bool = False
    # Config files -> the schema they feed: {"config/*.yaml" = "pkg.config:AppConfig"}.
    files: dict[str, str] = field(default_factory=dict)
    # Configured files loaded alone (not merged): IL305 checks their required fields.
    complete_files: list[str] = field(default_factory=list)

    def validate(self, source: str) -> None:
        from .config_files import validate_settings

        validate_settings(self, source)


@dataclass
class GpuSettings(Section):
    TABLE: ClassVar[str] = "gpu"
    managers: list[str] = field(default_factory=list)
    # Classes and functions that decide the device and hand it out are device owners
    # too (rules/_torch.py device_owner_evidence); false: only `managers` own devices.
    infer_managers: bool = True
    hot_paths: list[str] = field(default_factory=list)
    allowlist: list[dict[str, Any]] = field(default_factory=list)

    def validate(self, source: str) -> None:
        from .gpu_allowlist import validate_gpu_settings

        validate_gpu_settings(self, source)

    def cache_salt(self) -> str:
        expiring = any(isinstance(e, dict) and "expires" in e for e in self.allowlist)
        return datetime.date.today().isoformat() if expiring else ""


@dataclass
class CouplingSettings(Section):
    TABLE: ClassVar[str] = "coupling"
    manager_patterns: list[str] = field(
        default_factory=lambda: [
            "*Manager",
            "*Coordinator",
            "*Orchestrator",
            "*Controller",
            "*Service",
            "Trainer",
        ]
    )
    manager_bases: list[str] = field(default_factory=list)
    hub_threshold: int = 7
    betweenness_threshold: float = 0.5

    def validate(self, source: str) -> None:
        from .coupling import validate_coupling_settings

        validate_coupling_settings(self, source)


@dataclass
class AuditSettings(Section):
    TABLE: ClassVar[str] = "audit"
    out_dir: str = "docs/ai/agents/integration-specialist/certificates"
    descriptor: str = "integration_review"
    # Status policy (docs/audit.md): more errors than this -> REJECTED.
    reject_above_errors: int = 10
    # Lowest severity that makes a condition (CONDITIONALLY_APPROVED): warning | note.
    conditions_from: str = "warning"
    # An incomplete run (unparsable files, failed rules) -> NEEDS_FURTHER_REVIEW.
    review_incomplete: bool = True
    # Named components for --component: name -> dotted packages/modules or path globs.
    components: dict[str, list[str]] = field(default_factory=dict)

    def validate(self, source: str) -> None:
        from .audit import validate_audit_settings

        validate_audit_settings(self, source)


@dataclass
class MessageSettings(Section):
    """``[tool.integ-lint.messages]`` (docs/rules/messages.md)."""

    TABLE: ClassVar[str] = "messages"
    # Receiver names (last part, fnmatch, case-insensitive) whose publish/subscribe/
    # emit/on calls are an event bus's.
    bus_receivers: list[str] = field(
        default_factory=lambda: [
            "bus",
            "*_bus",
            "*bus",
            "*event_bus*",
            "*eventbus*",
            "*broker",
            "*dispatcher",
            "*emitter",
            "ee",
            "*event_manager",
            "*events_manager",
            "*mediator",
        ]
    )
    # Custom APIs, "[@][RECEIVER.]METHOD(event=WHERE, payload=WHERE)" for publish and
    # "...(event=WHERE, handler=WHERE)" / "@...(event=WHERE)" for subscribe; WHERE is a
    # position (0-based), a keyword, or both ("1|name").
    publish: list[str] = field(default_factory=list)
    subscribe: list[str] = field(default_factory=list)
    # Queue APIs beside put/get: "RECEIVER.METHOD(payload=WHERE)" writes a message,
    # "RECEIVER.METHOD()" returns one (docs/rules/messages.md).
    send: list[str] = field(default_factory=list)
    receive: list[str] = field(default_factory=list)

    def validate(self, source: str) -> None:
        from .messages import validate_message_settings

        validate_message_settings(self, source)


BUILTIN_SECTIONS: tuple[type[Section], ...] = (
    EventLoopSettings,
    BoundarySettings,
    ConfigSchemaSettings,
    GpuSettings,
    CouplingSettings,
    AuditSettings,
    MessageSettings,
)
