"""Per-file facts for the config-schema rules (IL3xx).

One traversal records, without looking at configuration:

* every class with its bases and decorators (qualified through the file's import
  aliases), its annotated fields (declared type, literal default, span), its other
  members, and where its instance attributes come from (``self.x = ...``);
* module-level dict literals with string keys (mapping-style configs);
* function return annotations, module-level bindings and the import alias table (so the
  project phase can follow re-exports);
* config access sites: ``getattr(recv, "x", default)``, ``getattr(recv, "x")`` inside
  ``try/except AttributeError``, ``hasattr(recv, "x")``, ``recv.get("x", ...)`` and
  ``"x" in recv``, each with a symbolic description of its receiver (an
  :class:`Origin`) and the precomputed LibCST fix to plain access.

Which classes are *config* schemas, and which receivers are configs, is decided in the
project phase (:mod:`integ_lint.model.schema_index`), where settings apply.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, cast

import libcst as cst

from integ_lint.config.settings import CONFIG_FILE_SUFFIXES
from integ_lint.facts.collector import FactCollector
from integ_lint.facts.context import dotted_name
from integ_lint.facts.records import TupleRecord
from integ_lint.facts.syntax import visit_read_only
from integ_lint.findings.model import Fix, Span

if TYPE_CHECKING:
    from integ_lint.facts.context import FileContext

KEY = "config-schema"

_BUILTIN_NAMES = frozenset(dir(builtins))
_STDLIB = frozenset(sys.stdlib_module_names) - {"__main__"}
_FIELD_CALLS = frozenset({"Field", "field", "ib", "attrib"})
_PARSE_CLASSMETHODS = frozenset(
    {
        "model_validate",
        "model_validate_json",
        "model_validate_strings",
        "model_construct",
        "parse_obj",
        "parse_raw",
        "parse_file",
        "construct",
    }
)
_WRAPPERS = frozenset({"Optional", "Annotated", "Final", "Required", "NotRequired", "ReadOnly"})
# Displays whose value is certainly not a config object or mapping.
_DISPLAYS: tuple[tuple[type[cst.CSTNode], str], ...] = (
    (cst.List, "builtins.list"),
    (cst.ListComp, "builtins.list"),
    (cst.Tuple, "builtins.tuple"),
    (cst.Set, "builtins.set"),
    (cst.SetComp, "builtins.set"),
    (cst.SimpleString, "builtins.str"),
    (cst.ConcatenatedString, "builtins.str"),
    (cst.FormattedString, "builtins.str"),
    (cst.Integer, "builtins.int"),
    (cst.Float, "builtins.float"),
)
_DISPLAY_TYPES: dict[type[cst.CSTNode], str] = dict(_DISPLAYS)
_FACTORY_DEFAULTS = {"list": "[]", "dict": "{}", "tuple": "()", "set": "set()"}
# Methods whose top-level assignments to self always run when an instance exists.
_INIT_METHODS = frozenset({"__init__", "__post_init__", "__attrs_post_init__", "model_post_init"})
# Calls that build a path or open a file: their result is not the file's data.
_PATH_CALLS = frozenset(
    {"open", "Path", "PurePath", "PosixPath", "join", "joinpath", "str", "resolve", "abspath"}
)
# A config file named in code: (path, relative to __file__, loaded: the file's data
# rather than its path or handle, complete: the file alone, not merged or changed since)
_FileRef = tuple[str, bool, bool, bool]
# Calls that parse a file's text: another argument is a loader option, not more data.
_PARSE_CALLS = frozenset({"load", "loads", "safe_load", "full_load", "unsafe_load"})
_VALIDATE_METHODS = frozenset({"model_validate", "parse_obj", "validate", "from_dict"})
_LOADER_METHODS = _VALIDATE_METHODS | {"parse_file"}
_MUTATORS = frozenset({"update", "setdefault", "pop", "popitem", "clear", "__setitem__"})


class Origin(TupleRecord):
    """Where a value comes from, symbolically, followed by attribute accesses (a tuple
    record, :mod:`integ_lint.facts.records`: the call facts hold tens of thousands,
    unpickled when config flow asks for callers, and the project phase hashes them).

    ``kind``:
      * ``type``: an instance of one of ``names`` (qualified type names, from an
        annotation with Optional/Union/Annotated unwrapped);
      * ``call``: the result of calling ``names[0]`` (a class or a function);
      * ``self``: the instance of class ``names[0]`` (``self`` in its methods);
      * ``selfcall``: the result of method ``names[1]`` of class ``names[0]``;
      * ``global``: the module-level binding ``names[0]`` (qualified);
      * ``dict``: a dict display merging the globals ``names`` plus literal ``keys``;
      * ``classref``: the class object ``names[0]`` defined in a function;
      * ``none``: the ``None`` constant; ``unknown``: anything else.
    """

    kind: str
    names: tuple[str, ...] = ()
    attrs: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()

    def then(self, *attrs: str) -> Origin:
        # The constructor, not dataclasses.replace (a few times slower): this runs
        # for every attribute of every expression the collector follows.
        return Origin(self.kind, self.names, self.attrs + attrs, self.keys)


UNKNOWN = Origin("unknown")


# The records a file holds by the hundred (origins, calls, classes, fields, parameters)
# are tuple records (integ_lint.facts.records): a rebuild of the schema index unpickles
# every file's, and hashes origins; a frozen dataclass costs an instance and a __dict__.
class FieldFact(TupleRecord):
    """A declared field (or key) of a schema class / dict config."""

    name: str
    annotation: str  # source text of the declared type ("" for dict keys)
    types: tuple[str, ...]  # qualified type names, Optional/Union/Annotated unwrapped
    has_default: bool
    default: str | None  # canonical literal (see literal_key), None when not a literal
    default_text: str  # source text of the default ("" when none)
    span: Span
    required_key: bool = True  # TypedDict: total and not NotRequired
    alias: str = ""  # Field(alias="...") / validation_alias: the key a config file uses


class ClassFact(TupleRecord):
    """A class with what the project phase needs to tell whether it is a schema."""

    qualname: str
    name: str
    span: Span
    bases: tuple[str, ...]
    decorators: tuple[str, ...]
    fields: tuple[FieldFact, ...]
    members: tuple[str, ...]  # methods, properties, plain class attributes
    attr_origins: tuple[tuple[str, tuple[Origin, ...]], ...]  # self.<attr> sources
    # self.<attr> assigned by a top-level statement of __init__ / __post_init__ (not
    # under if/for/while/try): the attribute always exists on an instance.
    unconditional: tuple[str, ...] = ()
    extra: str = ""  # pydantic's extra= setting ("allow", "forbid", "ignore"), "" unknown
    # strings and keyword names in the class's own input code (from_dict / model_validate /
    # parse_obj / validate / parse_file, model_validator(mode="before"/"wrap"),
    # root_validator(pre=True)): keys it renames, drops or fills itself
    input_keys: tuple[str, ...] = ()
    # a method sets attributes of computed names (setattr(self, key, ...),
    # self.__dict__.update(...)): an instance may have any attribute
    dynamic_attrs: bool = False


@dataclass(frozen=True)
class DictFact:
    """A module-level dict literal whose keys are all string literals."""

    qualname: str
    name: str
    span: Span
    keys: tuple[FieldFact, ...]


@dataclass(frozen=True)
class AccessSite:
    """A defensive config read."""

    kind: str  # getattr | getattr-try | hasattr | get | in
    attr: str
    receiver: Origin
    receiver_text: str
    receiver_name: str  # last name of the receiver chain ("" when it is not a chain)
    has_default: bool
    default: str | None  # canonical literal of the fallback, None when not a literal
    default_text: str
    span: Span
    scope: str
    snippet: str
    fix: Fix | None  # rewrite to plain access, valid when the field is declared


class CallFact(TupleRecord):
    """A call with arguments whose values are described (for config-flow resolution:
    the type an unannotated parameter receives from every project call site); a tuple
    record, as :class:`Origin`."""

    callee: Origin
    args: tuple[Origin, ...]
    kwargs: tuple[tuple[str, Origin], ...]


class ParamsFact(TupleRecord):
    """The positional parameters of a function (``self`` / ``cls`` of a method left
    out), recorded when it has any parameter (a keyword is matched by name) and the
    project phase may look it up: a method's, or a function's whose parameters some
    origin of the file names (see :func:`_params_needed`)."""

    qualname: str
    positional: tuple[str, ...]


@dataclass(frozen=True)
class ConfigLoad:
    """A config file loaded into a schema in plain code.

    ``schema`` is the origin of the schema class; ``path`` the literal file name found
    in the loading expression (relative to the project root, or to the Python file when
    the expression mentions ``__file__``); ``complete`` is False when the data is merged
    with something else before validation (OmegaConf.merge, a dict that is updated).
    """

    schema: Origin
    path: str
    relative_to_file: bool
    complete: bool
    span: Span


@dataclass(frozen=True)
class SchemaFacts:
    module: str
    classes: tuple[ClassFact, ...] = ()
    dicts: tuple[DictFact, ...] = ()
    functions: tuple[tuple[str, Origin], ...] = ()  # qualname -> return type
    globals: tuple[tuple[str, Origin], ...] = ()  # qualname -> origin of the binding
    aliases: tuple[tuple[str, str], ...] = ()  # local name -> qualified target
    star_imports: tuple[str, ...] = ()  # modules imported with "from m import *"
    sites: tuple[AccessSite, ...] = ()
    params: tuple[ParamsFact, ...] = ()
    calls: tuple[CallFact, ...] = ()
    loads: tuple[ConfigLoad, ...] = ()


def literal_key(node: cst.BaseExpression | None, code: str) -> str | None:
    """A canonical form of a literal expression, equal for equal values (``1`` and
    ``1.0``, ``3e-4`` and ``0.0003``); ``True`` differs from ``1``. None when not a
    literal."""
    if node is None:
        return None
    try:
        value = ast.literal_eval(code.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return repr(_canonical(value))


def canonical_value(value: object) -> str:
    """The canonical form :func:`literal_key` gives a literal with this value (for
    values read from config files)."""
    return repr(_canonical(value))


def _canonical(value: object) -> object:
    if isinstance(value, bool) or value is None:
        return ("const", value)
    if isinstance(value, (int, float)):
        return ("num", float(value))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_canonical(v) for v in value))
    if isinstance(value, set):
        return ("set", tuple(sorted(repr(_canonical(v)) for v in value)))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((repr(k), repr(_canonical(v))) for k, v in value.items())))
    return (type(value).__name__, value)


def _string_value(node: cst.BaseExpression) -> str | None:
    kind = type(node)
    if kind is cst.SimpleString:
        text = cast(cst.SimpleString, node).value
        if text[0] in "'\"" and "\\" not in text and "\r" not in text:
            # No prefix, no escapes, no carriage return: the text between the quotes is
            # the value (``evaluated_value`` compiles it, for every string of a file).
            quotes = 3 if len(text) >= 6 and text[:3] in ('"""', "'''") else 1
            return text[quotes:-quotes]
    elif kind is not cst.ConcatenatedString:
        return None
    value = cast("cst.SimpleString | cst.ConcatenatedString", node).evaluated_value
    return value if isinstance(value, str) else None


