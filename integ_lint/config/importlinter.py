"""Reading import-linter's own configuration, so its contracts are checked as written.

When ``[tool.integ-lint.boundaries]`` declares no contracts, the contracts come from
the first of import-linter's configuration files at the project root that has them,
in import-linter's own order: ``setup.cfg`` (``[importlinter]``), ``.importlinter``,
then ``pyproject.toml`` (``[tool.importlinter]``). Each contract becomes one table
of ``boundaries.contracts`` carrying where it came from (``_origin``) and the session
options (``_session``: ``root_packages``, ``include_external_packages``,
``exclude_type_checking_imports``), so :func:`integ_lint.model.boundaries.parse_contracts`
validates and reads both kinds with one set of rules.

Reading never raises: a file that cannot be read becomes one table holding the error
(``_error``), reported as a usage error only when a boundary rule is selected.
"""

from __future__ import annotations

import configparser
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from integ_lint.files.toml_text import parse_toml

ORIGIN = "_origin"
SESSION = "_session"
ERROR = "_error"
INI_SECTION = "importlinter"


@dataclass(frozen=True)
class ImportLinterConfig:
    """The contracts and session options of one import-linter configuration file."""

    path: Path
    label: str  # "setup.cfg [importlinter]", ".importlinter", "pyproject.toml [tool.importlinter]"
    session: dict[str, Any] = field(default_factory=dict)
    contracts: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def contract_tables(self) -> list[dict[str, Any]]:
        """``boundaries.contracts`` tables: each contract with ``_origin`` and
        ``_session``; one ``_error`` table when the file could not be read."""
        if self.error is not None:
            return [{ORIGIN: str(self.path), ERROR: self.error}]
        tables = []
        for index, contract in enumerate(self.contracts):
            where = (
                f"{self.path}: [importlinter:contract:{contract.get('id', index)}]"
                if self.path.name != "pyproject.toml"
                else f"{self.path}: tool.importlinter.contracts[{index}]"
            )
            tables.append({**contract, ORIGIN: where, SESSION: dict(self.session)})
        if not tables:
            tables.append({ORIGIN: str(self.path), ERROR: "no contracts"})
        return tables


def _ini_value(value: str) -> str | list[str]:
    """import-linter's INI convention: a value over several lines is a list."""
    if "\n" not in value.strip():
        return value.strip()
    return [line.strip() for line in value.strip().splitlines() if line.strip()]


def _read_ini(path: Path) -> ImportLinterConfig | None:
    label = f"{path.name} [{INI_SECTION}]" if path.name == "setup.cfg" else path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        return ImportLinterConfig(path, label, error=f"cannot read: {exc}")
    if path.name == "setup.cfg" and INI_SECTION.encode() not in data:
        return None  # another tool's setup.cfg: whether it parses is not ours to judge
    parser = configparser.ConfigParser()
    try:
        parser.read_string(data.decode("utf-8"), source=str(path))
        if INI_SECTION not in parser.sections():
            return None
        # Values are read (and '%' interpolated, as import-linter does) inside the try.
        session = {key: _ini_value(value) for key, value in parser[INI_SECTION].items()}
        contracts = []
        for section in parser.sections():
            if section.startswith(f"{INI_SECTION}:contract:"):
                contract: dict[str, Any] = {"id": section.split(":", 2)[2]}
                contract.update({key: _ini_value(v) for key, v in parser[section].items()})
                contracts.append(contract)
            elif section.startswith(f"{INI_SECTION}:"):
                return ImportLinterConfig(
                    path,
                    label,
                    error=f"[{section}]: unknown section (expected [importlinter:contract:<id>])",
                )
    except (UnicodeDecodeError, configparser.Error) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, configparser.InterpolationError):
            first_line = f"[{exc.section}] {exc.option}: {first_line}"
        return ImportLinterConfig(path, label, error=f"cannot read: {first_line}")
    return ImportLinterConfig(path, label, session, contracts)


def _read_toml(path: Path) -> ImportLinterConfig | None:
    label = f"{path.name} [tool.{INI_SECTION}]"
    try:
        document = parse_toml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return ImportLinterConfig(path, label, error=f"cannot read: {exc}")
    tool = document.get("tool", {})
    table = tool.get(INI_SECTION) if isinstance(tool, dict) else None
    if not table or not isinstance(table, dict):
        return None
    session = {k: v for k, v in table.items() if k != "contracts"}
    contracts = table.get("contracts", [])
    if not isinstance(contracts, list) or not all(isinstance(c, dict) for c in contracts):
        return ImportLinterConfig(
            path, label, error="tool.importlinter.contracts: expected an array of tables"
        )
    return ImportLinterConfig(path, label, session, [dict(c) for c in contracts])


def find_importlinter_config(root: Path) -> ImportLinterConfig | None:
    """import-linter's configuration at ``root``, in import-linter's order."""
    for name, reader in (
        ("setup.cfg", _read_ini),
        (".importlinter", _read_ini),
        ("pyproject.toml", _read_toml),
    ):
        path = root / name
        if path.is_file():
            found = reader(path)
            if found is not None:
                return found
    return None


def adopt_importlinter_contracts(
    sections: dict[str, Any], root: Path, provenance: dict[str, str]
) -> None:
    """Fill ``boundaries.contracts`` from import-linter's configuration when integ-lint's
    own configuration declares none (called once by ``config.load_config``)."""
    boundaries = sections.get("boundaries")
    if boundaries is None or getattr(boundaries, "contracts", None):
        return
    found = find_importlinter_config(root)
    if found is None:
        return
    boundaries.contracts = found.contract_tables()
    provenance["boundaries.contracts"] = f"{found.path} (import-linter, {found.label})"
