"""Helpers shared by the GPU handoff rules (IL4xx): torch detection, managed scopes,
call classification, and the IL403 allowlist.

Nothing here imports or runs analysed code; everything works on LibCST nodes and the
file's import aliases.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping, Sequence
from weakref import WeakKeyDictionary

import libcst as cst

from integ_lint.config.gpu_allowlist import SYNC_PATTERNS as SYNC_PATTERNS
from integ_lint.config.settings import GpuSettings
from integ_lint.facts.context import FileContext, dotted_name
from integ_lint.facts.syntax import child_nodes
from integ_lint.files.globs import matches_any

# -- torch detection --------------------------------------------------------------

_TORCH_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+torch\b|import[ \t]+[^\n#]*\btorch\b)", re.MULTILINE
)


def file_imports_torch(source: str) -> bool:
    """Whether the file imports ``torch`` (or anything under it) anywhere, including
    lazily inside a function; decided once per file from the source text."""
    return "torch" in source and _TORCH_IMPORT.search(source) is not None


def annotation_is_torch(context: FileContext, annotation: cst.BaseExpression) -> bool:
    """Whether a type annotation names a torch class (``torch.Tensor``,
    ``nn.Module | None``, ``"torch.nn.Module"``)."""
    for node in _walk(annotation):
        if isinstance(node, (cst.Name, cst.Attribute)):
            resolved = context.resolve(node)
            text = resolved or dotted_name(node) or ""
            if text == "torch" or text.startswith("torch."):
                return True
        elif isinstance(node, cst.SimpleString):
            value = string_value(node) or ""
            if re.match(r"^\s*(torch|nn)\.", value) or "torch." in value:
                return True
    return False


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        # LibCST's ``children`` rebuilds the node on every access (29% of a cold run).
        stack.extend(child_nodes(current))


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node under ``node`` (itself included), without a visitor."""
    return _walk(node)


def string_value(node: cst.CSTNode) -> str | None:
    """The value of a plain (non-f, non-bytes) string literal, else None."""
    if isinstance(node, cst.SimpleString):
        prefix = node.prefix.lower()
        if "b" in prefix or "f" in prefix:
            return None
        quote = node.quote
        return node.value[len(node.prefix) + len(quote) : -len(quote)]
    if isinstance(node, cst.ConcatenatedString):
        left, right = string_value(node.left), string_value(node.right)
        if left is None or right is None:
            return None
        return left + right
    return None


# -- devices ------------------------------------------------------------------------

_ACCELERATOR = re.compile(r"^(cuda|mps|xpu)(:\d+)?$")
TORCH_DTYPES = frozenset(
    {
        "float",
        "float16",
        "float32",
        "float64",
        "half",
        "double",
        "bfloat16",
        "int",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "long",
        "short",
        "bool",
        "complex64",
        "complex128",
        "cfloat",
        "cdouble",
        "float8_e4m3fn",
        "float8_e5m2",
    }
)


def is_accelerator_string(value: str | None) -> bool:
    return value is not None and _ACCELERATOR.match(value) is not None


def method_call(node: cst.Call) -> tuple[str, cst.BaseExpression] | None:
    """``(method name, receiver)`` for ``receiver.method(...)``, else None."""
    if isinstance(node.func, cst.Attribute):
        return node.func.attr.value, node.func.value
    return None


def keyword(node: cst.Call, name: str) -> cst.Arg | None:
    for arg in node.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def positional(node: cst.Call) -> list[cst.Arg]:
    return [a for a in node.args if a.keyword is None and not a.star]


def is_dtype_expr(context: FileContext, node: cst.BaseExpression) -> bool:
    resolved = context.resolve(node) or ""
    if resolved.startswith("torch.") and resolved.split(".", 1)[1] in TORCH_DTYPES:
        return True
    text = dotted_name(node) or ""
    last = text.rsplit(".", 1)[-1]
    return last == "dtype" or last.endswith("_dtype")


def is_cpu_expr(context: FileContext, node: cst.BaseExpression) -> bool:
    """``"cpu"``, ``torch.device("cpu")``."""
    if string_value(node) == "cpu":
        return True
    if isinstance(node, cst.Call) and context.resolve(node.func) == "torch.device":
        args = positional(node)
        return bool(args) and string_value(args[0].value) == "cpu"
    return False


