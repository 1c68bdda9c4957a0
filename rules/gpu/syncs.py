"""Host synchronisation (IL403): calls that wait for the GPU inside loops and hot paths."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

from integ_lint.rules.gpu.base import (
    FAMILY,
)

from integ_lint.config.gpu_allowlist import (
    AllowEntry,
    allowlist_key,
    parse_allowlist,
    scope_label,
)
from integ_lint.config.settings import GpuSettings
from integ_lint.facts.gpu import (
    COMPREHENSION,
    LOOP,
    CallFact,
    GpuFactCollector,
    GpuFacts,
    SyncFact,
)
from integ_lint.facts.torch import (
    SYNC_DISPLAY,
    scope_matches,
)
from integ_lint.findings.model import Finding, RelatedLocation, Severity, Site, Span
from integ_lint.model.project import FileFacts, ProjectIndex
from integ_lint.rule import Invalid, ProjectRule, Valid

# A deliberate sync in a training loop: the examples allowlist it.
_PRINTED_ITEM = """
import torch

def train(model, batches):
    for batch in batches:
        print(model(batch).item())
"""


def _allowlist_entry(key: str, reason: str, expires: str) -> str:
    """An example's ``[[tool.integ-lint.gpu.allowlist]]`` entry (owned by alice)."""
    return (
        f'[[tool.integ-lint.gpu.allowlist]]\nkey = "{key}"\nowner = "alice"\n'
        f'reason = "{reason}"\nexpires = {expires}\n'
    )


# -- IL403 ------------------------------------------------------------------------------