def _is_identifier(text: str) -> bool:
    return text.isidentifier() and not keyword.iskeyword(text)


def _last(dotted: str) -> str:
    return dotted.rsplit(".", 1)[-1]


def unwrap_annotation(node: cst.BaseExpression | None) -> tuple[tuple[str, ...], bool, bool]:
    """Raw dotted type names of an annotation with Optional / Union / Annotated /
    Final / Required / NotRequired unwrapped and None dropped; plus whether it is a
    ClassVar and whether it is NotRequired."""
    names: list[str] = []
    flags = {"classvar": False, "not_required": False}

    def walk(expr: cst.BaseExpression, depth: int = 0) -> None:
        if depth > 20:
            return
        if type(expr) is cst.SimpleString or type(expr) is cst.ConcatenatedString:
            text = _string_value(expr)
            if text:
                try:
                    walk(cst.parse_expression(text.strip()), depth + 1)
                except Exception:
                    return
            return
        if type(expr) is cst.BinaryOperation and type(expr.operator) is cst.BitOr:
            walk(expr.left, depth + 1)
            walk(expr.right, depth + 1)
            return
        if type(expr) is cst.Subscript:
            head = dotted_name(expr.value) or ""
            short = _last(head)
            elements = [e.slice.value for e in expr.slice if isinstance(e.slice, cst.Index)]
            if short == "ClassVar":
                flags["classvar"] = True
                return
            if short == "NotRequired":
                flags["not_required"] = True
            if short in ("Union",):
                for element in elements:
                    walk(element, depth + 1)
                return
            if short in _WRAPPERS:
                if elements:
                    walk(elements[0], depth + 1)
                return
            if head:
                names.append(head)
            return
        dotted = dotted_name(expr)
        if dotted is None or dotted == "None":
            return
        if _last(dotted) == "ClassVar":
            flags["classvar"] = True
            return
        names.append(dotted)

    if node is not None:
        walk(node)
    return tuple(dict.fromkeys(names)), flags["classvar"], flags["not_required"]


@dataclass
class _Frame:
    kind: str  # module | class | function
    name: str = ""
    class_qual: str = ""  # for class frames: the qualified class name
    bindings: dict[str, Origin] = field(default_factory=dict)
    init_of: str = ""  # for __init__-like methods: the qualified class name
    conditional: int = 0  # depth of if/for/while/try/match around the current statement
    # local names bound to a config file (or its data)
    files: dict[str, _FileRef] = field(default_factory=dict)


