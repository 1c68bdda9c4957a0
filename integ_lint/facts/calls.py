"""Call facts: the functions a file defines and the calls they make, for the call graph.

One :class:`CallFactsCollector` walks each file in the engine's single traversal and
records, without any configuration:

* every function definition (qualname, ``async``, decorators, parameter names)
  and every class (bases, attribute types from annotations and constructor calls);
* every call whose target the project phase may resolve to a project function: a plain
  or imported name, ``self.method()`` / ``cls.method()`` / ``super().method()``,
  ``self.attr.method()`` and ``var.method()`` on an annotated (or constructed) variable.
  Each carries whether it is an expression statement (its value dropped), whether it
  runs on every path through its function, and whether it is in the ``__main__`` block;
* functions handed to another thread, process or the loop (``Thread(target=f)``,
  ``executor.submit(f)``, ``run_in_executor(None, f)``, ``asyncio.to_thread(f)``,
  ``anyio.to_thread.run_sync(f)``, ``Process(target=f)``, ``loop.call_soon(f)``);
* blocking calls (``time.sleep``, ``requests.*``, ``httpx.get``, ``subprocess.run``, ...),
  requests of a synchronous HTTP client (``httpx.Client``, ``requests.Session``) bound to
  a variable (``with httpx.Client() as client``, ``session = requests.Session()``), and
  ``.get()`` / ``.acquire()`` / ``.result()`` without timeout on a receiver whose type
  the project phase can check;
* the positions of loop-starting calls (``run``, ``run_until_complete``,
  ``run_forever``) that run on every path.

Names are resolved only as far as the file allows: a name that is not imported is
``<module>.<name>``; the project phase (:mod:`integ_lint.model.call_graph`) decides whether
it is a project function. The value is plain data, cached by content.
"""

from __future__ import annotations

import builtins
import sys
from dataclasses import dataclass, field
from sys import intern
from typing import TypeVar

import libcst as cst

from integ_lint.facts.collector import FactCollector, visitor_method_names
from integ_lint.facts.context import FileContext, dotted_name, is_main_guard
from integ_lint.facts.records import SITE_FIELDS, SiteRecord, TupleRecord

_BUILTINS = frozenset(dir(builtins))
_STDLIB = frozenset(sys.stdlib_module_names) - {"test"}

# Call roles: how the target runs relative to the caller.
CALL = "call"  # a plain call: same thread, same loop state as the caller
THREAD = "thread"  # the target runs in a new thread or a thread pool: no loop running
PROCESS = "process"  # the target runs in another process: no loop running
LOOP_CALLBACK = "loop"  # the target runs as a callback of the running loop
REFERENCE = "ref"  # the function escapes as a value (callback, table entry): unknown caller

_THREAD_CLASSES = frozenset({"threading.Thread", "threading.Timer"})
_PROCESS_CLASSES = frozenset({"multiprocessing.Process", "multiprocessing.context.Process"})
_TO_THREAD = frozenset(
    {"asyncio.to_thread", "asyncio.threads.to_thread", "anyio.to_thread.run_sync"}
)
_LOOP_CALLBACKS = frozenset({"call_soon", "call_soon_threadsafe", "call_later", "call_at"})
_PARTIAL = frozenset({"functools.partial"})
# What _submission can recognise a call by, besides a name ending in Thread or Process.
_SUBMITTING_NAMES = _THREAD_CLASSES | _PROCESS_CLASSES | _TO_THREAD
_SUBMITTING_METHODS = _LOOP_CALLBACKS | {"submit", "run_in_executor"}

