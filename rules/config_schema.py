"""Config fallbacks that hide schema gaps (IL3xx).

``getattr(cfg, "x", default)``, ``hasattr(cfg, "x")``, ``cfg.get("x", default)`` and
``"x" in cfg`` on configuration objects, checked against the project's own config
schemas (Pydantic models, dataclasses, attrs classes, TypedDicts, NamedTuples, dict
literals). The schema table and receiver resolution live in
:mod:`integ_lint.model.schema_index`; the facts in :mod:`integ_lint.facts.schemas`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from integ_lint.facts.schemas import SchemaFactCollector, canonical_value
from integ_lint.findings.model import Finding, Fix, RelatedLocation, Severity, Site, Span
from integ_lint.model.config_files import ConfigKey, Feed, config_file_index
from integ_lint.model.project import ProjectIndex
from integ_lint.model.schema_index import (
    DeclaredField,
    ResolvedSite,
    Schema,
    SchemaIndex,
    iter_sites,
    schema_index,
)
from integ_lint.rule import Invalid, ProjectRule, Valid

_NONE = repr(("const", None))
_LISTED = 5

# --- shared example sources -------------------------------------------------------
_SCHEMA = """
from pydantic import BaseModel, Field


class EvaluationConfig(BaseModel):
    evaluation_interval_timesteps: int = Field(default=50_000)
    num_games: int = Field(20)
    save_games: bool = Field(default=True)


class TrainingConfig(BaseModel):
    learning_rate: float = 3e-4
    enable_value_clipping: bool = True


class AppConfig(BaseModel):
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    run_name: str | None = None


def load_config() -> AppConfig:
    return AppConfig()
"""
_FILES = {"pkg/config.py": _SCHEMA, "pkg/__init__.py": ""}
_NAME_MATCH = "[tool.integ-lint.config-schema]\nname-match = true\n"
_DICT_SCHEMA = '[tool.integ-lint.config-schema]\ndict-schemas = ["pkg.example.DEFAULTS"]\n'


def _merged_defaults(read: str) -> str:
    """A dict config (``DEFAULTS``, a schema with ``_DICT_SCHEMA``) merged with
    overrides, then read by the expression ``read``."""
    return f"""
DEFAULTS = {{"history_size": 1000}}

def size(overrides: dict) -> int:
    cfg = {{**DEFAULTS, **overrides}}
    return {read}