def to_target(context: FileContext, node: cst.Call) -> tuple[str, cst.BaseExpression | None]:
    """Classify ``x.to(...)``: ``("device", expr)``, ``("cpu", expr)``, ``("dtype",
    None)`` or ``("other", None)`` (memory format only, no arguments)."""
    device_kw = keyword(node, "device")
    if device_kw is not None:
        target = device_kw.value
    else:
        args = positional(node)
        if not args:
            return ("dtype", None) if keyword(node, "dtype") is not None else ("other", None)
        target = args[0].value
        if is_dtype_expr(context, target):
            return ("dtype", None)
    return ("cpu", target) if is_cpu_expr(context, target) else ("device", target)


# -- host synchronisation -------------------------------------------------------------

SYNC_METHODS = {"item": "item", "tolist": "tolist", "cpu": "cpu", "numpy": "numpy"}
SYNC_DISPLAY = {
    "item": ".item()",
    "tolist": ".tolist()",
    "cpu": ".cpu()",
    "numpy": ".numpy()",
    "to-cpu": '.to("cpu")',
    "synchronize": ".synchronize()",
    "torch.cuda.synchronize": "torch.cuda.synchronize()",
    "bool": "the truth of a device tensor",
    "float": "float(<tensor>)",
    "int": "int(<tensor>)",
}


def sync_pattern(context: FileContext, node: cst.Call) -> str | None:
    """The allowlist pattern name of a host-synchronising call, else None."""
    resolved = context.resolve(node.func)
    if resolved in ("torch.cuda.synchronize", "torch.cuda.current_stream.synchronize"):
        return "torch.cuda.synchronize"
    if resolved is not None and resolved.startswith("torch."):
        return None  # torch.cpu(), torch.numpy are not methods on values
    found = method_call(node)
    if found is None:
        return None
    name, _ = found
    if name in SYNC_METHODS and not node.args:
        return SYNC_METHODS[name]
    if name == "synchronize" and not node.args:
        return "synchronize"
    if name == "to" and to_target(context, node)[0] == "cpu":
        return "to-cpu"
    return None


# -- managed scopes ---------------------------------------------------------------------


def _is_path_glob(pattern: str) -> bool:
    return "/" in pattern or pattern.endswith((".py", ".pyi"))


def scope_matches(
    patterns: Sequence[str], relpath: str, module: str, scope: Sequence[str]
) -> str | None:
    """The first pattern covering this scope, else None.

    Path globs (containing ``/`` or ending in ``.py``) match the file path; other
    patterns match the qualified name of the scope or of any enclosing scope, with or
    without the module (``*.ModelManager``, ``ModelManager``, ``pkg.mod.Cls.*``)."""
    if not patterns:
        return None
    names: list[str] = []
    if module:
        names.append(module)
    for depth in range(1, len(scope) + 1):
        local = ".".join(scope[:depth])
        names.append(local)
        if module:
            names.append(f"{module}.{local}")
    for pattern in patterns:
        if _is_path_glob(pattern):
            if matches_any(relpath, [pattern]):
                return pattern
        elif any(fnmatch.fnmatchcase(name, pattern) for name in names):
            return pattern
    return None


class GpuScope:
    """What the GPU rules need to know about the file being visited."""

    def __init__(self, context: FileContext) -> None:
        self.context = context
        self.settings = context.config.section(GpuSettings)
        self.uses_torch = file_imports_torch(context.source)
        self.in_test = context.is_test
        self.in_script = context.is_script
        self.typed_torch: set[str] = set()
        # Why each enclosing class/function owns the device (None: it does not);
        # innermost last, kept by the rules' visit/leave of ClassDef and FunctionDef.
        self.owners: list[str | None] = []

    def enter(self, node: cst.ClassDef | cst.FunctionDef) -> None:
        evidence = None
        if self.settings.infer_managers and self.uses_torch and not any(self.owners):
            evidence = device_owner_evidence(self.context, node)
        self.owners.append(evidence)

    def leave(self) -> None:
        self.owners.pop()

    def manager(self) -> str | None:
        """The configured ``managers`` pattern, or the inferred device owner, covering
        the current scope."""
        configured = scope_matches(
            self.settings.managers,
            self.context.relpath,
            self.context.module,
            self.context.scope_stack,
        )
        if configured is not None:
            return configured
        return next((f"inferred owner ({why})" for why in self.owners if why), None)

    def managed(self) -> bool:
        """Tests, scripts, and configured manager scopes own devices."""
        return self.in_test or self.in_script or self.manager() is not None

    def note_annotation(self, name: str, annotation: cst.BaseExpression) -> None:
        # Typed names only matter in a file that does not import torch (torch_receiver).
        if not self.uses_torch and annotation_is_torch(self.context, annotation):
            self.typed_torch.add(name)

    def torch_receiver(self, receiver: cst.BaseExpression | None) -> bool:
        """Whether a call on ``receiver`` may be a torch call: the file imports torch,
        or the receiver (or the object it is reached through) is typed as torch."""
        if self.uses_torch:
            return True
        if receiver is None:
            return False
        text = dotted_name(receiver)
        while text:
            if text in self.typed_torch:
                return True
            if "." not in text:
                break
            text = text.rsplit(".", 1)[0]
        return False


