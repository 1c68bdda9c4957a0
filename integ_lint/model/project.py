"""The project index: every file's facts, joined, plus lazily derived structures."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from integ_lint.config.loader import Config
from integ_lint.config.roles import classify, role_paths
from integ_lint.findings.model import Notification

T = TypeVar("T")


class AnalysedFile(Protocol):
    """What the index reads of one file's result from the per-file phase (the engine's
    ``FileResult``; a protocol, so that the project model does not import the engine)."""

    @property
    def relpath(self) -> str: ...
    @property
    def module(self) -> str: ...
    @property
    def is_package_init(self) -> bool: ...
    @property
    def digest(self) -> str: ...
    @property
    def facts(self) -> dict[str, Any]: ...
    @property
    def parsed(self) -> bool: ...


@dataclass(frozen=True)
class FileFacts:
    """What the project phase knows about one file (from the per-file phase or the
    cache): its identity and the value of each fact collector that ran on it."""

    relpath: str
    module: str
    is_package_init: bool
    digest: str
    facts: dict[str, Any] = field(default_factory=dict)
    role: str = "library"  # integ_lint.config.roles


class ProjectIndex:
    """Module table and facts of the whole project.

    Project rules share derived structures (the import graph, the schema table, the
    manager graph) through :meth:`derived`, so each is built once per run whatever
    the number of rules reading it.
    """

    def __init__(self, files: list[FileFacts], config: Config) -> None:
        self.config = config
        self.files: dict[str, FileFacts] = {f.relpath: f for f in files}
        self.modules: dict[str, FileFacts] = {}
        for facts in files:
            if facts.module and (facts.module not in self.modules or facts.relpath.endswith(".py")):
                self.modules[facts.module] = facts
        self._derived: dict[str, Any] = {}
        # Paths findings may be reported on (None: every file). Changed-files runs
        # narrow this while still indexing the whole project.
        self.report_paths: set[str] | None = None
        # Notes project rules raise about inputs that are not Python files (a config
        # file that does not parse); the engine adds them to the report.
        self.notifications: list[Notification] = []

    @classmethod
    def from_results(
        cls,
        results: Iterable[AnalysedFile],
        config: Config,
        roles: Mapping[str, str] | None = None,
    ) -> ProjectIndex:
        """The index of the files of the per-file phase that parsed; ``roles`` maps
        relpaths to their role (from discovery), otherwise roles come from the globs."""
        files = []
        for r in results:
            if not r.parsed:
                continue
            role = roles.get(r.relpath) if roles is not None else None
            if role is None:
                role = classify(r.relpath, role_paths(config.general))
            files.append(FileFacts(r.relpath, r.module, r.is_package_init, r.digest, r.facts, role))
        return cls(files, config)

    def role_of(self, relpath: str) -> str:
        """The role of the file at ``relpath`` (``library`` for an unknown path whose
        globs say nothing else)."""
        facts = self.files.get(relpath)
        if facts is not None:
            return facts.role
        return classify(relpath, role_paths(self.config.general))

    def reported(self, relpath: str) -> bool:
        """Whether findings may be reported on ``relpath`` at all (it is among the
        reported paths); the engine still filters each finding by its rule's roles."""
        return self.report_paths is None or relpath in self.report_paths

    def facts(self, key: str) -> Iterator[tuple[FileFacts, Any]]:
        """``(file, value)`` for every file that has facts under ``key``."""
        for file_facts in self.files.values():
            if key in file_facts.facts:
                yield file_facts, file_facts.facts[key]

    def derived(self, key: str, build: Callable[[ProjectIndex], T]) -> T:
        if key not in self._derived:
            self._derived[key] = build(self)
        value: T = self._derived[key]
        return value

    def is_package(self, module: str) -> bool:
        facts = self.modules.get(module)
        if facts is not None:
            return facts.is_package_init
        prefix = module + "."
        return any(m.startswith(prefix) for m in self.modules)

    def path_of(self, module: str) -> str | None:
        facts = self.modules.get(module)
        return facts.relpath if facts else None