# Blocking calls recognised by their resolved name.
_BLOCKING_NAMES = frozenset(
    {
        "time.sleep",
        "urllib.request.urlopen",
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "socket.create_connection",
        "requests.get",
        "requests.post",
        "requests.put",
        "requests.patch",
        "requests.delete",
        "requests.head",
        "requests.options",
        "requests.request",
        # httpx's module-level functions are synchronous, like requests' (its async
        # API is ``httpx.AsyncClient``).
        "httpx.get",
        "httpx.post",
        "httpx.put",
        "httpx.patch",
        "httpx.delete",
        "httpx.head",
        "httpx.options",
        "httpx.request",
        "urllib.request.urlretrieve",
    }
)
# Synchronous HTTP clients: every request method blocks until the response arrives.
_HTTP_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "request", "send", "stream"}
)
BLOCKING_CLIENTS: dict[str, frozenset[str]] = {
    "httpx.Client": _HTTP_METHODS,
    "requests.Session": _HTTP_METHODS,
    "requests.sessions.Session": _HTTP_METHODS,
}
# Constructors whose instances block in a method called without a timeout.
BLOCKING_TYPES: dict[str, str] = {
    "threading.Lock": "acquire",
    "threading.RLock": "acquire",
    "queue.Queue": "get",
    "queue.SimpleQueue": "get",
    "queue.LifoQueue": "get",
    "queue.PriorityQueue": "get",
    "multiprocessing.Queue": "get",
    "concurrent.futures.Future": "result",
}
_FUTURE_FACTORIES = frozenset({"submit", "run_coroutine_threadsafe"})
# Node parts whose code runs on some paths only (attribute hooks where a part of the
# node is conditional, whole nodes otherwise).
_BRANCHES = (
    "If_body",
    "If_orelse",
    "For_body",
    "For_orelse",
    "While_orelse",
    "ExceptHandler",
    "ExceptStarHandler",
    "Try_orelse",
    "MatchCase",
    "IfExp",
    "BooleanOperation_right",
    "ListComp",
    "SetComp",
    "DictComp",
    "GeneratorExp",
)
_LOOP_STARTS = frozenset({"run", "run_until_complete", "run_forever"})
_TRANSPARENT_DECORATORS = frozenset(
    {
        "staticmethod",
        "classmethod",
        "abc.abstractmethod",
        "abstractmethod",
        "typing.override",
        "typing_extensions.override",
        "override",
    }
)


# Records: tuples with the site flattened into their first six fields, declared as
# integ_lint.facts.records says (which says why). The project phase reads the flat
# fields (``start_line``, ``start_col``) where it walks every call.


class FunctionFact(SiteRecord):
    """One ``def`` / ``async def``. ``qualname`` is dotted (``Class.method``,
    ``outer.inner``); ``owner`` is the qualname of the class it is a method of. The
    position, ``scope`` and ``snippet`` are those of the name's :attr:`site`."""

    qualname: str
    is_async: bool
    owner: str = ""
    decorators: tuple[str, ...] = ()
    param_names: tuple[str, ...] = ()
    generator: bool = False  # its body yields (an async def that yields: async generator)
    # Its name is bound again in the same scope (another ``def``, ``f = wrap(f)``): a
    # call by that name may not reach this body.
    rebound: bool = False

    @property
    def transparent(self) -> bool:
        """Whether calling it by its name surely runs this body: no decorator and no
        later rebinding may change what the call returns."""
        return not self.rebound and all(d in _TRANSPARENT_DECORATORS for d in self.decorators)


class ClassFact(TupleRecord):
    qualname: str
    bases: tuple[str, ...] = ()  # resolved dotted names
    attributes: tuple[tuple[str, str], ...] = ()  # (attribute, resolved type)


class CallFact(SiteRecord):
    """One call (or function reference handed to a thread, process or the loop).

    ``how`` says how to resolve it: ``name`` (``ref`` is a dotted name), ``self``
    (``ref`` is the class, ``method`` the method), ``super`` (method of a base of
    ``ref``), ``attr`` (``self.<attr>.<method>()`` in class ``ref``), ``typed``
    (``<var>.<method>()`` where ``ref`` is the variable's type). The position,
    ``scope`` and ``snippet`` are those of the call's :attr:`site`.
    """

    caller: str  # qualname of the enclosing function; "" at module level
    how: str
    ref: str
    method: str = ""
    attr: str = ""
    role: str = CALL
    dropped: bool = False  # an expression statement: the value is thrown away
    always: bool = True  # runs on every path through the caller
    in_main: bool = False  # in the module's ``if __name__ == "__main__":`` block
    blocking: str = ""  # for attr/typed receivers: the blocking method, when no timeout


class BlockingCall(SiteRecord):
    caller: str
    what: str  # the resolved name, e.g. ``time.sleep``
    always: bool = True  # made on every path through the caller


# A record's site while the walk goes on: none yet (see CallFactsCollector._placed).
_NO_SITE: tuple[int, int, int, int, str, str] = (0, 0, 0, 0, "", "")
_SITE_SIZE = len(SITE_FIELDS)
# The node a record's site is worked out from, and its scope (None: no scope and no
# snippet, a site never reported).
_SiteOf = tuple[cst.CSTNode, str | None]
_Sited = TypeVar("_Sited", FunctionFact, CallFact, BlockingCall)


def _with_site(record: _Sited, site: tuple[int, int, int, int, str, str]) -> _Sited:
    """``record`` with ``site`` in its first six fields (a plain tuple's, as the record
    classes are: see integ_lint.facts.records)."""
    return tuple.__new__(type(record), (*site, *record[_SITE_SIZE:]))


