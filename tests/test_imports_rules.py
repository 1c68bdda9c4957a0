"""The import graph, boundaries and contracts, and IL101-IL104 on small projects."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from integ_lint import api
from integ_lint.cli import main
from integ_lint.config import load_config
from integ_lint.engine import RunOptions
from integ_lint.findings import Finding


def write(root: Path, files: dict[str, str], config: str = "") -> Path:
    (root / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "0"\n\n[tool.integ-lint]\nselect = ["IL1", "IL101", "IL103"]\n'
        + textwrap.dedent(config)
    )
    for relpath, code in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(code))
    return root


def findings(root: Path, **options: object) -> list[Finding]:
    report = api.check([root], jobs=1, options=RunOptions(jobs=1, **options))  # type: ignore[arg-type]
    assert not report.notifications, [n.message for n in report.notifications]
    return report.findings


def brief(found: list[Finding]) -> list[tuple[str, str, int]]:
    return sorted((f.code, f.path, f.line) for f in found)


def graph_of(root: Path):  # type: ignore[no-untyped-def]
    from integ_lint.cli.imports import build_overview

    config = load_config([root])
    return build_overview([root], config, "file", jobs=1)


# -- module table and graph -------------------------------------------------------------


def test_graph_src_layout_namespace_packages_and_submodule_resolution(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "src/shop/__init__.py": "from shop import orders\nfrom shop.billing import charge\n",
            "src/shop/orders/__init__.py": "",
            "src/shop/orders/api.py": "from shop.billing import ledger, charge\nimport shop.ns.tool\n",
            "src/shop/billing/__init__.py": "def charge(): ...\n",
            "src/shop/billing/ledger.py": "",
            "src/shop/ns/tool.py": "import requests\n",  # shop.ns is a namespace package
        },
    )
    overview = graph_of(tmp_path)
    graph = overview.graph
    assert graph.table.is_package("shop.ns") and "shop.ns" not in graph.table.files
    assert graph.table.files["shop.orders.api"] == "src/shop/orders/api.py"
    edges = {(a, b) for a, b, _ in graph.edges()}
    assert ("shop", "shop.orders") in edges
    assert ("shop", "shop.billing") in edges
    assert ("shop.orders.api", "shop.billing.ledger") in edges
    assert ("shop.orders.api", "shop.billing") in edges
    assert ("shop.orders.api", "shop.ns.tool") in edges
    assert ("shop.ns.tool", "requests") in edges and graph.is_external("requests")
    sites = graph.sites("shop.orders.api", "shop.billing")
    assert [s.names for s in sites] == [("charge",)]


def test_graph_several_roots(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "alpha/__init__.py": "",
            "alpha/a.py": "import beta.b\n",
            "beta/__init__.py": "",
            "beta/b.py": "from alpha import a\n",
        },
    )
    graph = graph_of(tmp_path).graph
    assert graph.table.roots == ["alpha", "beta"]
    assert graph.sites("alpha.a", "beta.b") and graph.sites("beta.b", "alpha.a")


# -- IL101 -------------------------------------------------------------------------------

MODULAR = {
    "app/__init__.py": "",
    "app/auth/__init__.py": "from app.auth.api import login\n",
    "app/auth/api.py": "from .services import AuthService\n\ndef login(): ...\n",
    "app/auth/services.py": "class AuthService: ...\n",
    "app/auth/schemas.py": "class User: ...\n",
    "app/core/__init__.py": "",
    "app/core/bus.py": "bus = object()\n",
}


def test_default_is_private_by_convention(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            **MODULAR,
            "app/auth/_tokens.py": "def _sign(): ...\ndef issue(): ...\n",
            "app/auth/tokens_impl.py": "def _raw(): ...\nclass Token: ...\n",
            "app/auth/__init__.py": (
                "from app.auth.api import login\nfrom app.auth.tokens_impl import Token\n"
                "__all__ = ['login', 'Token']\n"
            ),
            "app/auth/uses.py": "from ._tokens import _sign\nfrom .tokens_impl import _raw\n",
            "app/blog/__init__.py": "",
            "app/blog/views.py": """\
                from app.auth import login
                from app.auth.services import AuthService
                from app.auth._tokens import issue
                from app.auth.tokens_impl import _raw, Token
                from app.auth import _tokens
                from app.auth.api import login as l2
                import app.__about__
                """,
            "app/__about__.py": "",
            "tests/test_auth.py": "from app.auth._tokens import issue\n",
        },
    )
    found = findings(tmp_path)
    # services and api have no underscore: public by convention; inside app.auth the
    # private modules and names are fair game; tests are never reported
    assert brief(found) == [
        ("IL101", "app/blog/views.py", 3),
        ("IL101", "app/blog/views.py", 4),
        ("IL101", "app/blog/views.py", 5),
        ("IL101", "app/blog/views.py", 6),
    ]
    messages = [f.message for f in sorted(found, key=lambda f: f.line)]
    assert "imports app.auth._tokens, private to app.auth (leading underscore" in messages[0]
    assert "app.auth.tokens_impl._raw, private to app.auth" in messages[1]
    assert messages[3] == (
        "app.blog.views imports login from app.auth.api, but app.auth re-exports it in its "
        "__all__: import it from app.auth"
    )


def test_configured_components_and_public_interface(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            **MODULAR,
            "app/blog/__init__.py": "",
            "app/blog/views.py": """\
                from app.auth import login
                from app.auth.api import login as l2
                from app.auth.services import AuthService
                from app.core.bus import bus
                from app.auth.api import login as again  # integ-lint: ignore[IL101]
                """,
        },
        '[tool.integ-lint.boundaries]\nmodules = ["app.*"]\n',
    )
    found = findings(tmp_path)
    # public interface: the package only (api is not re-exported as a module)
    assert brief(found) == [
        ("IL101", "app/blog/views.py", 2),
        ("IL101", "app/blog/views.py", 3),
        ("IL101", "app/blog/views.py", 4),
    ]
    assert "app.blog imports app.auth.services, an internal module of app.auth" in found[1].message


def test_configured_public_shared_and_reexport_hint(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            **MODULAR,
            "app/blog/__init__.py": "",
            "app/blog/views.py": """\
                from app.auth.api import login
                from app.auth.schemas import User
                from app.core.bus import bus
                from app.auth.services import AuthService
                """,
            "app/auth/__init__.py": "from app.auth.services import AuthService\n",
        },
        """
        [tool.integ-lint.boundaries]
        modules = ["app.*"]
        shared = ["app.core"]
        public = { "app.auth" = ["api", "schemas"] }
        """,
    )
    found = findings(tmp_path)
    assert brief(found) == [("IL101", "app/blog/views.py", 4)]
    assert (
        "public interface of app.auth is app.auth, app.auth.api, app.auth.schemas"
        in found[0].message
    )
    assert "AuthService is re-exported by app.auth" in found[0].message


def test_report_paths_are_respected(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            **MODULAR,
            "app/blog/__init__.py": "",
            "app/blog/a.py": "from app.auth.services import AuthService\n",
            "app/blog/b.py": "from app.auth.services import AuthService\n",
        },
        '[tool.integ-lint.boundaries]\nmodules = ["app.*"]\n',
    )
    found = findings(tmp_path, report_paths={"app/blog/b.py"})
    assert brief(found) == [("IL101", "app/blog/b.py", 1)]


# -- IL102 -------------------------------------------------------------------------------

LAYERED = {
    "app/__init__.py": "",
    "app/web/__init__.py": "",
    "app/web/views.py": "from app.domain import model\n",
    "app/domain/__init__.py": "",
    "app/domain/model.py": "from app.helpers import util\n",
    "app/helpers/__init__.py": "",
    "app/helpers/util.py": "def f():\n    from app.web import views\n",
    "app/infra/__init__.py": "",
    "app/infra/db.py": "from app.web.views import x\nfrom app.domain.model import y\n",
}


def test_layers_with_containers_and_indirect_chain(tmp_path: Path) -> None:
    write(
        tmp_path,
        LAYERED,
        """
        [tool.integ-lint.boundaries]
        modules = ["app.*"]
        public = { "app.*" = ["views", "model", "util", "db"] }
        [[tool.integ-lint.boundaries.contracts]]
        name = "layered"
        type = "layers"
        containers = ["app"]
        layers = ["web", "domain", "infra"]
        """,
    )
    found = [f for f in findings(tmp_path) if f.code == "IL102"]
    # the indirect break is reported on the import that enters the higher layer
    assert brief(found) == [
        ("IL102", "app/helpers/util.py", 2),
        ("IL102", "app/infra/db.py", 1),
        ("IL102", "app/infra/db.py", 2),
    ]
    indirect = found[0]
    assert (
        "app.helpers.util imports app.web.views, completing the chain "
        "app.domain.model -> app.helpers.util -> app.web.views" in indirect.message
    )
    assert len(indirect.related) == 1 and indirect.related[0].path == "app/domain/model.py"


def test_independence_ignore_imports_and_allow_indirect(tmp_path: Path) -> None:
    files = {
        "app/__init__.py": "",
        "app/a/__init__.py": "from app.b import x\n",
        "app/b/__init__.py": "from app.glue import y\n",
        "app/c/__init__.py": "",
        "app/glue.py": "import app.c\n",
    }
    write(
        tmp_path,
        files,
        """
        [[tool.integ-lint.boundaries.contracts]]
        name = "independent"
        type = "independence"
        modules = ["app.a", "app.b", "app.c"]
        [[tool.integ-lint.boundaries.contracts]]
        name = "b not c"
        type = "forbidden"
        source_modules = ["app.b"]
        forbidden_modules = ["app.c"]
        allow_indirect_imports = true
        """,
    )
    found = [f for f in findings(tmp_path) if f.code == "IL102"]
    # a -> b direct; b -> glue -> c indirect (independence only; forbidden allows it)
    assert [(f.path, f.line, f.property_dict()["contract"]) for f in found] == [
        ("app/a/__init__.py", 1, "independent"),
        ("app/glue.py", 1, "independent"),
    ]
    write(
        tmp_path,
        files,
        """
        [[tool.integ-lint.boundaries.contracts]]
        name = "independent"
        type = "independence"
        modules = ["app.a", "app.b", "app.c"]
        ignore_imports = ["app.a -> app.*", "app.** -> app.c"]
        unmatched_ignore_imports_alerting = "none"
        """,
    )
    assert [f for f in findings(tmp_path) if f.code == "IL102"] == []


@pytest.mark.parametrize(
    ("contract", "message"),
    [
        (
            'type = "forbidden"\nsource_modules = ["a"]\nforbiden_modules = ["b"]\n',
            "contracts[0].forbiden_modules: key not supported for a forbidden contract "
            "(did you mean 'forbidden_modules'?",
        ),
        ('type = "forbid"\n', "contracts[0].type: contract type 'forbid' is not supported"),
        (
            'type = "forbidden"\nsource_modules = ["pkg"]\nforbidden_modules = ["pkg.nope"]\n',
            "contracts[0].forbidden_modules: 'pkg.nope' names no module (did you mean 'pkg'?)",
        ),
        (
            'type = "layers"\ncontainers = ["pkg"]\nlayers = ["a", "b"]\n',
            "contracts[0].layers: container 'pkg': 'pkg.a' names no module",
        ),
        (
            'type = "independence"\nmodules = ["pkg.*"]\n',
            "contracts[0].modules: 'pkg.*' names no module",
        ),
        (
            'type = "forbidden"\nsource_modules = ["pkg"]\nforbidden_modules = ["os"]\n'
            'ignore_imports = ["pkg -> json"]\n',
            "contracts[0].ignore_imports: no import matches 'pkg -> json'",
        ),
        (
            'type = "layers"\nlayers = ["pkg"]\nexhaustive = true\n',
            "contracts[0].exhaustive: an exhaustive contract needs containers",
        ),
        (
            'type = "custom.Contract"\n',
            "contracts[0].type: contract type 'custom.Contract' is not supported",
        ),
        ('type = "layers"\n', "contracts[0].layers: missing"),
        (
            'type = "independence"\nmodules = ["a", "b"]\nignore_imports = ["a b"]\n',
            "contracts[0].ignore_imports: 'a b' is not like",
        ),
        (
            'type = "forbidden"\nsource_modules = "a.b-c"\nforbidden_modules = ["b"]\n',
            "contracts[0].source_modules: 'a.b-c' is not a dotted module name",
        ),
    ],
)
def test_contract_config_errors_are_usage_errors(
    tmp_path: Path, contract: str, message: str
) -> None:
    write(
        tmp_path,
        {"pkg/__init__.py": ""},
        f"[[tool.integ-lint.boundaries.contracts]]\n{contract}",
    )
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert f"pyproject.toml: tool.integ-lint.boundaries.{message}" in result.output
    assert len(result.output.strip().splitlines()) == 1


# -- IL103 -------------------------------------------------------------------------------

TRIANGLE = {
    "app/__init__.py": "",
    "app/a/__init__.py": "from app.b import x\n",
    "app/b/__init__.py": "from app.c import y\nfrom app.d import w\n",
    "app/c/__init__.py": "import os\nfrom app.a import z\n",
    "app/d/__init__.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.b import v\n",
}


def test_cycle_one_finding_with_every_edge_related(tmp_path: Path) -> None:
    write(tmp_path, TRIANGLE)
    found = [f for f in findings(tmp_path) if f.code == "IL103"]
    assert brief(found) == [("IL103", "app/c/__init__.py", 2)]
    assert "app.a -> app.b -> app.c -> app.a" in found[0].message
    assert [(r.path, r.span.start_line) for r in found[0].related] == [
        ("app/a/__init__.py", 1),
        ("app/b/__init__.py", 1),
        ("app/c/__init__.py", 2),
    ]


def test_cycle_type_checking_configurable(tmp_path: Path) -> None:
    write(
        tmp_path,
        TRIANGLE,
        "[tool.integ-lint.boundaries]\ncycles-include-type-checking = true\n",
    )
    found = [f for f in findings(tmp_path) if f.code == "IL103"]
    assert len(found) == 1
    assert "all of app.a, app.b, app.c, app.d import each other" in found[0].message


# -- IL104 -------------------------------------------------------------------------------


def test_dynamic_import_only_when_crossing(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            **MODULAR,
            "app/blog/__init__.py": "",
            "app/blog/plugins.py": """\
                import importlib
                importlib.import_module("app.auth")
                importlib.import_module("app.blog.views")
                importlib.import_module("json")
                importlib.import_module("app.auth.services")
                importlib.import_module("app.auth._secret")
                """,
            "app/auth/_secret.py": "",
        },
    )
    # by default only the private module counts
    assert brief(findings(tmp_path)) == [("IL104", "app/blog/plugins.py", 6)]
    (tmp_path / "pyproject.toml").write_text(
        '[tool.integ-lint]\nselect = ["IL1", "IL101", "IL103"]\n[tool.integ-lint.boundaries]\nmodules = ["app.*"]\n'
    )
    assert brief(findings(tmp_path)) == [
        ("IL104", "app/blog/plugins.py", 5),
        ("IL104", "app/blog/plugins.py", 6),
    ]


def test_layer_siblings_independent_or_not(tmp_path: Path) -> None:
    files = {
        "app/__init__.py": "",
        "app/ui/__init__.py": "",
        "app/a/__init__.py": "from app.b import x\n",
        "app/b/__init__.py": "",
        "app/c/__init__.py": "from app.d import y\n",
        "app/d/__init__.py": "import app.ui\n",
    }
    write(
        tmp_path,
        files,
        """
        [[tool.integ-lint.boundaries.contracts]]
        name = "siblings"
        type = "layers"
        containers = ["app"]
        layers = ["ui", "a | b", "c : d"]
        """,
    )
    found = [f for f in findings(tmp_path) if f.code == "IL102"]
    # c -> d is allowed (c : d); c -> d -> ui is d's break, reported on d only (as
    # import-linter does: chains do not pass through the contract's other layers)
    assert [(f.path, f.line) for f in found] == [
        ("app/a/__init__.py", 1),  # a | b: independent siblings
        ("app/d/__init__.py", 1),  # d -> ui: direct upward import
    ]
    assert "independent siblings" in found[0].message


def test_public_submodule_globs(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            **MODULAR,
            "app/auth/handlers/__init__.py": "",
            "app/auth/handlers/web.py": "",
            "app/blog/__init__.py": "",
            "app/blog/views.py": "import app.auth.handlers.web\nimport app.auth.services\n",
        },
        '[tool.integ-lint.boundaries]\npublic = { "app.auth" = ["handlers.*"] }\n',
    )
    assert brief(findings(tmp_path)) == [("IL101", "app/blog/views.py", 2)]


def test_importlinter_contracts_are_read_directly(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/low/__init__.py": "from app.high import thing\n",
            "app/high/__init__.py": "thing = 1\n",
        },
    )
    (tmp_path / "setup.cfg").write_text(
        "[importlinter]\nroot_package = app\n\n"
        "[importlinter:contract:one]\nname = layered\ntype = layers\n"
        "layers =\n    app.high\n    app.low\n"
        "ignore_imports =\n    app.low -> app.nothing\n"
        "unmatched_ignore_imports_alerting = warn\n"
    )
    report = api.check([tmp_path], options=RunOptions(jobs=1))
    assert brief(report.findings) == [("IL102", "app/low/__init__.py", 1)]
    assert [n.message for n in report.notifications] == [
        f"{tmp_path / 'setup.cfg'}: [importlinter:contract:one].ignore_imports: no import "
        "matches 'app.low -> app.nothing'"
    ]
    shown = CliRunner().invoke(main, ["config", str(tmp_path)])
    assert f"# from {tmp_path / 'setup.cfg'} (import-linter, setup.cfg [importlinter])" in (
        shown.output
    )
    # integ-lint's own contracts win
    (tmp_path / "pyproject.toml").write_text(
        '[tool.integ-lint]\nselect = ["IL1"]\n[[tool.integ-lint.boundaries.contracts]]\n'
        'name = "own"\ntype = "independence"\nmodules = ["app.low", "app.high"]\n'
    )
    found = findings(tmp_path)
    assert [f.property_dict()["contract"] for f in found] == ["own"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[importlinter]\nroot_package = app\ncontract_types =\n    x: y.Z\n"
            "[importlinter:contract:1]\nname = x\ntype = x\n",
            "contract_types: custom contract types are not supported",
        ),
        (
            "[importlinter]\nroot_package = app\n",
            ".importlinter: no contracts",
        ),
        (
            "[importlinter]\nroot_package = app\n[importlinter:contract:1]\nname = x\n"
            "type = forbidden\nsource_modules = app\nforbidden_modules = os\n",
            "'os' is an external package: set include_external_packages = True",
        ),
        (
            "[importlinter]\nroot_package = app\n[importlinter:contract:1]\nname = x\n"
            "type = layers\nlayers =\n    app.a\n    app.b\nexhaustiv = true\n",
            "[importlinter:contract:1].exhaustiv: key not supported for a layers contract "
            "(did you mean 'exhaustive'?",
        ),
        ("[importlinter\n", "cannot read"),
        (
            "[importlinter]\nroot_package = ap\n[importlinter:contract:1]\nname = x\n"
            "type = independence\nmodules =\n    app.a\n    app.b\n",
            "[importlinter:contract:1]: root_packages: Module 'ap' does not exist "
            "(did you mean 'app'?)",
        ),
        (
            "[importlinter]\nroot_package = app\n[importlinter:contract:1]\nname = 100% sure\n"
            "type = independence\nmodules =\n    app.a\n    app.b\n",
            "cannot read: [importlinter:contract:1] name: '%' must be followed by '%' or '('",
        ),
    ],
)
def test_importlinter_config_errors(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, {"app/__init__.py": "", "app/a.py": "", "app/b.py": ""})
    (tmp_path / ".importlinter").write_text(text)
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_another_tools_setup_cfg_that_does_not_parse_is_not_a_boundaries_error(
    tmp_path: Path,
) -> None:
    write(tmp_path, {"app/__init__.py": "", "app/a.py": "", "app/b.py": ""})
    (tmp_path / "setup.cfg").write_text("[flake8]\nmax-line-length = 88\nmax-line-length = 99\n")
    assert CliRunner().invoke(main, ["check", str(tmp_path)]).exit_code == 0
    # ... but one that configures import-linter is read, and its error is one line
    (tmp_path / "setup.cfg").write_text(
        "[importlinter]\nroot_package = app\n[flake8]\nx = 1\n[flake8]\nx = 2\n"
    )
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "setup.cfg: cannot read:" in result.output
    assert len(result.output.strip().splitlines()) == 1
