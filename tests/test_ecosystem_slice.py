"""The CI slice of the ecosystem check: integ-lint with its defaults on two small real
projects from ``benchmarks/ecosystem/projects.toml`` (listed in
``benchmarks/ecosystem/slice.toml``), compared with their labels.

It fails when a finding labelled ``true`` disappears (lost recall) or a finding
labelled ``false`` that integ-lint had stopped reporting comes back. It downloads the
two pinned archives (sha256-checked) into the ecosystem cache on first use and skips,
saying so, only when PyPI cannot be reached. Under a minute on two cores.
"""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path

import pytest
from conftest import load_ecosystem

pytestmark = pytest.mark.slow


eco = load_ecosystem()


def _pypi_reachable() -> bool:
    try:
        with socket.create_connection(("pypi.org", 443), timeout=10):
            return True
    except OSError:
        return False


def test_slice_projects_keep_their_labelled_findings(tmp_path: Path) -> None:
    # Runs go to tmp_path: the slice never overwrites the benchmark's own runs.
    cache = dataclasses.replace(eco.cache_from(None), runs_root=tmp_path)
    state = eco.load_slice()
    projects = eco.select_projects(eco.load_projects(), state.projects)
    assert len(projects) == 2
    for project in projects:
        labels = eco.load_labels(project.name)
        assert labels.findings, f"{project.name} has no labels: the slice would prove nothing"
        try:
            eco.fetch(project, cache, log=lambda _: None)
        except eco.EcosystemError as exc:
            if "pip download" in str(exc) and not _pypi_reachable():
                pytest.skip(f"PyPI is unreachable, cannot download {project.requirement}")
            raise
    outcomes = eco.run_slice(cache, log=lambda _: None)
    problems = []
    for outcome in outcomes:
        problems += [
            f"{outcome.project}: labelled-true finding disappeared: "
            f"{label.code} {label.path}:{label.line} ({label.reason})"
            for label in outcome.lost_true
        ]
        problems += [
            f"{outcome.project}: labelled-false finding came back: "
            f"{finding.code} {finding.path}:{finding.line} {finding.message}"
            for finding in outcome.back_false
        ]
    assert not problems, "\n".join(problems)