@dataclass(frozen=True)
class ModuleCallFacts:
    module: str
    functions: tuple[FunctionFact, ...] = ()
    classes: tuple[ClassFact, ...] = ()
    calls: tuple[CallFact, ...] = ()
    blocking: tuple[BlockingCall, ...] = ()
    # (line, column) of loop-starting calls that run on every path through their function.
    always_loop_starts: frozenset[tuple[int, int]] = frozenset()
    aliases: tuple[tuple[str, str], ...] = ()  # module-level import bindings (re-exports)


@dataclass
class _Function:
    qualname: str
    is_async: bool
    owner: str
    self_name: str  # first parameter of a method ("" otherwise)
    nested: set[str] = field(default_factory=set)
    # Names bound in the function (parameters, assignments): a call through one of them
    # is not the module-level function of the same name.
    local_names: set[str] = field(default_factory=set)
    types: dict[str, str] = field(default_factory=dict)  # variable -> resolved type
    conditional: int = 0  # depth of branches around the current statement
    # Depth of ``try`` bodies with ``except`` handlers around the current statement: a
    # return or raise there may be skipped or caught, and the code after the ``try``
    # run only then (``try: return cache[key]`` / ``except KeyError: pass``).
    handled: int = 0
    exited: bool = False  # a conditional return/break was seen: later code may not run
    raised: bool = False  # a conditional raise was seen: later code runs unless it raised
    yields: bool = False


def _annotation_type(context: FileContext, node: cst.BaseExpression | None) -> str:
    """The dotted type named by an annotation (``X``, ``mod.X``, ``Optional[X]``,
    ``X | None``, ``"X"``), resolved through imports; "" when it is not one class."""
    if node is None:
        return ""
    if isinstance(node, cst.SimpleString):
        text = node.evaluated_value
        if isinstance(text, str) and len(text) < 200:
            try:
                return _annotation_type(context, cst.parse_expression(text))
            except cst.ParserSyntaxError:
                return ""
        return ""
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        sides = [node.left, node.right]
        real = [s for s in sides if not (isinstance(s, cst.Name) and s.value == "None")]
        return _annotation_type(context, real[0]) if len(real) == 1 else ""
    if isinstance(node, cst.Subscript):
        outer = _resolve_name(context, node.value)
        if outer in ("typing.Optional", "Optional") and len(node.slice) == 1:
            element = node.slice[0].slice
            if isinstance(element, cst.Index):
                return _annotation_type(context, element.value)
        return ""
    if isinstance(node, (cst.Name, cst.Attribute)):
        return _resolve_name(context, node)
    return ""


def _resolve_name(context: FileContext, node: cst.BaseExpression) -> str:
    """Dotted absolute name of a Name/Attribute chain: through imports, else as a name
    of this module; "" for builtins and anything else."""
    resolved = context.resolve(node)
    if resolved:
        return resolved
    dotted = dotted_name(node)
    if not dotted:
        return ""
    head = dotted.split(".", 1)[0]
    if head in _BUILTINS:
        return ""
    return f"{context.module}.{dotted}" if context.module else dotted


