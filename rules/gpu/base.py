"""What every GPU rule shares: the file-rule base (managed scopes, the torch gate),
small syntax helpers, and the tracking of in-place handoffs of modules a function does
not own (``.to()``/``.cuda()``, ``.train()``/``.eval()``), shared by IL401 and IL404."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from integ_lint.facts.context import FileContext, dotted_name
from integ_lint.facts.torch import (
    GpuScope,
    decided_device,
    keyword,
    method_call,
    named_for,
    positional,
    to_target,
    walk,
)
from integ_lint.rule import FileRule, PendingFinding

FAMILY = "gpu"


class GpuRule(FileRule):
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

    def _enter(self, kind: str, node: cst.ClassDef | cst.FunctionDef) -> None:
        self.kinds.append(kind)
        self.names.append(node.name.value)
        self.gpu.enter(node)

    def _leave(self) -> None:
        self.kinds.pop()
        self.names.pop()
        self.gpu.leave()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._enter("class", node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._leave()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        for param in all_params(node.params):
            if param.annotation is not None:
                self.gpu.note_annotation(param.name.value, param.annotation.annotation)
        self._enter("function", node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._leave()

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


def all_params(params: cst.Parameters) -> list[cst.Param]:
    found = [*params.posonly_params, *params.params, *params.kwonly_params]
    if isinstance(params.star_arg, cst.Param):
        found.append(params.star_arg)
    if params.star_kwarg is not None:
        found.append(params.star_kwarg)
    return found


def is_false(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "False"


def first_arg(node: cst.Call, name: str) -> cst.BaseExpression | None:
    kw = keyword(node, name)
    if kw is not None:
        return kw.value
    args = positional(node)
    return args[0].value if args else None


# -- in-place handoffs of modules the function does not own (shared by IL401/IL404) ----

HANDOFF_WHAT = {
    "device": "device",
    "precision": "dtype",
    "mode": "train/eval mode",
    "grad": "requires_grad flag",
}


@dataclass
class HandoffEvent:
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
class HandoffFrame:
    params: set[str]
    aliases: dict[str, str] = field(default_factory=dict)
    finally_depth: int = 0
    guards: list[set[str]] = field(default_factory=list)
    events: list[HandoffEvent] = field(default_factory=list)
    transfers: list[tuple[cst.Call, str, str]] = field(default_factory=list)
    decided: dict[str, str] = field(default_factory=dict)  # local name -> chosen device


def _classify_handoff(rule: GpuRule, node: cst.Call, method: str) -> str | None:
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
        arg = first_arg(node, "mode")
        return "mode" if arg is not None and is_false(arg) else None
    if method == "requires_grad_":
        arg = first_arg(node, "requires_grad")
        return "grad" if arg is not None and is_false(arg) else None
    return None


def _restore_families(rule: GpuRule, node: cst.Call, method: str) -> frozenset[str]:
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
        arg = first_arg(node, "mode")
        if arg is None or not is_false(arg):
            families.add("mode")
    if method == "requires_grad_":
        arg = first_arg(node, "requires_grad")
        if arg is None or not is_false(arg):
            families.add("grad")
    return frozenset(families)


class HandoffRule(GpuRule):
    """Tracks, per function, bare-statement handoffs of modules the function does not
    own and whether they are restored in a ``finally`` block or a context manager."""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.frames: list[HandoffFrame] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        is_method = bool(self.kinds) and self.kinds[-1] == "class"
        super().visit_FunctionDef(node)
        names = [p.name.value for p in all_params(node.params)]
        decorators = {dotted_name(d.decorator) for d in node.decorators}
        if is_method and names and "staticmethod" not in decorators:
            names = names[1:]
        self.frames.append(HandoffFrame(params={n for n in names if n not in ("self", "cls")}))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        super().leave_FunctionDef(original_node)
        frame = self.frames.pop()
        self.frame_done(frame, [u for u in _unrestored(frame.events) if _is_handoff(*u)])

    def frame_done(self, frame: HandoffFrame, unrestored: list[tuple[HandoffEvent, bool]]) -> None:
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

    def _unowned(self, frame: HandoffFrame, receiver: cst.BaseExpression) -> str | None:
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
            HandoffEvent(
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


def _is_handoff(event: HandoffEvent, restored_later: bool) -> bool:
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


def _unrestored(events: list[HandoffEvent]) -> list[tuple[HandoffEvent, bool]]:
    """Handoffs not restored in a ``finally`` or guarded by a context manager that
    names the receiver; the flag says whether a plain (non-finally) restore follows."""
    found: list[tuple[HandoffEvent, bool]] = []
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