@dataclass
class _ClassBuilder:
    qualname: str
    name: str
    # Placed in collect(), after the walk: a position asked during the walk cost
    # several times one asked after it (half a percent of a cold run on Django).
    name_node: cst.Name
    bases: list[str]
    decorators: list[str]
    total: bool
    fields: dict[str, FieldFact] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)
    attr_origins: dict[str, list[Origin]] = field(default_factory=dict)
    unconditional: list[str] = field(default_factory=list)
    extra: str = ""
    input_keys: list[str] = field(default_factory=list)
    dynamic_attrs: bool = False


class SchemaFactCollector(FactCollector):
    """Schema classes, dict configs, bindings and config access sites of one file."""

    KEY = KEY

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.frames: list[_Frame] = [_Frame("module")]
        self.classes: dict[str, _ClassBuilder] = {}
        self.dicts: list[DictFact] = []
        self.functions: dict[str, Origin] = {}
        self.globals: dict[str, Origin] = {}
        self.module_names: set[str] = set()
        self.sites: list[AccessSite] = []
        self.try_stack: list[bool] = []
        self.star_imports: list[str] = []
        # each function's positional parameters, and whether it is a method
        self.params: list[tuple[ParamsFact, bool]] = []
        self.calls: list[CallFact] = []
        self.loads: list[ConfigLoad] = []
        # hasattr call -> (node whose span the fix replaces, the node it becomes)
        self.hasattr_fixes: dict[int, tuple[cst.CSTNode, cst.CSTNode]] = {}

    # -- helpers ---------------------------------------------------------------
    @property
    def module(self) -> str:
        return self.context.module

    def _qual_prefix(self) -> str:
        scope = self.context.scope
        parts = [p for p in (self.module, scope) if p]
        return ".".join(parts)

    def _enclosing_class(self) -> _Frame | None:
        frame = self.frames[-1]
        return frame if frame.kind == "class" else None

    def _lookup(self, name: str) -> Origin:
        for frame in reversed(self.frames):
            if frame.kind == "function" and name in frame.bindings:
                return frame.bindings[name]
        return Origin("global", (name,))

    def _bind(self, name: str, origin: Origin) -> None:
        frame = self.frames[-1]
        if frame.kind == "class":
            return
        frame.bindings[name] = origin
        if frame.kind == "module":
            self.module_names.add(name)
            self.globals[name] = origin

    def origin_of(self, expr: cst.BaseExpression, depth: int = 0) -> Origin:
        """A symbolic description of where the value of ``expr`` comes from."""
        if depth > 30:
            return UNKNOWN
        # Types by identity (these classes have no subclasses): a failed isinstance
        # against LibCST's ABCs is a Python call, and this runs for most expressions.
        kind = type(expr)
        if kind is cst.Name:
            name = cast(cst.Name, expr).value
            if name == "None":
                return Origin("none")
            return self._lookup(name)
        if kind is cst.Attribute:
            attribute = cast(cst.Attribute, expr)
            return self.origin_of(attribute.value, depth + 1).then(attribute.attr.value)
        if kind is cst.Call:
            return self._call_origin(cast(cst.Call, expr), depth)
        if kind is cst.Dict:
            return self._dict_origin(cast(cst.Dict, expr), depth)
        if kind is cst.BooleanOperation:
            operation = cast(cst.BooleanOperation, expr)
            left = self.origin_of(operation.left, depth + 1)
            if left.kind not in ("unknown", "none"):
                return left
            return self.origin_of(operation.right, depth + 1)
        if kind is cst.IfExp:
            conditional = cast(cst.IfExp, expr)
            body = self.origin_of(conditional.body, depth + 1)
            if body.kind not in ("unknown", "none"):
                return body
            return self.origin_of(conditional.orelse, depth + 1)
        builtin = _DISPLAY_TYPES.get(kind)
        if builtin is not None:
            return Origin("type", (builtin,))
        return UNKNOWN

    def _call_origin(self, call: cst.Call, depth: int) -> Origin:
        func = call.func
        if type(func) is cst.Attribute:
            receiver = self.origin_of(func.value, depth + 1)
            method = func.attr.value
            if receiver.kind == "self" and not receiver.attrs:
                return Origin("selfcall", (receiver.names[0], method))
            if method in _PARSE_CLASSMETHODS:
                dotted = dotted_name(func.value)
                if dotted and receiver.kind == "global":
                    return Origin("call", (receiver.names[0] + _suffix(receiver.attrs),))
            dotted = dotted_name(func)
            if dotted and receiver.kind == "global":
                return Origin("call", (receiver.names[0] + _suffix(receiver.attrs) + "." + method,))
            return UNKNOWN
        if isinstance(func, cst.Name):
            origin = self._lookup(func.value)
            if origin.kind == "classref":
                return Origin("self", origin.names)  # an instance of the local class
            if origin.kind == "global":
                return Origin("call", (origin.names[0],))
        return UNKNOWN

    def _dict_origin(self, node: cst.Dict, depth: int) -> Origin:
        names: list[str] = []
        keys: list[str] = []
        for element in node.elements:
            if isinstance(element, cst.StarredDictElement):
                origin = self.origin_of(element.value, depth + 1)
                if origin.kind == "global" and not origin.attrs:
                    names.append(origin.names[0])
                elif origin.kind == "dict":
                    names.extend(origin.names)
                    keys.extend(origin.keys)
            elif isinstance(element, cst.DictElement):
                key = _string_value(element.key)
                if key is None:
                    return UNKNOWN
                keys.append(key)
        return Origin("dict", tuple(names), keys=tuple(keys))

    def _type_origin(self, annotation: cst.BaseExpression | None) -> Origin:
        names, _, _ = unwrap_annotation(annotation)
        return Origin("type", names) if names else UNKNOWN

    def _fix_for_attribute(self, call: cst.Call, receiver: cst.BaseExpression, attr: str) -> Fix:
        if not isinstance(receiver, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)):
            receiver = receiver.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        new = cst.Attribute(value=receiver, attr=cst.Name(attr))
        code = cst.Module(body=[]).code_for_node(new)
        return Fix(
            description=f"use {code} (the field is declared)",
            span=self.context.span(call),
            replacement=code,
        )

    # -- scopes ----------------------------------------------------------------
    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            module = dotted_name(node.module) if node.module else None
            self.star_imports.append(self.context.aliases.absolute(len(node.relative), module))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        qualname = f"{self._qual_prefix()}.{node.name.value}".lstrip(".")
        bases = [dotted_name(arg.value) for arg in node.bases if arg.keyword is None]
        total = True
        extra = ""
        for arg in node.keywords:
            if (
                arg.keyword is not None
                and arg.keyword.value == "total"
                and isinstance(arg.value, cst.Name)
            ):
                total = arg.value.value != "False"
            if arg.keyword is not None and arg.keyword.value == "extra":
                extra = _extra_value(arg.value)
        decorators = []
        for decorator in node.decorators:
            expr = decorator.decorator
            if isinstance(expr, cst.Call):
                expr = expr.func
            dotted = dotted_name(expr)
            if dotted:
                decorators.append(dotted)
        self.classes[qualname] = _ClassBuilder(
            qualname=qualname,
            name=node.name.value,
            name_node=node.name,
            bases=[b for b in bases if b],
            decorators=decorators,
            total=total,
            extra=extra,
        )
        enclosing = self._enclosing_class()
        if enclosing is not None:
            self.classes[enclosing.class_qual].members.append(node.name.value)
        if self.frames[-1].kind == "module":
            self.module_names.add(node.name.value)
        elif self.frames[-1].kind == "function":  # a class local to a function
            self.frames[-1].bindings[node.name.value] = Origin("classref", (qualname,))
        self.frames.append(_Frame("class", node.name.value, class_qual=qualname))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.frames.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        enclosing = self._enclosing_class()
        qualname = f"{self._qual_prefix()}.{node.name.value}".lstrip(".")
        if node.returns is not None:
            self.functions[qualname] = self._type_origin(node.returns.annotation)
        decorators = {
            _last(dotted_name(d.decorator) or "")
            for d in node.decorators
            if dotted_name(d.decorator)
        }
        if enclosing is not None:
            builder = self.classes[enclosing.class_qual]
            builder.members.append(node.name.value)
            if node.name.value in _LOADER_METHODS or any(map(_rewrites_input, node.decorators)):
                builder.input_keys.extend(_string_literals(node))
        elif self.frames[-1].kind == "module":
            self.module_names.add(node.name.value)
        frame = _Frame("function", node.name.value)
        params = [
            *node.params.posonly_params,
            *node.params.params,
        ]
        others = [*node.params.kwonly_params]
        for star in (node.params.star_arg, node.params.star_kwarg):
            if type(star) is cst.Param:
                others.append(star)
        positional: list[str] = []
        for index, param in enumerate(params):
            name = param.name.value
            if index == 0 and enclosing is not None and "staticmethod" not in decorators:
                frame.bindings[name] = (
                    UNKNOWN
                    if "classmethod" in decorators
                    else Origin("self", (enclosing.class_qual,))
                )
                continue
            positional.append(name)
            frame.bindings[name] = self._param_origin(qualname, param)
        keyword_only = [p.name.value for p in node.params.kwonly_params]
        for param in others:
            frame.bindings[param.name.value] = (
                self._param_origin(qualname, param) if param.name.value in keyword_only else UNKNOWN
            )
        if positional or keyword_only:
            self.params.append((ParamsFact(qualname, tuple(positional)), enclosing is not None))
        if enclosing is not None and node.name.value in _INIT_METHODS:
            frame.init_of = enclosing.class_qual
        self.frames.append(frame)

    def _param_origin(self, function: str, param: cst.Param) -> Origin:
        """An annotated parameter has its annotation's type; an unannotated one is
        resolved in the project phase from the arguments of every call site."""
        if param.annotation is not None:
            return self._type_origin(param.annotation.annotation)
        return Origin("param", (function, param.name.value))

    # -- conditional nesting (for unconditional __init__ assignments) ----------------
    def _enter_conditional(self) -> None:
        if self.frames[-1].kind == "function":
            self.frames[-1].conditional += 1

    def _leave_conditional(self) -> None:
        if self.frames[-1].kind == "function":
            self.frames[-1].conditional -= 1

    def visit_If(self, node: cst.If) -> None:
        self._enter_conditional()

    def leave_If(self, original_node: cst.If) -> None:
        self._leave_conditional()

    def visit_While(self, node: cst.While) -> None:
        self._enter_conditional()

    def leave_While(self, original_node: cst.While) -> None:
        self._leave_conditional()

    def visit_Try(self, node: cst.Try) -> None:
        self._enter_conditional()

    def leave_Try(self, original_node: cst.Try) -> None:
        self._leave_conditional()

    def visit_TryStar(self, node: cst.TryStar) -> None:
        self._enter_conditional()

    def leave_TryStar(self, original_node: cst.TryStar) -> None:
        self._leave_conditional()

    def visit_Match(self, node: cst.Match) -> None:
        self._enter_conditional()

    def leave_Match(self, original_node: cst.Match) -> None:
        self._leave_conditional()

    def leave_For(self, original_node: cst.For) -> None:
        self._leave_conditional()

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.frames.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        frame = _Frame("function", "<lambda>")
        for param in node.params.params:
            frame.bindings[param.name.value] = UNKNOWN
        self.frames.append(frame)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.frames.pop()

    def visit_Try_body(self, node: cst.Try) -> None:
        self.try_stack.append(any(_catches_attribute_error(h) for h in node.handlers))

    def leave_Try_body(self, node: cst.Try) -> None:
        self.try_stack.pop()

    # -- bindings --------------------------------------------------------------
    def leave_Assign(self, original_node: cst.Assign) -> None:
        value = original_node.value
        class_frame = self._enclosing_class()
        if class_frame is not None:
            builder = self.classes[class_frame.class_qual]
            for target in original_node.targets:
                if isinstance(target.target, cst.Name):
                    name = target.target.value
                    self._note_extra(class_frame, name, value)
                    if (
                        isinstance(value, cst.Call)
                        and _last(dotted_name(value.func) or "") in _FIELD_CALLS
                    ):
                        builder.fields[name] = self._field(
                            name, None, value, self.context.span(target.target)
                        )
                    else:
                        builder.members.append(name)
            return
        origin: Origin | None = None
        file = self._file_of(value)
        for target in original_node.targets:
            expr = target.target
            if type(expr) is cst.Name:
                origin = origin or self.origin_of(value)
                self._bind(expr.value, origin)
                files = self.frames[-1].files
                if file is not None:
                    files[expr.value] = file
                else:
                    files.pop(expr.value, None)
                if self.frames[-1].kind == "module" and isinstance(value, cst.Dict):
                    self._record_dict(expr.value, expr, value)
            elif type(expr) is cst.Subscript and type(expr.value) is cst.Name:
                self._mutated(expr.value.value)
            elif isinstance(expr, cst.Attribute):
                origin = origin or self.origin_of(value)
                self._record_attr(expr, origin)
            elif isinstance(expr, (cst.Tuple, cst.List)):
                for element in expr.elements:
                    if isinstance(element.value, cst.Name):
                        self._bind(element.value.value, UNKNOWN)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        target = original_node.target
        annotation = original_node.annotation.annotation
        class_frame = self._enclosing_class()
        if class_frame is not None and isinstance(target, cst.Name):
            builder = self.classes[class_frame.class_qual]
            _, classvar, _ = unwrap_annotation(annotation)
            self._note_extra(class_frame, target.value, original_node.value)
            if classvar or target.value == "model_config":
                # pydantic's model_config is the model's settings, never a field
                builder.members.append(target.value)
            else:
                builder.fields[target.value] = self._field(
                    target.value,
                    annotation,
                    original_node.value,
                    self.context.span(target),
                    total=builder.total,
                )
            return
        origin = self._type_origin(annotation)
        if origin.kind == "unknown" and original_node.value is not None:
            origin = self.origin_of(original_node.value)
        if isinstance(target, cst.Name):
            self._bind(target.value, origin)
            if self.frames[-1].kind == "module" and isinstance(original_node.value, cst.Dict):
                self._record_dict(target.value, target, original_node.value)
        elif isinstance(target, cst.Attribute):
            self._record_attr(target, origin)

    def visit_For(self, node: cst.For) -> None:
        self._enter_conditional()
        self._bind_unknown_targets(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_unknown_targets(node.asname.name)
            file = self._file_of(node.item)
            target = node.asname.name
            if file is not None and isinstance(target, cst.Name):
                path, relative, _, complete = file
                self.frames[-1].files[target.value] = (path, relative, False, complete)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        if isinstance(node.target, cst.Name):
            self._bind(node.target.value, self.origin_of(node.value))

    def _bind_unknown_targets(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self._bind(target.value, UNKNOWN)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind_unknown_targets(element.value)

    def _record_attr(self, target: cst.Attribute, origin: Origin) -> None:
        owner = self.origin_of(target.value)
        if owner.kind != "self" or owner.attrs:
            return
        builder = self.classes.get(owner.names[0])
        if builder is not None:
            builder.attr_origins.setdefault(target.attr.value, []).append(origin)
            frame = self.frames[-1]
            if frame.init_of == builder.qualname and frame.conditional == 0:
                builder.unconditional.append(target.attr.value)

    def _record_dict(self, name: str, target: cst.CSTNode, node: cst.Dict) -> None:
        keys: dict[str, FieldFact] = {}
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                return
            key = _string_value(element.key)
            if key is None:
                return
            text = self.context.code_for(element.value).strip()
            keys[key] = FieldFact(
                name=key,
                annotation="",
                types=(),
                has_default=True,
                default=literal_key(element.value, text),
                default_text=text,
                span=self.context.span(element.key),
            )
        if keys:
            self.dicts.append(
                DictFact(
                    qualname=f"{self.module}.{name}" if self.module else name,
                    name=name,
                    span=self.context.span(target),
                    keys=tuple(keys.values()),
                )
            )

    def _field(
        self,
        name: str,
        annotation: cst.BaseExpression | None,
        value: cst.BaseExpression | None,
        span: Span,
        total: bool = True,
    ) -> FieldFact:
        types, _, not_required = unwrap_annotation(annotation)
        has_default, default_node = _default_of(value)
        default_text = self.context.code_for(default_node).strip() if default_node else ""
        if isinstance(default_node, cst.Name) and default_node.value in _FACTORY_DEFAULTS:
            default_text = _FACTORY_DEFAULTS[default_node.value]
            key: str | None = literal_key(default_node, default_text)
        else:
            key = literal_key(default_node, default_text) if default_node is not None else None
        return FieldFact(
            name=name,
            annotation=self.context.code_for(annotation).strip() if annotation else "",
            types=types,
            has_default=has_default,
            default=key,
            default_text=default_text,
            span=span,
            required_key=total and not not_required,
            alias=_alias_of(value),
        )

    def _note_extra(self, frame: _Frame, name: str, value: cst.BaseExpression | None) -> None:
        """Record pydantic's ``extra`` setting: ``model_config = ConfigDict(extra=...)``
        or ``extra = ...`` in a nested ``class Config``."""
        builder = self.classes[frame.class_qual]
        if name == "model_config" and isinstance(value, cst.Call):
            for arg in value.args:
                if arg.keyword is not None and arg.keyword.value == "extra":
                    builder.extra = _extra_value(arg.value)
        elif name == "extra" and frame.name == "Config" and len(self.frames) >= 2:
            outer = self.frames[-2]
            if outer.kind == "class" and value is not None:
                self.classes[outer.class_qual].extra = _extra_value(value)

    # -- access sites ----------------------------------------------------------
    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> None:
        if isinstance(node.operator, cst.And) and _is_hasattr(node.left):
            self.hasattr_fixes[id(node.left)] = (node, node.right)

    def visit_IfExp(self, node: cst.IfExp) -> None:
        if _is_hasattr(node.test):
            self.hasattr_fixes[id(node.test)] = (node, node.body)

    def visit_Call(self, node: cst.Call) -> None:
        self._record_call(node)
        self._record_load(node)
        self._access_site(node)
        self._record_dynamic_attrs(node)
        self._record_hand_off(node)

    def _record_hand_off(self, node: cst.Call) -> None:
        """Loaded config data passed to a function (``apply_defaults(data)``) may be
        changed there: it is no longer the file alone."""
        files = self.frames[-1].files
        if not files:
            return
        func = node.func
        if type(func) is cst.Name and func.value in _BUILTIN_NAMES:
            return  # len(data), print(data), dict(data)
        if _last(dotted_name(func) or "") in _KEEPS_ARGUMENTS:
            return  # logger.info(data), yaml.safe_load(text)
        for arg in node.args:
            if not arg.star and type(arg.value) is cst.Name:
                entry = files.get(arg.value.value)
                if entry is not None and entry[2]:
                    self._mutated(arg.value.value)

    def _record_dynamic_attrs(self, node: cst.Call) -> None:
        """``setattr(self, key, value)`` with a computed name, ``self.__dict__.update(...)``."""
        func = node.func
        target: cst.BaseExpression | None = None
        if type(func) is cst.Name and func.value == "setattr" and len(node.args) >= 2:
            if _string_value(node.args[1].value) is None:
                target = node.args[0].value
        elif (
            type(func) is cst.Attribute
            and func.attr.value == "update"
            and type(func.value) is cst.Attribute
            and func.value.attr.value == "__dict__"
        ):
            target = func.value.value
        if target is None:
            return
        origin = self.origin_of(target)
        if origin.kind == "self" and not origin.attrs and origin.names[0] in self.classes:
            self.classes[origin.names[0]].dynamic_attrs = True

    # -- calls (config flow) -----------------------------------------------------
    def _record_call(self, node: cst.Call) -> None:
        func = node.func
        if not node.args or (type(func) is not cst.Name and type(func) is not cst.Attribute):
            return
        if type(func) is cst.Name and func.value in _BUILTIN_NAMES:
            if self._lookup(func.value).kind == "global":
                return
        elif type(func) is cst.Attribute:
            if func.attr.value in _MUTATORS and type(func.value) is cst.Name:
                self._mutated(func.value.value)
            if func.attr.value.startswith("__") or func.attr.value in _NEVER_PROJECT_METHODS:
                return
        callee = self.origin_of(func)
        if callee.kind == "unknown":
            return
        args: list[Origin] = []
        kwargs: list[tuple[str, Origin]] = []
        for arg in node.args:
            if arg.star:
                # *args / **kwargs: which parameter gets what is not known
                kwargs.append(("*", UNKNOWN))
            elif arg.keyword is not None:
                kwargs.append((arg.keyword.value, self._arg_origin(arg.value)))
            else:
                args.append(self._arg_origin(arg.value))
        self.calls.append(CallFact(callee, tuple(args), tuple(kwargs)))

    def _arg_origin(self, expr: cst.BaseExpression) -> Origin:
        origin = self.origin_of(expr)
        # displays and constants are shared objects: the facts stay small
        return _SHARED_ORIGINS.get(origin, origin)

    def _mutated(self, name: str) -> None:
        entry = self.frames[-1].files.get(name)
        if entry is not None:
            self.frames[-1].files[name] = (*entry[:3], False)

    # -- config files loaded into a schema -------------------------------------------
    def _file_of(self, expr: cst.BaseExpression | None, depth: int = 0) -> _FileRef | None:
        """The config file named in ``expr``: a literal ``"config/app.yaml"``, a path
        built from literals (``Path(__file__).parent / "app.yaml"``,
        ``os.path.join("config", "app.yaml")``), a local name bound to one, or a call
        reading one (``yaml.safe_load(open(...))``: loaded)."""
        if expr is None or depth > 12:
            return None
        parts = self._path_parts(expr)
        if parts and parts[-1].lower().endswith(CONFIG_FILE_SUFFIXES):
            return "/".join(parts), _mentions_file(expr), False, True
        if type(expr) is cst.Name:
            for frame in reversed(self.frames):
                if expr.value in frame.files:
                    return frame.files[expr.value]
                if frame.kind == "function" and expr.value in frame.bindings:
                    return None
            return None
        if type(expr) is cst.Call:
            found = None
            source = None
            for arg in expr.args:
                if found is None:
                    found, source = self._file_of(arg.value, depth + 1), arg
            if found is None and type(expr.func) is cst.Attribute:
                found = self._file_of(expr.func.value, depth + 1)  # Path("a.yaml").read_text()
            if found is None:
                return None
            path, relative, loaded, complete = found
            name = _last(dotted_name(expr.func) or "")
            if loaded and name not in _PARSE_CALLS:
                # the data combined with another value (deep_merge(DEFAULTS, data)): not
                # the file alone
                complete = complete and not any(
                    arg is not source and arg.keyword is None and _string_value(arg.value) is None
                    for arg in expr.args
                )
            loaded = loaded or (name not in _PATH_CALLS and not name.startswith("read_bytes"))
            return path, relative, loaded, complete
        if type(expr) is cst.Attribute:
            return self._file_of(expr.value, depth + 1)
        return None

    def _path_parts(self, expr: cst.BaseExpression, depth: int = 0) -> list[str]:
        if depth > 12:
            return []
        text = _string_value(expr)
        if text is not None:
            return [text] if text and "\n" not in text and " " not in text else []
        if type(expr) is cst.BinaryOperation and type(expr.operator) is cst.Divide:
            return self._path_parts(expr.left, depth + 1) + self._path_parts(expr.right, depth + 1)
        if type(expr) is cst.Call and _last(dotted_name(expr.func) or "") in (
            "join",
            "joinpath",
            "Path",
            "PurePath",
            "PosixPath",
        ):
            parts: list[str] = []
            if (
                type(expr.func) is cst.Attribute
                and _last(dotted_name(expr.func) or "") == "joinpath"
            ):
                parts = self._path_parts(expr.func.value, depth + 1)
            for arg in expr.args:
                if arg.keyword is None and not arg.star:
                    parts += self._path_parts(arg.value, depth + 1)
            return parts
        if type(expr) is cst.Name:
            for frame in reversed(self.frames):
                if expr.value in frame.files and not frame.files[expr.value][2]:
                    return frame.files[expr.value][0].split("/")
                if frame.kind == "function" and expr.value in frame.bindings:
                    return []
        return []

    def _record_load(self, node: cst.Call) -> None:
        func = node.func
        method = func.attr.value if type(func) is cst.Attribute else ""
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        if type(func) is cst.Attribute and method in _VALIDATE_METHODS and positional:
            file = self._file_of(positional[0])
            if file is not None and file[2]:
                self._add_load(func.value, file, positional[0], node, "model_validate")
            return
        if type(func) is cst.Attribute and method == "parse_file" and positional:
            file = self._file_of(positional[0])
            if file is not None:
                self._add_load(func.value, file, None, node, "parse_file")
            return
        if (
            type(func) is cst.Attribute
            and method == "merge"
            and _last(dotted_name(func.value) or "") == "OmegaConf"
        ):
            schema: cst.BaseExpression | None = None
            file = None
            for value in positional:
                if (
                    type(value) is cst.Call
                    and _last(dotted_name(value.func) or "") == "structured"
                    and value.args
                ):
                    schema = value.args[0].value
                    if type(schema) is cst.Call:  # OmegaConf.structured(AppConfig())
                        schema = schema.func
                else:
                    file = file or self._file_of(value)
            if schema is not None and file is not None and file[2]:
                self.loads.append(
                    ConfigLoad(
                        self.origin_of(schema),
                        file[0],
                        file[1],
                        False,  # merged over the schema's defaults
                        self.context.span(node),
                    )
                )
            return
        for arg in node.args:
            if arg.star == "**":
                file = self._file_of(arg.value)
                if file is not None and file[2]:
                    self._add_load(func, file, arg.value, node, "call")
                return

    def _add_load(
        self,
        schema: cst.BaseExpression,
        file: _FileRef,
        data: cst.BaseExpression | None,
        node: cst.Call,
        how: str,
    ) -> None:
        if not isinstance(schema, (cst.Name, cst.Attribute)):
            return
        complete = file[3] and (data is None or isinstance(data, (cst.Name, cst.Call)))
        others = [a for a in node.args if a.value is not data]
        if others and how in ("call", "model_validate"):
            complete = False  # AppConfig(**file_data, name=...): other values join in
        self.loads.append(
            ConfigLoad(self.origin_of(schema), file[0], file[1], complete, self.context.span(node))
        )

    # -- access sites ----------------------------------------------------------------
    def _access_site(self, node: cst.Call) -> None:
        func = node.func
        if type(func) is cst.Name:
            if (
                func.value not in ("getattr", "hasattr")
                or self._lookup(func.value).kind != "global"
            ):
                return
            args = node.args
            if any(a.star or a.keyword is not None for a in args) or len(args) not in (2, 3):
                return
            attr = _string_value(args[1].value)
            if attr is None or not _is_identifier(attr):
                return
            receiver = args[0].value
            if func.value == "hasattr":
                if len(args) != 2:
                    return
                fix = None
                replacement = self.hasattr_fixes.get(id(node))
                if replacement is not None:
                    old, new = replacement
                    code = cst.Module(body=[]).code_for_node(new)
                    fix = Fix(
                        description=f"drop the always-true hasattr(..., {attr!r})",
                        span=self.context.span(old),
                        replacement=code,
                    )
                self._add_site("hasattr", attr, receiver, node, None, fix)
                return
            if len(args) == 3:
                self._add_site(
                    "getattr",
                    attr,
                    receiver,
                    node,
                    args[2].value,
                    self._fix_for_attribute(node, receiver, attr),
                )
            elif self.try_stack and self.try_stack[-1]:
                self._add_site(
                    "getattr-try",
                    attr,
                    receiver,
                    node,
                    None,
                    self._fix_for_attribute(node, receiver, attr),
                )
            return
        if isinstance(func, cst.Attribute) and func.attr.value == "get":
            args = node.args
            if any(a.star or a.keyword is not None for a in args) or len(args) not in (1, 2):
                return
            attr = _string_value(args[0].value)
            if attr is None:
                return
            receiver = func.value
            subscript = cst.Subscript(
                value=receiver, slice=[cst.SubscriptElement(cst.Index(args[0].value))]
            )
            code = cst.Module(body=[]).code_for_node(subscript)
            fix = Fix(
                description=f"use {code} (the key is always present)",
                span=self.context.span(node),
                replacement=code,
            )
            default = args[1].value if len(args) == 2 else cst.Name("None")
            self._add_site("get", attr, receiver, node, default, fix)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        if len(node.comparisons) != 1:
            return
        target = node.comparisons[0]
        if type(target.operator) is not cst.In and type(target.operator) is not cst.NotIn:
            return
        attr = _string_value(node.left)
        if attr is None:
            return
        self._add_site("in", attr, target.comparator, node, None, None)

    def _add_site(
        self,
        kind: str,
        attr: str,
        receiver: cst.BaseExpression,
        node: cst.CSTNode,
        default: cst.BaseExpression | None,
        fix: Fix | None,
    ) -> None:
        if not isinstance(receiver, (cst.Name, cst.Attribute, cst.Call)):
            return
        origin = self.origin_of(receiver)
        if origin.kind == "global" and not origin.attrs and origin.names[0] in ("self", "cls"):
            return
        chain = dotted_name(receiver)
        default_text = self.context.code_for(default).strip() if default is not None else ""
        self.sites.append(
            AccessSite(
                kind=kind,
                attr=attr,
                receiver=origin,
                receiver_text=self.context.snippet(receiver, 80),
                receiver_name=_last(chain) if chain else "",
                has_default=default is not None,
                default=literal_key(default, default_text) if default is not None else None,
                default_text=default_text,
                span=self.context.span(node),
                scope=self.context.scope,
                snippet=self.context.snippet(node),
                fix=fix,
            )
        )

    # -- output ----------------------------------------------------------------
    def collect(self) -> SchemaFacts:
        aliases = dict(self.context.aliases.names)

        def qualify(dotted: str) -> str:
            head, _, rest = dotted.partition(".")
            if head == "builtins" and head not in aliases and head not in self.module_names:
                return dotted
            if head in aliases:
                target = aliases[head]
            elif head in self.module_names:
                target = f"{self.module}.{head}" if self.module else head
            elif head in _BUILTIN_NAMES:
                target = f"builtins.{head}"
            else:
                target = f"{self.module}.{head}" if self.module else head
            return f"{target}.{rest}" if rest else target

        def fix_origin(origin: Origin) -> Origin:
            if origin.kind in ("type", "call", "global", "dict"):
                names = tuple(qualify(n) for n in origin.names)
                return Origin(origin.kind, names, origin.attrs, origin.keys)
            return origin

        def fix_field(fact: FieldFact) -> FieldFact:
            return fact._replace(types=tuple(qualify(t) for t in fact.types))

        classes = tuple(
            ClassFact(
                qualname=b.qualname,
                name=b.name,
                span=self.context.span(b.name_node),
                bases=tuple(qualify(x) for x in b.bases),
                decorators=tuple(qualify(x) for x in b.decorators),
                fields=tuple(fix_field(f) for f in b.fields.values()),
                members=tuple(dict.fromkeys(b.members)),
                attr_origins=tuple(
                    (name, tuple(fix_origin(o) for o in origins))
                    for name, origins in b.attr_origins.items()
                ),
                unconditional=tuple(dict.fromkeys(b.unconditional)),
                extra=b.extra,
                input_keys=tuple(dict.fromkeys(b.input_keys)),
                dynamic_attrs=b.dynamic_attrs,
            )
            for b in self.classes.values()
        )
        module_prefix = f"{self.module}." if self.module else ""
        facts = SchemaFacts(
            module=self.module,
            classes=classes,
            dicts=tuple(self.dicts),
            functions=tuple((q, fix_origin(o)) for q, o in self.functions.items()),
            globals=tuple((module_prefix + n, fix_origin(o)) for n, o in self.globals.items()),
            aliases=tuple(sorted(aliases.items())),
            star_imports=tuple(dict.fromkeys(self.star_imports)),
            sites=tuple(replace(s, receiver=fix_origin(s.receiver)) for s in self.sites),
            calls=_compact_calls(self.calls, fix_origin, self.module.split(".")[0]),
            loads=tuple(replace(load, schema=fix_origin(load.schema)) for load in self.loads),
        )
        return replace(facts, params=_params_needed(self.params, facts))


# Calls on these method names are never a project class's constructor or method worth
# following (dict/list/str/logging API): not recorded, to keep the facts small.
_NEVER_PROJECT_METHODS = frozenset(
    {
        "get", "append", "extend", "format", "join", "split", "strip", "startswith",
        "endswith", "replace", "debug", "info", "warning", "error", "exception", "items",
        "keys", "values", "add", "discard", "remove", "insert", "encode", "decode",
        "lower", "upper", "write", "read", "isinstance", "setattr",
    }
)  # fmt: skip
_KEEPS_ARGUMENTS = _NEVER_PROJECT_METHODS | _PARSE_CALLS
_SHARED_ORIGINS: dict[Origin, Origin] = {
    o: o for o in (UNKNOWN, Origin("none"), *(Origin("type", (b,)) for _, b in _DISPLAYS))
}


# The arguments of a call that passes nothing but these say nothing about a config.
_OPAQUE_ARGS = frozenset(_SHARED_ORIGINS)
_OPAQUE_KWARGS: tuple[tuple[str, Origin], ...] = (("*", UNKNOWN),)


def _compact_calls(
    calls: Sequence[CallFact], fix_origin: Callable[[Origin], Origin], own_top: str
) -> tuple[CallFact, ...]:
    """Qualified call facts, small: calls into the standard library are dropped, a call
    passing only unknown values and constants keeps just its callee (marked as passing
    unknown values, which is what it does for config flow), and equal origins are one
    object (pickled once). Grammar-building modules make thousands of such calls."""
    interned: dict[Origin, Origin] = {}

    def intern(origin: Origin) -> Origin:
        return interned.setdefault(origin, origin)

    out = []
    opaque: set[Origin] = set()
    for call in calls:
        callee = intern(fix_origin(call.callee))
        top = callee.names[0].split(".")[0] if callee.names else ""
        if callee.kind == "global" and top in _STDLIB and top != own_top:
            continue  # (a project module may shadow a standard one: its own calls stay)
        values = [*call.args, *(v for _, v in call.kwargs)]
        if all(v in _OPAQUE_ARGS for v in values):
            if callee not in opaque:  # one such call says all the others say
                opaque.add(callee)
                out.append(CallFact(callee, (), _OPAQUE_KWARGS))
            continue
        out.append(
            CallFact(
                callee,
                tuple(intern(fix_origin(a)) for a in call.args),
                tuple((k, intern(fix_origin(v))) for k, v in call.kwargs),
            )
        )
    return tuple(out)


def _origins(facts: SchemaFacts) -> Iterator[Origin]:
    """Every origin the facts hold."""
    for cls in facts.classes:
        for _, origins in cls.attr_origins:
            yield from origins
    yield from (origin for _, origin in facts.functions)
    yield from (origin for _, origin in facts.globals)
    yield from (site.receiver for site in facts.sites)
    for call in facts.calls:
        yield call.callee
        yield from call.args
        yield from (origin for _, origin in call.kwargs)
    yield from (load.schema for load in facts.loads)


def _params_needed(
    params: Sequence[tuple[ParamsFact, bool]], facts: SchemaFacts
) -> tuple[ParamsFact, ...]:
    """The parameters the project phase may look up: a method's (a call on a class or
    on ``self`` runs it: :meth:`SchemaIndex._method`), and a function's whose
    parameter some origin of the file names (a ``param`` origin, made only in the
    function's own body, is what makes the project phase look its parameters and
    call sites up). Any other function's are left out: adding or changing a function
    whose parameters flow into nothing recorded leaves the facts as they were, so
    the project phase's memo keeps the config-schema rules' outcome."""
    named = {o.names[0] for o in _origins(facts) if o.kind == "param"}
    return tuple(fact for fact, method in params if method or fact.qualname in named)


def _mentions_file(expr: cst.CSTNode) -> bool:
    """Whether ``expr`` mentions ``__file__`` (a path relative to the module)."""
    found = False

    class _Finder(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            nonlocal found
            found = found or node.value == "__file__"

    visit_read_only(expr, _Finder())
    return found


def _string_literals(node: cst.CSTNode) -> list[str]:
    """The text of every plain string literal and keyword argument name in ``node``
    (``data.pop("version")``, ``cls(run_name=...)``)."""
    found: list[str] = []

    class _Finder(cst.CSTVisitor):
        def visit_SimpleString(self, string: cst.SimpleString) -> None:
            value = string.evaluated_value
            if isinstance(value, str) and value:
                found.append(value)

        def visit_Arg(self, arg: cst.Arg) -> None:
            if arg.keyword is not None:
                found.append(arg.keyword.value)

    visit_read_only(node, _Finder())
    return found


def _rewrites_input(decorator: cst.Decorator) -> bool:
    """``@model_validator(mode="before")`` / ``"wrap"``, ``@root_validator(pre=True)``:
    a validator that sees (and may rename or fill) the raw input keys."""
    call = decorator.decorator
    if not isinstance(call, cst.Call):
        return False
    name = _last(dotted_name(call.func) or "")
    for arg in call.args:
        keyword = arg.keyword.value if arg.keyword is not None else ""
        if name == "model_validator" and keyword == "mode":
            return _string_value(arg.value) in ("before", "wrap")
        if name == "root_validator" and keyword == "pre":
            return isinstance(arg.value, cst.Name) and arg.value.value == "True"
    return False


def _alias_of(value: cst.BaseExpression | None) -> str:
    """``alias`` / ``validation_alias`` of ``Field(...)``: the key input data uses."""
    if isinstance(value, cst.Call) and _last(dotted_name(value.func) or "") == "Field":
        for arg in value.args:
            if arg.keyword is not None and arg.keyword.value in ("alias", "validation_alias"):
                text = _string_value(arg.value)
                if text:
                    return text
    return ""


def _extra_value(value: cst.BaseExpression) -> str:
    """``"allow"`` from ``"allow"``, ``Extra.allow`` or ``"allow"``-like spellings."""
    text = _string_value(value)
    if text is None:
        dotted = dotted_name(value)
        text = _last(dotted) if dotted else ""
    return text.lower() if text.lower() in ("allow", "forbid", "ignore") else ""


def _suffix(attrs: Sequence[str]) -> str:
    return "".join("." + a for a in attrs)


def _is_hasattr(node: cst.BaseExpression) -> bool:
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == "hasattr"
        and len(node.args) == 2
    )


def _catches_attribute_error(handler: cst.ExceptHandler) -> bool:
    if handler.type is None:
        return False
    types: list[cst.BaseExpression] = (
        [e.value for e in handler.type.elements]
        if isinstance(handler.type, cst.Tuple)
        else [handler.type]
    )
    return any(_last(dotted_name(t) or "") == "AttributeError" for t in types)


def _default_of(value: cst.BaseExpression | None) -> tuple[bool, cst.BaseExpression | None]:
    """(has a default, the default expression or a factory name) of a field value."""
    if value is None:
        return False, None
    if isinstance(value, cst.Call) and _last(dotted_name(value.func) or "") in _FIELD_CALLS:
        for arg in value.args:
            if arg.keyword is None and not arg.star:
                if isinstance(arg.value, cst.Ellipsis):
                    return False, None
                return True, arg.value
            if arg.keyword is not None and arg.keyword.value == "default":
                if isinstance(arg.value, cst.Ellipsis):
                    return False, None
                return True, arg.value
            if arg.keyword is not None and arg.keyword.value in ("default_factory", "factory"):
                return True, arg.value
        return False, None
    if isinstance(value, cst.Ellipsis):
        return False, None
    return True, value
