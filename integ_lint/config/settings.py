"""The option tables of ``[tool.integ-lint]``, one dataclass per table.

Each field is a TOML key (``snake_case`` here, ``kebab-case`` in TOML). The loader in
:mod:`integ_lint.config.loader` validates types from the annotations, so adding an option is
adding a field. Third-party rule packs may contribute more tables through their
``SECTIONS`` attribute.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from integ_lint.config.contracts import validate_boundary_settings
from integ_lint.config.errors import ConfigError
from integ_lint.config.gpu_allowlist import validate_gpu_settings

# The files a config-schema ``files`` pattern may name (and the facts look for).
CONFIG_FILE_SUFFIXES = (".yaml", ".yml", ".toml", ".json")

# Default globs per role (ruff-style matching, see files.globs.matches_any).
DEFAULT_ROLE_PATHS: dict[str, list[str]] = {
    "test": [
        "tests/**",
        "test/**",
        "**/tests/**",
        "**/_tests/**",  # napari, scikit-image: tests inside the package
        # Not "**/test/**": a package's test/ subpackage is usually shipped test
        # support (django.test), library code for its users.
        "**/test_*.py",
        "**/*_test.py",
        "**/conftest.py",
    ],
    "script": [
        "scripts/**",
        "**/scripts/**",
        "bin/**",
        "**/__main__.py",
        "/setup.py",
        "/noxfile.py",
    ],
    "example": ["examples/**", "**/examples/**", "example/**"],
    "docs": ["docs/**", "doc/**", "docs_src/**"],
    "benchmark": ["benchmarks/**", "benchmark/**", "**/benchmarks/**", "asv_bench/**"],
    "migration": ["**/migrations/**", "**/alembic/versions/**"],
    "generated": ["**/*_pb2.py", "**/*_pb2.pyi", "**/*_pb2_grpc.py"],
}

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
    # inferred from the project's packaging and tool settings (integ_lint.model.layout).
    source_roots: list[str] = field(default_factory=list)
    respect_gitignore: bool = True
    cache_dir: str = ".integ-lint-cache"
    cache_max_mb: int = 256
    # Files larger than this are not read (a read-error notification): a symlink to an
    # endless device or a huge generated file must not exhaust memory.
    max_file_size_kb: int = 16384
    jobs: int = 0  # 0: the CPU count
    sarif_category: str = "integ-lint"

    @property
    def excluded(self) -> list[str]:
        """Every exclude pattern: ``exclude`` and ``extend_exclude`` together."""
        return [*self.exclude, *self.extend_exclude]


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
        for pattern, target in self.files.items():
            module, _, name = target.partition(":")
            if not module or not name or not all(p.isidentifier() for p in module.split(".")):
                raise ConfigError(
                    f"{source}: [tool.integ-lint.config-schema] files: {pattern!r} = {target!r} "
                    "must name a schema as 'package.module:ClassName'"
                )
            if not pattern.lower().endswith(CONFIG_FILE_SUFFIXES):
                raise ConfigError(
                    f"{source}: [tool.integ-lint.config-schema] files: {pattern!r} must match "
                    f"files ending in one of {', '.join(CONFIG_FILE_SUFFIXES)}"
                )


@dataclass
class GpuSettings(Section):
    TABLE: ClassVar[str] = "gpu"
    managers: list[str] = field(default_factory=list)
    # Classes and functions that decide the device and hand it out are device owners
    # too (facts/torch.py device_owner_evidence); false: only `managers` own devices.
    infer_managers: bool = True
    hot_paths: list[str] = field(default_factory=list)
    allowlist: list[dict[str, Any]] = field(default_factory=list)

    def validate(self, source: str) -> None:
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
        """One-line errors for values their types allow but the graph cannot use."""

        prefix = f"{source}: tool.integ-lint.coupling."
        for key, patterns in (
            ("manager-patterns", self.manager_patterns),
            ("manager-bases", self.manager_bases),
        ):
            for index, pattern in enumerate(patterns):
                if not pattern.strip():
                    raise ConfigError(f"{prefix}{key}: item {index}: empty pattern")
        if self.hub_threshold < 1:
            raise ConfigError(f"{prefix}hub-threshold: must be 1 or more, got {self.hub_threshold}")
        if not 0.0 <= self.betweenness_threshold <= 1.0:
            raise ConfigError(
                f"{prefix}betweenness-threshold: must be between 0 and 1, "
                f"got {self.betweenness_threshold}"
            )


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
        """Checks of ``[tool.integ-lint.audit]`` beyond types (run when the config is loaded)."""

        prefix = f"{source}: tool.integ-lint.audit."
        if self.reject_above_errors < 0:
            raise ConfigError(
                f"{prefix}reject-above-errors: expected 0 or more, got {self.reject_above_errors}"
            )
        if self.conditions_from not in ("warning", "note"):
            raise ConfigError(
                f"{prefix}conditions-from: expected warning or note, got {self.conditions_from!r}"
            )
        # The descriptor becomes part of a file name (audit.model.snake_name).
        if not re.search(r"[a-z0-9]", self.descriptor.lower()):
            raise ConfigError(
                f"{prefix}descriptor: {self.descriptor!r} must contain letters or digits"
            )
        if not str(self.out_dir).strip():
            raise ConfigError(f"{prefix}out-dir: must not be empty")
        for name, specs in self.components.items():
            if (
                not isinstance(specs, list)
                or not specs
                or not all(isinstance(s, str) and s.strip() for s in specs)
            ):
                raise ConfigError(
                    f"{prefix}components.{name}: expected a non-empty list of dotted modules "
                    "or path globs"
                )


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


BUILTIN_SECTIONS: tuple[type[Section], ...] = (
    EventLoopSettings,
    BoundarySettings,
    ConfigSchemaSettings,
    GpuSettings,
    CouplingSettings,
    AuditSettings,
    MessageSettings,
)


# Default globs per role (ruff-style matching, see discovery.matches_any).