# -- who decides the device -------------------------------------------------------------

# Calls that probe the machine: code that reads them chooses the device itself.
DEVICE_PROBES = frozenset(
    {
        "torch.cuda.is_available",
        "torch.cuda.device_count",
        "torch.backends.mps.is_available",
        "torch.mps.is_available",
        "torch.xpu.is_available",
        "torch.xpu.device_count",
    }
)
_FSTRING_DEVICE = re.compile(r"^(cuda|xpu|mps):$")


def accelerator_literal(node: cst.CSTNode) -> str | None:
    """``"cuda"``, ``"cuda:1"``, ``"mps"``, ``"xpu"`` or ``f"cuda:{rank}"`` as written
    (the f-string shown as ``cuda:{...}``), else None."""
    value = string_value(node)
    if is_accelerator_string(value):
        return value
    if isinstance(node, cst.FormattedString) and node.parts:
        head = node.parts[0]
        if isinstance(head, cst.FormattedStringText) and _FSTRING_DEVICE.match(head.value):
            return head.value + "{...}"
    return None


def decided_device(
    context: FileContext, node: cst.BaseExpression, bound: Mapping[str, str] | None = None
) -> str | None:
    """How ``node`` is a device the code chooses itself, else None: an accelerator
    literal, ``torch.device("cuda", ...)``, ``"cuda" if ... else "cpu"``, or a local
    name bound to one of these (``bound``). A parameter, ``self.device``, ``x.device``
    or a function's result is an injected device: None."""
    literal = accelerator_literal(node)
    if literal is not None:
        return f'"{literal}"'
    if isinstance(node, cst.IfExp):
        branches = (node.body, node.orelse)
        decided = [decided_device(context, b, bound) is not None for b in branches]
        if not any(decided):
            return None
        if not all(d or is_cpu_expr(context, b) for d, b in zip(decided, branches)):
            # `x.device if ... else torch.device("cuda")`: follows the data and only
            # falls back; the code does not decide.
            return None
        return "a device chosen by a conditional expression"
    if isinstance(node, cst.Call) and context.resolve(node.func) == "torch.device":
        args = positional(node)
        type_kw = keyword(node, "type")
        first = args[0].value if args else (type_kw.value if type_kw is not None else None)
        if first is not None and decided_device(context, first, bound) is not None:
            return f"`{' '.join(context.code_for(node).split())[:50]}`"
        return None
    if isinstance(node, cst.Name) and bound is not None and node.value in bound:
        return bound[node.value]
    return None


_DEVICE_NAME = re.compile(r"device", re.IGNORECASE)


def _is_decision(context: FileContext, node: cst.CSTNode, decided: set[str]) -> bool:
    """Whether an expression carries a device decision: a probe, ``torch.device(...)``,
    an accelerator literal, or a local name bound to one of these."""
    for sub in _walk(node):
        if isinstance(sub, cst.Call):
            resolved = context.resolve(sub.func)
            if resolved in DEVICE_PROBES or resolved == "torch.device":
                return True
        elif (isinstance(sub, cst.Name) and sub.value in decided) or accelerator_literal(
            sub
        ) is not None:
            return True
    return False


