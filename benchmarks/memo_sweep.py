"""A seeded sweep of realistic source edits, each checked warm against ``--no-cache``.

The project memo keeps the event-loop and config-schema rules' outcomes across an edit
when a kept summary (``CallGraphSummary``, ``SchemaSummary``) judges the changed file's
facts inert. A wrong judgement loses or invents findings on a user's warm run and on
nothing else, so this script edits a real tree step by step and, after EACH edit,
compares ``integ-lint check`` on the warm cache (kept from the previous step) with
``integ-lint check --no-cache`` of the same tree: the JSON reports, minus timing fields,
must be identical. It is not a test (tests/test_memo_edit_sweep.py runs the generator
over the bundled fixtures in CI); it prints one line per edit and exits 1 on the first
mismatch (or at the end with ``--keep-going``), leaving the tree as it was at that edit.

    python benchmarks/memo_sweep.py TREE --edits 40 --seed 1 [--config integ-lint.toml]
        [--select CODES] [--jobs 1] [--keep-going]

TREE is edited in place: pass a copy (``cp -r benchmarks/corpora/eco-napari-0.9.2
/tmp/me/napari``). The edits (``EDIT_KINDS``) are text-level, located with CPython's
``ast`` (the tree is parsed, never executed): a function added (calling nothing,
builtins, a same-file function, an imported project function, a method via self, a
blocking call), removed or renamed; a function added that calls existing ones (edges
into the graph: the file's first function, another of the file, one imported from
another file; returned, dropped, stored, guarded by a running-loop check or handed to
a thread; from a sync, async, decorated or test function), and such a function
removed again; a call added inside a function (time.sleep,
requests.get, asyncio.run, loop.run_until_complete, thread and executor submissions,
same-file and self calls, config reads) or removed; an import added, removed or
aliased; a base class changed; a method added that overrides a base's; ``async``
added or removed; a config access or a dict/dataclass schema field added or removed;
a decorator added or removed; a file added, deleted or renamed.

The warm timings are only a hint: a warm run re-analyses every file when integ-lint's
own source changed since the previous run (the cache key's code stamp), so run it on
a quiet checkout to read them (or run a frozen copy of integ-lint through PYTHONPATH).
Results (all 33 codes, -j 1, integ-lint frozen at bdd329a, 2 shared CPUs), every edit
warm = --no-cache: napari seed 1, 24 edits, and seed 2 with ``--kinds
add-edge-function,remove-added-function,add-call,add-function``, 10 edits; Django
seed 1, 5 edits; pyppeteer seed 1, 40 edits, and seed 2 with those kinds, 40 edits (the
event-loop rules kept their outcome on 3 added edge functions and one removal, and ran
again on the others). A warm run after an edit 0.6-10 s, a --no-cache run 20-100 s on
napari, 100-210 s on Django.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

SKIPPED_DIRS = {".git", ".integ-lint-cache", "__pycache__", ".venv", "expected", "build"}

BLOCKING_CALLS = (
    ("time.sleep(0.5)", "import time"),
    ('requests.get("http://localhost")', "import requests"),
    ("asyncio.run(asyncio.sleep(0))", "import asyncio"),
    ("asyncio.get_event_loop().run_until_complete(asyncio.sleep(0))", "import asyncio"),
    ("threading.Thread(target=print).start()", "import threading"),
    ("concurrent.futures.ThreadPoolExecutor().submit(print)", "import concurrent.futures"),
    ('subprocess.run(["true"])', "import subprocess"),
    ('open("x").read()', ""),
)


@dataclass
class SourceFile:
    """One Python file of the tree, its text and CPython's tree of it."""

    root: Path
    relpath: str
    text: str
    tree: ast.Module

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines(keepends=True)

    @property
    def module(self) -> str:
        parts = list(Path(self.relpath).with_suffix("").parts)
        if parts and parts[0] in {"src", "lib"}:
            parts = parts[1:]
        if parts and parts[-1] == "__init__":
            parts = parts[:-1]
        return ".".join(parts)


class NotApplicable(Exception):
    """The chosen edit has nothing to act on in the chosen file."""


def python_files(root: Path) -> list[str]:
    """The tree's Python files (relative, sorted), as the edits may pick them."""
    found = []
    for path in root.rglob("*.py"):
        relative = path.relative_to(root)
        if SKIPPED_DIRS & set(relative.parts):
            continue
        found.append(relative.as_posix())
    return sorted(found)


