"""Which rules a run selects, after every configuration value is checked: globs, rule
codes, and each table's own checks (so a bad value is exit 2 before anything runs).

The selection holds rule *references*: a rule class, or the registry's handle of a
built-in rule not imported yet (:mod:`integ_lint.engine.manifest`). Both answer what
selection, cache keys, role filters and reporters read; the executor imports the
classes only when a file is analysed, and a project rule is imported when it runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from integ_lint.config.errors import ConfigError
from integ_lint.config.loader import Config
from integ_lint.config.roles import ROLE_KEYS, role_paths
from integ_lint.config.settings import MessageSettings
from integ_lint.engine.manifest import CollectorRef, FileRuleRef, ProjectRuleRef, RuleRef
from integ_lint.engine.registry import Registry
from integ_lint.files.globs import validate_glob


@dataclass
class Selection:
    file_rules: list[FileRuleRef]
    project_rules: list[ProjectRuleRef]
    collectors: list[CollectorRef]

    @property
    def all(self) -> list[RuleRef]:
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
    # Checks that need the project model's parsers (config sits below the model), which
    # import the message facts: only when there are patterns to check.
    messages = config.section(MessageSettings)
    if messages.publish or messages.subscribe or messages.send or messages.receive:
        from integ_lint.model.messages import validate_message_settings

        validate_message_settings(messages, source)
    chosen = registry.select(
        [*general.select, *general.extend_select], [*general.ignore, *general.extend_ignore]
    )
    file_rules: list[FileRuleRef] = []
    project_rules: list[ProjectRuleRef] = []
    for rule in chosen:
        # kind() is the class's own answer (a ProjectRule subclass or not), which a
        # handle has from the manifest without importing the class.
        if rule.kind() == "project":
            project_rules.append(cast("ProjectRuleRef", rule))
        else:
            file_rules.append(cast("FileRuleRef", rule))
    collectors: dict[str, CollectorRef] = {}
    for project_rule in project_rules:
        for collector in project_rule.FACTS:
            collectors.setdefault(collector.KEY, collector)
    return Selection(file_rules, project_rules, list(collectors.values()))