def hands_out_device(context: FileContext, node: cst.CSTNode) -> bool:
    """Whether a class or function body hands a device it decided to others: stores
    it on ``self.<...device...>``, returns it from a ``...device...`` method, property
    or function, or passes it as ``device=...`` to a call. A device that came in as a
    parameter and is stored (``self.device = device``) is not a decision."""
    nodes = list(_walk(node))  # read three times below: walk the (large) body once
    decided: set[str] = set()
    # Two passes: a name decided after its first use (in source order) still counts.
    for _ in range(2):
        for sub in nodes:
            if isinstance(sub, cst.Assign) and _is_decision(context, sub.value, decided):
                decided.update(
                    t.target.value for t in sub.targets if isinstance(t.target, cst.Name)
                )
    for sub in nodes:
        if isinstance(sub, cst.FunctionDef) and _DEVICE_NAME.search(sub.name.value):
            for ret in _walk(sub):
                if (
                    isinstance(ret, cst.Return)
                    and ret.value is not None
                    and _is_decision(context, ret.value, decided)
                ):
                    return True
        elif isinstance(sub, (cst.Assign, cst.AnnAssign)):
            if sub.value is None or not _is_decision(context, sub.value, decided):
                continue
            targets = (
                [t.target for t in sub.targets] if isinstance(sub, cst.Assign) else [sub.target]
            )
            for target in targets:
                text = dotted_name(target) or ""
                if text.startswith("self.") and _DEVICE_NAME.search(text):
                    return True
        elif isinstance(sub, cst.Call):
            found = method_call(sub)
            if found is not None and found[0] in ("to", "to_empty", "cuda"):
                continue  # a move, not a handoff of the device to another component
            for arg in sub.args:
                word = arg.keyword.value if arg.keyword is not None else ""
                if (
                    _DEVICE_NAME.search(word)
                    and word != "device_type"
                    and _is_decision(context, arg.value, decided)
                ):
                    return True
    return False


_DATA_PARALLEL = frozenset({"torch.nn.DataParallel", "torch.nn.parallel.DataParallel"})


# The GPU rules and the fact collector of one traversal each ask about the same classes
# and functions: the answers are kept per file, by node (id), for the traversal.
_OWNER_EVIDENCE: WeakKeyDictionary[FileContext, dict[int, str | None]] = WeakKeyDictionary()


def device_owner_evidence(context: FileContext, node: cst.ClassDef | cst.FunctionDef) -> str | None:
    """Why a class (or a function) owns device placement: it decides the device
    itself (a machine probe such as ``torch.cuda.is_available()``, or
    ``torch.device(...)``) and hands it to others (``hands_out_device``), or it wraps
    ``nn.DataParallel``, whose contract puts inputs on the first CUDA device.

    Computed once per node and file; a class or function without a probe has none in
    its nested classes and functions either, so they are answered without a walk."""
    memo = _OWNER_EVIDENCE.setdefault(context, {})
    if id(node) in memo:
        return memo[id(node)]
    evidence: str | None = None
    probe: str | None = None
    nested: list[int] = []
    for sub in _walk(node):
        if isinstance(sub, (cst.ClassDef, cst.FunctionDef)) and sub is not node:
            nested.append(id(sub))
        elif isinstance(sub, cst.Call):
            resolved = context.resolve(sub.func)
            if resolved in _DATA_PARALLEL:
                evidence = (
                    "wraps `nn.DataParallel` (inputs go to the first CUDA device by contract)"
                )
                break
            if probe is None and (resolved in DEVICE_PROBES or resolved == "torch.device"):
                probe = resolved
    if evidence is None:
        if probe is None:
            memo.update(dict.fromkeys(nested))
        elif hands_out_device(context, node):
            evidence = f"decides the device (`{probe}`) and hands it to others"
    memo[id(node)] = evidence
    return evidence


# Functions named for a change are that change: `to_device(batch)` moves, `eval_mode(m)`
# switches mode. Their callers asked for it; the function owns nothing else.
_CHANGE_WORDS = {
    "device": (
        "device",
        "move",
        "place",
        "placement",
        "offload",
        "transfer",
        "cuda",
        "cpu",
        "to",
        "xpu",
        "mps",
        "accelerator",
        "shard",
    ),
    "mode": ("eval", "mode", "freeze", "inference"),
    "precision": (
        "half",
        "precision",
        "dtype",
        "convert",
        "cast",
        "float",
        "double",
        "bfloat16",
        "quantize",
        "amp",
    ),
    "grad": ("freeze", "grad", "requires", "unfreeze"),
}


def named_for(function_name: str, family: str) -> bool:
    """Whether a function's name says it makes a change of ``family`` (``device``,
    ``mode``, ``precision``, ``grad``)."""
    words = [w for w in re.split(r"_+|(?<=[a-z])(?=[A-Z])", function_name.lower()) if w]
    wanted = _CHANGE_WORDS.get(family, ())
    return any(word in wanted or (family == "device" and "device" in word) for word in words)
