"""IL1xx: cross-module imports, import contracts and import cycles, over the
project-wide import graph."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import pairwise

from integ_lint.config.settings import BoundarySettings
from integ_lint.facts.imports import ImportFacts
from integ_lint.findings.model import (
    Finding,
    Notification,
    NotificationKind,
    RelatedLocation,
    Severity,
    Site,
    Span,
)
from integ_lint.model.boundaries import (
    Boundaries,
    ContractResult,
    Violation,
    check_contract,
    check_contract_result,
    component_graph,
    convention_breach,
    find_cycles,
    resolve_boundaries,
)
from integ_lint.model.digraph import DiGraph
from integ_lint.model.import_graph import ImportGraph, ImportSite, import_graph
from integ_lint.model.project import ProjectIndex
from integ_lint.rule import Invalid, ProjectRule, Valid

FAMILY = "boundaries"

_TWO_MODULES = {
    "app/__init__.py": "",
    "app/billing/__init__.py": "from app.billing.api import charge\n",
    "app/billing/api.py": "from app.billing.ledger import Ledger\n\ndef charge() -> None: ...\n",
    "app/billing/ledger.py": "class Ledger: ...\n",
    "app/core/__init__.py": "",
    "app/core/bus.py": "bus = object()\n",
}
# ... and app.orders, whose service module imports from them in the examples.
_ORDERS = {**_TWO_MODULES, "app/orders/__init__.py": ""}
_ORDERS_SERVICE = "app/orders/service.py"


def _contract(name: str, kind: str, **lists: list[str]) -> str:
    """An example's ``[[tool.integ-lint.boundaries.contracts]]`` table: its name, its
    type and its lists of modules (``source_modules=["app.core"]``)."""
    lines = ["[[tool.integ-lint.boundaries.contracts]]", f'name = "{name}"', f'type = "{kind}"']
    lines += [f"{key} = {json.dumps(names)}" for key, names in lists.items()]
    return "\n".join(lines) + "\n"


def boundaries_of(project: ProjectIndex) -> Boundaries:
    return project.derived("boundaries", lambda p: resolve_boundaries(p.config, import_graph(p)))


def _reportable(project: ProjectIndex, path: str) -> bool:
    return project.report_paths is None or path in project.report_paths


def _list(names: Iterable[str]) -> str:
    return ", ".join(names)


class _BoundaryRule(ProjectRule):
    FACTS = (ImportFacts,)
    family = FAMILY

    def _finding(
        self,
        site: ImportSite,
        message: str,
        *,
        related: Iterable[RelatedLocation] = (),
        properties: dict[str, object] | None = None,
    ) -> Finding:
        return self.finding(
            site.path, site.record.site, message, related=related, properties=properties
        )


def _internal_crossings(
    graph: ImportGraph, boundaries: Boundaries, *, dynamic: bool
) -> Iterator[tuple[str, str, str, str, ImportSite]]:
    """``(importer_component, imported_component, importer, imported, site)`` for
    every import of another component's internals (dynamic ones or static ones), when
    components are configured."""
    if not boundaries.configured:
        return
    for importer, imported, sites in graph.edges():
        if graph.is_external(imported):
            continue
        source = boundaries.component_of(importer)
        if source is None:
            continue
        target = boundaries.component_of(imported)
        if target is None or target == source:
            continue
        if boundaries.is_shared(imported) or boundaries.is_shared(target):
            continue
        if boundaries.is_public(imported, target):
            continue
        for site in sites:
            if site.record.dynamic == dynamic:
                yield source, target, importer, imported, site


def _convention_breaches(
    graph: ImportGraph, *, dynamic: bool
) -> Iterator[tuple[str, str, ImportSite, str]]:
    """``(importer, imported, site, message)`` for every import of something its
    package marks private (dynamic imports or static ones)."""
    for importer, imported, sites in graph.edges():
        if graph.is_external(imported):
            continue
        for site in sites:
            if site.record.dynamic != dynamic:
                continue
            message = convention_breach(graph, importer, imported, site)
            if message is not None:
                yield importer, imported, site, message


def _site_key(site: ImportSite) -> tuple[str, int, int]:
    """Where an import statement is (one finding per statement)."""
    return (site.path, site.line, site.record.col)


def _private_imports(
    project: ProjectIndex, graph: ImportGraph, boundaries: Boundaries, *, dynamic: bool
) -> Iterator[tuple[ImportSite, str, dict[str, object]]]:
    """``(site, message, properties)`` once per reported statement importing what
    another module keeps private: by convention when no components are configured,
    else another component's internals. Static imports (IL101) or dynamic ones
    (IL104)."""
    seen: set[tuple[str, int, int]] = set()
    conventions = () if boundaries.configured else _convention_breaches(graph, dynamic=dynamic)
    for importer, imported, site, message in conventions:
        if _site_key(site) not in seen and _reportable(project, site.path):
            seen.add(_site_key(site))
            prefix = "dynamic import: " if dynamic else ""
            yield site, prefix + message, {"importer": importer, "imported": imported}
    verb = "dynamically imports" if dynamic else "imports"
    for source, target, _importer, imported, site in _internal_crossings(
        graph, boundaries, dynamic=dynamic
    ):
        if _site_key(site) in seen or not _reportable(project, site.path):
            continue
        seen.add(_site_key(site))
        # A static import can be pointed at the re-export; a dynamic one names a module.
        hint = "" if dynamic else _reexport_hint(boundaries, target, site)
        yield (
            site,
            f"{source} {verb} {imported}, an internal module of {target}; the public "
            f"interface of {target} is {_list(boundaries.interface(target))}{hint}",
            {"importer": source, "imported": imported, "module": target},
        )


_SKIPPED_FOR_CYCLES = frozenset({"test", "script", "example", "docs", "benchmark"})


def _cycle_skip_paths(project: ProjectIndex) -> set[str]:
    if project.config.section(BoundarySettings).cycles_include_tests:
        return set()
    return {path for path, facts in project.files.items() if facts.role in _SKIPPED_FOR_CYCLES}


def _reexport_hint(boundaries: Boundaries, target: str, site: ImportSite) -> str:
    exported = boundaries.reexports.get(target, {})
    names = [n for n in site.names if n in exported]
    if not names:
        return ""
    verb = "is" if len(names) == 1 else "are"
    return f" ({_list(names)} {verb} re-exported by {target}: import from there)"


class CrossModuleInternalImport(_BoundaryRule):
    """Import of something another package keeps private.

    **What it does**
    With no components configured, reports only what the code itself marks private
    (PEP 8's "private by convention"): an import, from outside a package, of a module
    or name whose path below that package has a leading underscore
    (``pkg.sub._impl``, ``from pkg.sub import _helper``), and an import of a name from
    a submodule when the package re-exports that name in its ``__all__`` (the message
    says where to import it from). When ``[tool.integ-lint.boundaries]`` names
    components (``modules``, ``public``, ``shared``), it reports every import of
    another component's internals: anything that is not that component's package
    ``__init__``, one of its ``public`` submodules (``public = "convention"``: every
    submodule without a leading underscore), or a ``shared`` module. Reports on
    library files only. Off by default (select ``IL101``): inside one project,
    importing a sibling package's private helper is usually deliberate.

    **Why is this bad?**
    Internals change without notice. Code that imports another package's private
    module couples itself to details the owning team considers private, and the two
    can no longer be changed, tested or released apart.

    **Example**
    ```python
    # app/sync/services.py
    from app.drive._storage import DriveStore
    ```

    **How to fix**
    Import what the package offers publicly (``from app.drive import DriveStore`` if
    it is re-exported), or make the module public (drop the underscore, re-export
    it) if it really is an interface.
    """

    code = "IL101"
    name = "cross-module-internal-import"
    severity = Severity.WARNING
    # Opt-in: 0 of 66 labelled findings were true on 10 real projects (importing a
    # sibling package's private helper or a name's defining module is deliberate
    # inside one project). Select it by code once components are declared.
    default_enabled = False
    VALID = (
        # By default only underscores and __all__ re-exports make something private.
        Valid(
            "from app.billing.ledger import Ledger\nfrom app.billing.api import charge\n",
            path=_ORDERS_SERVICE,
            files=_ORDERS,
        ),
        Valid(
            "from app.billing import charge\nfrom app.core.bus import bus\n",
            path=_ORDERS_SERVICE,
            files=_ORDERS,
            config='[tool.integ-lint.boundaries]\nshared = ["app.core"]\n',
        ),
        Valid(
            "from app.billing.ledger import Ledger\n",
            path=_ORDERS_SERVICE,
            files=_ORDERS,
            config='[tool.integ-lint.boundaries]\npublic = { "app.billing" = ["ledger"] }\n',
        ),
        Valid(
            "from app.billing.ledger import Ledger\n",
            path=_ORDERS_SERVICE,
            files=_ORDERS,
            config='[tool.integ-lint.boundaries]\npublic = { "app.*" = "convention" }\n',
        ),
        # Inside the package, its private modules are fair game.
        Valid(
            "from ._rates import RATE\nfrom .api import charge\n",
            path="app/billing/other.py",
            files={**_TWO_MODULES, "app/billing/_rates.py": "RATE = 1\n"},
        ),
    )
    INVALID = (
        Invalid(
            "import os\nfrom app.billing._rates import RATE\n",
            line=2,
            path=_ORDERS_SERVICE,
            files={
                **_ORDERS,
                "app/billing/_rates.py": "RATE = 1\n",
            },
            message="imports app.billing._rates, private to app.billing",
        ),
        Invalid(
            "from app.billing.ledger import _round\n",
            line=1,
            path=_ORDERS_SERVICE,
            files=_ORDERS,
            message="imports app.billing.ledger._round, private to app.billing",
        ),
        Invalid(
            "from app.billing.api import charge\n",
            line=1,
            path=_ORDERS_SERVICE,
            files={
                **_ORDERS,
                "app/billing/__init__.py": (
                    "from app.billing.api import charge\n__all__ = ['charge']\n"
                ),
            },
            message="app.billing re-exports it in its __all__: import it from app.billing",
        ),
        Invalid(
            "import os\nfrom app.billing.ledger import Ledger\n",
            line=2,
            path=_ORDERS_SERVICE,
            files=_ORDERS,
            config='[tool.integ-lint.boundaries]\nmodules = ["app.*"]\n',
            message="app.orders imports app.billing.ledger",
        ),
        Invalid(
            "from app.billing._rates import RATE\n",
            line=1,
            path=_ORDERS_SERVICE,
            files={
                **_ORDERS,
                "app/billing/_rates.py": "RATE = 1\n",
            },
            config='[tool.integ-lint.boundaries]\npublic = { "app.*" = "convention" }\n',
            message="every submodule of app.billing without a leading underscore",
        ),
        Invalid(
            "def f():\n    from app.billing.api import charge\n",
            line=2,
            path=_ORDERS_SERVICE,
            files=_ORDERS,
            config='[tool.integ-lint.boundaries]\nmodules = ["app.*"]\nshared = ["app.core"]\n',
            message="public interface of app.billing is app.billing",
        ),
    )

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        graph, boundaries = import_graph(project), boundaries_of(project)
        for site, message, properties in _private_imports(
            project, graph, boundaries, dynamic=False
        ):
            yield self._finding(site, message, properties=properties)


def _violation_message(violation: Violation) -> str:
    contract = violation.contract
    head = f'contract "{contract.name}" ({contract.type}): '
    tail = f"; {contract.guidance}" if contract.guidance else ""
    if contract.type == "acyclic_siblings":
        return (
            f"{head}{' -> '.join(violation.chain)}: {violation.description}; this import "
            f"closes the cycle{tail}"
        )
    if violation.direct:
        return (
            f"{head}{violation.importer} imports {violation.imported}; "
            f"{violation.description}{tail}"
        )
    return (
        f"{head}{violation.importer} imports {violation.imported}, completing the chain "
        f"{' -> '.join(violation.chain)}; {violation.description}{tail}"
    )


def _chain_related(
    graph: ImportGraph, chain: tuple[str, ...], offending: ImportSite
) -> list[RelatedLocation]:
    """The other imports of the chain (the first statement of each link)."""
    related = []
    for importer, imported in pairwise(chain):
        sites = [s for s in graph.sites(importer, imported) if not s.record.dynamic]
        if sites and sites[0] != offending:
            related.append(
                RelatedLocation(
                    sites[0].path, sites[0].record.site.span, f"{importer} imports {imported}"
                )
            )
    return related


def contract_results(project: ProjectIndex) -> list[ContractResult]:
    """Every contract checked once per run (IL102 and the peer tools share it)."""

    def build(p: ProjectIndex) -> list[ContractResult]:
        graph = import_graph(p)
        return [check_contract_result(graph, c) for c in boundaries_of(p).contracts]

    return project.derived("contract-results", build)


class ContractViolation(_BoundaryRule):
    """Import that breaks a declared import contract.

    **What it does**
    Checks the contracts in ``[[tool.integ-lint.boundaries.contracts]]`` or, when
    there are none, import-linter's own (``.importlinter``, ``setup.cfg
    [importlinter]``, ``[tool.importlinter]``): ``forbidden``, ``layers`` (with
    containers, sibling and optional layers, ``exhaustive``), ``independence``,
    ``protected`` and ``acyclic_siblings``. Direct imports and, unless
    ``allow_indirect_imports``, chains through other modules both break a contract;
    lazy and ``TYPE_CHECKING`` imports count, as in import-linter. The finding is on
    the import that enters the forbidden module (the offending link), with a chain
    in the message and its other imports as related locations; several chains
    through one import are one finding.

    **Why is this bad?**
    A contract is an architectural decision the team wrote down. An import that
    breaks it quietly reintroduces the coupling the contract exists to prevent.

    **Example**
    ```toml
    [[tool.integ-lint.boundaries.contracts]]
    name = "dashboard is read-only"
    type = "forbidden"
    source_modules = ["app.dashboard"]
    forbidden_modules = ["app.drive"]
    ```
    ```python
    # app/dashboard/services.py
    from app.drive.api import list_recent_files
    ```

    **How to fix**
    Remove the import (talk through an event or an injected interface), or, for a
    deliberate exception, list it under the contract's ``ignore_imports``
    (``"app.dashboard.services -> app.drive.api"``).
    """

    code = "IL102"
    name = "import-contract-violation"
    severity = Severity.ERROR
    _CONFIG = _contract(
        "core is independent",
        "forbidden",
        source_modules=["app.core"],
        forbidden_modules=["app.billing", "requests"],
    )
    VALID = (
        Valid(
            "from app.billing import charge\n",
            path=_ORDERS_SERVICE,
            files=_ORDERS,
            config=_CONFIG,
        ),
        Valid(
            "from app.billing import charge\n",
            path="app/core/hooks.py",
            files=_TWO_MODULES,
            config=_CONFIG + 'ignore_imports = ["app.core.hooks -> app.billing"]\n',
        ),
    )
    INVALID = (
        Invalid(
            "import json\nimport requests\n",
            line=2,
            path="app/core/http.py",
            files=_TWO_MODULES,
            config=_CONFIG,
            message='contract "core is independent" (forbidden): app.core.http imports requests',
        ),
        # The finding is on the import that enters app.billing; the chain is in the message.
        Invalid(
            "from app.billing import charge\n\ndef place(): ...\n",
            line=1,
            path="app/orders/__init__.py",
            files={**_TWO_MODULES, "app/core/hooks.py": "from app.orders import place\n"},
            config=_CONFIG,
            message="completing the chain app.core.hooks -> app.orders -> app.billing",
        ),
        Invalid(
            "from app.web import views\n",
            line=1,
            path="app/domain/model.py",
            files={"app/__init__.py": "", "app/domain/__init__.py": "", "app/web/views.py": ""},
            config=_contract(
                "layered", "layers", containers=["app"], layers=["web", "(api)", "domain"]
            ),
            message="app.domain (lower layer) must not import app.web (higher layer)",
        ),
        Invalid(
            "import app.a\nx = 1\n",
            line=1,
            path="app/b/__init__.py",
            files={"app/__init__.py": "", "app/a/__init__.py": "from app.b import x\n"},
            config=_contract("acyclic", "acyclic_siblings", ancestors=["app"]),
            message="app.a -> app.b -> app.a: children of app import each other",
        ),
    )

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        graph = import_graph(project)
        for result in contract_results(project):
            contract = result.contract
            if contract.unmatched_ignore_imports_alerting == "warn":
                project.notifications.extend(
                    Notification(
                        kind=NotificationKind.CONFIG,
                        message=f"{contract.where}.ignore_imports: no import matches '{rule}'",
                        rule=self.code,
                    )
                    for rule in result.unmatched_ignores
                )
            statements: set[tuple[str, int, int]] = set()
            for violation in result.violations:
                statement = (violation.site.path, violation.site.line, violation.site.record.col)
                if statement in statements or not _reportable(project, violation.site.path):
                    continue
                statements.add(statement)
                yield self._finding(
                    violation.site,
                    _violation_message(violation),
                    related=_chain_related(graph, violation.chain, violation.site),
                    properties={
                        "contract": contract.name,
                        "chain": list(violation.chain),
                        "importer": violation.importer,
                        "imported": violation.imported,
                    },
                )
            for undeclared in result.undeclared:
                if not undeclared.path or not _reportable(project, undeclared.path):
                    continue
                yield self.finding(
                    undeclared.path,
                    Site(Span(1, 1, 1, 1), "", f"module {undeclared.module}"),
                    f'contract "{contract.name}" (layers, exhaustive): {undeclared.module} is '
                    f"not listed as a layer of {undeclared.container}",
                    properties={"contract": contract.name, "undeclared": undeclared.module},
                )


class ImportCycle(_BoundaryRule):
    """Import cycle between modules.

    **What it does**
    Builds the import graph between the project's modules (components) and reports
    each strongly connected group once, on the import that closes the cycle through
    its alphabetically first module, with the cycle in the message and every import
    of it as a related location. Function-level (lazy) and ``TYPE_CHECKING`` imports
    do not count unless ``cycles-include-lazy`` / ``cycles-include-type-checking``;
    the root package's ``__init__`` is left out (every submodule "imports" it), and
    imports written in tests, scripts, examples and docs count only with
    ``cycles-include-tests``. Off by default (select ``IL103``): real projects keep
    structural cycles between subpackages that import fine.

    **Why is this bad?**
    Modules in a cycle cannot be understood, tested or released apart; import order
    starts to matter and a partially initialised module raises ``ImportError`` at the
    worst moment.

    **Example**
    ```python
    # app/drive/services.py
    from app.sync.api import enqueue_change
    # app/sync/services.py
    from app.drive.services import DriveService
    ```

    **How to fix**
    Invert one dependency: publish an event, pass a callback, or move the shared
    piece into a shared module both may import.
    """

    code = "IL103"
    name = "import-cycle"
    severity = Severity.WARNING
    # Opt-in: 0 of 7 labelled cycles between real projects' subpackages were true
    # (structural cycles that import fine, with no declared layering).
    default_enabled = False
    _FILES = {
        "app/__init__.py": "",
        "app/a/__init__.py": "",
        "app/a/api.py": "from app.b.api import g\n\ndef f(): ...\n",
        "app/b/__init__.py": "",
    }
    VALID = (
        Valid(
            "def g():\n    from app.a.api import f\n",
            path="app/b/api.py",
            files=_FILES,
        ),
        Valid(
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.a.api import f\n",
            path="app/b/api.py",
            files=_FILES,
        ),
        # A script's demo block runs only when executed, never on import.
        Valid(
            'def g(): ...\n\nif __name__ == "__main__":\n    from app.a.api import f\n',
            path="app/b/api.py",
            files=_FILES,
        ),
    )
    INVALID = (
        Invalid(
            "import os\nfrom app.a.api import f\n\ndef g(): ...\n",
            line=2,
            path="app/b/api.py",
            files=_FILES,
            message="app.a -> app.b -> app.a",
        ),
        Invalid(
            "def g():\n    from app.a.api import f\n",
            line=2,
            path="app/b/api.py",
            files=_FILES,
            config="[tool.integ-lint.boundaries]\ncycles-include-lazy = true\n",
            message="app.a -> app.b -> app.a",
        ),
    )

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        graph = import_graph(project)
        boundaries = boundaries_of(project)
        settings = project.config.section(BoundarySettings)
        components = component_graph(
            graph,
            boundaries,
            include_lazy=settings.cycles_include_lazy,
            include_type_checking=settings.cycles_include_type_checking,
            skip_paths=_cycle_skip_paths(project),
        )
        for cycle, members in find_cycles(components):
            edges = list(pairwise(cycle))
            sites = [components.edges[a, b]["sites"][0] for a, b in edges]
            closing = sites[-1]
            if not _reportable(project, closing.path):
                continue
            message = f"import cycle between modules: {' -> '.join(cycle)}; this import closes it"
            if len(members) > len(edges):
                message += f" (all of {_list(members)} import each other, directly or not)"
            related = [
                RelatedLocation(site.path, site.record.site.span, f"{a} imports {b}")
                for (a, b), site in zip(edges, sites)
            ]
            yield self._finding(closing, message, related=related, properties={"cycle": cycle})


class DynamicBoundaryImport(_BoundaryRule):
    """Dynamic import with a literal name that crosses a module boundary.

    **What it does**
    Resolves ``importlib.import_module("a.b")``, ``importlib.import_module(".b",
    package="a")`` and ``__import__("a.b")`` calls whose name is a string literal, and
    reports those that would be reported as IL101 (another module's internals) or
    IL102 (a broken contract) had they been ``import`` statements.

    **Why is this bad?**
    A dynamic import hides the dependency from readers, from import-linter and from
    packaging tools, yet couples the two modules exactly as a static import would.

    **Example**
    ```python
    # app/content/_internal.py
    drive = importlib.import_module("app.drive.services")
    ```

    **How to fix**
    Import the other module's public interface statically, or receive the service
    through an injected callable or a registry in a shared module.
    """

    code = "IL104"
    name = "dynamic-boundary-import"
    severity = Severity.WARNING
    VALID = (
        Valid(
            'import importlib\nimportlib.import_module("app.billing")\n'
            'importlib.import_module(f"app.{name}.api")\n',
            path=_ORDERS_SERVICE,
            files=_ORDERS,
        ),
    )
    INVALID = (
        Invalid(
            "import importlib\n\ndef load():\n"
            '    return importlib.import_module(".ledger", package="app.billing")\n',
            line=4,
            path=_ORDERS_SERVICE,
            files=_ORDERS,
            config='[tool.integ-lint.boundaries]\nmodules = ["app.*"]\n',
            message="dynamically imports app.billing.ledger",
        ),
        Invalid(
            'import importlib\nimportlib.import_module("app.billing._rates")\n',
            line=2,
            path=_ORDERS_SERVICE,
            files={
                **_ORDERS,
                "app/billing/_rates.py": "RATE = 1\n",
            },
            message="dynamic import: app.orders.service imports app.billing._rates",
        ),
        Invalid(
            'mod = __import__("requests")\n',
            line=1,
            path="app/core/http.py",
            files=_TWO_MODULES,
            config=_contract(
                "no http in core",
                "forbidden",
                source_modules=["app.core"],
                forbidden_modules=["requests"],
            ),
            message='breaks contract "no http in core"',
        ),
    )

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        graph = import_graph(project)
        boundaries = boundaries_of(project)
        found = {
            _site_key(site): self._finding(site, message, properties=properties)
            for site, message, properties in _private_imports(
                project, graph, boundaries, dynamic=True
            )
        }
        dynamic_only = dynamic_graph(graph)
        for contract in boundaries.contracts:
            for violation in check_contract(graph, contract, static=dynamic_only):
                site = violation.site
                key = _site_key(site)
                if key in found or not violation.direct or not _reportable(project, site.path):
                    continue
                found[key] = self._finding(
                    site,
                    f"{violation.importer} dynamically imports {violation.imported}, which "
                    f'breaks contract "{contract.name}" ({contract.type}): '
                    f"{violation.description}",
                    properties={"contract": contract.name},
                )
        return list(found.values())


def dynamic_graph(graph: ImportGraph) -> DiGraph:
    """The edges made by dynamic imports only."""
    result = DiGraph()
    for importer, imported, sites in graph.edges():
        dynamic = [s for s in sites if s.record.dynamic]
        if dynamic:
            result.add_edge(importer, imported, sites=dynamic)
    return result
