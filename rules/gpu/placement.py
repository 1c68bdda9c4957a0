"""Device placement (IL401, IL402, IL405): who decides where a model or tensor lives.

A device transfer of a shared module outside the code that owns placement, a
hard-coded accelerator device, and ``torch.load`` without ``map_location``."""

from __future__ import annotations

import re
from typing import Any

import libcst as cst
from integ_lint.rules.gpu.base import (
    GpuRule,
    HandoffEvent,
    HandoffFrame,
    HandoffRule,
    first_arg,
)

from integ_lint.facts.context import dotted_name
from integ_lint.facts.torch import (
    accelerator_literal,
    decided_device,
    keyword,
    method_call,
    positional,
    to_target,
    walk,
)
from integ_lint.findings.model import Severity
from integ_lint.rule import Invalid, Valid

# -- IL401 ------------------------------------------------------------------------------


class DeviceTransferOutsideManager(HandoffRule):
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
            rank = first_arg(node, "device")
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
            target = first_arg(node, "device")
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

    def frame_done(self, frame: HandoffFrame, unrestored: list[tuple[HandoffEvent, bool]]) -> None:
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


class HardcodedAcceleratorDevice(GpuRule):
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


# -- IL405 ------------------------------------------------------------------------------


class TorchLoadWithoutMapLocation(GpuRule):
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
