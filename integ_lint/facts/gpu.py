"""Per-file facts for the GPU rules: host synchronisations, the calls that could reach
them from a loop, and the classes and functions that own device placement.

The collector does not know the configuration (managers, hot paths, the allowlist are
applied in the project phase by IL403), so it records every site with what the code
alone says about it:

* every host-synchronising call (``.item()``, ``.tolist()``, ``.cpu()``, ``.numpy()``,
  ``.to("cpu")``, ``synchronize()``; a chain such as ``x.cpu().numpy()`` is one call,
  named by its outermost pattern) and, inside loops, every implicit one (``if t.any():``,
  ``while t < x``, ``bool(t)``, ``float(t)``, ``int(t)`` on a tensor the function built
  from torch calls), with its scope, its occurrence among all calls of that pattern in
  the scope (the allowlist key's ``n``), whether it runs per iteration (a loop body or
  condition, a comprehension body) and why it is *not* a sync when the code says so (a
  value already on the host, an error path, ``synchronize`` in a benchmark function);
* every call to a plain function or a method of the same class, with the callee's
  qualified name (resolved through imports) and whether it runs per iteration: the
  project phase finds syncs one call level below a loop (a call by a plain name of
  this module, or through ``self``, only when the file defines that function: no
  other can match, and placing every ``len(...)`` cost most of the collector);
* the functions the file defines and the inferred device owners (see
  :func:`integ_lint.facts.torch.device_owner_evidence`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import libcst as cst

from integ_lint.facts.collector import FactCollector
from integ_lint.facts.context import FileContext, dotted_name
from integ_lint.facts.gpu_records import GPU_KEY, CallFact, DeviceOwnerFact, GpuFacts, SyncFact
from integ_lint.findings.model import Site

if TYPE_CHECKING:
    pass
from integ_lint.facts.torch import (
    annotation_is_torch,
    device_owner_evidence,
    file_imports_torch,
    method_call,
    named_for,
    sync_pattern,
    walk,
)

# Why a sync-shaped call is not a sync (SyncFact.skip).
HOST_VALUE = "a value already on the host"
ERROR_PATH = "an error path"
BENCHMARK = "a benchmark or profiling function"
MOVES_DATA = "a function whose job is moving data to the host"
NOT_TORCH = "no torch in the file"

LOOP = "loop"
COMPREHENSION = "comprehension"

__all__ = ["GPU_KEY", "CallFact", "DeviceOwnerFact", "GpuFactCollector", "GpuFacts", "SyncFact"]

_BENCHMARK_WORDS = re.compile(r"bench|profil|timing|timeit|time_|_time|latency|throughput", re.I)
# Methods whose result lives on the host (or is metadata), not a device tensor.
_HOST_METHODS = frozenset(
    {"item", "tolist", "numpy", "size", "dim", "numel", "ndimension", "data_ptr", "is_cuda"}
)
# torch.* calls that return host values (flags, counts, objects), not tensors.
_NON_TENSOR_TORCH = re.compile(
    r"^torch\.(cuda|backends|distributed|jit|compiler|onnx|utils|autograd\.profiler|"
    r"profiler|multiprocessing|hub|testing|is_|get_|set_|use_|manual_seed|no_grad|"
    r"enable_grad|inference_mode|device|dtype|Size|__version__)"
)
_STORAGE_WORDS = re.compile(
    r"offload|state_dict|save|checkpoint|serializ|export|dump|gather|to_numpy|numpy", re.I
)
_IMPLICIT_CASTS = {"bool": "bool", "float": "float", "int": "int"}
# Names of callables that run a module's forward pass (`self.model(x)`, `policy(obs)`,
# `self.policy.evaluate_actions(...)`, `q_net.forward(x)`), split at `.` and `_`.
_MODULE_WORDS = frozenset(
    {
        "model",
        "policy",
        "net",
        "network",
        "module",
        "actor",
        "critic",
        "encoder",
        "decoder",
        "backbone",
        "forward",
        "qf",
        "qnet",
    }
)


@dataclass
class _Frame:
    """Per function (and one for the module): what the function built from torch,
    what it moved to the host, and how its calls are counted."""

    torch_names: set[str] = field(default_factory=set)
    host_names: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)
    # Enclosing per-iteration regions: (LOOP | COMPREHENSION, region id).
    loops: list[tuple[str, int]] = field(default_factory=list)
    error_depth: int = 0
    periodic: int = 0  # > 0 under `if step % n == 0:`: once every n iterations


class GpuFactCollector(FactCollector):
    KEY = GPU_KEY

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.uses_torch = file_imports_torch(context.source)
        self.mentions_torch = "torch" in context.source
        # A ``%`` operator needs a ``%`` in the text: most files' ``if`` tests are then
        # never searched for one (see _is_periodic).
        self.has_percent = "%" in context.source
        self.frames: list[_Frame] = [_Frame()]
        self.kinds: list[tuple[str, str]] = []  # ("class" | "function", name), innermost last
        self.typed_torch: set[str] = set()
        self.covered: set[int] = set()  # inner calls of a chain already counted
        self.functions: list[str] = []
        self.owners: list[DeviceOwnerFact] = []
        self.owner_flags: list[bool] = []  # per enclosing class/function: an owner?
        self.ifs: list[tuple[bool, bool]] = []  # per enclosing `if`: (raises, periodic)
        # Per-iteration regions that launch device work; a sync (or a call) counts as
        # per-iteration only under one of them (decided in collect(): the work often
        # comes after the sync, `print(loss.item())` before `optimizer.step()`).
        self.region_count = 0
        self.region_of: dict[int, int] = {}
        self.working: set[int] = set()
        self.pending_syncs: list[tuple[SyncFact, tuple[tuple[str, int], ...]]] = []
        # Per call: its scope, callee, the callee's local qualname (``f``, ``C.m``) when
        # the call names a function of this module by its plain name or through
        # ``self``/``cls``, the node its span is worked out from and its regions; placed
        # in collect(), only for the calls the project phase can use.
        self.pending_calls: list[
            tuple[str, str, str | None, cst.BaseExpression, tuple[tuple[str, int], ...]]
        ] = []

    # -- scopes ---------------------------------------------------------------------
    def _qualname(self, name: str) -> str:
        scope = self.context.scope
        return f"{scope}.{name}" if scope else name

    def _note_owner(self, node: cst.ClassDef | cst.FunctionDef) -> None:
        """Record the outermost inferred device owners (an owner's methods are part of
        it, not owners of their own)."""
        evidence = None
        if self.uses_torch and not any(self.owner_flags):
            evidence = device_owner_evidence(self.context, node)
            if evidence is not None:
                qualname = self._qualname(node.name.value)
                self.owners.append(
                    DeviceOwnerFact(
                        qualname, evidence, Site(self.context.span(node.name), qualname)
                    )
                )
        self.owner_flags.append(evidence is not None)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._note_owner(node)
        self.kinds.append(("class", node.name.value))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.kinds.pop()
        self.owner_flags.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(self._qualname(node.name.value))
        self._note_owner(node)
        self.kinds.append(("function", node.name.value))
        frame = _Frame()
        params = node.params
        for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
            annotation = param.annotation
            if annotation is None or not self.mentions_torch:
                continue
            # Typed names only matter in a file that does not import torch.
            if not self.uses_torch and annotation_is_torch(self.context, annotation.annotation):
                self.typed_torch.add(param.name.value)
            if self._is_tensor_annotation(annotation.annotation):
                frame.torch_names.add(param.name.value)
        self.frames.append(frame)

    def _is_tensor_annotation(self, annotation: cst.BaseExpression) -> bool:
        """``torch.Tensor``, ``Tensor``, ``Optional[Tensor]``, ``Tensor | None``: a
        tensor itself (a ``list[Tensor]`` or an ``nn.Module`` is not)."""
        if isinstance(annotation, cst.BinaryOperation):
            return self._is_tensor_annotation(annotation.left) or self._is_tensor_annotation(
                annotation.right
            )
        if isinstance(annotation, cst.Subscript) and dotted_name(annotation.value) in (
            "Optional",
            "typing.Optional",
        ):
            element = annotation.slice[0].slice
            return isinstance(element, cst.Index) and self._is_tensor_annotation(element.value)
        if isinstance(annotation, cst.SimpleString):
            return annotation.value.strip("\"'") in ("torch.Tensor", "Tensor")
        resolved = self.context.resolve(annotation) or ""
        return resolved == "torch.Tensor" or (resolved.endswith(".Tensor") and "torch" in resolved)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.frames.pop()
        self.kinds.pop()
        self.owner_flags.pop()

    # -- per-iteration regions ----------------------------------------------------------
    def _enter(self, kind: str, owner: cst.CSTNode) -> None:
        # A `while` condition and body are one region: work in the body makes the
        # condition's sync per-iteration too.
        region = self.region_of.get(id(owner))
        if region is None:
            self.region_count += 1
            region = self.region_of[id(owner)] = self.region_count
        self.frames[-1].loops.append((kind, region))

    def _exit(self) -> None:
        self.frames[-1].loops.pop()

    def visit_For_body(self, node: cst.For) -> None:
        self._enter(LOOP, node)

    def leave_For_body(self, node: cst.For) -> None:
        self._exit()

    def visit_While_test(self, node: cst.While) -> None:
        self._enter(LOOP, node)
        self._implicit_condition(node.test)

    def leave_While_test(self, node: cst.While) -> None:
        self._exit()

    def visit_While_body(self, node: cst.While) -> None:
        self._enter(LOOP, node)

    def leave_While_body(self, node: cst.While) -> None:
        self._exit()

    # The parts of a comprehension that run once per item.
    def _comprehension(self, node: cst.BaseComp | cst.DictComp) -> None:
        self._enter(COMPREHENSION, node)

    def _leave_comprehension(self, node: cst.BaseComp | cst.DictComp) -> None:
        self._exit()

    visit_ListComp_elt = visit_SetComp_elt = visit_GeneratorExp_elt = _comprehension
    visit_DictComp_key = visit_DictComp_value = _comprehension
    leave_ListComp_elt = leave_SetComp_elt = leave_GeneratorExp_elt = _leave_comprehension
    leave_DictComp_key = leave_DictComp_value = _leave_comprehension

    # -- error paths ---------------------------------------------------------------------
    def visit_Raise(self, node: cst.Raise) -> None:
        self.frames[-1].error_depth += 1

    def leave_Raise(self, original_node: cst.Raise) -> None:
        self.frames[-1].error_depth -= 1

    def visit_If(self, node: cst.If) -> None:
        # An error path only matters to syncs, and a file without torch records none.
        raises = self.mentions_torch and _raises(node.body)
        self.ifs.append((raises, self.has_percent and _is_periodic(node.test)))
        # `if torch.isnan(loss).any(): raise ...` is a guard on an error path.
        if not raises:
            self._implicit_condition(node.test)

    def leave_If(self, original_node: cst.If) -> None:
        self.ifs.pop()

    def visit_If_test(self, node: cst.If) -> None:
        raises, _ = self.ifs[-1]
        if raises:  # the guard of an error path
            self.frames[-1].error_depth += 1

    def leave_If_test(self, node: cst.If) -> None:
        raises, _ = self.ifs[-1]
        if raises:
            self.frames[-1].error_depth -= 1

    def visit_If_body(self, node: cst.If) -> None:
        raises, periodic = self.ifs[-1]
        if raises:
            self.frames[-1].error_depth += 1
        if periodic:
            self.frames[-1].periodic += 1

    def leave_If_body(self, node: cst.If) -> None:
        raises, periodic = self.ifs[-1]
        if raises:
            self.frames[-1].error_depth -= 1
        if periodic:
            self.frames[-1].periodic -= 1

    # -- what names hold ---------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        if not self.mentions_torch:
            return
        frame = self.frames[-1]
        names = [t.target.value for t in node.targets if isinstance(t.target, cst.Name)]
        on_host = self._on_host(node.value)
        is_tensor = not on_host and self._tensor_valued(node.value)
        for name in names:
            frame.host_names.discard(name)
            frame.torch_names.discard(name)
            if on_host:
                frame.host_names.add(name)
            elif is_tensor:
                frame.torch_names.add(name)

    def _on_host(self, node: cst.BaseExpression) -> bool:
        """Whether a value is on the host: the result of ``.item()`` / ``.tolist()`` /
        ``.numpy()`` / ``.cpu()``, of a NumPy call, or a name bound to one."""
        if isinstance(node, cst.Name):
            return node.value in self.frames[-1].host_names
        if isinstance(node, cst.Call):
            resolved = self.context.resolve(node.func) or ""
            if resolved.split(".")[0] == "numpy":
                return True
            found = method_call(node)
            if found is not None:
                method, receiver = found
                if method in ("item", "tolist", "numpy", "cpu"):
                    return True
                if sync_pattern(self.context, node) == "to-cpu":
                    return True
                if method in ("detach", "clone", "astype", "copy", "reshape", "squeeze"):
                    return self._on_host(receiver)
        if isinstance(node, cst.Subscript):
            return self._on_host(node.value)
        return False

    def _moves_data(self) -> bool:
        """Whether the innermost function's job is moving tensors to the host:
        ``offload_weight``, ``set_module_tensor_to_device``, ``save_checkpoint``,
        ``get_state_dict``: the copy is the purpose, not a stall in a step loop."""
        name = next((n for kind, n in reversed(self.kinds) if kind == "function"), "")
        return bool(name) and (named_for(name, "device") or _STORAGE_WORDS.search(name) is not None)

    def _receiver_on_host(self, receiver: cst.BaseExpression) -> bool:
        """Whether a sync chain starts from a host value: ``arr.tolist()`` on a NumPy
        array, ``x.cpu().numpy()`` is judged by ``x`` (one sync, not two)."""
        current = receiver
        while (
            isinstance(current, cst.Call)
            and isinstance(current.func, cst.Attribute)
            and sync_pattern(self.context, current) is not None
        ):
            current = current.func.value
        return self._on_host(current)

    def _tensor_valued(self, node: cst.BaseExpression) -> bool:
        """Whether an expression is a tensor built from torch calls in this function."""
        if isinstance(node, cst.Name):
            return node.value in self.frames[-1].torch_names
        if isinstance(node, cst.Call):
            resolved = self.context.resolve(node.func)
            if resolved is not None:
                return (
                    resolved.startswith("torch.")
                    and not _NON_TENSOR_TORCH.match(resolved)
                    and not self._host_arguments(node)
                )
            found = method_call(node)
            if found is not None:
                method, receiver = found
                if method not in _HOST_METHODS and self._tensor_valued(receiver):
                    return True
            # A module's output is a tensor: `loss = self.model(batch)`.
            return _runs_module(node.func)
        if isinstance(node, cst.BinaryOperation):
            return self._tensor_valued(node.left) or self._tensor_valued(node.right)
        if isinstance(node, cst.UnaryOperation):
            return self._tensor_valued(node.expression)
        if isinstance(node, cst.Subscript):
            return self._tensor_valued(node.value)
        if isinstance(node, cst.Comparison):
            if any(
                isinstance(c.operator, (cst.Is, cst.IsNot, cst.In, cst.NotIn))
                for c in node.comparisons
            ):
                return False
            sides = [node.left, *(c.comparator for c in node.comparisons)]
            return any(self._tensor_valued(side) for side in sides)
        return False

    def _host_arguments(self, node: cst.Call) -> bool:
        """Whether every positional argument of a call is a host value."""
        args = [a.value for a in node.args if a.keyword is None]
        return bool(args) and all(self._on_host(a) for a in args)

    def _truth_syncs(self, node: cst.BaseExpression) -> bool:
        """Whether testing the truth of ``node`` reads a device tensor."""
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            return self._truth_syncs(node.expression)
        if isinstance(node, cst.BooleanOperation):
            return self._truth_syncs(node.left) or self._truth_syncs(node.right)
        return self._tensor_valued(node)

    def _implicit_condition(self, test: cst.BaseExpression) -> None:
        frame = self.frames[-1]
        if not self.uses_torch or not frame.loops or not self._truth_syncs(test):
            return
        self._record(test, "bool", frame)

    # -- calls ---------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        frame = self.frames[-1]
        if frame.loops and self._device_work(node):
            self.working.update(region for _, region in frame.loops)
        self._note_call(node, frame)
        if not self.mentions_torch or id(node) in self.covered:
            return
        if isinstance(node.func, cst.Name) and node.func.value in _IMPLICIT_CASTS:
            if (
                frame.loops
                and self.uses_torch
                and len(node.args) == 1
                and self._tensor_valued(node.args[0].value)
            ):
                self._record(node, _IMPLICIT_CASTS[node.func.value], frame)
            return
        pattern = sync_pattern(self.context, node)
        if pattern is None:
            return
        self._cover_chain(node)
        found = method_call(node)
        skip = ""
        if pattern != "torch.cuda.synchronize" and not self._torch_receiver(
            found[1] if found else None
        ):
            skip = NOT_TORCH
        elif found is not None and self._receiver_on_host(found[1]):
            skip = HOST_VALUE
        self._record(node, pattern, frame, skip)

    def _record(self, node: cst.CSTNode, pattern: str, frame: _Frame, skip: str = "") -> None:
        scope = self.context.scope
        occurrence = frame.counts.get(pattern, 0) + 1
        frame.counts[pattern] = occurrence
        if not skip and frame.error_depth:
            skip = ERROR_PATH
        if not skip and "synchronize" in pattern and _BENCHMARK_WORDS.search(scope):
            skip = BENCHMARK
        if not skip and pattern in ("cpu", "to-cpu", "numpy") and self._moves_data():
            skip = MOVES_DATA
        sync = SyncFact(
            scope=scope,
            pattern=pattern,
            occurrence=occurrence,
            site=Site(self.context.span(node), scope, self.context.snippet(node)),
            skip=skip,
        )
        self.pending_syncs.append((sync, () if frame.periodic else tuple(frame.loops)))

    def _torch_receiver(self, receiver: cst.BaseExpression | None) -> bool:
        if self.uses_torch:
            return True
        text = dotted_name(receiver) if receiver is not None else None
        return text is not None and text.split(".")[0] in self.typed_torch

    def _cover_chain(self, node: cst.Call) -> None:
        current: cst.BaseExpression = node.func
        while True:
            if type(current) is cst.Attribute:
                current = current.value
            elif type(current) is cst.Call:
                self.covered.add(id(current))
                current = current.func
            else:
                return

    def _note_call(self, node: cst.Call, frame: _Frame) -> None:
        found = self._callee(node.func)
        if found is None:
            return
        if not frame.loops and not self.kinds:
            return  # module-level code runs once
        callee, local = found
        regions = () if frame.periodic else tuple(frame.loops)
        self.pending_calls.append((self.context.scope, callee, local, node.func, regions))

    def _device_work(self, node: cst.Call) -> bool:
        """Whether a call launches work on the device: a torch function, a module's
        forward (`model(x)`, `self.policy.evaluate_actions(...)`), `loss.backward()`,
        `optimizer.step()`, or an operation on a tensor built from torch calls."""
        resolved = self.context.resolve(node.func)
        if resolved is not None:
            return resolved.startswith("torch.") and not _NON_TENSOR_TORCH.match(resolved)
        text = dotted_name(node.func) or ""
        if _runs_module(node.func):
            return True
        found = method_call(node)
        if found is None:
            return False
        method, receiver = found
        if method == "backward":
            return True
        if method == "step" and re.search(r"optim|scaler", text, re.IGNORECASE):
            return True
        return method not in _HOST_METHODS and self._tensor_valued(receiver)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        frame = self.frames[-1]
        if frame.loops and self.mentions_torch and self._tensor_valued(node):
            self.working.update(region for _, region in frame.loops)

    def _callee(self, func: cst.BaseExpression) -> tuple[str, str | None] | None:
        """The qualified name a call may reach in the project, else None; with it, the
        callee's qualname in this module when the call names a function of this module
        (by its plain name, or a method through ``self``/``cls``), else None."""
        module = self.context.module
        if type(func) is cst.Name:
            resolved = self.context.resolve(func)
            if resolved is not None:
                return resolved, None
            return (f"{module}.{func.value}" if module else func.value), func.value
        if type(func) is cst.Attribute and type(func.value) is cst.Name:
            if func.value.value in ("self", "cls"):
                owner = self._class_qualname()
                if owner is None:
                    return None
                base = f"{module}.{owner}" if module else owner
                return f"{base}.{func.attr.value}", f"{owner}.{func.attr.value}"
            resolved = self.context.resolve(func)
            return None if resolved is None else (resolved, None)
        return None

    def _class_qualname(self) -> str | None:
        """The qualname of the class whose method is being visited."""
        classes = [i for i, (kind, _) in enumerate(self.kinds) if kind == "class"]
        if not classes:
            return None
        return ".".join(name for _, name in self.kinds[: classes[-1] + 1])

    def _working_region(self, regions: tuple[tuple[str, int], ...]) -> str:
        """The kind of the innermost enclosing region that launches device work, else ""."""
        for kind, region in reversed(regions):
            if region in self.working:
                return kind
        return ""

    def collect(self) -> GpuFacts:
        syncs = [
            replace(sync, per_iteration=self._working_region(regions))
            for sync, regions in self.pending_syncs
        ]
        calls = []
        span = self.context.span
        # A call by a name of this module reaches a function of the project only when
        # this file defines it: the project phase (IL403) matches a callee with the
        # qualified name of a function defined in the file of the sync, and a module's
        # name is its file's alone. The others are never placed (their positions were
        # most of the collector's cost). Without a module name, names are not unique.
        defined = frozenset(self.functions) if self.context.module else None
        for scope, callee, local, func, regions in self.pending_calls:
            if local is not None and defined is not None and local not in defined:
                continue
            kind = self._working_region(regions)
            if kind or scope:  # module-level code runs once, unless in a working loop
                calls.append(CallFact(scope, callee, span(func), kind))
        return GpuFacts(
            uses_torch=self.uses_torch,
            syncs=tuple(syncs),
            calls=tuple(calls),
            functions=tuple(self.functions),
            owners=tuple(self.owners),
        )


def _module_like(name: str) -> bool:
    """``model``, ``q_net``, ``target_model``: a name for a module."""
    lowered = name.lower()
    words = lowered.split("_")
    return lowered in _MODULE_WORDS or words[-1] in _MODULE_WORDS


def _runs_module(func: cst.BaseExpression) -> bool:
    """Whether calling ``func`` runs a module: ``model(x)``, ``self.q_net(x)``,
    ``self.policy.evaluate_actions(...)``, ``net.forward(x)`` (the callable or the
    object it is called on is named like a module)."""
    parts = (dotted_name(func) or "").split(".")
    if not parts[-1]:
        return False
    if _module_like(parts[-1]):
        return True
    return len(parts) > 1 and _module_like(parts[-2]) and parts[-2] not in ("self", "cls")


def _is_periodic(test: cst.BaseExpression) -> bool:
    """``step % log_interval == 0``: the branch runs once every n iterations, which is
    how logging in a loop is meant to be throttled."""
    return any(
        type(node) is cst.BinaryOperation and type(node.operator) is cst.Modulo
        for node in walk(test)
    )


def _raises(block: cst.BaseSuite) -> bool:
    """Whether a branch ends in (or is) a ``raise``: an error path."""
    statements: Iterator[cst.CSTNode]
    if isinstance(block, cst.SimpleStatementSuite):
        statements = iter(block.body)
    else:
        statements = (
            small
            for line in block.body
            if isinstance(line, cst.SimpleStatementLine)
            for small in line.body
        )
    return any(isinstance(small, cst.Raise) for small in statements)
