"""Which rules a run selects, after every configuration value is checked: globs, rule
codes, and each table's own checks (so a bad value is exit 2 before anything runs)."""

from __future__ import annotations

from dataclasses import dataclass

from integ_lint.config.errors import ConfigError
from integ_lint.config.loader import Config
from integ_lint.config.roles import ROLE_KEYS, role_paths
from integ_lint.config.settings import MessageSettings
from integ_lint.engine.registry import Registry
from integ_lint.files.globs import validate_glob
from integ_lint.model.messages import validate_message_settings
from integ_lint.rule import AnyRule, FactCollector, FileRule, ProjectRule


@dataclass
class Selection:
    file_rules: list[type[FileRule]]
    project_rules: list[type[ProjectRule]]
    collectors: list[type[FactCollector]]

    @property
    def all(self) -> list[AnyRule]:
        return [*self.file_rules, *self.project_rules]


def select_rules(config: Config, registry: Registry) -> Selection:
    general = config.general
    source = str(config.config_file) if config.config_file else "command line"
    for key, values in (
        ("select", general.select),
        ("ignore", general.ignore),
        ("extend-select", general.extend_select),
        ("extend-ignore", general.extend_ignore),
        ("severity", list(general.severity)),
        ("per-file-ignores", [c for codes in general.per_file_ignores.values() for c in codes]),
    ):
        unknown = registry.unknown_selectors(values)
        if unknown:
            where = config.provenance.get(key, source)
            if where == "default":
                where = source
            raise ConfigError(f"{where}: {key}: unknown rule code {unknown[0]!r}")
    for key, patterns in (
        ("exclude", general.exclude),
        ("extend-exclude", general.extend_exclude),
        ("per-file-ignores", list(general.per_file_ignores)),
        *((ROLE_KEYS[role], globs) for role, globs in role_paths(general).items()),
    ):
        for pattern in patterns:
            problem = validate_glob(pattern)
            if problem:
                raise ConfigError(
                    f"{config.provenance.get(key, source)}: {key}: invalid glob: {problem}"
                )
    for section in config.sections.values():
        section.validate(source)  # table-specific checks (e.g. the gpu allowlist)
    # Checks that need the project model's parsers (config sits below the model).
    validate_message_settings(config.section(MessageSettings), source)
    chosen = registry.select(
        [*general.select, *general.extend_select], [*general.ignore, *general.extend_ignore]
    )
    file_rules = [r for r in chosen if issubclass(r, FileRule)]
    project_rules = [r for r in chosen if issubclass(r, ProjectRule)]
    collectors: dict[str, type[FactCollector]] = {}
    for rule in project_rules:
        for collector in rule.FACTS:
            collectors.setdefault(collector.KEY, collector)
    return Selection(file_rules, project_rules, list(collectors.values()))
