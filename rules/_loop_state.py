"""Known-loop state: what a function knows about its thread's event loop, statement by
statement, and the event-loop calls it makes (the facts behind IL201-IL205).

One :class:`LoopFacts` collector walks each file in the engine's single traversal. It
tracks, for the statement being visited, whether a loop is known to be *running* in the
current thread, known *not running*, or *unknown*, and classifies every loop call
(``asyncio.run``, ``run_until_complete``, ``run_forever``, ``new_event_loop``,
``set_event_loop``, ``nest_asyncio.apply``, blocking on ``run_coroutine_threadsafe``)
into a :class:`LoopCall` carrying the rule code it would be reported under. The facts
do not depend on configuration; the rules in :mod:`integ_lint.rules.event_loops`
decide, with the configuration, which calls sit in entry-point code. The recognised
shapes are documented in ``docs/rules/event-loops.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import libcst as cst

from integ_lint.facts.collector import visitor_method_names
from integ_lint.facts.context import FileContext, dotted_name, is_main_guard
from integ_lint.findings.model import Site
from integ_lint.rule import FactCollector

Known = Literal["unknown", "running", "not_running"]

RUNNING: Known = "running"
NOT_RUNNING: Known = "not_running"
UNKNOWN: Known = "unknown"


@dataclass(frozen=True)
class State:
    known: Known = UNKNOWN
    reason: str = ""


UNKNOWN_STATE = State()

# Substrings without which a file cannot contain a call this module classifies; such
# files only contribute their imports (the script-module check needs every file's).
_TRIGGERS = (
    "asyncio",
    "anyio",
    "trio",
    "run_until_complete",
    "run_forever",
    "run_coroutine_threadsafe",
    "nest_asyncio",
)

_RUN = {"asyncio.run", "anyio.run", "trio.run"}
_RUNNER = {"asyncio.Runner", "asyncio.runners.Runner"}
_NEW_LOOP = {"asyncio.new_event_loop", "asyncio.events.new_event_loop"}
_GET_EVENT_LOOP = {"asyncio.get_event_loop", "asyncio.events.get_event_loop"}
_GET_RUNNING = {"asyncio.get_running_loop", "asyncio.events.get_running_loop"}
_PRIVATE_GET_RUNNING = {
    "asyncio._get_running_loop",
    "asyncio.events._get_running_loop",
}
_SET_LOOP = {"asyncio.set_event_loop", "asyncio.events.set_event_loop"}
_SET_POLICY = {"asyncio.set_event_loop_policy", "asyncio.events.set_event_loop_policy"}
_NEST = {"nest_asyncio.apply", "nest_asyncio2.apply"}
_THREADSAFE = {"asyncio.run_coroutine_threadsafe", "asyncio.tasks.run_coroutine_threadsafe"}
_WAIT = {"concurrent.futures.wait", "concurrent.futures.as_completed"}
_CATCHES = {"RuntimeError", "Exception", "BaseException", "builtins.RuntimeError"}

# How a name was bound to a loop in the current function.
LoopKind = Literal["new", "event", "running", "named"]


@dataclass(frozen=True)
class LoopCall:
    """One classified event-loop call.

    ``code`` is the rule it belongs to (IL201 and IL203 only count outside entry-point
    code, which the rules decide); ``function`` is the module-level function holding
    the call ("" at module level or in a class); ``decorators`` are the decorator
    names of every enclosing function, resolved through imports where possible.
    """

    code: str
    site: Site
    message: str
    function: str = ""
    in_main_block: bool = False
    decorators: tuple[str, ...] = ()
    label: str = ""  # the call as written, e.g. ``asyncio.run()``
    in_lambda: bool = False  # the body of a lambda: deferred, runs who knows where
    # The name at the root of the first argument (``coro`` in ``asyncio.run(coro)``,
    # ``fn`` in ``asyncio.run(fn(*args))``): a parameter makes a sync-over-async helper.
    argument: str = ""


@dataclass(frozen=True)
class ModuleLoopFacts:
    module: str
    has_main_block: bool = False
    imports: tuple[str, ...] = ()
    main_only_functions: tuple[str, ...] = ()
    calls: tuple[LoopCall, ...] = ()
    # (line, column, state) of the calls in synchronous code whose loop state a guard
    # decides: the call graph judges their callees by it.
    known_calls: tuple[tuple[int, int, Known], ...] = ()
    nest_asyncio: bool = False  # nest_asyncio.apply() somewhere in the module
    # Scopes (function qualnames) that run a loop themselves (asyncio.run,
    # run_until_complete, run_forever): they own the loop they create.
    loop_runners: tuple[str, ...] = ()


@dataclass
class _Frame:
    """One function body (or the module): its block states and loop bindings."""

    is_async: bool
    name: str
    states: list[State]
    loops: dict[str, tuple[LoopKind, str]] = field(default_factory=dict)
    probes: set[str] = field(default_factory=set)  # names bound to _get_running_loop()
    runners: set[str] = field(default_factory=set)  # names bound to asyncio.Runner()
    futures: dict[str, str] = field(default_factory=dict)  # name -> loop description

    @property
    def state(self) -> State:
        return self.states[-1]


def _always_exits(node: cst.CSTNode | None) -> bool:
    """Whether a block/statement always leaves the enclosing block (return/raise)."""
    if node is None:
        return False
    if isinstance(node, (cst.IndentedBlock, cst.SimpleStatementSuite)):
        return bool(node.body) and _always_exits(node.body[-1])
    if isinstance(node, cst.Else):
        return _always_exits(node.body)
    if isinstance(node, cst.SimpleStatementLine):
        return any(isinstance(s, (cst.Return, cst.Raise)) for s in node.body)
    if isinstance(node, cst.If):
        return _always_exits(node.body) and node.orelse is not None and _always_exits(node.orelse)
    return False


def _root_argument(node: cst.Call) -> str:
    """The name at the root of the call's first positional argument, if any."""
    for arg in node.args:
        if arg.keyword is not None or arg.star:
            continue
        value = arg.value
        if isinstance(value, cst.Call):
            value = value.func
        return value.value if isinstance(value, cst.Name) else ""
    return ""


