"""Unmanaged GPU handoffs (IL4xx).

In a training system the trainer, evaluation, parallel workers and checkpointing share
models and tensors. When one of them moves a shared model between devices,
synchronises the GPU with the host, or flips a shared model's train/eval mode on its
own, the others break at run time. These rules find such handoffs by reading code.

*Managed* code owns devices: scopes matching ``[tool.integ-lint.gpu] managers`` (class
names, qualname globs such as ``*.ModelManager``, path globs such as
``pkg/devices.py``), test paths and script paths. IL401-IL404 stay silent there (an
explicit ``hot-paths`` scope still gets IL403). IL405 and IL406 are about the data, not
about who owns the device, so they apply everywhere but tests. ``torch`` is resolved
through imports and aliases; no rule fires in a file that never imports torch unless
the receiver is annotated with a torch type.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from integ_lint.config.gpu_allowlist import (
    AllowEntry,
    allowlist_key,
    parse_allowlist,
    scope_label,
)
from integ_lint.config.settings import GpuSettings
from integ_lint.facts.context import FileContext, dotted_name
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
    GpuScope,
    accelerator_literal,
    decided_device,
    keyword,
    method_call,
    named_for,
    positional,
    scope_matches,
    string_value,
    to_target,
    walk,
)
from integ_lint.findings.model import Finding, RelatedLocation, Severity, Site, Span
from integ_lint.model.project import FileFacts, ProjectIndex
from integ_lint.rule import FileRule, Invalid, PendingFinding, ProjectRule, Valid

FAMILY = "gpu"


class _GpuRule(FileRule):
    """Shared state: torch detection, managed scopes, typed names, scope kinds."""

    family = FAMILY

    @classmethod
    def applies_to(cls, context: FileContext) -> bool:
        # Every GPU rule needs the file to import torch or to annotate a receiver
        # with a torch class; both spell "torch" somewhere in the file.
        return "torch" in context.source

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.gpu = GpuScope(context)
        self.kinds: list[str] = []  # "class" / "function", innermost last
        self.names: list[str] = []  # their names

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.kinds.append("class")
        self.names.append(node.name.value)
        self.gpu.enter(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.kinds.pop()
        self.names.pop()
        self.gpu.leave()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        for param in _all_params(node.params):
            if param.annotation is not None:
                self.gpu.note_annotation(param.name.value, param.annotation.annotation)
        self.kinds.append("function")
        self.names.append(node.name.value)
        self.gpu.enter(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.kinds.pop()
        self.names.pop()
        self.gpu.leave()

    def function_named_for(self, family: str) -> bool:
        """Whether the innermost function's name says it makes this change."""
        for kind, name in zip(reversed(self.kinds), reversed(self.names)):
            if kind == "function":
                return named_for(name, family)
        return False

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        target = dotted_name(node.target)
        if target is None:
            return
        self.gpu.note_annotation(target, node.annotation.annotation)
        if self.kinds and self.kinds[-1] == "class":
            self.gpu.note_annotation(f"self.{target}", node.annotation.annotation)

    def report_at(
        self,
        node: cst.CSTNode,
        message: str,
        scope: str,
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        """Report with an explicit scope (for findings decided after leaving it)."""
        self.context.pending.append(
            PendingFinding(
                rule=type(self),
                node=node,
                message=message,
                scope=scope,
                properties=tuple((properties or {}).items()),
            )
        )

    def code_of(self, node: cst.CSTNode, limit: int = 60) -> str:
        text = " ".join(self.context.code_for(node).split())
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and (dotted_name(node.func.value) is None or len(text) > limit)
        ):
            # `...long().chain().to(dev)` reads better as `.to(dev)`
            args = " ".join(
                self.context.code_for(cst.Call(func=cst.Name("f"), args=node.args)).split()
            )
            text = f".{node.func.attr.value}{args[1:]}"
        return text if len(text) <= limit else text[: limit - 3] + "..."


def _all_params(params: cst.Parameters) -> list[cst.Param]:
    found = [*params.posonly_params, *params.params, *params.kwonly_params]
    if isinstance(params.star_arg, cst.Param):
        found.append(params.star_arg)
    if params.star_kwarg is not None:
        found.append(params.star_kwarg)
    return found