class CallFactsCollector(FactCollector):
    """Collects :class:`ModuleCallFacts` for one file."""

    KEY = "calls"

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        # The records are made with no site (_NO_SITE) as the walk meets them, each
        # beside the node and scope its site is worked out from once the walk is over
        # (see _placed): the positions are then numbered in one go, not one question
        # at a time, and only for the calls kept.
        self.functions: list[FunctionFact] = []
        self.function_sites: list[_SiteOf] = []
        self.function_index: dict[str, int] = {}  # qualname -> its latest definition
        self.classes: list[ClassFact] = []
        self.calls: list[CallFact] = []
        self.call_sites: list[_SiteOf] = []
        self.blocking: list[BlockingCall] = []
        self.blocking_sites: list[_SiteOf] = []
        self.loop_starts: list[cst.Call] = []  # the loop-starting calls on every path
        self.stack: list[_Function] = []
        self.class_stack: list[str] = []  # qualnames
        self.class_attributes: dict[str, dict[str, str]] = {}
        self.class_bases: dict[str, tuple[str, ...]] = {}
        self.dropped: set[int] = set()
        self.handled: set[int] = set()  # calls already recorded as a submission's argument
        self.handled_refs: set[int] = set()  # references already recorded as submissions
        self.lambda_depth = 0
        self.main_depth = 0
        # Enclosing loops, innermost last: whether each is a ``while True:``.
        self.loops: list[bool] = []
        self.module_types: dict[str, str] = {}
        self._lines: list[str] | None = None

    # -- results ---------------------------------------------------------------
    def collect(self) -> ModuleCallFacts:
        classes = tuple(
            ClassFact(
                qualname=name,
                bases=self.class_bases.get(name, ()),
                attributes=tuple(sorted(self.class_attributes.get(name, {}).items())),
            )
            for name in self.class_bases
        )
        module_aliases = tuple(sorted(self.context.aliases.names.items()))
        range_of = self.context.positions.range_of
        always_loop_starts = frozenset(
            (start_line, start_col + 1)
            for start_line, start_col, _, _ in map(range_of, self.loop_starts)
        )
        return ModuleCallFacts(
            module=self.context.module,
            functions=self._placed(self.functions, self.function_sites),
            classes=classes,
            calls=self._kept_calls(),
            blocking=self._placed(self.blocking, self.blocking_sites),
            always_loop_starts=always_loop_starts,
            aliases=module_aliases,
        )

    def _kept_calls(self) -> tuple[CallFact, ...]:
        """The calls worth caching: a name of this module that the module does not
        define at top level (a local variable, a builtin shadow) can never resolve, and
        the text of a site that can never be reported is dropped."""
        module = self.context.module
        defined = {f.qualname.split(".", 1)[0] for f in self.functions}
        defined.update(name.split(".", 1)[0] for name in self.class_bases)
        prefix = module + "."
        kept: list[CallFact] = []
        kept_sites: list[_SiteOf] = []
        for call, site in zip(self.calls, self.call_sites):
            if call.how == "name" and module and call.ref.startswith(prefix):
                if call.ref[len(prefix) :].split(".", 1)[0] not in defined:
                    continue
            elif call.how in ("name", "typed") and call.ref.split(".", 1)[0] in _STDLIB:
                continue  # the standard library is never a project module
            if call.role != CALL:
                site = (site[0], None)  # never reported: no scope, no snippet
            kept.append(call)
            kept_sites.append(site)
        return self._placed(kept, kept_sites)

    def _site_of(self, node: cst.CSTNode) -> _SiteOf:
        """What ``node``'s :class:`Site` is worked out from once the walk is over (see
        _placed): the node and the scope it is in now."""
        # Interned: every call of a scope then holds the same string, pickled once.
        return node, intern(self.context.scope)

    def _placed(self, records: list[_Sited], sites: list[_SiteOf]) -> tuple[_Sited, ...]:
        """``records`` with the fields of their :class:`Site` filled in, flat: start line
        and column, end line and column (1-based, as in a :class:`Span`), scope and
        snippet (both empty for a site without a scope)."""
        range_of = self.context.positions.range_of
        placed: list[_Sited] = []
        for record, (node, scope) in zip(records, sites):
            start_line, start_col, end_line, end_col = range_of(node)
            start_col, end_col = start_col + 1, end_col + 1
            text = "" if scope is None else self._text(start_line, start_col, end_line, end_col)
            site = (start_line, start_col, end_line, end_col, scope or "", text)
            placed.append(_with_site(record, site))
        return tuple(placed)

    def _text(
        self, start_line: int, start_col: int, end_line: int, end_col: int, limit: int = 200
    ) -> str:
        """The whitespace-normalised source of ``span``, sliced from the text: most
        call facts never become findings, so generating code per node would cost more
        than the rest of the collector."""
        if self._lines is None:
            # Only "\n" ends a line for the tokenizer (not form feeds or U+2028).
            self._lines = [line + "\n" for line in self.context.source.split("\n")]
        lines = self._lines
        first, last = start_line - 1, end_line - 1
        if not 0 <= first <= last < len(lines):
            return ""
        if first == last:
            text = lines[first][start_col - 1 : end_col - 1]
        else:
            text = lines[first][start_col - 1 :]
            text += "".join(lines[first + 1 : last]) + lines[last][: end_col - 1]
        return " ".join(text.split())[:limit]

    @property
    def function(self) -> _Function | None:
        return self.stack[-1] if self.stack else None

    # -- definitions -----------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        qualname = ".".join([*self.context.scope_stack, node.name.value])
        bases = []
        for arg in node.bases:
            if arg.keyword is None:
                base = _resolve_name(self.context, arg.value)
                if base:
                    bases.append(base)
        self.class_bases[qualname] = tuple(bases)
        self.class_attributes.setdefault(qualname, {})
        self.class_stack.append(qualname)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.class_stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        qualname = intern(".".join([*self.context.scope_stack, node.name.value]))
        parent = self.function
        if parent is not None:
            parent.nested.add(node.name.value)
        owner = ""
        if self.class_stack and self.context.scope == self.class_stack[-1]:
            owner = self.class_stack[-1]
        decorators = []
        for decorator in node.decorators:
            expr = decorator.decorator
            if isinstance(expr, cst.Call):
                expr = expr.func
            name = self.context.resolve(expr) or dotted_name(expr) or ""
            if name:
                decorators.append(name)
        all_params = [
            *node.params.posonly_params,
            *node.params.params,
            *node.params.kwonly_params,
        ]
        types: dict[str, str] = {}
        for param in all_params:
            if param.annotation is not None:
                kind = _annotation_type(self.context, param.annotation.annotation)
                if kind:
                    types[param.name.value] = kind
        self_name = ""
        if owner and all_params and "staticmethod" not in decorators:
            self_name = all_params[0].name.value
        self._mark_rebound(qualname)
        self.function_index[qualname] = len(self.functions)
        self.function_sites.append(self._site_of(node.name))
        self.functions.append(
            FunctionFact(
                *_NO_SITE,
                qualname,
                node.asynchronous is not None,
                owner=owner,
                decorators=tuple(decorators),
                param_names=tuple(p.name.value for p in all_params),
            )
        )
        self.stack.append(
            _Function(
                qualname,
                node.asynchronous is not None,
                owner,
                self_name,
                types=types,
                local_names={p.name.value for p in all_params}
                | {
                    p.name.value
                    for p in (node.params.star_arg, node.params.star_kwarg)
                    if isinstance(p, cst.Param)
                },
            )
        )

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        frame = self.stack.pop()
        if frame.yields:
            index = self.function_index[frame.qualname]
            self.functions[index] = self.functions[index]._replace(generator=True)

    def _mark_rebound(self, qualname: str) -> None:
        """Record that the function ``qualname``, if defined already, is bound again."""
        index = self.function_index.get(qualname)
        if index is not None:
            self.functions[index] = self.functions[index]._replace(rebound=True)

    def visit_Yield(self, node: cst.Yield) -> None:
        if self.function is not None and not self.lambda_depth:
            self.function.yields = True

    # -- branches: calls that may not run ---------------------------------------
    def _branch_in(self, *_: object) -> None:
        if self.function is not None:
            self.function.conditional += 1

    def _branch_out(self, *_: object) -> None:
        if self.function is not None:
            self.function.conditional -= 1

    def get_visitors(self):  # type: ignore[no-untyped-def]
        # The per-class table: LibCST's own get_visitors runs inspect.getmembers on
        # every instance, per file (2.6% of a cold run on stable-baselines3).
        visitors = {name: getattr(self, name) for name in visitor_method_names(type(self))}
        for node in _BRANCHES:
            visitors[f"visit_{node}"] = self._branch_in
            visitors[f"leave_{node}"] = self._branch_out
        return visitors

    # The body of ``while True:`` runs at least once: it is not a branch. A conditional
    # ``break`` / ``continue`` in it makes the rest of the body conditional.
    def visit_While(self, node: cst.While) -> None:
        self.loops.append(_is_always_true(node.test))

    def leave_While(self, original_node: cst.While) -> None:
        self.loops.pop()

    def visit_While_body(self, node: cst.While) -> None:
        if not _is_always_true(node.test):
            self._branch_in()

    def leave_While_body(self, node: cst.While) -> None:
        if not _is_always_true(node.test):
            self._branch_out()

    def visit_For(self, node: cst.For) -> None:
        self.loops.append(False)
        self._record_binding(node.target, "", None)

    def leave_For(self, original_node: cst.For) -> None:
        self.loops.pop()

    def _leave_loop_body(self) -> None:
        if self.loops and self.loops[-1]:
            self._exit()

    def visit_Break(self, node: cst.Break) -> None:
        self._leave_loop_body()

    def visit_Continue(self, node: cst.Continue) -> None:
        self._leave_loop_body()

    def _exit(self) -> None:
        function = self.function
        if function is not None and (function.conditional or function.handled):
            function.exited = True

    def leave_Raise(self, original_node: cst.Raise) -> None:
        function = self.function
        if function is not None and function.handled:
            function.exited = True  # a handler may catch it and go on: not a guard
        elif function is not None and function.conditional:
            function.raised = True

    def visit_Try_body(self, node: cst.Try) -> None:
        if self.function is not None and node.handlers:
            self.function.handled += 1

    def leave_Try_body(self, node: cst.Try) -> None:
        if self.function is not None and node.handlers:
            self.function.handled -= 1

    def visit_TryStar_body(self, node: cst.TryStar) -> None:
        if self.function is not None:
            self.function.handled += 1

    def leave_TryStar_body(self, node: cst.TryStar) -> None:
        if self.function is not None:
            self.function.handled -= 1

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.lambda_depth += 1

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.lambda_depth -= 1

    def visit_If(self, node: cst.If) -> None:
        if not self.stack and not self.class_stack and is_main_guard(node.test):
            self.main_depth += 1

    def leave_If(self, original_node: cst.If) -> None:
        if not self.stack and not self.class_stack and is_main_guard(original_node.test):
            self.main_depth -= 1

    @property
    def _always(self) -> bool:
        function = self.function
        if function is None:
            return not self.main_depth
        return not (function.conditional or function.exited or function.raised or self.lambda_depth)

    @property
    def _blocks_always(self) -> bool:
        """For blocking calls: made on every path that does not raise (a guard that
        raises on bad input does not make the blocking call optional)."""
        function = self.function
        if function is None:
            return not self.main_depth
        return not (function.conditional or function.exited or self.lambda_depth)

    # -- types of variables and attributes ------------------------------------------
    def _constructed_type(self, value: cst.BaseExpression | None) -> str:
        """``T`` for ``T(...)`` where T looks like a class (or is a known blocking type)."""
        if not isinstance(value, cst.Call):
            return ""
        name = _resolve_name(self.context, value.func)
        last = name.rsplit(".", 1)[-1]
        if (
            name in BLOCKING_TYPES
            or name in BLOCKING_CLIENTS
            or (last[:1].isupper() and not last.isupper())
        ):
            return name
        if isinstance(value.func, cst.Attribute) and value.func.attr.value in _FUTURE_FACTORIES:
            return "concurrent.futures.Future"
        resolved = self.context.resolve(value.func) or ""
        if resolved.endswith("run_coroutine_threadsafe"):
            return "concurrent.futures.Future"
        return ""

    def _record_binding(
        self, target: cst.BaseExpression, annotation: str, value: cst.BaseExpression | None
    ) -> None:
        function = self.function
        kind = annotation or self._constructed_type(value)
        if not kind and isinstance(value, cst.Name) and function is not None:
            kind = function.types.get(value.value, "")  # self.client = client (annotated)
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._record_binding(element.value, "", None)
            return
        if isinstance(target, cst.Name):
            self._mark_rebound(".".join([*self.context.scope_stack, target.value]))
            if function is not None:
                function.local_names.add(target.value)
                if kind:
                    function.types[target.value] = kind
                else:
                    function.types.pop(target.value, None)
            elif not self.class_stack:
                if kind:
                    self.module_types[target.value] = kind
            elif annotation and self.context.scope == self.class_stack[-1]:
                self.class_attributes[self.class_stack[-1]][target.value] = kind
            return
        if (
            kind
            and function is not None
            and function.owner
            and isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == function.self_name
        ):
            attributes = self.class_attributes.setdefault(function.owner, {})
            attributes.setdefault(target.attr.value, kind)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            # ``with httpx.Client() as client``: the client's ``__enter__`` returns the
            # client. Other classes' ``__enter__`` may return anything: no type.
            kind = self._constructed_type(node.item)
            value = node.item if kind in BLOCKING_CLIENTS else None
            self._record_binding(node.asname.name, "", value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._record_binding(target.target, "", node.value)
        self._escape(node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        annotation = _annotation_type(self.context, node.annotation.annotation)
        self._record_binding(node.target, annotation, node.value)

    # -- references: functions that escape as values ---------------------------------
    def _escape(self, value: cst.BaseExpression) -> None:
        # By identity (final classes): an ABC's isinstance is slow, and this runs for
        # every argument and element.
        kind = type(value)
        if kind is not cst.Name and kind is not cst.Attribute:
            return
        target = self._target(value)
        if target is None:
            return
        caller = self.function.qualname if self.function is not None else ""
        self._add_call(caller, target, value, False, role=REFERENCE, in_main=False)

    def visit_Arg(self, node: cst.Arg) -> None:
        if id(node.value) not in self.handled_refs:
            self._escape(node.value)

    def visit_Element(self, node: cst.Element) -> None:
        self._escape(node.value)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        self._escape(node.value)

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self._escape(node.value)

    def leave_Return(self, original_node: cst.Return) -> None:
        self._exit()  # after its value: ``return fetch(url)`` in a ``try`` still calls

    # -- calls -----------------------------------------------------------------
    def visit_Expr(self, node: cst.Expr) -> None:
        if isinstance(node.value, cst.Call):
            self.dropped.add(id(node.value))

    def _target(self, expr: cst.BaseExpression) -> tuple[str, str, str, str] | None:
        """(how, ref, method, attr) of a callee expression, if it may be a project
        function."""
        function = self.function
        expr_kind = type(expr)  # by identity, as in _escape
        if expr_kind is cst.Name:
            name = expr.value  # type: ignore[attr-defined]
            if name in _BUILTINS and not self.context.resolve(expr):
                return None
            for frame in reversed(self.stack):
                if name in frame.local_names:
                    return None  # a parameter or local variable, not the module's function
                if name in frame.nested:
                    return "name", f"{self.context.module}.{frame.qualname}.{name}", "", ""
            resolved = _resolve_name(self.context, expr)
            return ("name", resolved, "", "") if resolved else None
        if expr_kind is not cst.Attribute:
            return None
        method = expr.attr.value  # type: ignore[attr-defined]
        receiver = expr.value  # type: ignore[attr-defined]
        if type(receiver) is cst.Name:
            if function is not None and function.owner and receiver.value == function.self_name:
                return "self", f"{self.context.module}.{function.owner}", method, ""
            binder = self._binding_frame(receiver.value)
            if binder is not None:
                kind = binder.types.get(receiver.value, "")
            else:
                kind = self.module_types.get(receiver.value, "")
            if kind:
                return "typed", kind, method, ""
            imported = self.context.resolve(expr)
            if imported:
                return "name", imported, "", ""
            if function is None and receiver.value in self.class_bases:
                return "name", f"{self.context.module}.{receiver.value}.{method}", "", ""
            if receiver.value[:1].isupper():
                local = _resolve_name(self.context, expr)
                return ("name", local, "", "") if local else None
            return None
        if (
            isinstance(receiver, cst.Call)
            and isinstance(receiver.func, cst.Name)
            and receiver.func.value == "super"
            and function is not None
            and function.owner
        ):
            return "super", f"{self.context.module}.{function.owner}", method, ""
        if (
            isinstance(receiver, cst.Call)
            and isinstance(receiver.func, cst.Name)
            and receiver.func.value == "type"
            and len(receiver.args) == 1
            and isinstance(receiver.args[0].value, cst.Name)
            and function is not None
            and function.owner
            and receiver.args[0].value.value == function.self_name
        ):
            return "self", f"{self.context.module}.{function.owner}", method, ""
        if (
            isinstance(receiver, cst.Attribute)
            and isinstance(receiver.value, cst.Name)
            and function is not None
            and function.owner
            and receiver.value.value == function.self_name
        ):
            return "attr", f"{self.context.module}.{function.owner}", method, receiver.attr.value
        dotted = self.context.resolve(expr)
        if dotted:
            return "name", dotted, "", ""
        return None

    def _binding_frame(self, name: str) -> _Function | None:
        """The innermost enclosing function that binds ``name`` (a parameter or local
        variable), if any: then the name is not the module-level one."""
        for frame in reversed(self.stack):
            if name in frame.local_names:
                return frame
        return None

    def _reference(self, expr: cst.BaseExpression) -> tuple[str, str, str, str] | None:
        """The function a reference (not a call) names: ``f``, ``self.m``,
        ``partial(f, ...)``, ``lambda: f(...)``."""
        self.handled_refs.add(id(expr))
        if isinstance(expr, cst.Call) and _resolve_name(self.context, expr.func) in _PARTIAL:
            return self._reference(expr.args[0].value) if expr.args else None
        if isinstance(expr, cst.Lambda) and isinstance(expr.body, cst.Call):
            self.handled.add(id(expr.body))
            return self._target(expr.body.func)
        return self._target(expr)

    def _submission(self, node: cst.Call, resolved: str) -> tuple[str, cst.BaseExpression] | None:
        """(role, target expression) when ``node`` hands a function to a thread, a
        process or the running loop."""
        method = node.func.attr.value if type(node.func) is cst.Attribute else ""
        last = resolved.rsplit(".", 1)[-1] if resolved else method
        if not (
            last.endswith(("Thread", "Process"))
            or resolved in _SUBMITTING_NAMES
            or method in _SUBMITTING_METHODS
        ):
            return None  # none of the cases below (most calls): no arguments gathered
        keyword = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        if resolved in _THREAD_CLASSES or (last.endswith("Thread") and "target" in keyword):
            if "target" in keyword:
                return THREAD, keyword["target"]
            if resolved == "threading.Timer" and len(positional) > 1:
                return THREAD, positional[1]
            if "function" in keyword:
                return THREAD, keyword["function"]
            return None
        if resolved in _PROCESS_CLASSES or (last.endswith("Process") and "target" in keyword):
            return (PROCESS, keyword["target"]) if "target" in keyword else None
        if resolved in _TO_THREAD:
            return (THREAD, positional[0]) if positional else None
        if method == "submit" and positional:
            return THREAD, positional[0]
        if method == "run_in_executor" and len(positional) > 1:
            return THREAD, positional[1]
        if method in _LOOP_CALLBACKS and positional:
            index = 1 if method in ("call_later", "call_at") else 0
            return (LOOP_CALLBACK, positional[index]) if len(positional) > index else None
        return None

    def visit_Call(self, node: cst.Call) -> None:
        resolved = _resolve_name(self.context, node.func)
        caller = self.function.qualname if self.function is not None else ""
        method = node.func.attr.value if isinstance(node.func, cst.Attribute) else ""
        always = self._always
        if (method in _LOOP_STARTS or resolved.endswith(".run")) and always:
            self.loop_starts.append(node)
        blocks_always = self._blocks_always
        is_blocking = resolved in _BLOCKING_NAMES or (
            resolved.startswith("requests.") and resolved.count(".") == 1 and method != "Session"
        )
        if is_blocking and (resolved != "time.sleep" or not _is_zero(node)):
            self._add_blocking(node, caller, resolved, blocks_always)
        submission = self._submission(node, resolved)
        if submission is not None:
            role, target_expr = submission
            self.handled_refs.add(id(target_expr))
            target = self._reference(target_expr)
            if target is not None:
                self._add_call(caller, target, target_expr, always, role=role)
        if self.lambda_depth and id(node) not in self.handled:
            return
        if id(node) in self.handled:
            return
        target = self._target(node.func)
        blocking = ""
        if method in ("get", "acquire", "result") and not node.args:
            blocking = method
        if target is None:
            if blocking and isinstance(node.func, cst.Attribute):
                self._local_blocking(node, node.func.value, blocking, caller)
            return
        how, ref, target_method, _ = target
        if how == "typed" and blocking and BLOCKING_TYPES.get(ref) == blocking:
            self._add_blocking(node, caller, f"{ref}.{blocking}", blocks_always)
            return
        if how == "typed" and target_method in BLOCKING_CLIENTS.get(ref, ()):
            self._add_blocking(node, caller, f"{ref}.{target_method}", blocks_always)
            return
        self._add_call(
            caller,
            target,
            node,
            always,
            dropped=id(node) in self.dropped,
            blocking=blocking if how == "attr" else "",
        )

    def _add_call(
        self,
        caller: str,
        target: tuple[str, str, str, str],
        at: cst.CSTNode,
        always: bool,
        *,
        role: str = CALL,
        dropped: bool = False,
        blocking: str = "",
        in_main: bool | None = None,
    ) -> None:
        """Record a call (or a submission, ``role``) of ``target`` (how, ref, method,
        attr: see :meth:`_target`) at ``at``; ``in_main`` defaults to whether ``at`` is
        in the ``__main__`` block."""
        how, ref, method, attr = target
        self.call_sites.append(self._site_of(at))
        self.calls.append(
            CallFact(
                *_NO_SITE,
                caller,
                how,
                # Interned: a file calls the same names and methods many times.
                intern(ref),
                method=intern(method),
                attr=intern(attr),
                role=role,
                dropped=dropped,
                always=always,
                in_main=bool(self.main_depth) if in_main is None else in_main,
                blocking=blocking,
            )
        )

    def _local_blocking(
        self, node: cst.Call, receiver: cst.BaseExpression, method: str, caller: str
    ) -> None:
        """``<call>.result()`` on ``executor.submit(...)`` /
        ``run_coroutine_threadsafe(...)``, without a timeout."""
        kind = self._constructed_type(receiver)
        if kind and BLOCKING_TYPES.get(kind) == method:
            self._add_blocking(node, caller, f"{kind}.{method}", self._blocks_always)

    def _add_blocking(self, node: cst.Call, caller: str, what: str, always: bool) -> None:
        self.blocking_sites.append(self._site_of(node))
        self.blocking.append(BlockingCall(*_NO_SITE, caller, what, always))


def _is_always_true(test: cst.BaseExpression) -> bool:
    """``while True:`` / ``while 1:``: the loop body runs at least once."""
    if isinstance(test, cst.Name):
        return test.value == "True"
    return isinstance(test, cst.Integer) and test.evaluated_value != 0


def _is_zero(node: cst.Call) -> bool:
    """``time.sleep(0)``: yields, does not block."""
    return (
        bool(node.args)
        and isinstance(node.args[0].value, (cst.Integer, cst.Float))
        and node.args[0].value.evaluated_value == 0  # any spelling: 0x0, 0.0, 0_0
    )