def _load(root: Path, relpath: str) -> SourceFile:
    text = (root / relpath).read_text(encoding="utf-8")
    return SourceFile(root, relpath, text, ast.parse(text))


def _functions(
    source: SourceFile,
) -> list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, ast.ClassDef | None]]:
    """Every function and method with its class (None at top level or nested)."""
    found: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, ast.ClassDef | None]] = []
    for node in ast.walk(source.tree):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    found.append((item, node))
    methods = {id(f) for f, _ in found}
    for node in ast.walk(source.tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and id(node) not in methods:
            found.append((node, None))
    found.sort(key=lambda pair: pair[0].lineno)
    return found


def _top_functions(source: SourceFile) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in source.tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _classes(source: SourceFile) -> list[ast.ClassDef]:
    return [n for n in ast.walk(source.tree) if isinstance(n, ast.ClassDef)]


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _after_imports(source: SourceFile) -> int:
    """The 0-based line index after the module's docstring, leading imports and
    ``from __future__`` lines."""
    at = 0
    for index, node in enumerate(source.tree.body):
        docstring = (
            index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        )
        if docstring or isinstance(node, (ast.Import, ast.ImportFrom)):
            at = node.end_lineno or node.lineno
        else:
            break
    return at


def _with_import(text: str, statement: str) -> str:
    """``statement`` added after the leading imports (and any __future__ import)."""
    if not statement or statement in text.splitlines():
        return text
    source = SourceFile(Path(), "", text, ast.parse(text))
    at = _after_imports(source)
    lines = source.lines
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    lines.insert(at, statement + "\n")
    return "".join(lines)


def _body_insert_index(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[int, int]:
    """(0-based line index, statement column) where a statement can go first in the
    body (after a docstring); raises NotApplicable for one-line bodies."""
    body = node.body
    first = body[0]
    if first.lineno == node.lineno:
        raise NotApplicable("one-line body")
    is_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    if is_doc and len(body) > 1:
        return body[1].lineno - 1, body[1].col_offset
    if is_doc:
        return first.end_lineno or first.lineno, first.col_offset
    return first.lineno - 1, first.col_offset


def _project_function(files: list[SourceFile], rng: random.Random, exclude: str) -> tuple[str, str]:
    """(module, name) of a top-level function in another file of the tree."""
    candidates = [
        (other.module, fn.name)
        for other in files
        if other.relpath != exclude and other.module
        for fn in _top_functions(other)
    ]
    if not candidates:
        raise NotApplicable("no project function elsewhere")
    return rng.choice(candidates)


class EditContext:
    """What one edit may read: the chosen file, the tree's other files, the RNG."""

    def __init__(self, root: Path, relpath: str, rng: random.Random, serial: int) -> None:
        self.root = root
        self.source = _load(root, relpath)
        self.rng = rng
        self.serial = serial
        self._files: list[SourceFile] | None = None

    @property
    def files(self) -> list[SourceFile]:
        if self._files is None:
            loaded = []
            for relpath in python_files(self.root):
                try:
                    loaded.append(_load(self.root, relpath))
                except (SyntaxError, UnicodeDecodeError, ValueError):
                    continue
            self._files = loaded
        return self._files

    def fresh(self, stem: str) -> str:
        return f"{stem}_{self.serial}"

    def call_line(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, klass: ast.ClassDef | None
    ) -> tuple[str, str, str]:
        """(statement, import needed, what) of a call to add inside ``node``."""
        options: list[Callable[[], tuple[str, str, str]]] = []

        def blocking() -> tuple[str, str, str]:
            call, needed = self.rng.choice(BLOCKING_CALLS)
            return call, needed, f"blocking call {call}"

        options += [blocking, blocking]
        tops = [f for f in _top_functions(self.source) if f is not node]
        if tops:
            target = self.rng.choice(tops)
            options.append(lambda: (f"{target.name}()", "", f"same-file call {target.name}()"))
        if klass is not None and node.args.args:
            others = [
                m
                for m in klass.body
                if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m is not node
            ]
            self_name = node.args.args[0].arg
            if others:
                method = self.rng.choice(others)
                options.append(
                    lambda: (
                        f"{self_name}.{method.name}()",
                        "",
                        f"self call {self_name}.{method.name}()",
                    )
                )
            options.append(
                lambda: (f"{self_name}.not_defined_{self.serial}()", "", "self call to no method")
            )

        def imported() -> tuple[str, str, str]:
            module, name = _project_function(self.files, self.rng, self.source.relpath)
            return f"{name}()", f"from {module} import {name}", f"imported call {module}.{name}()"

        options.append(imported)
        params = [a.arg for a in node.args.args if a.arg not in {"self", "cls"}]
        if params:
            param = self.rng.choice(params)
            key = self.rng.choice(["lr", "batch_size", "name", "debug", "num_workers"])
            options += [
                lambda: (
                    f'_ = {param}.get("{key}", None)',
                    "",
                    f"config read {param}.get({key!r})",
                ),
                lambda: (
                    f'_ = getattr({param}, "{key}", None)',
                    "",
                    f"config read getattr({param}, {key!r})",
                ),
                lambda: (f'_ = {param}["{key}"]', "", f"config read {param}[{key!r}]"),
                lambda: (f"_ = {param}.{key}", "", f"config read {param}.{key}"),
            ]
        return self.rng.choice(options)()


def _write(ctx: EditContext, text: str) -> None:
    ast.parse(text)  # an edit that breaks the syntax is a bug of this generator
    (ctx.root / ctx.source.relpath).write_text(text, encoding="utf-8")


def add_function(ctx: EditContext) -> str:
    name = ctx.fresh("sweep_added")
    is_async = ctx.rng.random() < 0.4
    variant = ctx.rng.choice(
        ["nothing", "builtins", "same-file", "imported", "blocking", "blocking"]
    )
    needed = ""
    if variant == "nothing":
        body = "    return None"
    elif variant == "builtins":
        body = "    return sorted(set(values))"
    elif variant == "same-file":
        tops = _top_functions(ctx.source)
        if not tops:
            raise NotApplicable("no same-file function")
        target = ctx.rng.choice(tops).name
        body = f"    return {target}()"
        variant = f"same-file {target}()"
    elif variant == "imported":
        module, target = _project_function(ctx.files, ctx.rng, ctx.source.relpath)
        needed = f"from {module} import {target}"
        body = f"    return {target}()"
        variant = f"imported {module}.{target}()"
    else:
        call, needed = ctx.rng.choice(BLOCKING_CALLS)
        body = f"    {call}"
        variant = f"blocking {call}"
    head = "async def" if is_async else "def"
    function = f"\n\n{head} {name}(values=()):\n{body}\n"
    text = ctx.source.text
    if ctx.rng.random() < 0.5:
        at = _after_imports(ctx.source)
        lines = ctx.source.lines
        lines.insert(at, function.lstrip("\n") + "\n\n")
        text = "".join(lines)
        where = "after the imports"
    else:
        text = text.rstrip("\n") + "\n" + function
        where = "at the end"
    _write(ctx, _with_import(text, needed))
    return f"{head} {name} added {where}, body: {variant}"


# How a function added by add_edge_function calls one it targets: each shape is a call
# the call graph's summary judges into a sink or sends to its fall-backs (a dropped
# coroutine, a guarded site, a call made in a thread).
EDGE_SHAPES = (
    ("return", "    return {call}\n", ""),
    ("statement", "    {call}\n", ""),
    ("stored", "    result = {call}\n", ""),
    (
        "guarded",
        "    try:\n        asyncio.get_running_loop()\n    except RuntimeError:\n        {call}\n",
        "import asyncio",
    ),
    ("in-a-thread", "    threading.Thread(target={name}).start()\n", "import threading"),
)
EDGE_WEIGHTS = (4, 3, 2, 1, 1)  # mostly the plain shapes a user writes


def add_edge_function(ctx: EditContext) -> str:
    """A new function that calls existing ones (edges added to the call graph): the
    file's first function (the benchmark's edit), another of the same file, or one
    imported from another file; mostly a plain undecorated sync function (the shape
    the graph's summary may judge inert), sometimes async, decorated or a test."""
    tops = _top_functions(ctx.source)
    targets: list[tuple[str, str]] = []  # (name called, import needed)
    if tops:
        targets.append((tops[0].name, ""))
    for _ in range(ctx.rng.choice([0, 0, 1, 1, 2])):
        if tops and ctx.rng.random() < 0.5:
            targets.append((ctx.rng.choice(tops).name, ""))
        else:
            try:
                module, target = _project_function(ctx.files, ctx.rng, ctx.source.relpath)
            except NotApplicable:
                continue
            targets.append((target, f"from {module} import {target}"))
    if not targets:
        raise NotApplicable("no function to call")
    name = ctx.fresh("sweep_edge")
    kind = ctx.rng.choices(["sync", "async", "decorated", "test"], weights=[6, 2, 1, 1])[0]
    head = "async def" if kind == "async" else "def"
    if kind == "test":
        name = ctx.fresh("test_sweep_edge")
    decorator = "@functools.lru_cache(maxsize=None)\n" if kind == "decorated" else ""
    needed = {"import functools"} if decorator else set()
    body, shapes = "", []
    for target, imported in targets:
        shape, template, shape_import = ctx.rng.choices(EDGE_SHAPES, EDGE_WEIGHTS)[0]
        body += template.format(call=f"{target}()", name=target)
        shapes.append(f"{shape} {target}()")
        needed |= {imported, shape_import} - {""}
    function = f"{decorator}{head} {name}(values=()):\n{body}"
    if ctx.rng.random() < 0.5:
        lines = ctx.source.lines
        lines.insert(_after_imports(ctx.source), "\n\n" + function + "\n\n")
        text, where = "".join(lines), "after the imports"
    else:
        text, where = ctx.source.text.rstrip("\n") + "\n\n\n" + function, "at the end"
    for statement in sorted(needed):
        text = _with_import(text, statement)
    _write(ctx, text)
    return f"{kind} {name} added {where}, calling: {', '.join(shapes)}"


def remove_added_function(ctx: EditContext) -> str:
    """A top-level function an earlier edit of the sweep added removed again (the undo
    of an added edge, judged from a memo whose graph may or may not have it)."""
    added = [f for f in _top_functions(ctx.source) if "sweep_" in f.name and not f.decorator_list]
    if not added:
        raise NotApplicable("no function the sweep added")
    node = ctx.rng.choice(added)
    lines = ctx.source.lines
    del lines[node.lineno - 1 : node.end_lineno or node.lineno]
    _write(ctx, "".join(lines))
    return f"added function {node.name} removed"


def add_method(ctx: EditContext) -> str:
    classes = _classes(ctx.source)
    if not classes:
        raise NotApplicable("no class")
    klass = ctx.rng.choice(classes)
    if klass.body[0].lineno == klass.lineno:
        raise NotApplicable("one-line class")
    base_methods = [
        m.name
        for other in _classes(ctx.source)
        if other is not klass
        and any(isinstance(b, ast.Name) and b.id == other.name for b in klass.bases)
        for m in other.body
        if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    own = [m for m in klass.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if base_methods and ctx.rng.random() < 0.6:
        name = ctx.rng.choice(base_methods)
        what = f"override of base method {name}"
    else:
        name = ctx.fresh("sweep_method")
        what = "new method"
    if own and ctx.rng.random() < 0.5:
        body = f"self.{ctx.rng.choice(own).name}()"
    else:
        call, needed = ctx.rng.choice(BLOCKING_CALLS)
        body = call
        ctx.source.text = _with_import(ctx.source.text, needed)
        ctx.source.tree = ast.parse(ctx.source.text)
        klass = next(
            c
            for c in _classes(ctx.source)
            if c.name == klass.name and c.col_offset == klass.col_offset
        )
    head = "async def" if ctx.rng.random() < 0.4 else "def"
    indent = " " * klass.body[0].col_offset
    lines = ctx.source.lines
    at = klass.end_lineno or klass.lineno
    lines.insert(at, f"\n{indent}{head} {name}(self):\n{indent}    {body}\n")
    if not lines[at - 1].endswith("\n"):
        lines[at - 1] += "\n"
    _write(ctx, "".join(lines))
    return f"{what} {head} {klass.name}.{name} calling {body}"


def _pick_function(
    ctx: EditContext,
) -> tuple[ast.FunctionDef | ast.AsyncFunctionDef, ast.ClassDef | None]:
    """A function of the file (and its class, if a method), chosen by the sweep's seed."""
    functions = _functions(ctx.source)
    if not functions:
        raise NotApplicable("no function")
    return ctx.rng.choice(functions)


def remove_function(ctx: EditContext) -> str:
    node, klass = _pick_function(ctx)
    start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
    end = node.end_lineno or node.lineno
    lines = ctx.source.lines
    indent = _indent_of(lines[node.lineno - 1])
    lines[start:end] = [f"{indent}pass\n"]
    _write(ctx, "".join(lines))
    owner = f"{klass.name}." if klass else ""
    return f"function {owner}{node.name} removed"


def rename_function(ctx: EditContext) -> str:
    node, klass = _pick_function(ctx)
    lines = ctx.source.lines
    line = lines[node.lineno - 1]
    old = f"def {node.name}("
    if old not in line:
        raise NotApplicable("def split over lines")
    new_name = f"{node.name}_renamed_{ctx.serial}"
    lines[node.lineno - 1] = line.replace(old, f"def {new_name}(", 1)
    _write(ctx, "".join(lines))
    owner = f"{klass.name}." if klass else ""
    return f"function {owner}{node.name} renamed to {new_name} (callers unchanged)"


def add_call(ctx: EditContext) -> str:
    node, klass = _pick_function(ctx)
    at, column = _body_insert_index(node)
    statement, needed, what = ctx.call_line(node, klass)
    lines = ctx.source.lines
    lines.insert(at, " " * column + statement + "\n")
    if at > 0 and not lines[at - 1].endswith("\n"):
        lines[at - 1] += "\n"
    _write(ctx, _with_import("".join(lines), needed))
    owner = f"{klass.name}." if klass else ""
    return f"{what} added in {owner}{node.name}"


def remove_call(ctx: EditContext) -> str:
    statements = [
        n
        for n in ast.walk(ctx.source.tree)
        if isinstance(n, (ast.Expr, ast.Return, ast.Assign))
        and isinstance(getattr(n, "value", None), (ast.Call, ast.Await))
        and n.lineno == n.end_lineno
    ]
    if not statements:
        raise NotApplicable("no one-line call statement")
    node = ctx.rng.choice(statements)
    lines = ctx.source.lines
    line = lines[node.lineno - 1]
    segment = ast.get_source_segment(ctx.source.text, node) or ""
    replacement = "return None" if isinstance(node, ast.Return) else "pass"
    if isinstance(node, ast.Assign):
        targets = line[node.col_offset : node.value.col_offset]
        replacement = f"{targets}None"
    if not segment or segment not in line:
        raise NotApplicable("statement shares its line")
    lines[node.lineno - 1] = line.replace(segment, replacement, 1)
    _write(ctx, "".join(lines))
    return f"call statement `{segment}` replaced by `{replacement}` (line {node.lineno})"


def add_import(ctx: EditContext) -> str:
    choice = ctx.rng.random()
    if choice < 0.25:
        statement = ctx.rng.choice(
            ["import os", "import asyncio", "import time", "from typing import Any"]
        )
    elif choice < 0.7:
        module, name = _project_function(ctx.files, ctx.rng, ctx.source.relpath)
        statement = f"from {module} import {name}"
        if ctx.rng.random() < 0.4:
            statement += f" as {name}_alias_{ctx.serial}"
    else:
        modules = [f.module for f in ctx.files if f.module and f.relpath != ctx.source.relpath]
        if not modules:
            raise NotApplicable("no other module")
        statement = f"import {ctx.rng.choice(modules)}"
    if statement in ctx.source.text.splitlines():
        raise NotApplicable("already imported")
    _write(ctx, _with_import(ctx.source.text, statement))
    return f"import added: {statement}"


def _one_line_imports(ctx: EditContext) -> list[ast.Import | ast.ImportFrom]:
    return [
        n
        for n in ctx.source.tree.body
        if isinstance(n, (ast.Import, ast.ImportFrom))
        and n.lineno == n.end_lineno
        and not (isinstance(n, ast.ImportFrom) and n.module == "__future__")
    ]


def remove_import(ctx: EditContext) -> str:
    imports = _one_line_imports(ctx)
    if not imports:
        raise NotApplicable("no one-line import")
    node = ctx.rng.choice(imports)
    lines = ctx.source.lines
    removed = lines[node.lineno - 1].strip()
    lines[node.lineno - 1] = ""
    _write(ctx, "".join(lines))
    return f"import removed: {removed}"


def alias_import(ctx: EditContext) -> str:
    imports = [n for n in _one_line_imports(ctx) if len(n.names) == 1 and n.names[0].name != "*"]
    if not imports:
        raise NotApplicable("no single-name import")
    node = ctx.rng.choice(imports)
    alias = node.names[0]
    lines = ctx.source.lines
    line = lines[node.lineno - 1]
    old = line.strip()
    if alias.asname:
        new = old.replace(f" as {alias.asname}", "", 1)
    else:
        new = f"{old} as {alias.name.replace('.', '_')}_alias_{ctx.serial}"
    lines[node.lineno - 1] = line.replace(old, new, 1)
    _write(ctx, "".join(lines))
    return f"import aliased: `{old}` -> `{new}`"


def change_base(ctx: EditContext) -> str:
    classes = [c for c in _classes(ctx.source)]
    if not classes:
        raise NotApplicable("no class")
    klass = ctx.rng.choice(classes)
    lines = ctx.source.lines
    line = lines[klass.lineno - 1]
    header = f"class {klass.name}"
    if header not in line or not line.rstrip().endswith(":"):
        raise NotApplicable("class header split over lines")
    others = [c.name for c in _classes(ctx.source) if c.lineno < klass.lineno and c.col_offset == 0]
    start = line.index(header) + len(header)
    stop = line.rstrip().rindex(":")
    old_bases = line[start:stop]
    if others and ctx.rng.random() < 0.6:
        new_bases = f"({ctx.rng.choice(others)})"
    elif old_bases.strip():
        new_bases = ""
    else:
        new_bases = ctx.rng.choice(["(Exception)", "(dict)", "(object)"])
    if new_bases == old_bases:
        raise NotApplicable("same bases")
    lines[klass.lineno - 1] = line[:start] + new_bases + line[stop:]
    _write(ctx, "".join(lines))
    return f"class {klass.name}: bases `{old_bases}` -> `{new_bases}`"


def toggle_async(ctx: EditContext) -> str:
    node, klass = _pick_function(ctx)
    lines = ctx.source.lines
    line = lines[node.lineno - 1]
    if isinstance(node, ast.AsyncFunctionDef):
        old, new = f"async def {node.name}(", f"def {node.name}("
    else:
        old, new = f"def {node.name}(", f"async def {node.name}("
    if old not in line:
        raise NotApplicable("def split over lines")
    lines[node.lineno - 1] = line.replace(old, new, 1)
    _write(ctx, "".join(lines))
    owner = f"{klass.name}." if klass else ""
    return f"`{old}` -> `{new}` ({owner}{node.name})"


def schema_field(ctx: EditContext) -> str:
    """A field added to or removed from a class with annotated fields, or a key added
    to a module-level dict literal."""
    field_classes = [
        c for c in _classes(ctx.source) if any(isinstance(s, ast.AnnAssign) for s in c.body)
    ]
    dicts = [
        n
        for n in ctx.source.tree.body
        if isinstance(n, (ast.Assign, ast.AnnAssign)) and isinstance(n.value, ast.Dict)
    ]
    lines = ctx.source.lines
    key = ctx.rng.choice(["lr", "batch_size", "timeout", "num_workers", "sweep_key"])
    if field_classes and (not dicts or ctx.rng.random() < 0.6):
        klass = ctx.rng.choice(field_classes)
        fields = [s for s in klass.body if isinstance(s, ast.AnnAssign)]
        if len(klass.body) > 1 and ctx.rng.random() < 0.4:
            field = ctx.rng.choice(fields)
            start, end = field.lineno - 1, field.end_lineno or field.lineno
            removed = "".join(lines[start:end]).strip()
            lines[start:end] = []
            _write(ctx, "".join(lines))
            return f"field removed from {klass.name}: {removed}"
        anchor = ctx.rng.choice(fields)
        indent = " " * anchor.col_offset
        name = f"{key}_{ctx.serial}" if ctx.rng.random() < 0.5 else key
        lines.insert(anchor.end_lineno or anchor.lineno, f"{indent}{name}: int = 0\n")
        _write(ctx, "".join(lines))
        return f"field added to {klass.name}: {name}: int = 0"
    if not dicts:
        raise NotApplicable("no schema class or dict")
    node = ctx.rng.choice(dicts)
    value = node.value
    assert isinstance(value, ast.Dict)
    line = lines[value.lineno - 1]
    brace = value.col_offset
    lines[value.lineno - 1] = line[: brace + 1] + f'"{key}": 0, ' + line[brace + 1 :]
    _write(ctx, "".join(lines))
    return f'key "{key}" added to the dict at line {value.lineno}'


DECORATORS = (
    ("functools.lru_cache", "import functools"),
    ("functools.wraps(print)", "import functools"),
    ("contextlib.contextmanager", "import contextlib"),
    ("staticmethod", ""),
    ("property", ""),
    ("dataclasses.dataclass", "import dataclasses"),
)


def toggle_decorator(ctx: EditContext) -> str:
    decorated = [
        (n, d)
        for n in ast.walk(ctx.source.tree)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        for d in n.decorator_list
        if d.lineno == d.end_lineno
    ]
    lines = ctx.source.lines
    if decorated and ctx.rng.random() < 0.4:
        node, decorator = ctx.rng.choice(decorated)
        removed = lines[decorator.lineno - 1].strip()
        lines[decorator.lineno - 1] = ""
        _write(ctx, "".join(lines))
        return f"decorator `{removed}` removed from {node.name}"
    targets = [
        n
        for n in ast.walk(ctx.source.tree)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    ]
    if not targets:
        raise NotApplicable("nothing to decorate")
    node = ctx.rng.choice(targets)
    if isinstance(node, ast.ClassDef):
        decorator, needed = ("dataclasses.dataclass", "import dataclasses")
    else:
        decorator, needed = ctx.rng.choice(DECORATORS[:5])
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
    indent = _indent_of(lines[first - 1])
    lines.insert(first - 1, f"{indent}@{decorator}\n")
    _write(ctx, _with_import("".join(lines), needed))
    return f"decorator @{decorator} added to {node.name}"


def add_file(ctx: EditContext) -> str:
    directory = Path(ctx.source.relpath).parent
    name = f"sweep_module_{ctx.serial}.py"
    module, target = _project_function(ctx.files, ctx.rng, "")
    call, needed = ctx.rng.choice(BLOCKING_CALLS)
    head = "async def" if ctx.rng.random() < 0.5 else "def"
    text = f'"""Added by the sweep."""\n\n{needed}\nfrom {module} import {target}\n\n\n'
    text += (
        f'{head} sweep_entry(cfg):\n    {call}\n    _ = cfg.get("lr", 0.1)\n    return {target}()\n'
    )
    ast.parse(text)
    (ctx.root / directory / name).write_text(text, encoding="utf-8")
    return f"file added: {(directory / name).as_posix()} ({head} calling {module}.{target}() and {call})"


def delete_file(ctx: EditContext) -> str:
    if Path(ctx.source.relpath).name == "__init__.py":
        raise NotApplicable("a package's __init__")
    (ctx.root / ctx.source.relpath).unlink()
    return "file deleted"


def rename_file(ctx: EditContext) -> str:
    path = Path(ctx.source.relpath)
    if path.name == "__init__.py":
        raise NotApplicable("a package's __init__")
    target = path.with_name(f"{path.stem}_moved_{ctx.serial}.py")
    (ctx.root / path).rename(ctx.root / target)
    return f"file renamed to {target.as_posix()}"


EDIT_KINDS: dict[str, Callable[[EditContext], str]] = {
    "add-function": add_function,
    "add-edge-function": add_edge_function,
    "remove-added-function": remove_added_function,
    "add-method": add_method,
    "remove-function": remove_function,
    "rename-function": rename_function,
    "add-call": add_call,
    "remove-call": remove_call,
    "add-import": add_import,
    "remove-import": remove_import,
    "alias-import": alias_import,
    "change-base": change_base,
    "toggle-async": toggle_async,
    "schema-field": schema_field,
    "toggle-decorator": toggle_decorator,
    "add-file": add_file,
    "delete-file": delete_file,
    "rename-file": rename_file,
}
# how often each kind is drawn: the file-level ones rarely, so that a sweep stays on
# the edits a user makes most
WEIGHTS = {kind: 1.0 for kind in EDIT_KINDS} | {
    "add-call": 3.0,
    "add-function": 2.0,
    "add-edge-function": 2.0,
    # applies only in a file an earlier edit added a function to: often drawn in vain
    "remove-added-function": 3.0,
    "schema-field": 2.0,
    "delete-file": 0.3,
    "rename-file": 0.3,
    "add-file": 0.5,
}


def random_edit(
    root: Path,
    rng: random.Random,
    serial: int,
    files: list[str] | None = None,
    kinds: Sequence[str] | None = None,
) -> str:
    """Apply one seeded edit to the tree at ``root``; return what it did (file, kind,
    detail). ``files`` restricts the files picked (relative paths), ``kinds`` the kinds
    of edit (names of ``EDIT_KINDS``)."""
    candidates = files if files is not None else python_files(root)
    candidates = [f for f in candidates if (root / f).is_file()]
    if not candidates:
        raise RuntimeError(f"no Python file left to edit under {root}")
    drawn = sorted(kinds if kinds is not None else EDIT_KINDS)
    for _ in range(200):
        relpath = rng.choice(candidates)
        kind = rng.choices(drawn, weights=[WEIGHTS[k] for k in drawn])[0]
        try:
            ctx = EditContext(root, relpath, rng, serial)
            return f"{relpath}: {kind}: {EDIT_KINDS[kind](ctx)}"
        except (NotApplicable, SyntaxError, UnicodeDecodeError):
            continue
    raise RuntimeError(f"no applicable edit found under {root}")


# --- the sweep over a real tree, through the CLI -------------------------------------


def _strip_timings(report: object) -> object:
    if isinstance(report, dict):
        return {k: _strip_timings(v) for k, v in report.items() if k != "elapsed_seconds"}
    if isinstance(report, list):
        return [_strip_timings(v) for v in report]
    return report


def _check(tree: Path, arguments: list[str], *, cache: bool) -> tuple[object, float]:
    command = [
        sys.executable,
        "-m",
        "integ_lint",
        "check",
        ".",
        "--format",
        "json",
        "--exit-zero",
        "--no-progress",
    ]
    command += arguments + ([] if cache else ["--no-cache"])
    started = time.perf_counter()
    done = subprocess.run(command, cwd=tree, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"integ-lint failed ({done.returncode}) in {tree}: {done.stderr.strip()[-400:]}"
        )
    return _strip_timings(json.loads(done.stdout)), elapsed


def _difference(warm: object, cold: object) -> str:
    """A short account of how two reports differ (findings only and not only)."""

    def keyed(report: object) -> set[str]:
        items = report.get("findings", []) if isinstance(report, dict) else []
        return {json.dumps(item, sort_keys=True) for item in items}

    only_warm = sorted(keyed(warm) - keyed(cold))
    only_cold = sorted(keyed(cold) - keyed(warm))
    lines = [f"  only warm: {item[:300]}" for item in only_warm[:5]]
    lines += [f"  only --no-cache: {item[:300]}" for item in only_cold[:5]]
    return "\n".join(lines) or "  findings equal; other fields (order, notifications) differ"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Edit TREE step by step (seeded) and compare, after each edit, a warm "
        "integ-lint run with a --no-cache run of the same tree. TREE is edited in place: "
        "pass a copy."
    )
    parser.add_argument("tree", type=Path, help="a COPY of a project (edited in place)")
    parser.add_argument("--edits", type=int, default=40, help="number of edits (default 40)")
    parser.add_argument("--seed", type=int, default=1, help="the RNG seed (default 1)")
    parser.add_argument("--config", default=None, help="passed to integ-lint check --config")
    parser.add_argument("--select", default=None, help="codes (default: the config's rules)")
    parser.add_argument("--jobs", default="1", help="integ-lint -j (default 1)")
    parser.add_argument("--keep-going", action="store_true", help="go on after a mismatch")
    parser.add_argument(
        "--kinds",
        default=None,
        help=f"comma-separated kinds of edit (default all: {','.join(EDIT_KINDS)})",
    )
    options = parser.parse_args(argv)

    tree = options.tree.resolve()
    arguments = ["-j", options.jobs]
    if options.config:
        arguments += ["--config", options.config]
    if options.select:
        arguments += ["--select", options.select]
    rng = random.Random(options.seed)
    kinds = options.kinds.split(",") if options.kinds else None
    unknown = sorted(set(kinds or ()) - set(EDIT_KINDS))
    if unknown:
        parser.error(f"unknown kinds of edit: {', '.join(unknown)}")
    _check(tree, arguments, cache=True)  # warm the cache and the memo
    mismatches = 0
    for serial in range(1, options.edits + 1):
        what = random_edit(tree, rng, serial, kinds=kinds)
        warm, warm_seconds = _check(tree, arguments, cache=True)
        cold, cold_seconds = _check(tree, arguments, cache=False)
        same = warm == cold
        verdict = "same" if same else "MISMATCH"
        print(
            f"[{serial:3}] {verdict} warm {warm_seconds:.2f}s cold {cold_seconds:.2f}s  {what}",
            flush=True,
        )
        if not same:
            mismatches += 1
            print(_difference(warm, cold), flush=True)
            if not options.keep_going:
                return 1
    print(f"{options.edits} edits, {mismatches} mismatches (seed {options.seed})")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