"""


def _schema_list(schemas: list[Schema]) -> str:
    shown = [f"{s.name} ({s.location})" for s in schemas[:_LISTED]]
    more = len(schemas) - len(shown)
    text = ", ".join(shown)
    return f"{text} and {more} more" if more > 0 else text


def _closest(item: ResolvedSite) -> str:
    """The declared name closest to the probed one, with its schemas on a name match."""
    attr = item.site.attr.lower()
    owners: dict[str, list[str]] = {}
    for schema in item.schemas:
        for name in [*schema.fields, *schema.members]:
            if not name.startswith("_") and schema.name not in owners.setdefault(name, []):
                owners[name].append(schema.name)
    if not owners:
        return "the schema declares no fields"

    def ratio(name: str) -> float:
        return difflib.SequenceMatcher(None, attr, name.lower()).ratio()

    best = min(owners, key=lambda name: (-ratio(name), name))
    label = repr(best)
    if len(item.schemas) > 1:
        label += f" ({', '.join(owners[best])})"
    return f"did you mean {label}?" if ratio(best) >= 0.6 else f"closest field: {label}"


def _searched(item: ResolvedSite) -> str:
    if item.resolved:
        return _schema_list(item.schemas) + _how(item)
    return (
        f"any config schema (name match on {item.site.receiver_text!r}; "
        f"searched {len(item.schemas)}: {_schema_list(item.schemas)})"
    )


def _how(item: ResolvedSite) -> str:
    """How the receiver was tied to the schema, when not by a declaration."""
    if not item.resolved:
        return f" (name match on {item.site.receiver_text!r})"
    if item.flow:
        return f" ({item.site.receiver_text!r} resolved through the project's call sites)"
    return ""


def _call(item: ResolvedSite) -> str:
    site = item.site
    if len(site.snippet) <= 100:
        return site.snippet
    if site.kind in ("getattr", "getattr-try"):
        return f"getattr({site.receiver_text}, {site.attr!r}{', ' + site.default_text if site.default_text else ''})"
    if site.kind == "hasattr":
        return f"hasattr({site.receiver_text}, {site.attr!r})"
    if site.kind == "get":
        return f"{site.receiver_text}.get({site.attr!r}, {site.default_text})"
    return f"{site.attr!r} in {site.receiver_text}"


def drifting_fields(item: ResolvedSite) -> list[tuple[Schema, DeclaredField]]:
    """The declared fields whose literal default differs from the site's literal
    fallback; empty when any declared literal default equals it (or when there is no
    literal to compare, or the fallback is the ``None`` "absent" sentinel)."""
    site = item.site
    if not site.has_default or site.default is None or site.default == _NONE:
        return []
    declared = [(s, d) for s, d in item.declaring if d is not None and d.fact.default]
    if any(d.fact.default == site.default for _, d in declared):
        return []
    return declared


class _ConfigRule(ProjectRule):
    family = "config-schema"
    FACTS = (SchemaFactCollector,)

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        index = schema_index(project)
        for item in iter_sites(index, project):
            yield from self.check_site(item)

    def check_site(self, item: ResolvedSite) -> Iterator[Finding]:
        raise NotImplementedError

    def _finding(
        self,
        item: ResolvedSite,
        message: str,
        schemas: list[Schema],
        related: Iterable[RelatedLocation] = (),
        fix: Fix | None = None,
    ) -> Finding:
        site = item.site
        return self.finding(
            item.path,
            Site(site.span, site.scope, site.snippet),
            message,
            related=related,
            properties={
                "precision": item.precision,
                "attribute": site.attr,
                "schemas": tuple(s.qualname for s in schemas),
                "resolution": item.resolution,
            },
            fix=fix,
        )


class ConfigSchemaGap(_ConfigRule):
    """A defensive config read of a name that no config schema declares.

    **What it does**

    Finds `getattr(cfg, "x", default)`, `getattr(cfg, "x")` inside
    `try/except AttributeError`, `hasattr(cfg, "x")`, `cfg.get("x", default)` and
    `"x" in cfg` where `cfg` is a configuration object and `x` is declared in no field
    of its schema class (resolved through annotations, schema-typed fields, assignments
    and function return types), or, when the receiver's type is unknown but its name
    looks like a config (`cfg`, `*_config`, ...), in no config schema of the project.

    **Why is this bad?**

    The read can never find the attribute, so the program silently runs with the
    fallback: a field missing from the schema or a typo never fails loudly. Setting
    the option in the config file has no effect (Pydantic ignores or rejects it).

    **Example**

    ```python
    class EvaluationConfig(BaseModel):
        evaluation_interval_timesteps: int = 50_000

    def setup(eval_cfg: EvaluationConfig) -> None:
        if getattr(eval_cfg, "enable_periodic_evaluation", False):  # never true
            schedule()
    ```

    **How to fix**

    Declare the field in the schema (with the intended default) and read it as
    `eval_cfg.enable_periodic_evaluation`, or fix the name the message suggests. A name
    that a project subclass of the schema declares is not reported: probing for it on
    the base is how the code tells the subclass apart. Nor is any name on a schema whose
    instances may carry any attribute (`__getattr__`, `setattr(self, key, ...)` with a
    computed name, pydantic `extra="allow"`).
    """

    code = "IL301"
    name = "config-schema-gap"
    severity = Severity.ERROR

    VALID = (
        # A settings dict written in a test is not a schema of the project: library
        # code reading its own ``options`` mapping is not name-matched against it.
        Valid(
            """
            def handle(options):
                return options.get("stdin")
            """,
            files={"tests/test_cache.py": 'TEST_SETTINGS = {"CACHES": {}}\n'},
        ),
        Valid(
            """
            from pkg.config import EvaluationConfig

            def run(eval_cfg: EvaluationConfig) -> int:
                return eval_cfg.num_games
            """,
            files=_FILES,
        ),
        # Objects that are not configs, computed names, plugin probing, module dispatch.
        Valid(
            """
            import importlib

            import torch

            def unwrap(model: torch.nn.Module) -> torch.nn.Module:
                return getattr(model, "module", model)

            def read(cfg, name: str) -> object:
                return getattr(cfg, name, None)

            def probe(plugin: object) -> bool:
                return hasattr(plugin, "on_step") and getattr(plugin, "every", 1) > 0

            def dispatch(module_name: str, name: str) -> object:
                module = importlib.import_module(module_name)
                return getattr(module, name)
            """,
            files=_FILES,
        ),
        # getattr without a default outside try/except raises: not a fallback.
        Valid(
            """
            from pkg.config import AppConfig

            def read(config: AppConfig) -> object:
                return getattr(config, "missing_field")
            """,
            files=_FILES,
        ),
        # Name match needs config schemas in the project.
        Valid(
            """
            def read(cfg) -> object:
                return getattr(cfg, "anything", 1)
            """,
            config=_NAME_MATCH,
        ),
        # By default a receiver of unknown type is not assumed to be a project config.
        Valid(
            """
            def read(cfg) -> object:
                return getattr(cfg, "anything", 1)
            """,
            files=_FILES,
        ),
        # A module-level dict is a config only when named like one or configured.
        Valid(
            """
            DEFAULTS = {"history_size": 1000}

            def size() -> int:
                cfg = {**DEFAULTS}
                return cfg.get("histroy_size", 1000)
            """
        ),
        # The config of a library object is not the project's schema.
        Valid(
            """
            from transformers import PreTrainedModel

            def hidden(model: PreTrainedModel) -> int:
                return getattr(model.config, "hidden_size", 768)
            """,
            files=_FILES,
            config=_NAME_MATCH,
        ),
        # pydantic's model_config is the model's settings, not a field read.
        Valid(
            """
            from pydantic import BaseModel, ConfigDict

            class ServerConfig(BaseModel):
                model_config: ConfigDict = ConfigDict(extra="forbid")
                port: int = 8080

            def strict(config: ServerConfig) -> bool:
                return getattr(config, "model_config", {}).get("extra") == "forbid"
            """
        ),
        # Library attributes of a schema are compatibility probes.
        Valid(
            """
            from pkg.config import AppConfig

            def dump(config: AppConfig) -> dict:
                if hasattr(config, "model_dump"):
                    return config.model_dump()
                return config.dict()
            """,
            files=_FILES,
        ),
        # A field of a project subclass, probed on the base: the probe is the point.
        Valid(
            """
            from dataclasses import dataclass

            @dataclass
            class OptimConfig:
                lr: float = 1e-3

            @dataclass
            class GanOptimConfig(OptimConfig):
                disc_lr: float = 1e-4

            def discriminator_lr(config: OptimConfig) -> float:
                return getattr(config, "disc_lr", config.lr)
            """
        ),
        # Instances that may carry any attribute: names set from data, __getattr__,
        # pydantic's extra="allow".
        Valid(
            """
            from dataclasses import dataclass, field

            from pydantic import BaseModel, ConfigDict

            @dataclass
            class PluginConfig:
                name: str = "default"
                options: dict = field(default_factory=dict)

                def __post_init__(self) -> None:
                    for key, value in self.options.items():
                        setattr(self, key, value)

            @dataclass
            class LazyConfig:
                name: str = "default"

                def __getattr__(self, item: str) -> object:
                    return None

            class ServerConfig(BaseModel):
                model_config = ConfigDict(extra="allow")
                port: int = 8080

            def plugin_depth(config: PluginConfig) -> int:
                return getattr(config, "depth", 3)

            def lazy_size(config: LazyConfig) -> object:
                return getattr(config, "size", 1)

            def workers(config: ServerConfig) -> int:
                return getattr(config, "workers", 4)
            """
        ),
    )
    INVALID = (
        # 1. a parameter annotated with the schema class
        Invalid(
            """
            from pkg.config import EvaluationConfig

            def schedule(eval_cfg: EvaluationConfig) -> bool:
                return getattr(eval_cfg, "enable_periodic_evaluation", False)
            """,
            line=4,
            files=_FILES,
            message="'enable_periodic_evaluation' is not declared in EvaluationConfig (pkg/config.py:4)",
        ),
        # 1. the return type of a project function (the name is no config-like name)
        Invalid(
            """
            from pkg.config import load_config

            loaded = load_config()
            run_name = getattr(loaded, "run_nam", None)
            """,
            line=4,
            files=_FILES,
            message="did you mean 'run_name'?",
        ),
        # 2. an attribute chain through schema-typed fields
        Invalid(
            """
            from pkg.config import AppConfig

            class EvaluationManager:
                def __init__(self, config: AppConfig) -> None:
                    self.config = config

                def games(self) -> int:
                    return getattr(self.config.evaluation, "games", 10)
            """,
            line=8,
            files=_FILES,
            message="did you mean 'num_games'?",
        ),
        # 3. attributes assigned from a resolved value
        Invalid(
            """
            from pkg.config import AppConfig, EvaluationConfig

            class Callbacks:
                def __init__(self, config: AppConfig, eval_cfg: EvaluationConfig) -> None:
                    self.eval_cfg = eval_cfg
                    self.cfg = config.training

                def on_step(self) -> None:
                    if getattr(self.eval_cfg, "enable_periodic_evaluation", False):
                        pass
                    try:
                        lr = getattr(self.cfg, "learning_rat")
                    except AttributeError:
                        lr = 1e-3
                    if hasattr(self.cfg, "entropy_coef"):
                        pass
            """,
            lines=(9, 12, 15),
            files=_FILES,
        ),
        # 4. config flow: an unannotated manager receives the app config from its owner
        Invalid(
            """
            from pkg.config import load_config

            class EvaluationManager:
                def __init__(self, config) -> None:
                    self.config = config

                def games(self) -> int:
                    return getattr(self.config.evaluation, "games", 10)

            class Trainer:
                def __init__(self) -> None:
                    self.config = load_config()
                    self.evaluation = EvaluationManager(self.config)
            """,
            line=8,
            files=_FILES,
            message="resolved through the project's call sites",
        ),
        # 5. opt-in name match: an unresolved receiver with a config-like name
        Invalid(
            """
            def render_every(cfg) -> int:
                return getattr(cfg, "render_every_step", 1)
            """,
            line=2,
            files=_FILES,
            config=_NAME_MATCH,
            message="name match on 'cfg'",
        ),
        # Mapping-style configs: TypedDict keys, dict literals.
        Invalid(
            """
            from typing import TypedDict

            class LoggingConf(TypedDict, total=False):
                log_dir: str
                log_interval: int

            DEFAULTS = {"history_size": 1000}

            def setup(settings: LoggingConf) -> None:
                flush = settings.get("flush_secs", 30)
                if "wandb_project" in settings:
                    pass
                cfg = {**DEFAULTS}
                size = cfg.get("histroy_size", 1000)
            """,
            lines=(10, 11, 14),
            config=_DICT_SCHEMA,
        ),
    )

    def check_site(self, item: ResolvedSite) -> Iterator[Finding]:
        if item.declaring:
            return
        site = item.site
        if any(site.attr in s.subclass_names for s in item.schemas):
            return  # declared by a subclass: the read tells the subclass apart
        consequence = {
            "getattr": f"the fallback {site.default_text} always applies",
            "getattr-try": "the except AttributeError branch always runs",
            "hasattr": "hasattr() is always False",
            "get": f"the fallback {site.default_text} always applies",
            "in": "the membership test is always False",
        }[site.kind]
        what = "key" if site.kind in ("get", "in") else "attribute"
        message = (
            f"{_call(item)}: {what} {site.attr!r} is not declared in {_searched(item)}, "
            f"so {consequence}; {_closest(item)}"
        )
        yield self._finding(item, message, item.schemas)


class RedundantConfigFallback(_ConfigRule):
    """A fallback for a config field the schema declares.

    **What it does**

    Finds `getattr(cfg, "x", default)`, `hasattr(cfg, "x")` and mapping reads of
    required keys where the config's schema declares `x`. When the receiver resolves
    to exactly one schema class, `--fix` rewrites the read to plain access
    (`cfg.x`, `cfg["x"]`; `hasattr(cfg, "x") and cfg.x` becomes `cfg.x`).

    **Why is this bad?**

    On a valid config the fallback never applies; all it can do is hide a wrong
    object being passed in (an `AppConfig` where an `EvaluationConfig` was expected),
    which then runs silently with the fallback instead of failing. (When the fallback
    is a literal that differs from the declared default, IL303 reports the probe
    instead: one code per probe.)

    **Example**

    ```python
    def games(eval_cfg: EvaluationConfig) -> int:
        return getattr(eval_cfg, "num_games", 20)
    ```

    **How to fix**

    ```python
    def games(eval_cfg: EvaluationConfig) -> int:
        return eval_cfg.num_games
    ```

    **Opt-in**: select `IL302` explicitly (`extend-select = ["IL302"]`); on real
    projects the redundant guards it finds are mostly kept on purpose, so it is a
    clean-up rule, not a default one.
    """

    code = "IL302"
    name = "redundant-config-fallback"
    severity = Severity.WARNING
    fixable = True
    # Opt-in: on real projects the redundant fallbacks it finds are judged harmless
    # (gradio's BlocksConfigDict .get, accelerate's hasattr on a declared field).
    default_enabled = False

    VALID = (
        Valid(
            """
            from pkg.config import EvaluationConfig

            def games(eval_cfg: EvaluationConfig) -> int:
                return eval_cfg.num_games
            """,
            files=_FILES,
        ),
        # A drifting literal fallback is IL303's, not IL302's.
        Valid(
            """
            from pkg.config import EvaluationConfig

            def games(eval_cfg: EvaluationConfig) -> int:
                return getattr(eval_cfg, "num_games", 10)
            """,
            files=_FILES,
        ),
        # Optional TypedDict keys: the fallback is the point.
        Valid(
            """
            from typing import TypedDict

            class LoggingConf(TypedDict, total=False):
                log_dir: str

            def log_dir(settings: LoggingConf) -> str:
                return settings.get("log_dir", "runs")
            """
        ),
        # An attribute assigned only under a guard may be missing: the fallback runs
        # before the assignment, so it is not redundant (and must not be "fixed").
        Valid(
            """
            from dataclasses import dataclass

            @dataclass
            class CacheConfig:
                size: int = 10

                def cache(self) -> dict:
                    if getattr(self, "_cache", None) is None:
                        pass
                    if not hasattr(self, "_cache"):
                        self._cache = {}
                    return self._cache
            """
        ),
        # A raw mapping under a config-like name may lack any key.
        Valid(
            """
            import yaml

            def lr(path: str) -> float:
                config = yaml.safe_load(open(path))
                return config.get("learning_rate", 3e-4)
            """,
            files=_FILES,
        ),
    )
    INVALID = (
        Invalid(
            """
            from pkg.config import EvaluationConfig

            def games(eval_cfg: EvaluationConfig) -> int:
                return getattr(eval_cfg, "num_games", 20)  # keep this comment
            """,
            line=4,
            files=_FILES,
            expected_fix="""
            from pkg.config import EvaluationConfig

            def games(eval_cfg: EvaluationConfig) -> int:
                return eval_cfg.num_games  # keep this comment
            """,
        ),
        Invalid(
            """
            from pkg.config import AppConfig

            class SessionManager:
                def __init__(self, config: AppConfig) -> None:
                    self.config = config
                    self.cfg = config.training
                    self.name = getattr(self.config, "run_name", None) or "run"
                    if hasattr(self.cfg, "enable_value_clipping") and self.cfg.enable_value_clipping:
                        pass
                    mode = "clip" if hasattr(self.cfg, "enable_value_clipping") else "plain"
                    try:
                        lr = getattr(self.config.training, "learning_rate")
                    except AttributeError:
                        lr = 1e-3
            """,
            lines=(7, 8, 10, 12),
            files=_FILES,
            expected_fix="""
            from pkg.config import AppConfig

            class SessionManager:
                def __init__(self, config: AppConfig) -> None:
                    self.config = config
                    self.cfg = config.training
                    self.name = self.config.run_name or "run"
                    if self.cfg.enable_value_clipping:
                        pass
                    mode = "clip"
                    try:
                        lr = self.config.training.learning_rate
                    except AttributeError:
                        lr = 1e-3
            """,
        ),
        # A hasattr gate whose truth is not the field's: reported, not fixed.
        Invalid(
            """
            from pkg.config import load_config

            config = load_config()
            if hasattr(config, "run_name"):
                print(config.run_name)
            """,
            line=4,
            files=_FILES,
            expected_fix=None,
        ),
        # A dict config: the key is always there.
        Invalid(
            _merged_defaults('cfg.get("history_size", 1000)'),
            line=5,
            config=_DICT_SCHEMA,
            expected_fix=_merged_defaults('cfg["history_size"]'),
        ),
        # Name match: reported (precision medium) but never fixed.
        Invalid(
            """
            def clip(cfg) -> bool:
                return getattr(cfg, "enable_value_clipping", True)
            """,
            line=2,
            files=_FILES,
            config=_NAME_MATCH,
            message="name match",
        ),
    )

    def check_site(self, item: ResolvedSite) -> Iterator[Finding]:
        site = item.site
        declaring = item.declaring
        if not declaring:
            return
        if site.kind in ("get", "in"):
            if not item.resolved:
                return  # a raw mapping under a config-like name may lack any key
            if any(d is None or not d.fact.required_key for _, d in declaring):
                return
        if item.resolved and len(declaring) != len(item.schemas):
            return  # declared by some of the possible classes only
        if not all(s.always_declares(site.attr) for s, _ in declaring):
            # only assigned conditionally (`if not hasattr(self, "x"): self.x = {}`):
            # the fallback is what runs before the assignment
            return
        if drifting_fields(item):
            return  # one code per probe: IL303 reports the drifting default
        owners = _schema_list([s for s, _ in declaring])
        if site.kind == "hasattr":
            consequence = "hasattr() is always True"
        elif site.kind == "in":
            consequence = "the membership test is always True"
        elif site.kind == "getattr-try":
            consequence = "the except AttributeError branch never runs on a valid config"
        else:
            consequence = f"the fallback {site.default_text} never applies on a valid config"
        match = _how(item)
        fix = site.fix if item.precision == "high" and len(item.schemas) == 1 else None
        advice = f"; use {fix.replacement!r}" if fix is not None and site.kind != "hasattr" else ""
        message = (
            f"{_call(item)}: {site.attr!r} is declared in {owners}{match}, so {consequence} "
            f"and only hides a wrong object being passed in{advice}"
        )
        yield self._finding(item, message, [s for s, _ in declaring], fix=fix)


class ConfigDefaultDrift(_ConfigRule):
    """A config fallback whose default differs from the schema's default.

    **What it does**

    Compares the literal fallback of `getattr(cfg, "x", default)` / `cfg.get("x",
    default)` with the literal default declared for `x` in the config schema (a field
    default, `Field(default)`, `field(default=...)`, `attr.ib(default=...)`, a
    `default_factory` of `list`/`dict`, or a dict config's value). The related
    location is the field's declaration. A `None` fallback is taken as an "absent"
    sentinel and not compared.

    **Why is this bad?**

    Two sources of truth for one default: code paths that receive a config without
    the field (an old checkpoint, a test double, a wrong object) run with a different
    value than configured ones, and nobody notices.

    **Example**

    ```python
    class TrainingConfig(BaseModel):
        enable_value_clipping: bool = True

    clip = getattr(training_cfg, "enable_value_clipping", False)
    ```

    **How to fix**

    Read the field directly (`training_cfg.enable_value_clipping`); the schema's
    default is the only default.
    """

    code = "IL303"
    name = "config-default-drift"
    severity = Severity.ERROR

    VALID = (
        Valid(
            """
            from pkg.config import EvaluationConfig

            def games(eval_cfg: EvaluationConfig) -> int:
                return getattr(eval_cfg, "num_games", 20.0)
            """,
            files=_FILES,
        ),
        Valid(
            """
            from pkg.config import EvaluationConfig

            def games(eval_cfg: EvaluationConfig) -> object:
                return getattr(eval_cfg, "num_games", None)
            """,
            files=_FILES,
        ),
    )
    INVALID = (
        Invalid(
            """
            from pkg.config import TrainingConfig

            class StepManager:
                def __init__(self, training_cfg: TrainingConfig) -> None:
                    self.training_cfg = training_cfg
                    self.clip = getattr(self.training_cfg, "enable_value_clipping", False)
            """,
            line=6,
            files=_FILES,
            message="differs from the default True declared in TrainingConfig.enable_value_clipping (pkg/config.py:12)",
        ),
        Invalid(_merged_defaults('cfg.get("history_size", 500)'), line=5, config=_DICT_SCHEMA),
    )

    def check_site(self, item: ResolvedSite) -> Iterator[Finding]:
        site = item.site
        declared = drifting_fields(item)
        if not declared:
            return
        parts = [
            f"{d.fact.default_text} declared in {d.owner_name}.{site.attr} ({d.path}:{d.fact.span.start_line})"
            for _, d in declared
        ]
        match = _how(item)
        message = (
            f"{_call(item)}: the fallback {site.default_text} for {site.attr!r} differs from "
            f"the default {' / '.join(parts)}{match}"
        )
        related = [
            RelatedLocation(
                d.path, d.fact.span, f"{d.owner_name}.{site.attr} defaults to {d.fact.default_text}"
            )
            for _, d in declared
        ]
        yield self._finding(item, message, [s for s, _ in declared], related)


# --- config files against the schema they feed (IL304-IL306) -------------------------
_APP_YAML = "training:\n  learning_rate: 0.001\n  batch_sise: 128\nrun_name: demo\n"
_LOADER = """
import yaml

from pkg.config import AppConfig


def load() -> AppConfig:
    with open("config/app.yaml", encoding="utf-8") as handle:
        return AppConfig(**yaml.safe_load(handle))
"""
_FILE_SCHEMA = """
from dataclasses import dataclass, field


@dataclass
class TrainingConfig:
    learning_rate: float = 3e-4
    batch_size: int = 64


@dataclass
class AppConfig:
    run_name: str
    training: TrainingConfig = field(default_factory=TrainingConfig)
"""
_FILE_FILES = {"pkg/__init__.py": "", "pkg/config.py": _FILE_SCHEMA}


@dataclass(frozen=True)
class _FileKey:
    """A key of a config file, where it sits in the schema."""

    key: ConfigKey
    dotted: str  # "training.batch_size"
    schema: Schema
    declared: DeclaredField | None


def _nested_schema(index: SchemaIndex, declared: DeclaredField) -> Schema | None:
    for type_name in declared.fact.types:
        qualname = index.class_of_name(type_name)
        if qualname is not None and qualname in index.schemas:
            return index.schemas[qualname]
    return None


def _field_for(schema: Schema, key: str) -> DeclaredField | None:
    found = schema.fields.get(key)
    if found is not None:
        return found
    return next((d for d in schema.fields.values() if d.fact.alias == key), None)


def _walk(
    index: SchemaIndex, keys: Iterable[ConfigKey], schema: Schema, prefix: str = ""
) -> Iterator[_FileKey]:
    for key in keys:
        declared = _field_for(schema, key.name)
        yield _FileKey(key, prefix + key.name, schema, declared)
        if declared is not None and key.children is not None:
            nested = _nested_schema(index, declared)
            if nested is not None:
                yield from _walk(index, key.children, nested, f"{prefix}{key.name}.")


class _ConfigFileRule(ProjectRule):
    family = "config-schema"
    FACTS = (SchemaFactCollector,)

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        files = config_file_index(project)
        for feed in files.feeds:
            if project.role_of(feed.relpath) not in self.roles or not project.reported(
                feed.relpath
            ):
                continue
            yield from self.check_feed(files.index, feed)

    def check_feed(self, index: SchemaIndex, feed: Feed) -> Iterator[Finding]:
        raise NotImplementedError

    def _file_finding(
        self,
        feed: Feed,
        span: Span,
        snippet: str,
        message: str,
        related: Iterable[RelatedLocation] = (),
    ) -> Finding:
        return self.finding(
            feed.relpath,
            Site(span, "", snippet),
            message,
            related=related,
            properties={
                "precision": "high",
                "schema": feed.schema.qualname,
                "fed-by": feed.source,
            },
        )


def _schema_related(schema: Schema) -> RelatedLocation:
    return RelatedLocation(schema.path, schema.span, f"{schema.name} is declared here")


class ConfigFileUnknownKey(_ConfigFileRule):
    """A key in a config file that the schema it feeds does not declare.

    **What it does**

    Reads the YAML / TOML / JSON files the project loads into a config schema (found
    in plain loading code such as `AppConfig(**yaml.safe_load(open("config/app.yaml")))`,
    `AppConfig.model_validate(data)`, `parse_file`, OmegaConf structured configs, or
    configured with `[tool.integ-lint.config-schema] files`) and reports every key,
    at any depth of nested sections, that no field of the schema (or of the section's
    schema) declares, with the closest field name.

    **Why is this bad?**

    A typo in a config file is silently ignored (pydantic's default `extra="ignore"`,
    a hand-written `from_dict`), so the setting the file's author wanted never
    applies; with `extra="forbid"` or a dataclass constructor it crashes at start-up.

    **Example**

    ```yaml
    training:
      batch_sise: 128   # TrainingConfig declares batch_size
    ```

    **How to fix**

    Rename the key to the field it was meant for, or declare the field in the schema.
    Schemas that accept any key (`extra="allow"`) or define their own `__init__` are
    not checked, nor a key that the schema's own input code names as a string (its
    `from_dict` / `model_validate` / `parse_obj` / `validate` / `parse_file`, a pydantic
    `model_validator(mode="before")` / `root_validator(pre=True)`): that code renames,
    drops or fills it.
    """

    code = "IL304"
    name = "config-file-unknown-key"
    severity = Severity.ERROR

    VALID = (
        Valid(
            _LOADER,
            files={
                **_FILE_FILES,
                "config/app.yaml": "training:\n  batch_size: 128\nrun_name: demo\n",
            },
        ),
        # Nothing says which schema an unreferenced file feeds: it is not read.
        Valid(
            "VALUE = 1\n",
            files={**_FILE_FILES, "config/app.yaml": "trainnig: {}\n"},
        ),
        # A before-validator renames a legacy key: the fields never see it.
        Valid(
            """
            import yaml
            from pydantic import BaseModel, ConfigDict, model_validator

            class ServerConfig(BaseModel):
                model_config = ConfigDict(extra="forbid")
                host: str

                @model_validator(mode="before")
                @classmethod
                def _legacy_address(cls, data: dict) -> dict:
                    if "address" in data:
                        data["host"] = data.pop("address")
                    return data

            def load() -> ServerConfig:
                return ServerConfig.model_validate(yaml.safe_load(open("config/server.yaml")))
            """,
            files={"config/server.yaml": "address: example.org\n"},
        ),
        # The schema's own from_dict does the load: it may drop or fill keys.
        Valid(
            """
            from dataclasses import dataclass

            import yaml

            @dataclass
            class AppConfig:
                run_name: str

                @classmethod
                def from_dict(cls, data: dict) -> "AppConfig":
                    data = dict(data)
                    data.pop("version", None)
                    return cls(**data)

            def load() -> AppConfig:
                return AppConfig.from_dict(yaml.safe_load(open("config/app.yaml")))
            """,
            files={"config/app.yaml": "version: 2\nrun_name: demo\n"},
        ),
    )
    INVALID = (
        Invalid(
            _LOADER,
            files={**_FILE_FILES, "config/app.yaml": _APP_YAML},
            finding_path="config/app.yaml",
            line=3,
            message="did you mean 'batch_size'?",
        ),
        Invalid(
            "VALUE = 1\n",
            files={**_FILE_FILES, "config/fast.toml": "learning_rate = 0.1\nwarmup = 3\n"},
            config=(
                "[tool.integ-lint.config-schema]\n"
                'files = { "config/*.toml" = "pkg.config:TrainingConfig" }\n'
            ),
            finding_path="config/fast.toml",
            line=2,
        ),
    )

    def check_feed(self, index: SchemaIndex, feed: Feed) -> Iterator[Finding]:
        for item in _walk(index, feed.parsed.keys, feed.schema):
            schema = item.schema
            if item.declared is not None or item.key.name == "<<":
                continue
            if schema.extra == "allow" or item.key.name in schema.input_keys:
                continue  # any key is accepted, or the schema's own input code takes it
            if "__init__" in schema.members:
                continue  # its own __init__ decides which keys it takes
            names = [n for n in schema.fields if not n.startswith("_")]
            close = difflib.get_close_matches(item.key.name, names, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"fields: {', '.join(names[:8])}"
            effect = {
                "forbid": "loading the file fails (extra='forbid')",
                "ignore": "the value is silently ignored (extra='ignore')",
            }.get(schema.extra, "the value never reaches the config (ignored or rejected)")
            message = (
                f"key {item.dotted!r} is not a field of {schema.name} ({schema.location}), "
                f"which {feed.relpath} feeds ({feed.source}), so {effect}; {hint}"
            )
            yield self._file_finding(
                feed, item.key.span, item.dotted, message, [_schema_related(schema)]
            )


class ConfigFileMissingRequired(_ConfigFileRule):
    """A required schema field that a complete config file does not set.

    **What it does**

    For a config file that is loaded *alone* into its schema (not merged with
    defaults or other files first), reports every field without a default (a
    dataclass field with no default, a pydantic field with none or `Field(...)`, a
    required TypedDict key) that the file, or the file's section for a nested schema,
    does not set. Pydantic `BaseSettings` are skipped: the environment may set them.

    **Why is this bad?**

    Loading the file fails at start-up (a `TypeError` from a dataclass, a
    `ValidationError` from pydantic): the shipped defaults file cannot run as is.

    **Example**

    ```yaml
    # config/app.yaml, loaded by AppConfig(**yaml.safe_load(...)); run_name is required
    training:
      learning_rate: 0.001
    ```

    **How to fix**

    Set the field in the file, or give it a default in the schema. A file merged over
    others is configured in `files` and not listed in `complete-files`. A schema with
    its own `__init__`, or a field its own input code names (as for IL304), is not
    checked.
    """

    code = "IL305"
    name = "config-file-missing-required"
    severity = Severity.WARNING

    VALID = (
        Valid(_LOADER, files={**_FILE_FILES, "config/app.yaml": _APP_YAML}),
        # Merged over the schema's defaults: not complete on its own.
        Valid(
            """
            from omegaconf import OmegaConf

            from pkg.config import AppConfig

            def load() -> object:
                return OmegaConf.merge(
                    OmegaConf.structured(AppConfig), OmegaConf.load("config/app.yaml")
                )
            """,
            files={**_FILE_FILES, "config/app.yaml": "training: {}\n"},
        ),
    )
    INVALID = (
        Invalid(
            _LOADER,
            files={**_FILE_FILES, "config/app.yaml": "training:\n  learning_rate: 0.001\n"},
            finding_path="config/app.yaml",
            line=1,
            message="required field 'run_name' of AppConfig",
        ),
    )

    def check_feed(self, index: SchemaIndex, feed: Feed) -> Iterator[Finding]:
        if not feed.complete:
            return
        yield from self._missing(index, feed, feed.parsed.keys, feed.schema, None, "")

    def _missing(
        self,
        index: SchemaIndex,
        feed: Feed,
        keys: tuple[ConfigKey, ...],
        schema: Schema,
        parent: ConfigKey | None,
        prefix: str,
    ) -> Iterator[Finding]:
        if schema.is_settings or schema.kind == "dict" or "__init__" in schema.members:
            return  # the environment or the schema's own __init__ may set the field
        present = {k.name: k for k in keys}
        for name, declared in schema.fields.items():
            fact = declared.fact
            key = present.get(name) or (present.get(fact.alias) if fact.alias else None)
            if key is None:
                if fact.has_default or (schema.kind == "typeddict" and not fact.required_key):
                    continue
                if name in schema.input_keys:
                    continue  # set by the schema's own input code (from_dict, validator)
                span = parent.span if parent is not None else Span(1, 1, 1, 1)
                where = f"section {parent.name!r}" if parent is not None else "it"
                message = (
                    f"required field {prefix + name!r} of {schema.name} ({declared.path}:"
                    f"{fact.span.start_line}) is not set in {feed.relpath}, and {where} is "
                    f"loaded alone ({feed.source}), so loading it fails"
                )
                related = [
                    RelatedLocation(
                        declared.path, fact.span, f"{schema.name}.{name} has no default"
                    )
                ]
                yield self._file_finding(feed, span, prefix + name, message, related)
            elif key.children is not None:
                nested = _nested_schema(index, declared)
                if nested is not None:
                    yield from self._missing(
                        index, feed, key.children, nested, key, f"{prefix}{name}."
                    )


def _file_value_key(value: object, default: str) -> str:
    """The canonical form of a file value; YAML 1.1 reads ``1e-3`` as a string, so a
    numeric-looking string compares as a number against a numeric default."""
    if isinstance(value, str) and default.startswith("('num'"):
        try:
            return canonical_value(float(value))
        except ValueError:
            pass
    return canonical_value(value)


class ConfigFileDefaultDrift(_ConfigFileRule):
    """A config file value, the schema default and a code fallback that all disagree.

    **What it does**

    For a field that the code reads with a literal fallback (`getattr(cfg, "x", d)`,
    `cfg.get("x", d)`, resolved to the schema), compares three values: the one a
    config file sets, the schema's declared default and the code's fallback. Reports
    the key of a complete file (one loaded alone: the shipped defaults) when it differs
    from the schema default and from the fallback. Override files merged over the
    defaults differ by design and are not compared.

    **Why is this bad?**

    Three places define one setting: which value runs depends on whether the file was
    loaded, whether the object came through the schema and which code path read it.
    A reader of any one place is misled about the other two.

    **Example**

    ```yaml
    evaluation:
      interval: 2000   # schema default 1000, getattr(cfg.evaluation, "interval", 500)
    ```

    **How to fix**

    Decide on one default: make the schema default what the file says (or drop the
    key), and read the field without a fallback.
    """

    code = "IL306"
    name = "config-file-default-drift"
    severity = Severity.NOTE

    VALID = (
        Valid(
            _LOADER
            + """

