"""The device owners of a project: the configured ``managers`` and the classes and
functions the GPU facts infer as owners of placement (IL401/IL402), for the rules,
the graph and config views and ``init``."""

from __future__ import annotations

from dataclasses import dataclass

from integ_lint.config.settings import GpuSettings
from integ_lint.facts.gpu_records import GPU_KEY, GpuFacts
from integ_lint.model.project import ProjectIndex


@dataclass(frozen=True)
class DeviceOwner:
    """A device owner of the project, as the graph and config views list it."""

    name: str  # module-qualified (``pkg.devices.DeviceManager``) or a configured pattern
    path: str  # "" for a configured pattern
    line: int
    why: str  # the inference evidence, or "configured in [tool.integ-lint.gpu] managers"


def device_owners(project: ProjectIndex) -> list[DeviceOwner]:
    """The configured ``managers`` patterns, then the inferred owners of library files
    (none when ``infer-managers = false``), sorted by name."""
    settings = project.config.section(GpuSettings)
    owners = [
        DeviceOwner(pattern, "", 0, "configured in [tool.integ-lint.gpu] managers")
        for pattern in settings.managers
    ]
    if not settings.infer_managers:
        return owners
    inferred = []
    for facts in project.files.values():
        gpu = facts.facts.get(GPU_KEY)
        if not isinstance(gpu, GpuFacts) or project.role_of(facts.relpath) != "library":
            continue
        for owner in gpu.owners:
            name = f"{facts.module}.{owner.qualname}" if facts.module else owner.qualname
            inferred.append(
                DeviceOwner(name, facts.relpath, owner.site.span.start_line, owner.evidence)
            )
    return owners + sorted(inferred, key=lambda o: o.name)


def device_owner_lines(project: ProjectIndex) -> list[str]:
    """One line per device owner: ``name  path:line  why``."""
    return [
        f"{o.name}  {o.path}:{o.line}  {o.why}" if o.path else f"{o.name}  {o.why}"
        for o in device_owners(project)
    ]
