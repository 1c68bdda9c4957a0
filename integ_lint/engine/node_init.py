"""Faster constructors for LibCST's node classes, with the same behaviour.

LibCST's native parser builds every node by calling its class with keyword
arguments, so each node runs the ``__init__`` that ``dataclasses`` generated for
the frozen class: ``object.__setattr__(self, name, value)`` per field, each call
looking the slot up through the type. Constructing the nodes is about a quarter
of the parse (napari: 2.7M nodes); these constructors make it about a third cheaper
(about 5% of the parse). The constructors installed here take the same
parameters with the same defaults (the same objects; a default factory is called
the same way), set the same slots through the slots' own descriptors (found once,
not per call) and end with ``self.__post_init__()`` as before, so every caller
(the parser, ``with_changes``, a rule's fix) gets the same node, validated the same
way. A class is left as it is unless its ``__init__`` is the one ``dataclasses``
generated and every field is a plain slot that ``__init__`` sets.
"""

from __future__ import annotations

import dataclasses
import inspect
import keyword
import types
from collections.abc import Callable
from typing import Any

import libcst as cst

_installed = False
_parses = 0
# Compiling the constructors costs about what ~30 files' parses save: a run that
# parses a few files (a pre-commit hook, a one-file edit) never pays for them.
_PARSES_BEFORE_INSTALL = 32


# The default dataclasses gives a parameter whose field has a default factory; a
# caller that read the generated signature may pass it explicitly (hypothesis
# does), and the field's factory then runs, as in the generated constructor.
_FACTORY: object = getattr(dataclasses, "_HAS_DEFAULT_FACTORY", None)


def _init_source(kind: type[cst.CSTNode], number: int, namespace: dict[str, Any]) -> str | None:
    """The source of ``kind``'s faster ``__init__`` (named ``_init{number}``), its
    defaults and slot setters put in ``namespace``; None to leave the class as it is."""
    original = kind.__dict__.get("__init__")
    code = getattr(original, "__code__", None)
    params = getattr(kind, "__dataclass_params__", None)
    if code is None or code.co_filename != "<string>" or params is None or not params.init:
        return None  # not the constructor dataclasses generated
    names = code.co_varnames[1 : code.co_argcount]
    defaults = original.__defaults__ or ()  # type: ignore[union-attr]
    # Each parameter's default in the generated constructor (a missing one: none).
    default_of = dict(zip(names[len(names) - len(defaults) :], defaults))
    parameters: list[str] = []
    body: list[str] = []
    for index, field in enumerate(dataclasses.fields(kind)):
        name = field.name
        descriptor = inspect.getattr_static(kind, name, None)
        if (
            not field.init
            or getattr(field, "kw_only", False)
            or not isinstance(descriptor, types.MemberDescriptorType)
            or not name.isidentifier()
            or keyword.iskeyword(name)
            or name.startswith("_")
        ):
            return None
        local = f"_{number}_{index}"
        namespace[f"_set{local}"] = descriptor.__set__
        if field.default_factory is not dataclasses.MISSING:
            if default_of.get(name, dataclasses.MISSING) is not _FACTORY:
                return None
            namespace[f"_make{local}"] = field.default_factory
            parameters.append(f"{name}=_FACTORY")
            body.append(f"    _set{local}(self, _make{local}() if {name} is _FACTORY else {name})")
        elif field.default is not dataclasses.MISSING:
            if default_of.get(name, dataclasses.MISSING) is not field.default:
                return None
            namespace[f"_default{local}"] = field.default
            parameters.append(f"{name}=_default{local}")
            body.append(f"    _set{local}(self, {name})")
        else:
            parameters.append(name)
            body.append(f"    _set{local}(self, {name})")
    # The same parameters, in the same order, as the generated constructor's.
    if [p.split("=")[0] for p in parameters] != list(names):
        return None
    body.append("    self.__post_init__()")
    return f"def _init{number}({', '.join(['self', *parameters])}):\n" + "\n".join(body) + "\n"


def before_parse() -> None:
    """Count a parse in this process, and install the constructors at the
    ``_PARSES_BEFORE_INSTALL``-th."""
    global _parses
    if _installed:
        return
    _parses += 1
    if _parses >= _PARSES_BEFORE_INSTALL:
        install()


def install() -> None:
    """Give every node class of ``libcst`` its faster constructor (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    if _FACTORY is None:
        return  # a Python whose dataclasses differ: the generated constructors stay
    namespace: dict[str, Any] = {"_FACTORY": _FACTORY}
    sources: list[str] = []
    kinds: list[type[cst.CSTNode]] = []  # kinds[number] gets ``_init{number}``
    for kind in vars(cst).values():
        # ``CSTNode in __mro__``, not ``issubclass``: an ABC's subclass check builds
        # caches that cost more than the rest of this function.
        if isinstance(kind, type) and cst.CSTNode in kind.__mro__:
            source = _init_source(kind, len(kinds), namespace)
            if source is not None:
                sources.append(source)
                kinds.append(kind)
    # Our own generated source, as dataclasses itself does: never the analysed code.
    exec(compile("".join(sources), "<integ-lint node constructors>", "exec"), namespace)
    for number, kind in enumerate(kinds):
        init: Callable[..., None] = namespace[f"_init{number}"]
        original = kind.__dict__["__init__"]
        init.__qualname__ = f"{kind.__qualname__}.__init__"
        init.__module__ = kind.__module__
        init.__doc__ = original.__doc__
        kind.__init__ = init  # type: ignore[method-assign]