def lr(config: AppConfig) -> float:
    return getattr(config.training, "learning_rate", 3e-4)
""",
            files={**_FILE_FILES, "config/app.yaml": "training:\n  learning_rate: 3e-4\n"},
        ),
    )
    INVALID = (
        Invalid(
            _LOADER
            + """

def lr(config: AppConfig) -> float:
    return getattr(config.training, "learning_rate", 0.01)
""",
            files={**_FILE_FILES, "config/app.yaml": _APP_YAML},
            finding_path="config/app.yaml",
            line=2,
            message="three places disagree",
        ),
    )

    def check_feed(self, index: SchemaIndex, feed: Feed) -> Iterator[Finding]:
        if not feed.complete:
            return  # an override file differs from the defaults by design
        fallbacks = _literal_fallbacks(index)
        for item in _walk(index, feed.parsed.keys, feed.schema):
            declared = item.declared
            if declared is None or item.key.children is not None or not declared.fact.default:
                continue
            default = declared.fact.default
            value = _file_value_key(item.key.value, default)
            if value == default:
                continue
            sites = [
                s
                for s in fallbacks.get((item.schema.qualname, declared.fact.name), [])
                if s.site.default != value
            ]
            if not sites:
                continue
            first = sites[0]
            if first.site.default == default:
                verdict = (
                    "which assumes the schema default: an object that did not come from "
                    "this file runs with another value"
                )
            else:
                verdict = "three places disagree on one setting"
            message = (
                f"{item.dotted!r} is {_show(item.key.value)} in {feed.relpath}, but "
                f"{declared.owner_name}.{declared.fact.name} defaults to "
                f"{declared.fact.default_text} ({declared.path}:{declared.fact.span.start_line}) "
                f"and {_call(first)} falls back to {first.site.default_text} "
                f"({first.path}:{first.site.span.start_line}), {verdict}"
            )
            related = [
                RelatedLocation(
                    declared.path,
                    declared.fact.span,
                    f"{declared.owner_name}.{declared.fact.name} defaults to "
                    f"{declared.fact.default_text}",
                ),
                *(
                    RelatedLocation(s.path, s.site.span, f"falls back to {s.site.default_text}")
                    for s in sites[:_LISTED]
                ),
            ]
            yield self._file_finding(feed, item.key.span, item.dotted, message, related)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _literal_fallbacks(index: SchemaIndex) -> dict[tuple[str, str], list[ResolvedSite]]:
    """Resolved sites with a literal, non-None fallback, by (schema, field)."""
    out: dict[tuple[str, str], list[ResolvedSite]] = {}
    for item in index.sites:
        site = item.site
        if not item.resolved or not site.has_default or site.default in (None, _NONE):
            continue
        for schema in item.schemas:
            out.setdefault((schema.qualname, site.attr), []).append(item)
    return out