class HostSyncInLoop(ProjectRule):
    """Host synchronisation that runs per iteration: in a loop, a comprehension, a
    hot path, or one call below one.

    **What it does**

    Flags `.item()`, `.tolist()`, `.cpu()`, `.numpy()`, `.to("cpu")`,
    `torch.cuda.synchronize()` and `stream.synchronize()` / `event.synchronize()`:

    * in a `for`/`while` body or a `while` condition, and in the body of a list, set or
      dict comprehension or a generator expression (`[v.item() for v in values]`);
    * anywhere in a scope matching `[tool.integ-lint.gpu] hot-paths`;
    * one call level down: in a project function that a loop (or a hot path) elsewhere
      calls; reported at the sync, with the calling loop as related location and
      `precision: medium` in the finding's properties.

    Inside loops, implicit syncs too: `if t.any():`, `if t:`, `while t < x`, `bool(t)`,
    `float(t)`, `int(t)`, where `t` is a tensor the function built from torch calls.
    Not syncs: a chain such as `loss.detach().cpu().item()` (one finding), calls on
    values already on the host (`arr.tolist()` after `arr = x.cpu().numpy()`, NumPy
    results), `synchronize` in a benchmark or profiling function, and anything in an
    error path (a `raise` statement or a branch that raises). Configured manager
    scopes are exempt from the loop checks (not from explicit hot paths). Reports on
    library files.

    **Opt-in**: not selected by `IL4` or `IL`; enable it by its code
    (`extend-select = ["IL403"]`), which teams that keep a sync inventory do.

    Each finding prints an allowlist key `path:Scope.qualname:pattern:n`: n counts
    *every* call of that pattern in that scope, in source order, reported or not, so a
    key stays the same when the rule's scope changes and matches the inventories teams
    keep by hand. An entry with that key (or without `:n`, for the whole scope), an
    `owner`, a `reason` and an optional `expires` date silences the site; after
    `expires` the finding comes back saying which entry expired. An entry that matches
    no call at all is reported at the entry.

    **Why is this bad?**

    Every synchronisation makes the host wait for the GPU queue to drain: a hidden
    `.item()` in the step loop, or in a metric helper the step loop calls, collapses
    throughput, and nobody sees it in a profile of the Python code.

    **Example**

    ```python
    import torch

    def train(model, batches, opt):
        for batch in batches:
            loss = model(batch)
            print(loss.item())
    ```

    **How to fix**

    Accumulate on the device (`total += loss.detach()`) and synchronise once after
    the loop, or every N steps; when a sync is deliberate, allowlist it:

    ```toml
    [[tool.integ-lint.gpu.allowlist]]
    key = "pkg/train.py:train:item:1"
    owner = "alice"
    reason = "logged every 100 steps"
    expires = 2026-12-31
    ```
    """

    code = "IL403"
    name = "host-sync-in-loop"
    family = FAMILY
    severity = Severity.WARNING
    FACTS = (GpuFactCollector,)
    # Opt-in: the ecosystem labels judge per-step logging syncs in RL and metric code
    # pedantic (SB3 0 of 11, tianshou 0 of 10, torchmetrics 1 of 10 true), although
    # teams that keep a sync inventory track exactly those. Select it by its code.
    default_enabled = False
    VALID = (
        Valid(
            """
            import torch

            def train(model, batches):
                total = torch.zeros(())
                for batch in batches:
                    total += model(batch).detach()
                    if torch.isnan(total).any():
                        raise FloatingPointError(f"loss is {total.item()}")
                return total.item()
            """
        ),
        Valid(
            """
            import numpy as np
            import torch

            def report(batches, x):
                values = x.cpu().numpy()
                for batch in batches:
                    print(values.tolist(), np.asarray(batch).tolist())

            def benchmark_step(model, batches):
                for batch in batches:
                    model(batch)
                    torch.cuda.synchronize()
            """
        ),
        Valid(
            _PRINTED_ITEM,
            config=_allowlist_entry(
                "pkg/example.py:train:item:1",
                "debug printing, removed before release",
                "2999-12-31",
            ),
        ),
        Valid(
            """
            def mean(values):
                for v in values:
                    print(v.item())  # no torch here
            """
        ),
        Valid(
            """
            import torch

            class ModelManager:
                def evaluate(self, batches):
                    return [self.model(b).item() for b in batches]
            """,
            config="""
            [tool.integ-lint.gpu]
            managers = ["*.ModelManager"]
            """,
        ),
    )
    INVALID = (
        Invalid(
            """
            import torch as th

            def train(model, batches, stream):
                for batch in batches:
                    loss = model(batch)
                    print(loss.detach().cpu().item())
                    th.cuda.synchronize()
                    stream.synchronize()
                while loss.item() > 1:
                    loss = loss / 2
            """,
            lines=(6, 7, 8, 9),
            message="allowlist key: pkg/example.py:train:item:1",
        ),
        Invalid(
            """
            import torch

            def evaluate(model, batches, x):
                scores = [model(b).item() for b in batches]
                for b in batches:
                    t = torch.sigmoid(model(b))
                    if (t > 0.5).any():
                        print(float(t.mean()))
                return scores
            """,
            lines=(4, 7, 8),
        ),
        Invalid(
            """
            import torch

            class StepManager:
                def step(self, batch):
                    loss = self.model(batch)
                    return loss.item()
            """,
            line=6,
            config="""
            [tool.integ-lint.gpu]
            hot-paths = ["pkg.example.StepManager.*"]
            """,
            message="hot path",
        ),
        Invalid(
            """
            from pkg.metrics import accuracy

            def fit(model, batches):
                for batch in batches:
                    print(accuracy(model(batch), batch.labels))
            """,
            files={
                "pkg/metrics.py": """
import torch

def accuracy(logits, labels):
    return (logits.argmax(-1) == labels).float().mean().item()
"""
            },
            finding_path="pkg/metrics.py",
            line=4,
            message="which `fit` calls inside a loop",
        ),
        Invalid(
            _PRINTED_ITEM,
            line=5,
            config=_allowlist_entry("pkg/example.py:train:item", "debug printing", "2001-01-31"),
            message="allowlist entry expired on 2001-01-31",
        ),
    )

    def check(self, project: ProjectIndex) -> Iterator[Finding]:
        settings = project.config.section(GpuSettings)
        entries = parse_allowlist(settings)[0] if settings.allowlist else []
        used: set[int] = set()
        today = datetime.date.today()
        callers = _callers_by_callee(project, settings)
        for facts in project.files.values():
            gpu = facts.facts.get(GpuFactCollector.KEY)
            if not isinstance(gpu, GpuFacts) or not gpu.syncs:
                continue
            defined = set(gpu.functions)
            for sync in gpu.syncs:
                label = scope_label(sync.scope)
                matching = [
                    e
                    for e in entries
                    if e.matches(facts.relpath, label, sync.pattern, sync.occurrence)
                ]
                used.update(e.index for e in matching)
                if sync.skip:
                    continue
                placed = self._where(facts, sync, settings, callers, defined)
                if placed is None or not project.reported(facts.relpath):
                    continue
                where, related, precision = placed
                active = [e for e in matching if not e.expired(today)]
                if active:
                    continue
                key = allowlist_key(facts.relpath, sync.scope, sync.pattern, sync.occurrence)
                message = (
                    f"host synchronisation `{SYNC_DISPLAY[sync.pattern]}` {where}: the host "
                    "waits for the GPU every time; keep values on the device and sync less often"
                )
                if matching:
                    entry = matching[0]
                    message += (
                        f"; allowlist entry expired on {entry.expires} "
                        f"(gpu.allowlist[{entry.index}], owner {entry.owner}: {entry.reason}): "
                        "renew it or fix the code"
                    )
                message += f" [allowlist key: {key}]"
                properties: dict[str, Any] = {"allowlist_key": key}
                if precision:
                    properties["precision"] = precision
                yield self.finding(
                    facts.relpath, sync.site, message, related=related, properties=properties
                )
        yield from self._unused_entries(project, entries, used)

    def _where(
        self,
        facts: FileFacts,
        sync: SyncFact,
        settings: GpuSettings,
        callers: dict[str, list[tuple[str, CallFact, str]]],
        defined: set[str],
    ) -> tuple[str, tuple[RelatedLocation, ...], str] | None:
        """How the sync runs per iteration (message part, related locations, precision),
        or None when it does not."""
        scope = tuple(sync.scope.split(".")) if sync.scope else ()
        hot = scope_matches(settings.hot_paths, facts.relpath, facts.module, scope)
        in_loop = {LOOP: "inside a loop", COMPREHENSION: "inside a comprehension"}.get(
            sync.per_iteration, ""
        )
        if hot is not None:
            where = f"in hot path `{hot}`"
            return (f"{in_loop} {where}" if in_loop else where), (), ""
        if scope_matches(settings.managers, facts.relpath, facts.module, scope) is not None:
            return None
        if in_loop:
            return in_loop, (), ""
        if sync.scope not in defined:
            return None  # module level, or a class body
        qualified = f"{facts.module}.{sync.scope}" if facts.module else sync.scope
        sites = [c for c in callers.get(qualified, []) if c[1].scope != sync.scope]
        if not sites:
            return None
        path, call, how = sites[0]
        caller = call.scope or "<module>"
        where = f"in `{sync.scope}`, which `{caller}` calls {how} ({path}:{call.span.start_line})"
        if len(sites) > 1:
            where += f" and {len(sites) - 1} more call site(s)"
        related = tuple(
            RelatedLocation(p, c.span, f"`{c.scope or '<module>'}` calls `{sync.scope}` {h}")
            for p, c, h in sites[:5]
        )
        return where, related, "medium"

    def _unused_entries(
        self, project: ProjectIndex, entries: list[AllowEntry], used: set[int]
    ) -> Iterator[Finding]:
        config_file = project.config.config_file
        if config_file is None:
            return
        try:
            relpath = config_file.resolve().relative_to(project.config.root.resolve()).as_posix()
            lines = config_file.read_text(encoding="utf-8").splitlines()
        except (OSError, ValueError, UnicodeDecodeError):
            return
        for entry in entries:
            if entry.index in used:
                continue
            key = allowlist_key(entry.path, entry.scope, entry.pattern, entry.occurrence or 0)
            if entry.occurrence is None:
                key = key.rsplit(":", 1)[0]
            line = next((i for i, text in enumerate(lines, 1) if key in text), 1)
            column = lines[line - 1].find(key) + 1 if line <= len(lines) else 1
            span = Span(line, max(column, 1), line, max(column, 1) + len(key))
            yield self.finding(
                relpath,
                Site(span, "", f"gpu.allowlist[{entry.index}] {key}"),
                f"allowlist entry gpu.allowlist[{entry.index}] `{key}` (owner {entry.owner}) "
                "matches no host synchronisation: the code it covered moved or changed; "
                "update the key or delete the entry",
            )


def _callers_by_callee(
    project: ProjectIndex, settings: GpuSettings
) -> dict[str, list[tuple[str, CallFact, str]]]:
    """Qualified function name -> the calls that run it per iteration: inside a loop
    or comprehension, or in a hot path, in library code outside configured managers."""
    found: dict[str, list[tuple[str, CallFact, str]]] = {}
    for facts in project.files.values():
        gpu = facts.facts.get(GpuFactCollector.KEY)
        if not isinstance(gpu, GpuFacts) or project.role_of(facts.relpath) != "library":
            continue
        for call in gpu.calls:
            scope = tuple(call.scope.split(".")) if call.scope else ()
            if scope_matches(settings.managers, facts.relpath, facts.module, scope):
                continue
            if call.per_iteration:
                how = "inside a loop" if call.per_iteration == LOOP else "inside a comprehension"
            elif scope_matches(settings.hot_paths, facts.relpath, facts.module, scope):
                how = "in a hot path"
            else:
                continue
            found.setdefault(call.callee, []).append((facts.relpath, call, how))
    return found