def _is_false(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "False"


def _first_arg(node: cst.Call, name: str) -> cst.BaseExpression | None:
    kw = keyword(node, name)
    if kw is not None:
        return kw.value
    args = positional(node)
    return args[0].value if args else None


# -- in-place handoffs of modules the function does not own (shared by IL401/IL404) ----

_WHAT = {
    "device": "device",
    "precision": "dtype",
    "mode": "train/eval mode",
    "grad": "requires_grad flag",
}


@dataclass
class _Event:
    node: cst.Call
    receiver: str
    why: str
    handoff: str | None  # the family it changes, when it is a handoff
    restores: frozenset[str]  # the families it can restore
    in_finally: bool
    guarded: bool
    scope: str
    through_other: bool = False  # reached through another object, not a parameter
    exempt: bool = False  # the function is named for this change (`to_device`, `set_eval`)
    decided: bool = False  # a device move to a device the function chooses itself


@dataclass
class _Frame:
    params: set[str]
    aliases: dict[str, str] = field(default_factory=dict)
    finally_depth: int = 0
    guards: list[set[str]] = field(default_factory=list)
    events: list[_Event] = field(default_factory=list)
    transfers: list[tuple[cst.Call, str, str]] = field(default_factory=list)
    decided: dict[str, str] = field(default_factory=dict)  # local name -> chosen device


def _classify_handoff(rule: _GpuRule, node: cst.Call, method: str) -> str | None:
    if method == "to":
        kind = to_target(rule.context, node)[0]
        return {"dtype": "precision", "device": "device", "cpu": "device"}.get(kind)
    if method in ("cuda", "cpu"):
        return "device"
    if method in ("half", "float", "bfloat16", "double") and not node.args:
        return "precision"
    if method == "eval" and not node.args:
        return "mode"
    if method == "train":
        arg = _first_arg(node, "mode")
        return "mode" if arg is not None and _is_false(arg) else None
    if method == "requires_grad_":
        arg = _first_arg(node, "requires_grad")
        return "grad" if arg is not None and _is_false(arg) else None
    return None


def _restore_families(rule: _GpuRule, node: cst.Call, method: str) -> frozenset[str]:
    families: set[str] = set()
    if method == "to":
        if to_target(rule.context, node)[0] in ("device", "cpu"):
            families.add("device")
            if len(positional(node)) > 1 or keyword(node, "dtype") is not None:
                families.add("precision")
        else:
            families.add("precision")
    if method in ("cuda", "cpu"):
        families.add("device")
    if method in ("half", "float", "bfloat16", "double"):
        families.add("precision")
    if method == "train":
        arg = _first_arg(node, "mode")
        if arg is None or not _is_false(arg):
            families.add("mode")
    if method == "requires_grad_":
        arg = _first_arg(node, "requires_grad")
        if arg is None or not _is_false(arg):
            families.add("grad")
    return frozenset(families)


class _HandoffRule(_GpuRule):
    """Tracks, per function, bare-statement handoffs of modules the function does not
    own and whether they are restored in a ``finally`` block or a context manager."""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.frames: list[_Frame] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        is_method = bool(self.kinds) and self.kinds[-1] == "class"
        super().visit_FunctionDef(node)
        names = [p.name.value for p in _all_params(node.params)]
        decorators = {dotted_name(d.decorator) for d in node.decorators}
        if is_method and names and "staticmethod" not in decorators:
            names = names[1:]
        self.frames.append(_Frame(params={n for n in names if n not in ("self", "cls")}))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        super().leave_FunctionDef(original_node)
        frame = self.frames.pop()
        self.frame_done(frame, [u for u in _unrestored(frame.events) if _is_handoff(*u)])

    def frame_done(self, frame: _Frame, unrestored: list[tuple[_Event, bool]]) -> None:
        raise NotImplementedError

    def visit_Finally(self, node: cst.Finally) -> None:
        if self.frames:
            self.frames[-1].finally_depth += 1

    def leave_Finally(self, original_node: cst.Finally) -> None:
        if self.frames:
            self.frames[-1].finally_depth -= 1

    def visit_With(self, node: cst.With) -> None:
        if not self.frames:
            return
        mentioned: set[str] = set()
        for item in node.items:
            for sub in walk(item.item):
                text = dotted_name(sub) if isinstance(sub, (cst.Name, cst.Attribute)) else None
                if text:
                    mentioned.add(text)
        self.frames[-1].guards.append(mentioned)

    def leave_With(self, original_node: cst.With) -> None:
        if self.frames:
            self.frames[-1].guards.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self.frames or len(node.targets) != 1:
            return
        target = node.targets[0].target
        if not isinstance(target, cst.Name):
            return
        frame = self.frames[-1]
        decided = decided_device(self.context, node.value, frame.decided)
        if decided is not None:
            frame.decided[target.value] = decided
        else:
            frame.decided.pop(target.value, None)
        why = self._unowned(frame, node.value)
        if why is not None:
            frame.aliases[target.value] = f"an alias of `{dotted_name(node.value)}`, {why}"
            if self.gpu.torch_receiver(node.value):
                self.gpu.typed_torch.add(target.value)
        else:
            frame.aliases.pop(target.value, None)
            frame.params.discard(target.value)

    def _unowned(self, frame: _Frame, receiver: cst.BaseExpression) -> str | None:
        """Why ``receiver`` is a module this function does not own, else None."""
        text = dotted_name(receiver)
        if text is None:
            return None
        parts = text.split(".")
        if len(parts) == 1:
            if text in frame.aliases:
                return frame.aliases[text]
            if text in frame.params:
                return "a parameter"
            return None
        if self.context.resolve(receiver) is not None:
            return None  # an imported module's attribute
        if parts[0] in ("self", "cls"):
            if len(parts) >= 3:
                return f"reached through `{'.'.join(parts[:-1])}`"
            return None
        return f"reached through `{'.'.join(parts[:-1])}`"

    def visit_Expr(self, node: cst.Expr) -> None:
        if not self.frames or not isinstance(node.value, cst.Call) or self.gpu.managed():
            return
        call = node.value
        found = method_call(call)
        if found is None:
            return
        method, receiver = found
        frame = self.frames[-1]
        in_finally = frame.finally_depth > 0
        handoff = None if in_finally else _classify_handoff(self, call, method)
        restores = _restore_families(self, call, method)
        if handoff is None and not restores:
            return
        why = self._unowned(frame, receiver)
        if why is None:
            return
        through_other = "reached through" in why
        if not self.gpu.torch_receiver(receiver) and not (
            through_other and method in ("eval", "train")
        ):
            # Without torch in the file, only `.eval()`/`.train()` on a module reached
            # through another object is recognisably a handoff.
            return
        text = dotted_name(receiver) or ""
        decided = False
        if handoff == "device":
            decided = method == "cpu" or (method == "cuda" and not call.args)
            if method == "to":
                kind, target = to_target(self.context, call)
                decided = kind == "cpu" or (
                    target is not None
                    and decided_device(self.context, target, frame.decided) is not None
                )
        frame.events.append(
            _Event(
                node=call,
                receiver=text,
                why=why,
                handoff=handoff,
                restores=restores,
                in_finally=in_finally,
                guarded=any(text in guard for guard in frame.guards),
                scope=self.context.scope,
                through_other=through_other,
                exempt=handoff is not None and self.function_named_for(handoff),
                decided=decided,
            )
        )


def _is_handoff(event: _Event, restored_later: bool) -> bool:
    """Whether an unrestored change is a handoff worth reporting. A module reached
    through another object belongs to that object: any change is. A parameter is the
    caller's: moving it to the device the function was given is what the caller asked
    for, so only a restore without ``finally`` (the function knows the module is
    shared) or a move to a device the function chooses itself is. A function named for
    the change (``to_device``, ``set_eval_mode``) is that change."""
    if event.exempt:
        return False
    if event.through_other:
        return True
    return restored_later or event.decided


def _unrestored(events: list[_Event]) -> list[tuple[_Event, bool]]:
    """Handoffs not restored in a ``finally`` or guarded by a context manager that
    names the receiver; the flag says whether a plain (non-finally) restore follows."""
    found: list[tuple[_Event, bool]] = []
    consumed: set[int] = set()
    for index, event in enumerate(events):
        if event.handoff is None or index in consumed or event.guarded:
            continue
        family = event.handoff
        if any(
            e.in_finally and e.receiver == event.receiver and family in e.restores for e in events
        ):
            continue
        later = [
            i
            for i in range(index + 1, len(events))
            if events[i].receiver == event.receiver
            and family in events[i].restores
            and not events[i].in_finally
        ]
        consumed.update(later)
        found.append((event, bool(later)))
    return found


# -- IL401 ------------------------------------------------------------------------------


class DeviceTransferOutsideManager(_HandoffRule):
    """Device transfer to a device the code chooses itself, outside a device owner.

    **What it does**

    Flags `.to(<device>)`, `.cuda()`, `.to_empty(device=...)` and
    `torch.cuda.set_device(...)` on a model or tensor when the function *decides the
    device itself*: a literal (`.to("cuda")`, `.cuda()` without a device,
    `set_device(0)`), `torch.device("cuda", ...)`, `"cuda" if ... else "cpu"`, or a
    local variable bound to one of these. A device the component was given is
    managed and never reported: a parameter, `self.device` set from a parameter,
    `x.device`, `next(model.parameters()).device`, `accelerator.device`, or a device
    returned by a function. Also flags moving a module that another manager owns,
    reached through it (`self.trainer.model.to(device)`).

    Device owners are silent: classes and functions matching `[tool.integ-lint.gpu]
    managers`, and inferred owners (a class or function that decides the device,
    with `torch.cuda.is_available()` or `torch.device(...)`, and hands it to others:
    `self.device = ...`, a `device` property, `device=` to the objects it builds).
    `infer-managers = false` turns inference off. Reports on library files. Moves to
    the CPU are left to IL403 (in loops) and IL406 (before a process boundary); a
    bare-statement move of a module the function does not own is reported once, by
    IL404.

    **Why is this bad?**

    A component that picks its own device overrides the placement the owner decided:
    the model ends up on `cuda:0` while the trainer runs on `cuda:1`, the CPU test
    run and the Apple laptop crash, and nobody knows where a shared model lives.

    **Example**

    ```python
    import torch

    class Evaluator:
        def run(self, batch):
            return self.model(batch.to("cuda"))
    ```

    **How to fix**

    Take the device from the owner (`def __init__(self, device): self.device =
    device`, then `batch.to(self.device)`), or declare the class that decides it in
    `[tool.integ-lint.gpu] managers`.
    """

    code = "IL401"
    name = "device-transfer-outside-manager"
    severity = Severity.WARNING
    VALID = (
        Valid(
            """
            import torch

            class Evaluator:
                def __init__(self, model, device):
                    self.device = device
                    self.model = model.to(device)

                def run(self, batch, accelerator):
                    dev = next(self.model.parameters()).device
                    x = batch.to(dev).to(self.device).to(batch.device)
                    return x.to(accelerator.device)
            """
        ),
        Valid(
            """
            import torch

            class DeviceManager:
                def __init__(self, model):
                    self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
                    self.model = model.to(self.device)

            def get_device(name="auto"):
                if name == "auto":
                    name = "cuda"
                return torch.device(name if torch.cuda.is_available() else "cpu")

            class DataParallelNet(torch.nn.Module):
                def __init__(self, net):
                    super().__init__()
                    self.net = torch.nn.DataParallel(net)

                def forward(self, obs):
                    return self.net(obs.cuda())  # DataParallel's contract
            """
        ),
        Valid(
            """
            import torch

            class ModelManager:
                def place(self, model):
                    self.model = model.to("cuda")
                    self.model.cuda()
            """,
            config="""
            [tool.integ-lint.gpu]
            managers = ["*.ModelManager"]
            """,
        ),
        Valid(
            """
            import torch

            def half(x):
                y = x.to(torch.float16)
                return y.to("cpu")
            """
        ),
        Valid(
            """
            def move(batch):
                return batch.to("cuda")  # no torch in this file
            """
        ),
        Valid(
            """
            import torch as th

            def setup():
                th.cuda.set_device(0)
            """,
            path="scripts/train.py",
        ),
    )
    INVALID = (
        Invalid(
            """
            import torch

            class Evaluator:
                def run(self, batch):
                    batch = batch.to("cuda")
                    return batch
            """,
            line=5,
            message="chooses itself",
        ),
        Invalid(
            """
            import torch as th
            from torch import cuda

            def setup(model, rank):
                th.cuda.set_device(0)
                device = th.device("cuda", rank) if th.cuda.is_available() else "cpu"
                x = model.cuda()
                y = model.to_empty(device="meta").to(device)
            """,
            lines=(5, 7, 8),
        ),
        Invalid(
            """
            def forward(model: "torch.nn.Module", x):
                return model.cuda()(x)
            """,
            line=2,
        ),
        Invalid(
            """
            import torch

            class Evaluator:
                def run(self, batches, device):
                    model = self.trainer.model.to(device)
                    return [model(b) for b in batches]
            """,
            line=5,
            message="owned by `self.trainer`",
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        reason = self._transfer(node)
        if reason is None or self.gpu.managed():
            return
        message = (
            f"device transfer `{self.code_of(node)}` {reason}: take the device from the "
            "component that owns placement (a parameter, `self.device` set from one), or "
            "declare the owner in [tool.integ-lint.gpu] managers"
        )
        if self.frames:
            self.frames[-1].transfers.append((node, message, self.context.scope))
        else:
            self.report(node, message)

    def _transfer(self, node: cst.Call) -> str | None:
        """Why this call is a reported transfer, else None."""
        bound = self.frames[-1].decided if self.frames else {}
        resolved = self.context.resolve(node.func)
        if resolved == "torch.cuda.set_device":
            rank = _first_arg(node, "device")
            if isinstance(rank, cst.Integer):
                return f"to device {rank.value}, which the code chooses itself"
            why = decided_device(self.context, rank, bound) if rank is not None else None
            return f"to {why}, a device the code chooses itself" if why else None
        if resolved is not None:
            return None
        found = method_call(node)
        if found is None:
            return None
        method, receiver = found
        if method not in ("cuda", "to", "to_empty") or not self.gpu.torch_receiver(receiver):
            return None
        target: cst.BaseExpression | None
        if method == "to":
            kind, target = to_target(self.context, node)
            if kind != "device":
                return None
        elif method == "cuda":
            target = _first_arg(node, "device")
            if target is None:
                return "to the current CUDA device, which the code chooses itself"
            if isinstance(target, cst.Integer):
                return f"to CUDA device {target.value}, which the code chooses itself"
        else:
            device_kw = keyword(node, "device")
            if device_kw is None:
                return None
            target = device_kw.value
        why = decided_device(self.context, target, bound) if target is not None else None
        if why is not None:
            return f"to {why}, a device the code chooses itself"
        owner = _other_manager(receiver)
        if owner is not None:
            return f"moves a module owned by `{owner}` through it"
        return None

    def frame_done(self, frame: _Frame, unrestored: list[tuple[_Event, bool]]) -> None:
        covered = {id(event.node) for event, _ in unrestored}  # reported by IL404
        for node, message, scope in frame.transfers:
            if id(node) not in covered:
                self.report_at(node, message, scope)


_MANAGER_WORD = re.compile(
    r"(trainer|manager|coordinator|orchestrator|controller|strategy)$", re.IGNORECASE
)


def _other_manager(receiver: cst.BaseExpression) -> str | None:
    """``self.trainer`` for ``self.trainer.model``: the manager-like object a module is
    reached through (``self`` itself and the module's own attributes are not)."""
    parts = (dotted_name(receiver) or "").split(".")
    start = 1 if parts[0] in ("self", "cls") else 0
    for index in range(start, len(parts) - 1):
        if _MANAGER_WORD.search(parts[index]):
            return ".".join(parts[: index + 1])
    return None


# -- IL402 ------------------------------------------------------------------------------


class HardcodedAcceleratorDevice(_GpuRule):
    """Hard-coded accelerator device where a device is placed.

    **What it does**

    Flags the literals `"cuda"`, `"cuda:1"`, `"mps"`, `"xpu"` (and f-strings such as
    `f"cuda:{rank}"`) where they *place* something: `torch.device("cuda")`,
    `device="cuda"` / `map_location="cuda"` passed to a call, and the default of a
    parameter or field named like a device (`device: str = "cuda"`). A device *type*
    used as data is not a placement and is never reported: `autocast(device_type=
    "cuda")`, `GradScaler("cuda")`, `torch.cuda.is_available()`, comparisons
    (`device.type == "cuda"`), tuples, lists, enums and `Literal[...]` of device names,
    return values, and `torch.device(...)` built from configuration; nor is a literal
    in a branch a machine probe chooses (`"cuda" if torch.cuda.is_available() else
    "cpu"`, or under `if torch.cuda.is_available():`), which adapts. Literals passed
    to `.to(...)` / `.cuda(...)` are IL401's. Device owners (configured `managers` and
    inferred owners, see IL401) choose devices and are silent. Reports on library
    files.

    **Why is this bad?**

    A hard-coded device makes the code run only on one kind of machine and overrides
    the placement decided by the owner of devices: the CPU test run, the Apple laptop
    and the second GPU all break.

    **Example**

    ```python
    import torch

    def build(hidden: int, device: str = "cuda") -> torch.Tensor:
        return torch.zeros(hidden, device=device)
    ```

    **How to fix**

    Inject the device (`device: torch.device`) from the owner of placement, and
    choose it once, in that owner or in the entry-point script.
    """

    code = "IL402"
    name = "hardcoded-accelerator-device"
    severity = Severity.WARNING
    VALID = (
        Valid(
            """
            import enum
            from typing import Literal
            import torch

            SUPPORTED = ("cuda", "mps", "cpu")
            Kind = Literal["cuda", "cpu"]

            class Backend(enum.Enum):
                CUDA = "cuda"

            def is_gpu(device: torch.device) -> bool:
                return device.type == "cuda" or str(device) in ("cuda:0", "mps")

            def step(model, x, cfg, device_type: str = "cuda"):
                scaler = torch.amp.GradScaler("cuda")
                with torch.autocast(device_type="cuda"):
                    y = model(x.to(torch.device(cfg.device)))
                return "cuda" if torch.cuda.is_available() else "cpu"
            """
        ),
        Valid(
            """
            import torch

            class DeviceManager:
                def __init__(self, device: str = "cuda") -> None:
                    self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
            """
        ),
        Valid(
            """
            import torch

            def select():
                if torch.cuda.is_available():
                    return torch.device("cuda")
                elif torch.backends.mps.is_available():
                    return torch.device("mps")
                return torch.device("cpu")

            def run(model, x):
                dev = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
                return model(x), dev
            """
        ),
        Valid(
            """
            DEVICE = "cuda"  # no torch in this file
            """
        ),
        Valid(
            """
            import torch

            def main(device: str = "cuda") -> None:
                torch.zeros(1, device=device)
            """,
            path="scripts/run.py",
        ),
    )
    INVALID = (
        Invalid(
            """
            import torch

            class StepConfig:
                device: str = "cuda"

            def build(hidden: int, device="cuda:1"):
                return torch.device("mps")
            """,
            lines=(4, 6, 7),
            message="hard-coded accelerator device",
        ),
        Invalid(
            """
            import torch as th

            def load(path, rank):
                state = th.load(path, map_location=f"cuda:{rank}", weights_only=True)
                return th.zeros(3, device="cuda"), state
            """,
            lines=(4, 5),
        ),
    )

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.as_data: set[int] = set()  # torch.device(...) calls used as data
        # Per enclosing branch: whether a machine probe chose it. `if
        # torch.cuda.is_available(): dev = torch.device("cuda")` and `torch.device("cuda")
        # if torch.cuda.is_available() else ...` adapt to the machine, as
        # `torch.device("cuda" if torch.cuda.is_available() else "cpu")` does.
        self.probed: list[bool] = []

    def _enter_branch(self, node: cst.If | cst.IfExp) -> None:
        self.probed.append(probes_device_in(node.test))

    def _leave_branch(self, node: cst.If | cst.IfExp) -> None:
        self.probed.pop()

    visit_If_body = visit_If_orelse = visit_IfExp_body = visit_IfExp_orelse = _enter_branch
    leave_If_body = leave_If_orelse = leave_IfExp_body = leave_IfExp_orelse = _leave_branch

    def visit_Comparison(self, node: cst.Comparison) -> None:
        # `x.device == torch.device("cuda")`: a device compared is data, not placed.
        for sub in walk(node):
            if isinstance(sub, cst.Call):
                self.as_data.add(id(sub))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Call) and node.attr.value in ("type", "index"):
            self.as_data.add(id(node.value))  # torch.device("cuda").type: a type name

    def visit_Call(self, node: cst.Call) -> None:
        if id(node) in self.as_data:
            return
        if self.context.resolve(node.func) == "torch.device":
            args = positional(node)
            type_kw = keyword(node, "type")
            first = args[0].value if args else (type_kw.value if type_kw is not None else None)
            if first is not None:
                self._check(first, "in `torch.device(...)`")
            return
        found = method_call(node)
        if found is not None and found[0] in ("to", "to_empty", "cuda"):
            return  # a transfer: IL401 decides
        for name in ("device", "map_location"):
            arg = keyword(node, name)
            if arg is not None:
                self._check(arg.value, f"as `{name}=`")

    def visit_Param(self, node: cst.Param) -> None:
        name = node.name.value
        if node.default is not None and _names_a_device(name):
            self._check(node.default, f"as the default of parameter `{name}`")

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        super().visit_AnnAssign(node)
        target = dotted_name(node.target) or ""
        if (
            node.value is not None
            and self.kinds
            and self.kinds[-1] == "class"
            and _names_a_device(target)
        ):
            self._check(node.value, f"as the default of field `{target}`")

    def _check(self, node: cst.BaseExpression, where: str) -> None:
        if (
            not self.gpu.uses_torch
            or any(self.probed)
            or self.gpu.managed()
            or self.function_named_for("device")
        ):
            return
        for literal_node in _placed_literals(node):
            value = accelerator_literal(literal_node)
            self.report(
                literal_node,
                f'hard-coded accelerator device "{value}" {where}: inject the device from '
                "the owner of placement instead",
            )


def _names_a_device(name: str) -> bool:
    lowered = name.rsplit(".", 1)[-1].lower()
    return "device" in lowered and "type" not in lowered and "count" not in lowered


def probes_device_in(node: cst.BaseExpression) -> bool:
    """Whether ``node`` calls a machine probe (``torch.cuda.is_available()``, any
    alias): read by name, since the test of a fallback is always spelled out."""
    for sub in walk(node):
        if isinstance(sub, cst.Call):
            text = dotted_name(sub.func) or ""
            if text.endswith(("is_available", "device_count")):
                return True
    return False


def _placed_literals(node: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The accelerator literals that become the placed device: the node itself, or a
    branch of ``a if c else b`` / ``a or b``."""
    if accelerator_literal(node) is not None:
        return [node]
    if isinstance(node, cst.IfExp):
        if probes_device_in(node.test):
            return []  # `"cuda" if torch.cuda.is_available() else "cpu"` adapts
        return [*_placed_literals(node.body), *_placed_literals(node.orelse)]
    if isinstance(node, cst.BooleanOperation):
        return [*_placed_literals(node.left), *_placed_literals(node.right)]
    return []


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
            """
            import torch

            def train(model, batches):
                for batch in batches:
                    print(model(batch).item())
            """,
            config="""
            [[tool.integ-lint.gpu.allowlist]]
            key = "pkg/example.py:train:item:1"
            owner = "alice"
            reason = "debug printing, removed before release"
            expires = 2999-12-31
            """,
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
            """
            import torch

            def train(model, batches):
                for batch in batches:
                    print(model(batch).item())
            """,
            line=5,
            config="""
            [[tool.integ-lint.gpu.allowlist]]
            key = "pkg/example.py:train:item"
            owner = "alice"
            reason = "debug printing"
            expires = 2001-01-31
            """,
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


# -- IL404 ------------------------------------------------------------------------------


class UnmanagedModuleHandoff(_HandoffRule):
    """In-place handoff of a module the function does not own.

    **What it does**

    Flags a bare-statement `.to(...)`, `.cuda()`, `.cpu()`, `.half()`, `.float()`,
    `.eval()`, `.train(False)` or `.requires_grad_(False)` (an `nn.Module` changes in
    place) on a module reached through another object (`agent.model.eval()`,
    `self.trainer.model.to("cpu")`) or a local alias of one, unless the function
    restores the previous state in a `finally` block or runs it inside a context
    manager that names the module. A parameter of the function is the caller's to
    hand over: changing it is reported only when the function restores it without
    `finally` (it knows the module is shared) or moves it to a device it chooses
    itself. A function named for the change (`to_device`, `on_validation_model_eval`,
    `freeze`) is that change and is silent. `x = x.to(dev)` (assigned: a tensor) is
    not a handoff, and neither is `self.model.eval()` on the object's own model.
    `.eval()` / `.train(False)` through another object are reported in files that
    never import torch too. Reports on library files.

    **Why is this bad?**

    The model belongs to someone else (the trainer): after evaluation it is left in
    eval mode, on the CPU, or in half precision, and training continues silently
    wrong. If restoring is not in `finally`, any exception skips it.

    **Example**

    ```python
    import torch

    class EvaluationManager:
        def evaluate(self, trainer, batches):
            trainer.model.eval()
            scores = [trainer.model(b) for b in batches]
            trainer.model.train()
            return scores
    ```

    **How to fix**

    Restore in `finally` (or use a context manager that does), or ask the owning
    manager for a copy or a mode switch:

    ```python
    was_training = model.training
    model.eval()
    try:
        ...
    finally:
        model.train(was_training)
    ```
    """

    code = "IL404"
    name = "unmanaged-module-handoff"
    severity = Severity.ERROR

    @classmethod
    def applies_to(cls, context: FileContext) -> bool:
        # A file without torch can still switch a module reached through another
        # object; `.eval(` / `.train(` are spelled in it then.
        source = context.source
        return "torch" in source or ".eval(" in source or ".train(" in source

    VALID = (
        Valid(
            """
            import torch

            def evaluate(model, batches):
                was_training = model.training
                model.eval()
                try:
                    return [model(b) for b in batches]
                finally:
                    model.train(was_training)
            """
        ),
        Valid(
            """
            import torch

            class Worker:
                def run(self, x, dev):
                    x = x.to(dev)
                    self.model.eval()
                    with eval_mode(self.trainer.model):
                        self.trainer.model.eval()
                    return x
            """
        ),
        Valid(
            """
            import torch

            class ModelManager:
                def offload(self, model):
                    model.to("cpu")
            """,
            config="""
            [tool.integ-lint.gpu]
            managers = ["*.ModelManager"]
            """,
        ),
        Valid(
            """
            import torch

            def freeze(model, device):
                model.requires_grad_(False)  # the caller asked for it: named for it
                model.to(device)  # a parameter moved to the device it was given

            class Hooks:
                def on_validation_model_eval(self):
                    self.trainer.model.eval()  # the hook is the mode switch
            """
        ),
        Valid(
            """
            def evaluate(model, batches):
                model.eval()  # no torch here and a parameter: the caller's call
                return [model(b) for b in batches]
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            from torch import nn

            class EvaluationManager:
                def evaluate(self, batches):
                    self.trainer.model.eval()
                    return [self.trainer.model(b) for b in batches]
            """,
            line=5,
            message="never restores",
        ),
        Invalid(
            """
            import torch as th

            def evaluate(agent, model, batches):
                agent.model.train(False)
                model.to("cpu")
                out = [model(b) for b in batches]
                model.to("cuda")
                return out
            """,
            lines=(4, 5),
        ),
        Invalid(
            """
            def evaluate(agent, batches):
                agent.model.eval()  # no torch import: still the agent's model
                return [agent.model(b) for b in batches]
            """,
            line=2,
        ),
        Invalid(
            """
            def evaluate(agent: "Agent", batches):
                m = agent.model
                m.eval()
                try:
                    return [m(b) for b in batches]
                finally:
                    print("done")
            """,
            line=3,
        ),
        Invalid(
            """
            import torch

            def evaluate(model, batches):
                model.eval()
                out = [model(b) for b in batches]
                model.train()
                return out
            """,
            line=4,
            message="without `finally`",
        ),
    )

    def frame_done(self, frame: _Frame, unrestored: list[tuple[_Event, bool]]) -> None:
        if not unrestored:
            return
        for event, restored_later in unrestored:
            what = _WHAT[event.handoff or "device"]
            head = (
                f"`{self.code_of(event.node)}` changes the {what} of `{event.receiver}`, "
                f"a module this function does not own ({event.why}), "
            )
            if restored_later:
                tail = (
                    "and restores it without `finally`: an exception in between leaves "
                    "the shared model changed; restore it in a `finally` block"
                )
            else:
                tail = (
                    "and never restores it: restore the previous state in a `finally` "
                    "block or a context manager, or let the owning manager do it"
                )
            self.report_at(event.node, head + tail, event.scope)


# -- IL405 ------------------------------------------------------------------------------


class TorchLoadWithoutMapLocation(_GpuRule):
    """`torch.load` without `map_location` or an explicit `weights_only`.

    **What it does**

    Flags `torch.load(...)` (through any alias) without `map_location`, and, with a
    second message, without an explicit `weights_only=`: one finding per call, whose
    message names what is missing. A call with `**kwargs` may pass both and is not
    reported. Reports on library files.

    **Opt-in**: not selected by `IL4` or `IL`; enable it by its code
    (`extend-select = ["IL405"]`). Whether `map_location` matters depends on how the
    file was written (CPU tensors, per-rank shards), which the loading code does not
    show: most real findings were judged harmless.

    **Why is this bad?**

    Without `map_location` every tensor is restored on the device that saved it: the
    checkpoint loads only on a machine with the same GPUs, and a CPU-only evaluation
    worker crashes. Without `weights_only=True`, loading unpickles arbitrary objects:
    a checkpoint can run code (and older torch versions default to that).

    **Example**

    ```python
    import torch

    def restore(path):
        return torch.load(path)
    ```

    **How to fix**

    ```python
    state = torch.load(path, map_location=device, weights_only=True)
    ```
    """

    code = "IL405"
    name = "torch-load-without-map-location"
    severity = Severity.WARNING
    # Opt-in: whether map_location matters depends on how the file was saved (CPU
    # tensors from offload_to_cpu state dicts, xm.save), which the code does not say:
    # lightning 7 of 13, accelerate 0 of 9, torchmetrics 0 of 2 true on the ecosystem
    # check. Select it by its code.
    default_enabled = False
    VALID = (
        Valid(
            """
            import torch

            def restore(path, device):
                a = torch.load(path, map_location="cpu", weights_only=True)
                b = torch.load(path, device, weights_only=False)
                return a, b
            """
        ),
        Valid(
            """
            import pickle

            def load(f):
                return pickle.load(f)
            """
        ),
        Valid(
            """
            import torch

            def test_roundtrip(tmp_path):
                torch.save({}, tmp_path / "x.pt")
                assert torch.load(tmp_path / "x.pt") == {}
            """,
            path="tests/test_checkpoint.py",
        ),
    )
    INVALID = (
        Invalid(
            """
            import torch as th

            def restore(path):
                return th.load(path, weights_only=True)
            """,
            line=4,
            message="without `map_location`",
        ),
        Invalid(
            """
            from torch import load

            state = load("ckpt.pt", map_location="cpu")
            """,
            line=3,
            message="without an explicit `weights_only`",
        ),
        Invalid(
            """
            import torch

            class CheckpointManager:
                def restore(self, path):
                    return torch.load(path)
            """,
            line=5,
            config="""
            [tool.integ-lint.gpu]
            managers = ["CheckpointManager"]
            """,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if self.context.resolve(node.func) not in ("torch.load", "torch.serialization.load"):
            return
        if self.gpu.in_test or any(arg.star == "**" for arg in node.args):
            return  # `**load_kwargs` may carry map_location and weights_only
        call = self.code_of(node.func, 30)
        implicit_weights = keyword(node, "weights_only") is None
        if keyword(node, "map_location") is None and len(positional(node)) < 2:
            message = (
                f"`{call}(...)` without `map_location`: tensors are restored on the device "
                "that saved them; pass map_location=<injected device or 'cpu'>"
            )
            if implicit_weights:
                message += " and an explicit weights_only=True"
        elif implicit_weights:
            message = (
                f"`{call}(...)` without an explicit `weights_only`: loading may unpickle "
                "arbitrary code; pass weights_only=True (or False, deliberately)"
            )
        else:
            return
        self.report(node, message)


# -- IL406 ------------------------------------------------------------------------------

_QUEUE_FACTORIES = {"Queue", "SimpleQueue", "JoinableQueue"}
_POOL_METHODS = {
    "map",
    "map_async",
    "imap",
    "imap_unordered",
    "starmap",
    "starmap_async",
    "apply",
    "apply_async",
}
_STATE_SOURCES = {"state_dict", "parameters", "named_parameters", "buffers", "named_buffers"}
# What summarises state on the host without carrying it: `len(...)`, these methods and
# attributes (`p.numel()`, `state.keys()`, `t.shape`), and a comprehension of them.
_SUMMARY_METHODS = {"keys", "numel", "size", "dim", "ndimension", "data_ptr", "is_cuda"}
_SUMMARY_ATTRIBUTES = {"shape", "dtype", "device", "ndim", "is_cuda", "requires_grad"}


def _summary(node: cst.CSTNode) -> bool:
    """Whether ``node`` is a host-side summary of state, not the state itself."""
    if isinstance(node, cst.Call):
        if isinstance(node.func, cst.Name):
            return node.func.value == "len"
        found = method_call(node)
        return found is not None and found[0] in _SUMMARY_METHODS
    if isinstance(node, cst.Attribute):
        return node.attr.value in _SUMMARY_ATTRIBUTES
    if isinstance(node, (cst.GeneratorExp, cst.ListComp, cst.SetComp)):
        return _summary(node.elt)
    if isinstance(node, cst.DictComp):
        return _summary(node.value)
    return False


class TensorsAcrossProcessBoundary(_GpuRule):
    """Tensors or module state sent through the standard library's `multiprocessing`.

    **What it does**

    Flags `Queue.put`, `Pipe` `send`, `Process(args=...)` and `Pool.map`-style
    arguments of the standard library's `multiprocessing` when the value comes from
    `.state_dict()`, `.parameters()` or a device move (`.to(device)`, `.cuda()`),
    directly or through a variable, without `.cpu()` first. Summaries of that state
    are host values and fine to send: `len(...)`, `p.numel()`, `state.keys()`,
    `t.shape`. A file that uses `torch.multiprocessing` is left alone. Applies to
    managers too (tests are exempt).

    **Why is this bad?**

    Importing torch registers its tensor sharing with the standard library's pickler
    (`torch.multiprocessing` does this on import), so a CUDA tensor crosses as a CUDA
    IPC handle: the child must initialise CUDA, which fails in a child started with
    `fork` (the default start method on Linux), and the sender must keep the tensor
    alive until the child is done with it. State moved to the CPU crosses as shared
    memory and has neither problem.

    **Example**

    ```python
    import multiprocessing
    import torch

    def publish(model, queue: multiprocessing.Queue):
        queue.put(model.state_dict())
    ```

    **How to fix**

    Move to the CPU first (`{k: v.cpu() for k, v in model.state_dict().items()}`), or
    start the workers with the `spawn` (or `forkserver`) method and keep the sent
    tensors alive in the sender.

    **Opt-in** (`extend-select = ["IL406"]`): the rule cannot tell a CUDA model's
    state from a CPU model's, nor the start method the workers use, so on its own it
    would report state that crosses safely.
    """

    code = "IL406"
    name = "tensors-across-process-boundary"
    severity = Severity.ERROR
    default_enabled = False
    VALID = (
        Valid(
            """
            import multiprocessing
            import torch

            def publish(model):
                queue = multiprocessing.Queue()
                state = {k: v.cpu() for k, v in model.state_dict().items()}
                queue.put(state)
                queue.put({"step": 3})
            """
        ),
        Valid(
            """
            import torch
            import torch.multiprocessing as mp

            def publish(model):
                queue = mp.Queue()
                queue.put(model.state_dict())
            """
        ),
        Valid(
            """
            import queue
            import torch

            def publish(model):
                q = queue.Queue()  # threads share memory: fine
                q.put(model.state_dict())
            """
        ),
        Valid(
            """
            import multiprocessing as mp
            import torch

            def describe(model, queue: mp.Queue, work):
                queue.put({"params": sum(p.numel() for p in model.parameters())})
                queue.put(list(model.state_dict().keys()))
                queue.put({k: v.shape for k, v in model.state_dict().items()})
                n = len(list(model.parameters()))
                mp.Process(target=work, args=(n,)).start()
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import multiprocessing as mp
            import torch

            class ParallelManager:
                def __init__(self):
                    self.queue = mp.Queue()
                    self.parent, self.child = mp.Pipe()

                def publish(self, model):
                    state = model.state_dict()
                    self.queue.put(state)
                    self.parent.send(list(model.parameters()))
            """,
            lines=(11, 12),
            message="state_dict",
        ),
        Invalid(
            """
            from multiprocessing import Pool, Process, get_context
            import torch

            def spawn(model, batch, device, work):
                x = batch.to(device)
                Process(target=work, args=(x,)).start()
                with get_context("spawn").Pool(2) as pool:
                    pool.map(work, [model.state_dict()])
            """,
            lines=(6, 8),
        ),
    )

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.taints: list[dict[str, str]] = [{}]
        self.channels: set[str] = set()  # queues and pipe connections
        self.pools: set[str] = set()
        self.factories: set[str] = set()  # get_context() / Manager() results
        self.sends: list[tuple[cst.Call, str, str, str]] = []  # node, channel, source, scope

    # -- bindings -----------------------------------------------------------------
    def _factory_call(self, node: cst.BaseExpression) -> bool:
        if not isinstance(node, cst.Call):
            return False
        return self.context.resolve(node.func) in (
            "multiprocessing.get_context",
            "multiprocessing.Manager",
        )

    def _mp_kind(self, node: cst.BaseExpression) -> str | None:
        """``queue`` / ``pipe`` / ``pool`` / ``process`` for a stdlib constructor."""
        if not isinstance(node, cst.Call):
            return None
        resolved = self.context.resolve(node.func)
        name: str | None = None
        if resolved is not None:
            module, _, last = resolved.rpartition(".")
            if module in ("multiprocessing", "multiprocessing.pool", "multiprocessing.queues"):
                name = last
        elif isinstance(node.func, cst.Attribute):
            base = node.func.value
            if self._factory_call(base) or dotted_name(base) in self.factories:
                name = node.func.attr.value
        if name in _QUEUE_FACTORIES:
            return "queue"
        return {"Pipe": "pipe", "Pool": "pool", "Process": "process"}.get(name or "")

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        kind = self._mp_kind(value)
        names: list[str] = []
        if isinstance(target, (cst.Tuple, cst.List)):
            names = [t for e in target.elements if (t := dotted_name(e.value) or "")]
        elif (text := dotted_name(target)) is not None:
            names = [text]
        for text in names:
            if kind in ("queue", "pipe"):
                self.channels.add(text)
            elif kind == "pool":
                self.pools.add(text)
            elif self._factory_call(value):
                self.factories.add(text)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        super().visit_FunctionDef(node)
        self.taints.append({})
        for param in _all_params(node.params):
            if param.annotation is None:
                continue
            for sub in walk(param.annotation.annotation):
                resolved = None
                if isinstance(sub, (cst.Name, cst.Attribute)):
                    resolved = self.context.resolve(sub)
                elif isinstance(sub, cst.SimpleString):
                    resolved = string_value(sub)
                if (
                    resolved
                    and resolved.split(".")[-1] in {*_QUEUE_FACTORIES, "Connection"}
                    and resolved.startswith(("multiprocessing", "mp."))
                ):
                    self.channels.add(param.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        super().leave_FunctionDef(original_node)
        self.taints.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target, node.value)
            text = dotted_name(target.target)
            if text is None:
                continue
            source = self._taint(node.value)
            if source is not None:
                self.taints[-1][text] = source
            else:
                self.taints[-1].pop(text, None)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        super().visit_AnnAssign(node)
        if node.value is not None:
            self._bind(node.target, node.value)

    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            if item.asname is not None:
                self._bind(item.asname.name, item.item)

    def visit_For(self, node: cst.For) -> None:
        source = self._taint(node.iter)
        if source is None:
            return
        for sub in walk(node.target):
            if isinstance(sub, cst.Name):
                self.taints[-1][sub.value] = f"an element of {source}"

    # -- taint --------------------------------------------------------------------
    def _taint(self, expr: cst.BaseExpression) -> str | None:
        """What makes ``expr`` device-resident module state, or None when it is clean
        (no such source, or moved to the host with ``.cpu()`` somewhere). A summary of
        state (``len(...)``, ``p.numel()``, ``state.keys()``, ``t.shape``) is not read."""
        source: str | None = None
        stack: list[cst.CSTNode] = [expr]
        while stack:
            sub = stack.pop()
            if _summary(sub):
                continue
            stack.extend(sub.children)
            if isinstance(sub, cst.Call):
                found = method_call(sub)
                if found is None:
                    continue
                method, receiver = found
                if method in ("cpu", "numpy", "tolist", "item"):
                    return None
                if method == "to":
                    target = to_target(self.context, sub)[0]
                    if target == "cpu":
                        return None
                    if target == "device" and self.gpu.torch_receiver(receiver):
                        source = source or f"the device move `{self.code_of(sub, 40)}`"
                elif method == "cuda" and self.gpu.torch_receiver(receiver):
                    source = source or f"the device move `{self.code_of(sub, 40)}`"
                elif method in _STATE_SOURCES and self.gpu.torch_receiver(receiver):
                    source = source or f"`{self.code_of(sub, 40)}`"
            elif isinstance(sub, (cst.Name, cst.Attribute)):
                text = dotted_name(sub)
                if text is None:
                    continue
                for frame in (self.taints[-1], self.taints[0]):
                    if text in frame:
                        source = source or f"`{text}` ({frame[text]})"
                        break
        return source

    # -- sends ----------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        if self.gpu.in_test:
            return
        kind = self._mp_kind(node)
        if kind == "process":
            for name in ("args", "kwargs"):
                arg = keyword(node, name)
                source = self._taint(arg.value) if arg is not None else None
                if source is not None:
                    self.sends.append((node, "", source, self.context.scope))
                    return
            return
        found = method_call(node)
        if found is None:
            return
        method, receiver = found
        channel = dotted_name(receiver)
        if channel is None:
            return
        if method in ("put", "put_nowait", "send"):
            values: Iterable[cst.Arg] = node.args[:1]
        elif method in _POOL_METHODS:
            values = [*positional(node)[1:], *(a for a in node.args if a.keyword is not None)]
        else:
            return
        for arg in values:
            source = self._taint(arg.value)
            if source is not None:
                self.sends.append((node, channel, source, self.context.scope))
                return

    def leave_Module(self, original_node: cst.Module) -> None:
        if self.context.imports("torch.multiprocessing"):
            return
        for node, channel, source, scope in self.sends:
            if channel and channel not in self.channels and channel not in self.pools:
                continue
            what = f"`{channel}`" if channel else "a `multiprocessing.Process`"
            self.report_at(
                node,
                f"{source} crosses a process boundary through {what} of the standard "
                "library's multiprocessing without `.cpu()` first: a CUDA tensor crosses as "
                "a CUDA handle, which a `fork`-started child cannot open; move it to the "
                "host, or start the workers with `spawn` and keep the tensor alive",
                scope,
            )