def _block_statements(node: cst.BaseSuite) -> list[cst.CSTNode]:
    if isinstance(node, cst.IndentedBlock):
        return list(node.body)
    return [node]


class LoopFactsCollector(FactCollector):
    """Collects :class:`ModuleLoopFacts` for one file."""

    KEY = "event-loops"

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.enabled = any(t in context.source for t in _TRIGGERS)
        self.frames: list[_Frame] = [_Frame(False, "", [UNKNOWN_STATE])]
        self.calls: list[LoopCall] = []
        self.imports: set[str] = set()
        self.has_main_block = False
        self.main_depth = 0
        self.class_depth = 0
        self.func_stack: list[tuple[str, tuple[str, ...]]] = []
        self.top_function = ""
        self.top_functions: set[str] = set()
        self.public: set[str] = set()
        self.references: dict[str, set[str]] = {}
        self.ignored_names: set[int] = set()
        self.probe_statements: set[int] = set()
        self.branch_states: dict[int, tuple[State, State]] = {}
        self.try_info: dict[int, tuple[bool, State]] = {}  # id(Try) -> (has probe, before)
        self.handler_states: dict[int, State] = {}
        self.reported: set[int] = set()
        self.known_calls: list[tuple[int, int, Known]] = []
        self.nest_asyncio = False
        self.try_depth = 0
        self.loop_runners: set[str] = set()

    def get_visitors(self):  # type: ignore[no-untyped-def]
        # The per-class table (LibCST's own get_visitors runs inspect.getmembers on
        # every instance: 4% of a cold run on Django).
        visitors = {name: getattr(self, name) for name in visitor_method_names(type(self))}
        if self.enabled:
            return visitors
        return {k: v for k, v in visitors.items() if k in ("visit_Import", "visit_ImportFrom")}

    # -- facts -----------------------------------------------------------------
    def collect(self) -> ModuleLoopFacts:
        return ModuleLoopFacts(
            module=self.context.module,
            has_main_block=self.has_main_block,
            imports=tuple(sorted(self.imports)),
            main_only_functions=tuple(sorted(self._main_only())),
            calls=tuple(self.calls),
            known_calls=tuple(self.known_calls),
            nest_asyncio=self.nest_asyncio,
            loop_runners=tuple(sorted(self.loop_runners)),
        )

    def _main_only(self) -> set[str]:
        """Module-level functions referenced only from the ``__main__`` block, directly
        or through other such functions (and not exported through ``__all__``)."""
        refs = {
            name: places
            for name, places in self.references.items()
            if name in self.top_functions and name not in self.public
        }
        candidates = {name for name, places in refs.items() if places - {name}}
        changed = True
        while changed:
            changed = False
            for name in sorted(candidates):
                allowed = candidates | {"<main>", name}
                if not refs[name] <= allowed:
                    candidates.discard(name)
                    changed = True
        reached: set[str] = set()
        frontier = [n for n in candidates if "<main>" in refs[n]]
        while frontier:
            name = frontier.pop()
            if name in reached:
                continue
            reached.add(name)
            frontier.extend(n for n in candidates if name in refs[n] and n not in reached)
        return reached

    # -- imports ---------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            dotted = dotted_name(alias.name)
            if dotted:
                self.imports.add(dotted)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        base = self.context.aliases.absolute(
            len(node.relative), dotted_name(node.module) if node.module else None
        )
        if base:
            self.imports.add(base)
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = dotted_name(alias.name)
            if name:
                self.imports.add(f"{base}.{name}" if base else name)

    # -- names (for main-only functions) ----------------------------------------
    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.ignored_names.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.ignored_names.add(id(node.keyword))

    def visit_Param(self, node: cst.Param) -> None:
        self.ignored_names.add(id(node.name))

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) in self.ignored_names:
            return
        if self.main_depth:
            place = "<main>"
        elif self.top_function:
            place = self.top_function
        else:
            place = "<module>"
        self.references.setdefault(node.value, set()).add(place)

    # -- scopes ----------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.ignored_names.add(id(node.name))
        self.class_depth += 1

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.class_depth -= 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.ignored_names.add(id(node.name))
        name = node.name.value
        if not self.func_stack and not self.class_depth and len(self.frames) == 1:
            self.top_function = name
            self.top_functions.add(name)
        decorators = []
        for decorator in node.decorators:
            expr = decorator.decorator
            if isinstance(expr, cst.Call):
                expr = expr.func
            for text in (self.context.resolve(expr), dotted_name(expr)):
                if text and text not in decorators:
                    decorators.append(text)
        self.func_stack.append((name, tuple(decorators)))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.func_stack.pop()
        if not self.func_stack and self.top_function == original_node.name.value:
            self.top_function = ""

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        is_async = node.asynchronous is not None
        state = (
            State(RUNNING, f"inside `async def {node.name.value}`") if is_async else UNKNOWN_STATE
        )
        self.frames.append(_Frame(is_async, node.name.value, [state]))

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self.frames.pop()

    def visit_Lambda_body(self, node: cst.Lambda) -> None:
        self.frames.append(_Frame(False, "<lambda>", [UNKNOWN_STATE]))

    def leave_Lambda_body(self, node: cst.Lambda) -> None:
        self.frames.pop()

    @property
    def frame(self) -> _Frame:
        return self.frames[-1]

    # -- names bound to loops ---------------------------------------------------
    def _resolve(self, node: cst.BaseExpression) -> str:
        return self.context.resolve(node) or ""

    def _call_name(self, node: cst.BaseExpression) -> str:
        return self._resolve(node.func) if isinstance(node, cst.Call) else ""

    def _loop_kind(self, expr: cst.BaseExpression) -> tuple[LoopKind, str] | None:
        """What kind of loop ``expr`` evaluates to, if it clearly is a loop."""
        name = self._call_name(expr)
        if name in _NEW_LOOP:
            return "new", "asyncio.new_event_loop()"
        if name in _GET_EVENT_LOOP:
            return "event", "asyncio.get_event_loop()"
        if name in _GET_RUNNING:
            return "running", "asyncio.get_running_loop()"
        if isinstance(expr, cst.Name) and expr.value in self.frame.loops:
            return self.frame.loops[expr.value]
        last = expr.attr.value if isinstance(expr, cst.Attribute) else None
        if isinstance(expr, cst.Name):
            last = expr.value
        if last and (last.lower() in ("loop", "_loop", "event_loop") or last.endswith("_loop")):
            return "named", f"`{last}`"
        return None

    def _is_current_loop(self, kind: LoopKind, state: State) -> bool:
        """Whether a loop of ``kind`` is the running loop of this thread."""
        if state.known == NOT_RUNNING:
            return False
        return kind == "running" or (kind == "event" and state.known == RUNNING)

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if not isinstance(target, cst.Name):
            return
        frame = self.frame
        name = target.value
        if isinstance(value, cst.Name) and value.value == "None":
            # ``loop = None`` before or in the handler of ``try: loop =
            # get_running_loop()``: the name stays a probe (None = no loop).
            frame.loops.pop(name, None)
            return
        frame.loops.pop(name, None)
        frame.futures.pop(name, None)
        frame.probes.discard(name)
        frame.runners.discard(name)
        called = self._call_name(value)
        if called in _PRIVATE_GET_RUNNING:
            frame.probes.add(name)
            return
        if called in _RUNNER:
            frame.runners.add(name)
            return
        if called in _GET_RUNNING and self.try_depth:
            # ``try: loop = asyncio.get_running_loop() except RuntimeError: loop = None``
            frame.probes.add(name)
        if called in _THREADSAFE:
            loop = self._threadsafe_running_loop(value)
            if loop:
                frame.futures[name] = loop
            return
        if isinstance(value, cst.Call) and called in (_NEW_LOOP | _GET_EVENT_LOOP | _GET_RUNNING):
            kind = self._loop_kind(value)
            if kind is not None:
                if kind[0] == "event" and frame.state.known == RUNNING:
                    kind = ("running", "asyncio.get_event_loop() while a loop runs")
                frame.loops[name] = kind

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target, node.value)
        if (
            len(self.frames) == 1
            and not self.class_depth
            and any(
                isinstance(t.target, cst.Name) and t.target.value == "__all__" for t in node.targets
            )
            and isinstance(node.value, (cst.List, cst.Tuple))
        ):
            for element in node.value.elements:
                if isinstance(element.value, cst.SimpleString):
                    self.public.add(element.value.evaluated_value)  # type: ignore[arg-type]

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind(node.target, node.value)

    # -- probes: statements that prove a loop is running --------------------------
    def _is_probe_statement(self, node: cst.CSTNode) -> bool:
        if not isinstance(node, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            return False
        for small in node.body:
            value = (
                small.value if isinstance(small, (cst.Expr, cst.Assign, cst.AnnAssign)) else None
            )
            if value is not None and self._call_name(value) in _GET_RUNNING:
                return True
        return False

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        if self._is_probe_statement(original_node):
            self.frame.states[-1] = State(RUNNING, "after asyncio.get_running_loop() returned")

    def leave_SimpleStatementSuite(self, original_node: cst.SimpleStatementSuite) -> None:
        self.leave_SimpleStatementLine(original_node)  # type: ignore[arg-type]

    # -- if: branch states ------------------------------------------------------
    def _probe_value(self, expr: cst.BaseExpression) -> bool:
        """``asyncio._get_running_loop()`` or a name bound to it."""
        if self._call_name(expr) in _PRIVATE_GET_RUNNING:
            return True
        return isinstance(expr, cst.Name) and expr.value in self.frame.probes

    def _condition(self, test: cst.BaseExpression) -> tuple[State, State] | None:
        """(state when ``test`` is true, state when it is false), if ``test`` tells."""
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            inner = self._condition(test.expression)
            return (inner[1], inner[0]) if inner else None
        if isinstance(test, cst.BooleanOperation):
            left = self._condition(test.left)
            right = self._condition(test.right)
            if isinstance(test.operator, cst.And):
                known = left or right
                return (known[0], UNKNOWN_STATE) if known else None
            known = left or right
            return (UNKNOWN_STATE, known[1]) if known else None
        running = State(RUNNING, "in a branch where a running loop was found")
        not_running = State(NOT_RUNNING, "in a branch where no loop runs")
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
            target = test.comparisons[0]
            other = target.comparator
            if (
                isinstance(other, cst.Name)
                and other.value == "None"
                and self._probe_value(test.left)
            ):
                if isinstance(target.operator, (cst.Is, cst.Equal)):
                    return not_running, running
                if isinstance(target.operator, (cst.IsNot, cst.NotEqual)):
                    return running, not_running
            return None
        if self._probe_value(test):
            return running, not_running
        if (
            isinstance(test, cst.Call)
            and isinstance(test.func, cst.Attribute)
            and test.func.attr.value == "is_running"
        ):
            kind = self._loop_kind(test.func.value)
            if kind is not None and kind[0] in ("event", "running"):
                return running, not_running
        return None

    def visit_If(self, node: cst.If) -> None:
        if (
            len(self.frames) == 1
            and not self.class_depth
            and not self.main_depth
            and is_main_guard(node.test)
        ):
            self.has_main_block = True
            self.branch_states[id(node)] = (State(UNKNOWN, "<main>"), self.frame.state)
            return
        current = self.frame.state
        told = self._condition(node.test)
        if told is None:
            self.branch_states[id(node)] = (current, current)
        else:
            self.branch_states[id(node)] = (
                told[0] if told[0].known != UNKNOWN else current,
                told[1] if told[1].known != UNKNOWN else current,
            )

    def visit_If_body(self, node: cst.If) -> None:
        true_state = self.branch_states.get(id(node), (self.frame.state,))[0]
        if true_state.reason == "<main>":
            self.main_depth += 1
            true_state = self.frame.state
        self.frame.states.append(true_state)

    def leave_If_body(self, node: cst.If) -> None:
        if self.branch_states.get(id(node), (UNKNOWN_STATE,))[0].reason == "<main>":
            self.main_depth -= 1
        self.frame.states.pop()

    def visit_If_orelse(self, node: cst.If) -> None:
        states = self.branch_states.get(id(node), (self.frame.state, self.frame.state))
        self.frame.states.append(states[1])

    def leave_If_orelse(self, node: cst.If) -> None:
        self.frame.states.pop()

    def leave_If(self, original_node: cst.If) -> None:
        states = self.branch_states.pop(id(original_node), None)
        if states is None or states[0].reason == "<main>":
            return
        body_exits = _always_exits(original_node.body)
        else_exits = _always_exits(original_node.orelse)
        if body_exits and not else_exits:
            self.frame.states[-1] = states[1]
        elif else_exits and not body_exits:
            self.frame.states[-1] = states[0]

    # -- try: the get_running_loop() probe ---------------------------------------
    def visit_Try(self, node: cst.Try) -> None:
        statements = _block_statements(node.body)
        has_probe = False
        for statement in statements:
            if self._is_probe_statement(statement):
                has_probe = True
        before = self.frame.state
        self.try_info[id(node)] = (has_probe, before)
        for handler in node.handlers:
            if has_probe and self._catches_runtime_error(handler):
                self.handler_states[id(handler)] = State(
                    NOT_RUNNING, "in `except RuntimeError` of asyncio.get_running_loop()"
                )
            else:
                self.handler_states[id(handler)] = before

    def _catches_runtime_error(self, handler: cst.ExceptHandler) -> bool:
        if handler.type is None:
            return True
        types = (
            [e.value for e in handler.type.elements]
            if isinstance(handler.type, cst.Tuple)
            else [handler.type]
        )
        for kind in types:
            name = self._resolve(kind) or dotted_name(kind) or ""
            if name in _CATCHES:
                return True
        return False

    def visit_Try_body(self, node: cst.Try) -> None:
        self.try_depth += 1
        self.frame.states.append(self.frame.state)

    def leave_Try_body(self, node: cst.Try) -> None:
        self.try_depth -= 1
        self.frame.states.pop()

    # -- with asyncio.Runner() as runner ------------------------------------------
    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            if (
                item.asname is not None
                and isinstance(item.asname.name, cst.Name)
                and self._call_name(item.item) in _RUNNER
            ):
                self.frame.runners.add(item.asname.name.value)

    def visit_ExceptHandler_body(self, node: cst.ExceptHandler) -> None:
        self.frame.states.append(self.handler_states.get(id(node), self.frame.state))

    def leave_ExceptHandler_body(self, node: cst.ExceptHandler) -> None:
        self.frame.states.pop()

    def visit_Try_orelse(self, node: cst.Try) -> None:
        has_probe, _ = self.try_info.get(id(node), (False, UNKNOWN_STATE))
        state = (
            State(RUNNING, "in the `else` of a try around asyncio.get_running_loop()")
            if has_probe
            else self.frame.state
        )
        self.frame.states.append(state)

    def leave_Try_orelse(self, node: cst.Try) -> None:
        self.frame.states.pop()

    def leave_Try(self, original_node: cst.Try) -> None:
        has_probe, _ = self.try_info.pop(id(original_node), (False, UNKNOWN_STATE))
        for handler in original_node.handlers:
            self.handler_states.pop(id(handler), None)
        if not has_probe:
            return
        running_exits = _always_exits(original_node.body) or _always_exits(original_node.orelse)
        catching = [h for h in original_node.handlers if self._catches_runtime_error(h)]
        handler_exits = all(_always_exits(h.body) for h in catching)
        if running_exits and not handler_exits:
            self.frame.states[-1] = State(
                NOT_RUNNING, "after a guard that returns when a loop is running"
            )
        elif handler_exits and not running_exits:
            self.frame.states[-1] = State(RUNNING, "after asyncio.get_running_loop() returned")

    # -- calls -----------------------------------------------------------------
    def _where(self) -> str:
        scope = self.context.scope
        if self.func_stack:
            return f"`{scope}()`"
        return f"class `{scope}`" if scope else "module-level code"

    def _label(self, node: cst.Call) -> str:
        text = " ".join(self.context.code_for(node.func).split())
        if len(text) > 60:
            text = "..." + text[-57:]
        resolved = self._resolve(node.func)
        if resolved and resolved != text:
            return f"{text}() (= {resolved})"
        return f"{text}()"

    def _add(self, code: str, node: cst.CSTNode, message: str) -> None:
        if id(node) in self.reported:
            return
        self.reported.add(id(node))
        decorators = tuple(d for _, decs in self.func_stack for d in decs)
        self.calls.append(
            LoopCall(
                code=code,
                site=Site(
                    span=self.context.span(node),
                    scope=self.context.scope,
                    snippet=self.context.snippet(node),
                ),
                message=message,
                function=self.top_function,
                in_main_block=self.main_depth > 0,
                decorators=decorators,
                label=self._label(node) if isinstance(node, cst.Call) else "",
                in_lambda=self.frame.name == "<lambda>",
                argument=_root_argument(node) if isinstance(node, cst.Call) else "",
            )
        )

    def _threadsafe_running_loop(self, call: cst.BaseExpression) -> str:
        """For ``run_coroutine_threadsafe(coro, loop)`` on this thread's running loop,
        a description of that loop; else ""."""
        if not isinstance(call, cst.Call) or self._call_name(call) not in _THREADSAFE:
            return ""
        loop_arg = None
        for index, arg in enumerate(call.args):
            if (arg.keyword is not None and arg.keyword.value == "loop") or (
                arg.keyword is None and index == 1
            ):
                loop_arg = arg.value
        if loop_arg is None:
            return ""
        kind = self._loop_kind(loop_arg)
        if kind is None or not self._is_current_loop(kind[0], self.frame.state):
            return ""
        source = " ".join(self.context.code_for(loop_arg).split())
        if kind[0] == "running" and source != kind[1].split(" ")[0]:
            return f"`{source}` from {kind[1]}"
        return f"`{source}`"

    def visit_Call(self, node: cst.Call) -> None:
        frame = self.frame
        if not frame.is_async and frame.state.known != UNKNOWN:
            span = self.context.span(node)
            self.known_calls.append((span.start_line, span.start_col, frame.state.known))
        name = self._call_name(node)
        if name in _RUN:
            self._loop_start(node, "asyncio.run", None)
        elif name in _NEW_LOOP | _SET_LOOP | _SET_POLICY | _NEST:
            if name in _NEST:
                self.nest_asyncio = True
            self._global_state(node, name)
        elif (
            isinstance(node.func, cst.Attribute)
            and node.func.attr.value == "run"
            and (
                self._call_name(node.func.value) in _RUNNER
                or (
                    isinstance(node.func.value, cst.Name) and node.func.value.value in frame.runners
                )
            )
        ):
            self._loop_start(node, "asyncio.run", None)
        elif name in _WAIT:
            self._wait(node)
        elif isinstance(node.func, cst.Attribute):
            method = node.func.attr.value
            if method in ("run_until_complete", "run_forever"):
                kind = self._loop_kind(node.func.value)
                if kind is not None:
                    self._loop_start(node, method, kind)
            elif method == "result":
                receiver = node.func.value
                loop = self._threadsafe_running_loop(receiver)
                if not loop and isinstance(receiver, cst.Name):
                    loop = self.frame.futures.get(receiver.value, "")
                if loop:
                    label = (
                        "run_coroutine_threadsafe(...).result()"
                        if isinstance(receiver, cst.Call)
                        else f"{self._label(node)}"
                    )
                    self._deadlock(node, label, loop, timeout=bool(node.args))

    def _deadlock(self, node: cst.Call, label: str, loop: str, timeout: bool) -> None:
        wait = "hangs until its timeout expires" if timeout else "hangs forever"
        self._add(
            "IL204",
            node,
            f"`{label}` blocks on a coroutine scheduled with "
            f"run_coroutine_threadsafe() on {loop}, the running loop of this very thread: "
            f"the loop cannot make progress while its own thread waits, so the call {wait}; "
            "await the coroutine (or schedule it with create_task) instead",
        )

    def _wait(self, node: cst.Call) -> None:
        for arg in node.args[:1]:
            values: list[cst.BaseExpression] = [arg.value]
            if isinstance(arg.value, (cst.List, cst.Tuple, cst.Set)):
                values = [e.value for e in arg.value.elements]
            for value in values:
                loop = self._threadsafe_running_loop(value)
                if not loop and isinstance(value, cst.Name):
                    loop = self.frame.futures.get(value.value, "")
                if loop:
                    timeout = any(a.keyword and a.keyword.value == "timeout" for a in node.args)
                    self._deadlock(
                        node, self._label(node), loop, timeout=timeout or len(node.args) > 1
                    )
                    return

    def _loop_start(self, node: cst.Call, what: str, kind: tuple[LoopKind, str] | None) -> None:
        frame = self.frame
        if frame.name != "<lambda>":
            self.loop_runners.add(self.context.scope)
        state = frame.state
        if kind is not None and kind[0] == "running":
            if state.known == UNKNOWN:
                state = State(RUNNING, "asyncio.get_running_loop() returned")
            elif state.known == NOT_RUNNING:
                return  # a stale binding: the guard says no loop runs here
        label = self._label(node)
        if frame.is_async and state.known == RUNNING:
            if what == "run_forever":
                error = "This event loop is already running / another loop is running"
            elif what == "asyncio.run":
                error = "asyncio.run() cannot be called from a running event loop"
            else:
                error = "Cannot run the event loop while another loop is running"
            self._add(
                "IL202",
                node,
                f"`{label}` inside `async def {frame.name}` cannot work: the coroutine already "
                f"runs inside an event loop, so it raises RuntimeError ('{error}'); "
                "await the coroutine instead",
            )
            return
        if state.known == RUNNING:
            if kind is not None and what != "run_forever" and self._is_current_loop(kind[0], state):
                self._add(
                    "IL204",
                    node,
                    f"`{label}` blocks on {kind[1]}, the loop already running in this thread "
                    f"({state.reason}): the loop cannot make progress while its own thread "
                    "waits on it, so the call cannot complete (it raises RuntimeError 'This "
                    "event loop is already running'); await the coroutine or schedule it with "
                    "create_task instead",
                )
                return
            if what == "asyncio.run":
                error = "asyncio.run() cannot be called from a running event loop"
            else:
                error = "Cannot run the event loop while another loop is running"
            started = f"(a loop from {kind[1]}) " if kind is not None else ""
            self._add(
                "IL205",
                node,
                f"`{label}` starts an event loop {started}where one is known to be running "
                f"({state.reason}): it always raises RuntimeError ('{error}'); schedule the "
                "coroutine on the running loop (create_task / await) or run it in a worker "
                "thread instead",
            )
            return
        if state.known == NOT_RUNNING or what == "run_forever":
            return
        self._add(
            "IL201",
            node,
            f"`{label}` runs an event loop in library code ({self._where()}): it raises "
            "RuntimeError when the caller already runs a loop (a notebook, an async server, "
            "an async trainer) and otherwise starts a second loop that objects bound to "
            "another loop cannot use; expose an async API, or guard the call with "
            "asyncio.get_running_loop()",
        )

    def _global_state(self, node: cst.Call, name: str) -> None:
        label = self._label(node)
        if name in _NEW_LOOP:
            why = (
                "creates an event loop that the library must own, install and close; objects "
                "bound to it cannot be used from the caller's loop"
            )
        elif name in _SET_LOOP:
            why = "replaces the current thread's event loop for every other user of the thread"
        elif name in _SET_POLICY:
            why = "replaces the process-wide event loop policy for every other library"
        else:
            why = (
                "patches asyncio process-wide so that loops re-enter, changing the semantics "
                "of every loop the application runs"
            )
        self._add(
            "IL203",
            node,
            f"`{label}` in library code ({self._where()}) {why}; leave global event-loop state "
            "to the application's entry point",
        )
