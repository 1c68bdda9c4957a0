"""Handoffs of GPU state (IL404, IL406): a shared module's train/eval mode changed by
code that does not own it, and CUDA tensors or module state sent through
``multiprocessing``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import libcst as cst
from integ_lint.rules.gpu.base import (
    HANDOFF_WHAT,
    GpuRule,
    HandoffEvent,
    HandoffFrame,
    HandoffRule,
    all_params,
)

from integ_lint.facts.context import FileContext, dotted_name
from integ_lint.facts.torch import (
    keyword,
    method_call,
    positional,
    string_value,
    to_target,
    walk,
)
from integ_lint.findings.model import Severity
from integ_lint.rule import Invalid, Valid

# -- IL404 ------------------------------------------------------------------------------


class UnmanagedModuleHandoff(HandoffRule):
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

    def frame_done(self, frame: HandoffFrame, unrestored: list[tuple[HandoffEvent, bool]]) -> None:
        if not unrestored:
            return
        for event, restored_later in unrestored:
            what = HANDOFF_WHAT[event.handoff or "device"]
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


class TensorsAcrossProcessBoundary(GpuRule):
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
        for param in all_params(node.params):
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
