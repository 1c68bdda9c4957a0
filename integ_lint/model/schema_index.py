"""The project-wide schema table for the config-schema rules (IL3xx).

Joins the per-file :mod:`integ_lint.facts.schemas` facts: which classes are schema
classes (Pydantic models and settings, dataclasses, attrs classes, TypedDicts,
NamedTuples, subclasses of configured bases, transitively and through re-exports),
their fields including inherited ones, which of them are *config* schemas (names
matching the configured patterns, or reachable as a field type from one), and, for
every access site, what its receiver resolves to:

1. a value annotated with a schema class (parameter, variable, attribute, return type
   of a project function);
2. an attribute chain through schema-typed fields (``self.config.evaluation``);
3. a name or attribute assigned from one of those (``self.cfg = config.training``);
4. otherwise, when the receiver's name matches the receiver patterns, every config
   schema of the project (a *name match*, precision ``medium``).

Built once per run through ``project.derived(KEY, build_schema_index)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from integ_lint.config.settings import ConfigSchemaSettings
from integ_lint.facts.schemas import KEY as FACTS_KEY
from integ_lint.facts.schemas import (
    AccessSite,
    CallFact,
    ClassFact,
    ConfigLoad,
    DictFact,
    FieldFact,
    Origin,
    ParamsFact,
    SchemaFacts,
)
from integ_lint.files.globs import matches_any
from integ_lint.findings.model import Span
from integ_lint.model.names import follow_reexports
from integ_lint.model.project import KeptSummary, ProjectIndex

KEY = "config-schema-index"

PYDANTIC_BASES = frozenset(
    {
        "pydantic.BaseModel",
        "pydantic.main.BaseModel",
        "pydantic.v1.BaseModel",
        "pydantic.BaseSettings",
        "pydantic_settings.BaseSettings",
        "pydantic_settings.main.BaseSettings",
    }
)
TYPEDDICT_BASES = frozenset({"typing.TypedDict", "typing_extensions.TypedDict"})
NAMEDTUPLE_BASES = frozenset({"typing.NamedTuple", "typing_extensions.NamedTuple"})
DATACLASS_DECORATORS = frozenset(
    {"dataclasses.dataclass", "pydantic.dataclasses.dataclass", "attr.dataclass"}
)
ATTRS_DECORATORS = frozenset(
    {
        "attr.s",
        "attr.attrs",
        "attr.define",
        "attr.frozen",
        "attr.mutable",
        "attrs.define",
        "attrs.frozen",
        "attrs.mutable",
    }
)
# Annotations that say nothing about the keys or attributes of a value.
GENERIC_TYPES = frozenset(
    {
        "builtins.dict",
        "builtins.object",
        "typing.Any",
        "typing_extensions.Any",
        "typing.Dict",
        "typing.Mapping",
        "typing.MutableMapping",
        "collections.abc.Mapping",
        "collections.abc.MutableMapping",
        "types.SimpleNamespace",
        "argparse.Namespace",
        "omegaconf.DictConfig",
    }
)
# Attributes a schema class gets from its library: probing them is a compatibility
# check, not a config read.
LIBRARY_MEMBERS: dict[str, frozenset[str]] = {
    "pydantic": frozenset(
        {
            "model_config",
            "model_fields",
            "model_fields_set",
            "model_computed_fields",
            "model_extra",
            "model_dump",
            "model_dump_json",
            "model_copy",
            "model_validate",
            "model_validate_json",
            "model_json_schema",
            "model_construct",
            "model_post_init",
            "dict",
            "json",
            "copy",
            "parse_obj",
            "parse_raw",
            "schema",
            "schema_json",
            "construct",
            "fields",
            "Config",
        }
    ),
    "namedtuple": frozenset({"_asdict", "_replace", "_fields", "_field_defaults", "_make"}),
    "typeddict": frozenset({"keys", "values", "items", "get", "copy", "update"}),
}
MAX_DEPTH = 16
# A resolution that went through an unannotated parameter (config flow): the type
# comes from the project's call sites, not from a declaration (precision medium).
FLOW = "flow"


@dataclass(frozen=True)
class DeclaredField:
    fact: FieldFact
    owner: str  # qualified name of the class (or dict) declaring it
    owner_name: str
    path: str


@dataclass
class Schema:
    """A schema class or a dict config, with inherited fields."""

    qualname: str
    name: str
    path: str
    span: Span
    kind: str  # pydantic | dataclass | attrs | typeddict | namedtuple | configured | dict
    fields: dict[str, DeclaredField] = field(default_factory=dict)
    members: set[str] = field(default_factory=set)
    library_members: frozenset[str] = frozenset()
    is_config: bool = False
    # names that exist on every instance: fields, class-body members and attributes
    # assigned unconditionally in __init__ (not `if not hasattr(self, "x"): self.x = ...`)
    unconditional: set[str] = field(default_factory=set)
    extra: str = ""  # pydantic extra= ("allow" | "forbid" | "ignore" | "" unknown)
    is_settings: bool = False  # pydantic BaseSettings: values may come from the environment
    # keys the schema's own input code names (from_dict, before-validators): handled
    input_keys: set[str] = field(default_factory=set)
    # an instance may have any attribute: __getattr__, setattr(self, key, ...) with a
    # computed name, pydantic extra="allow"
    open_ended: bool = False
    # names a project subclass declares: probing one on the base is deliberate
    subclass_names: set[str] = field(default_factory=set)

    @property
    def is_mapping(self) -> bool:
        return self.kind in ("typeddict", "dict")

    @property
    def location(self) -> str:
        return f"{self.path}:{self.span.start_line}"

    def declares(self, name: str) -> bool:
        return self.open_ended or name in self.fields or name in self.members

    def always_declares(self, name: str) -> bool:
        return name in self.fields or name in self.unconditional


@dataclass
class ResolvedSite:
    """An access site whose receiver is a config, with what it was checked against."""

    path: str
    site: AccessSite
    schemas: list[Schema]
    resolved: bool  # True: receiver resolved to these schemas; False: name match
    flow: bool = False  # resolved through an unannotated parameter's call sites

    @property
    def precision(self) -> str:
        return "high" if self.resolved and not self.flow else "medium"

    @property
    def resolution(self) -> str:
        if not self.resolved:
            return "name-match"
        return "config-flow" if self.flow else "resolved"

    @property
    def declaring(self) -> list[tuple[Schema, DeclaredField | None]]:
        return [
            (s, s.fields.get(self.site.attr)) for s in self.schemas if s.declares(self.site.attr)
        ]


class SchemaIndex:
    def __init__(self, project: ProjectIndex) -> None:
        self.settings = project.config.section(ConfigSchemaSettings)
        self.test_paths = project.config.general.test_paths
        self.classes: dict[str, tuple[ClassFact, str]] = {}
        self.dict_facts: dict[str, tuple[DictFact, str]] = {}
        self.functions: dict[str, Origin] = {}
        self.globals: dict[str, Origin] = {}
        self.aliases: dict[str, dict[str, str]] = {}
        self.star_imports: dict[str, tuple[str, ...]] = {}
        self.site_facts: list[tuple[str, AccessSite]] = []
        self.params: dict[str, ParamsFact] = {}
        self.call_facts: list[tuple[str, CallFact]] = []
        self.loads: list[tuple[str, ConfigLoad]] = []
        # Modules more than one file claims, or that are a symbol's name too: a name
        # in one may be another file's symbol (see SchemaSummary).
        modules: set[str] = set()
        self._shared_modules: set[str] = set()
        for file_facts, value in project.facts(FACTS_KEY):
            if not isinstance(value, SchemaFacts):
                continue
            path = file_facts.relpath
            (self._shared_modules if value.module in modules else modules).add(value.module)
            self.aliases[value.module] = dict(value.aliases)
            self.star_imports[value.module] = value.star_imports
            for cls in value.classes:
                self.classes.setdefault(cls.qualname, (cls, path))
            for d in value.dicts:
                self.dict_facts.setdefault(d.qualname, (d, path))
            self.functions.update(value.functions)
            self.globals.update(value.globals)
            self.site_facts.extend((path, site) for site in value.sites)
            self.params.update((p.qualname, p) for p in value.params)
            if not matches_any(path, self.test_paths):
                # a test passing a double does not change what the code receives
                self.call_facts.extend((path, call) for call in value.calls)
                self.loads.extend((path, load) for load in value.loads)
        self._shared_modules.update(
            m
            for m in modules
            if m in self.classes or m in self.dict_facts or m in self.functions or m in self.globals
        )
        self._calls_to: dict[str, list[CallFact]] | None = None
        # What the build and its readers looked up, for the summary kept across runs
        # (kept_summary): names probed as a class, dict, function or global (hits and
        # misses), functions whose parameters were probed, and the classes whose body
        # (fields, members, attribute origins) was read, not just their bases.
        self._probed_names: set[str] = set()
        self._probed_params: set[str] = set()
        self._read_classes: set[str] = set()
        self._member_classes: set[str] = set()  # whose fields and attribute origins
        # config flow: the functions whose callers were asked for, and what each callee
        # of the call facts resolved to
        self._queried: set[str] = set()
        self._callee_targets: dict[CalleeKey, str | None] = {}
        self._top_modules = {m.split(".")[0] for m in self.aliases if m}
        self._star_memo: dict[str, str] = {}
        self._kinds: dict[str, str | None] = {}
        self._memo: dict[Origin, frozenset[str]] = {}
        self._active: set[Origin] = set()
        self.schemas: dict[str, Schema] = {}
        for qualname in self.classes:
            schema = self._schema(qualname)
            if schema is not None:
                self.schemas[qualname] = schema
        for schema in self.schemas.values():
            for base_qual in self._linearize(schema.qualname)[:-1]:
                base = self.schemas.get(base_qual)
                if base is not None:
                    base.subclass_names.update(schema.fields, schema.members)
        for qualname, (fact, path) in self.dict_facts.items():
            self.schemas[qualname] = Schema(
                qualname=qualname,
                name=fact.name,
                path=path,
                span=fact.span,
                kind="dict",
                fields={k.name: DeclaredField(k, qualname, fact.name, path) for k in fact.keys},
            )
        self._mark_config_schemas()
        self.sites: list[ResolvedSite] = [
            resolved
            for path, site in self.site_facts
            if (resolved := self._resolve_site(path, site)) is not None
        ]

    # -- symbols -----------------------------------------------------------------
    def resolve_symbol(self, qualname: str) -> tuple[str, str] | None:
        """``(kind, qualname)`` of a class, function, dict config or global, following
        re-exports and star imports (``pkg.AppConfig`` imported into
        ``pkg/__init__.py``) with the project model's one resolver."""
        found = follow_reexports(
            qualname,
            self._is_symbol,
            self.aliases,
            MAX_DEPTH,
            star_imports=self.star_imports,
            memo=self._star_memo,
        )
        return self._symbol(found)

    def _is_symbol(self, qualname: str) -> bool:
        return self._symbol(qualname) is not None

    def _symbol(self, qualname: str) -> tuple[str, str] | None:
        self._probed_names.add(qualname)
        if qualname in self.classes:
            return ("class", qualname)
        if qualname in self.dict_facts:
            return ("dict", qualname)
        if qualname in self.functions:
            return ("function", qualname)
        if qualname in self.globals:
            return ("global", qualname)
        return None

    # -- schema classes --------------------------------------------------------
    def _kind(self, qualname: str, depth: int = 0) -> str | None:
        if qualname in self._kinds:
            return self._kinds[qualname]
        if depth > MAX_DEPTH:
            return None
        self._kinds[qualname] = None  # cycle guard
        cls, _ = self.classes[qualname]
        kind: str | None = None
        decorators = set(cls.decorators)
        if decorators & DATACLASS_DECORATORS:
            kind = "dataclass"
        elif decorators & ATTRS_DECORATORS:
            kind = "attrs"
        for base in cls.bases:
            if kind is not None:
                break
            if base in PYDANTIC_BASES:
                kind = "pydantic"
            elif base in TYPEDDICT_BASES:
                kind = "typeddict"
            elif base in NAMEDTUPLE_BASES:
                kind = "namedtuple"
            elif self._configured_base(base):
                kind = "configured"
            else:
                symbol = self.resolve_symbol(base)
                if symbol is not None and symbol[0] == "class":
                    kind = self._kind(symbol[1], depth + 1)
        self._kinds[qualname] = kind
        return kind

    def _configured_base(self, base: str) -> bool:
        short = base.rsplit(".", 1)[-1]
        return any(
            fnmatchcase(base, pattern) or fnmatchcase(short, pattern)
            for pattern in self.settings.schema_bases
        )

    def _schema(self, qualname: str) -> Schema | None:
        kind = self._kind(qualname)
        if kind is None:
            return None
        cls, path = self.classes[qualname]
        schema = Schema(
            qualname=qualname,
            name=cls.name,
            path=path,
            span=cls.span,
            kind=kind,
            library_members=LIBRARY_MEMBERS.get(kind, frozenset()),
        )
        for base_qual in self._linearize(qualname):
            self._read_classes.add(base_qual)
            base, base_path = self.classes[base_qual]
            for fact in base.fields:
                schema.fields[fact.name] = DeclaredField(fact, base_qual, base.name, base_path)
            schema.members.update(base.members)
            schema.unconditional.update(base.members)
            schema.unconditional.update(base.unconditional)
            # attributes set in methods (validators, lazy caches) exist sometimes: a
            # read of one is no gap, but its fallback is not redundant either
            schema.members.update(name for name, _ in base.attr_origins)
            schema.extra = base.extra or schema.extra
            schema.input_keys.update(base.input_keys)
            schema.open_ended = schema.open_ended or base.dynamic_attrs
            if any(b.endswith("BaseSettings") for b in base.bases):
                schema.is_settings = True
        if schema.extra == "allow" or "__getattr__" in schema.members:
            schema.open_ended = True
        return schema

    def _linearize(self, qualname: str) -> list[str]:
        """Project classes in ``qualname``'s hierarchy, most basic first."""
        order: list[str] = []
        seen: set[str] = set()

        def visit(q: str, depth: int) -> None:
            if q in seen or depth > MAX_DEPTH:
                return
            seen.add(q)
            cls, _ = self.classes[q]
            for base in reversed(cls.bases):
                symbol = self.resolve_symbol(base)
                if symbol is not None and symbol[0] == "class":
                    visit(symbol[1], depth + 1)
            order.append(q)

        visit(qualname, 0)
        return order

    def _mark_config_schemas(self) -> None:
        patterns = self.settings.schema_patterns
        queue = [
            s
            for s in self.schemas.values()
            if s.kind != "dict" and any(fnmatchcase(s.name, p) for p in patterns)
        ]
        for schema in self.schemas.values():
            # DEFAULT_CONFIG = {...}: dict configs are usually upper case; any other
            # module-level dict is a config only when configured (dict-schemas)
            if schema.kind == "dict" and (
                any(fnmatchcase(schema.name.lower(), p.lower()) for p in patterns)
                or any(fnmatchcase(schema.qualname, p) for p in self.settings.dict_schemas)
            ):
                schema.is_config = True
        while queue:
            schema = queue.pop()
            if schema.is_config:
                continue
            schema.is_config = True
            for declared in schema.fields.values():
                for type_name in declared.fact.types:
                    symbol = self.resolve_symbol(type_name)
                    if symbol is not None and symbol[1] in self.schemas:
                        queue.append(self.schemas[symbol[1]])

    @property
    def config_schemas(self) -> list[Schema]:
        return sorted(
            (s for s in self.schemas.values() if s.is_config), key=lambda s: (s.name, s.qualname)
        )

    # -- receivers ---------------------------------------------------------------
    def _held_by(
        self, symbol: tuple[str, str] | None, kinds: tuple[str, str], depth: int
    ) -> set[str]:
        """What a name of one of ``kinds`` gives: a class or dict config itself, a
        function's return value or a global's value followed; anything else unknown."""
        if symbol is None or symbol[0] not in kinds:
            return {"unknown"}
        kind, qualname = symbol
        if kind in ("class", "dict"):
            return {f"{kind}:{qualname}"}
        values = self.functions if kind == "function" else self.globals
        return self.resolve(values[qualname], depth + 1)

    def resolve(self, origin: Origin, depth: int = 0) -> set[str]:
        """What a value may be: ``class:<q>``, ``dict:<q>``, ``external``, ``generic``,
        ``unknown`` or ``none``."""
        cached = self._memo.get(origin)
        if cached is not None:
            return set(cached)
        if depth > MAX_DEPTH or origin in self._active:
            return {"unknown"}  # a cycle (self.x = self.x.y) or a very long chain
        self._active.add(origin)
        try:
            base = self._resolve_base(origin, depth)
            flow = FLOW in base
            base.discard(FLOW)
            for attr in origin.attrs:
                base = set().union(*(self._member(t, attr, depth) for t in base)) if base else base
            if flow:
                base.add(FLOW)
        finally:
            self._active.discard(origin)
        result = frozenset(base or {"unknown"})
        self._memo[origin] = result
        return set(result)

    def _resolve_base(self, origin: Origin, depth: int) -> set[str]:
        kind = origin.kind
        if kind == "type":
            out: set[str] = set()
            for name in origin.names:
                symbol = self.resolve_symbol(name)
                if symbol is not None and symbol[0] == "class":
                    out.add(f"class:{symbol[1]}")
                elif name in GENERIC_TYPES:
                    out.add("generic")
                elif symbol is None and name.split(".")[0] not in self._top_modules:
                    out.add("external")
                else:
                    out.add("unknown")
            return out
        if kind == "call":
            return self._held_by(self.resolve_symbol(origin.names[0]), ("class", "function"), depth)
        if kind == "self":
            return {f"class:{origin.names[0]}"} if origin.names[0] in self.classes else set()
        if kind == "selfcall":
            owner, method = origin.names
            if owner in self.classes:
                for q in reversed(self._linearize(owner)):
                    self._probed_names.add(f"{q}.{method}")
                    returns = self.functions.get(f"{q}.{method}")
                    if returns is not None:
                        return self.resolve(returns, depth + 1)
            return {"unknown"}
        if kind == "global":
            symbol = self.resolve_symbol(origin.names[0])
            if symbol is None:
                # an object imported from outside the project (django.conf.settings)
                top = origin.names[0].split(".")[0]
                return {"unknown"} if top in self._top_modules else {"external"}
            return self._held_by(symbol, ("dict", "global"), depth)
        if kind == "dict":
            out = set()
            for name in origin.names:
                symbol = self.resolve_symbol(name)
                if symbol is not None and symbol[0] == "dict":
                    out.add(f"dict:{symbol[1]}")
            return out or {"unknown"}
        if kind == "none":
            return {"none"}
        if kind == "param":
            return self._resolve_param(origin.names[0], origin.names[1], depth)
        return {"unknown"}

    def class_of_name(self, qualname: str) -> str | None:
        """The project class a qualified name refers to (through re-exports)."""
        symbol = self.resolve_symbol(qualname)
        return symbol[1] if symbol is not None and symbol[0] == "class" else None

    def class_of(self, origin: Origin) -> str | None:
        """The project class a *class reference* denotes (``AppConfig`` in
        ``AppConfig.model_validate(...)``), not an instance of it."""
        if origin.kind == "global":
            return self.class_of_name(".".join((origin.names[0], *origin.attrs)))
        if origin.kind == "classref" and not origin.attrs:
            return origin.names[0]
        return None

    # -- config flow ---------------------------------------------------------------
    def _callee(self, callee: Origin) -> str | None:
        """The qualified function a call runs: a project function, a class's
        ``__init__`` (``Manager(cfg)``) or a method called on ``self``."""
        if callee.kind == "global":
            symbol = self.resolve_symbol(".".join((callee.names[0], *callee.attrs)))
            if symbol is None:
                return None
            if symbol[0] == "function":
                return symbol[1]
            if symbol[0] == "class":
                return self._method(symbol[1], "__init__")
            return None
        if callee.kind == "self" and len(callee.attrs) == 1:
            return self._method(callee.names[0], callee.attrs[0])
        return None

    def _method(self, class_qual: str, method: str) -> str | None:
        for q in reversed(self._linearize(class_qual)):
            self._probed_params.add(f"{q}.{method}")
            if f"{q}.{method}" in self.params:
                return f"{q}.{method}"
        return None

    def calls_to(self, function: str) -> list[CallFact]:
        self._queried.add(function)
        if self._calls_to is None:
            self._calls_to = {}
            for _, call in self.call_facts:
                target = self._callee(call.callee)
                self._callee_targets[callee_key(call.callee)] = target
                if target is not None:
                    self._calls_to.setdefault(target, []).append(call)
        return self._calls_to.get(function, [])

    def _resolve_param(self, function: str, name: str, depth: int) -> set[str]:
        """The types every project call site passes for an unannotated parameter;
        unknown when there is no call site, or one passes something unresolved."""
        self._probed_params.add(function)
        params = self.params.get(function)
        if params is None:
            return {"unknown"}
        index = params.positional.index(name) if name in params.positional else None
        out: set[str] = set()
        for call in self.calls_to(function):
            keywords = dict(call.kwargs)
            if "*" in keywords:
                return {"unknown"}
            if name in keywords:
                passed = keywords[name]
            elif index is not None and index < len(call.args):
                passed = call.args[index]
            else:
                continue  # not passed: the parameter's default
            targets = self.resolve(passed, depth + 1)
            targets.discard(FLOW)
            if targets == {"none"}:
                continue  # an explicit None: the Optional case
            targets.discard("none")
            if any(not t.startswith(("class:", "dict:")) for t in targets):
                return {"unknown"}
            out |= targets
        return {*out, FLOW} if out else {"unknown"}

    def _member(self, target: str, attr: str, depth: int) -> set[str]:
        if target == "external":
            return {"external"}  # model.config of a library model: not the project's
        if target == FLOW:
            return {FLOW}
        if not target.startswith("class:"):
            return {"unknown"}
        qualname = target[len("class:") :]
        schema = self.schemas.get(qualname)
        if schema is not None and attr in schema.fields:
            types = schema.fields[attr].fact.types
            return self.resolve(Origin("type", types), depth + 1) if types else {"unknown"}
        for q in reversed(self._linearize(qualname)):
            self._member_classes.add(q)
            cls, _ = self.classes[q]
            for fact in cls.fields:  # a class-level annotation of a plain class
                if fact.name == attr and fact.types:
                    return self.resolve(Origin("type", fact.types), depth + 1)
            for name, origins in cls.attr_origins:
                if name == attr:
                    return set().union(*(self.resolve(o, depth + 1) for o in origins))
        return {"unknown"}

    def matches_receiver(self, name: str) -> bool:
        return bool(name) and any(fnmatchcase(name, p) for p in self.settings.receiver_patterns)

    def _resolve_site(self, path: str, site: AccessSite) -> ResolvedSite | None:
        targets = self.resolve(site.receiver)
        flow = FLOW in targets
        targets.discard(FLOW)
        schemas = [
            self.schemas[t.split(":", 1)[1]]
            for t in sorted(targets)
            if t.split(":", 1)[0] in ("class", "dict") and t.split(":", 1)[1] in self.schemas
        ]
        mapping_site = site.kind in ("get", "in")
        if schemas:
            if any(s.kind == "dict" and not s.is_config for s in schemas):
                return None  # a module-level dict that is not declared a config
            if not self.matches_receiver(site.receiver_name):
                schemas = [s for s in schemas if s.is_config]
            if any(s.is_mapping != mapping_site for s in schemas):
                return None
            if not schemas:
                return None
            resolved = True
        elif (
            self.settings.name_match
            and targets <= {"unknown", "generic", "none"}
            and self.matches_receiver(site.receiver_name)
        ):
            # Mapping reads are checked against mapping-style schemas only: a raw dict
            # named "config" is not an instance of an attribute-style schema.
            schemas = [s for s in self.config_schemas if s.is_mapping == mapping_site]
            # A settings dict written for a test is not the project's schema: name
            # matches are checked against schemas outside the test paths only.
            schemas = [s for s in schemas if not matches_any(s.path, self.test_paths)]
            resolved = False
            if not schemas:
                return None
        else:
            return None
        if site.attr.startswith("__") or any(
            site.attr in s.library_members and not s.declares(site.attr) for s in schemas
        ):
            return None
        return ResolvedSite(path, site, schemas, resolved, flow and resolved)

    # -- the summary kept across runs ------------------------------------------------
    def kept_summary(self) -> SchemaSummary:
        """What this build and its readers looked up so far (see :class:`SchemaSummary`);
        asked for once the rules have run, so that their queries count."""
        return SchemaSummary(
            probed_names=frozenset(self._probed_names),
            probed_params=frozenset(self._probed_params),
            read_classes=frozenset(self._read_classes),
            member_classes=frozenset(self._member_classes),
            calls_read=self._calls_to is not None,
            inert_callees=frozenset(
                key for key, target in self._callee_targets.items() if target not in self._queried
            ),
            queried=frozenset(self._queried),
            shared_modules=frozenset(self._shared_modules),
        )


# An origin as plain tuples (pickled and loaded faster than the dataclass).
CalleeKey = tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def callee_key(origin: Origin) -> CalleeKey:
    return (origin.kind, origin.names, origin.attrs, origin.keys)


@dataclass(frozen=True)
class SchemaSummary:
    """The schema index's summary kept across runs (a
    :class:`~integ_lint.model.project.KeptSummary`): which parts of a file's schema facts
    the index, and everything built from it, observed.

    The index reads the facts in two ways. It walks some parts whole: every class's
    qualified name, bases and decorators (each class's kind is computed), the dict
    configs, the access sites, the config loads and the star-import tables. It looks the
    rest up by name: functions and globals (through :meth:`SchemaIndex._symbol` and a
    method's return), parameters, a class's body (fields, members, attribute origins,
    span: read for a schema and its bases), the fields and attribute origins of a class
    an attribute chain goes through (:meth:`SchemaIndex._member`), the import aliases
    on the way of a name resolved, and the calls to a function config flow asks the
    callers of. :meth:`reduce` keeps the parts walked whole and, of the rest, the
    entries whose name was looked up (hits and misses alike): an entry no lookup named
    changes no lookup's answer, so the index builds the same from facts that reduce
    alike, and moves with them when they differ only in lines.

    Of the calls, it leaves out those to a callee the build resolved to a function
    config flow never asked the callers of (``inert_callees``), and, for a callee no
    call of the build named (the benchmark's function added that calls the file's
    first), a plain call by name of a top-level function of the same file that flow
    never asked about (not in ``queried``): its qualified name is a function's of this
    file, and no class, dict or global of it, so the index's lookup ends there at once
    (:func:`~integ_lint.model.names.follow_reexports` tries the name itself first),
    unless another file claims the same module or the module's name is a symbol's
    too (a class nested in a class of the package: ``shared_modules``)."""

    probed_names: frozenset[str]
    probed_params: frozenset[str]
    read_classes: frozenset[str]
    # classes an attribute chain went through: their fields and attribute origins read
    member_classes: frozenset[str]
    calls_read: bool
    # callees whose calls config flow never asked for (they run no function whose
    # callers it wanted): a call to one, added or removed, changes no answer
    inert_callees: frozenset[CalleeKey] = frozenset()
    # the functions whose callers config flow asked for (None: a summary without them)
    queried: frozenset[str] | None = None
    shared_modules: frozenset[str] = frozenset()

    @property
    def fact_keys(self) -> frozenset[str]:
        return frozenset({FACTS_KEY})

    @property
    def readers(self) -> frozenset[str]:
        return frozenset({KEY})

    def reduce(self, key: str, before: object, after: object) -> tuple[object, object] | None:
        if key != FACTS_KEY or not isinstance(before, SchemaFacts):
            return None
        if not isinstance(after, SchemaFacts):
            return None
        return self._observed(before), self._observed(after)

    def _observed(self, facts: SchemaFacts) -> tuple[object, ...]:
        return (
            facts.module,
            self._aliases(facts),
            facts.star_imports,
            tuple(self._class(cls) for cls in facts.classes),
            facts.dicts,
            tuple(entry for entry in facts.functions if entry[0] in self.probed_names),
            tuple(entry for entry in facts.globals if entry[0] in self.probed_names),
            tuple(p for p in facts.params if p.qualname in self.probed_params),
            facts.sites,
            self._calls(facts) if self.calls_read else (),
            facts.loads,
        )

    def _calls(self, facts: SchemaFacts) -> tuple[CallFact, ...]:
        """The calls whose callee config flow may have asked the callers of."""
        local = self._local_functions(facts)
        queried = self.queried or frozenset()
        return tuple(
            call
            for call in facts.calls
            if callee_key(call.callee) not in self.inert_callees
            and not (
                call.callee.kind == "global"
                and not call.callee.attrs
                and len(call.callee.names) == 1
                and call.callee.names[0] in local
                and call.callee.names[0] not in queried
            )
        )

    def _local_functions(self, facts: SchemaFacts) -> set[str]:
        """The qualified names of the file's top-level functions that name nothing else
        of it (no class, dict or global), in a module no other file claims: a lookup
        of one ends at it."""
        module = facts.module
        if self.queried is None or not module or module in self.shared_modules:
            return set()
        prefix = module + "."
        found = {
            name
            for name, _ in facts.functions
            if name.startswith(prefix) and "." not in name[len(prefix) :]
        }
        if found:
            found.difference_update(c.qualname for c in facts.classes)
            found.difference_update(d.qualname for d in facts.dicts)
            found.difference_update(name for name, _ in facts.globals)
        return found

    def _class(self, cls: ClassFact) -> object:
        """What was read of a class: all of a schema's (or a base of one); the fields and
        attribute origins of a class an attribute chain went through; of any class its
        name, bases and decorators (its kind is computed)."""
        if cls.qualname in self.read_classes:
            return cls
        if cls.qualname in self.member_classes:
            return (cls.qualname, cls.bases, cls.decorators, cls.fields, cls.attr_origins)
        return (cls.qualname, cls.bases, cls.decorators)

    def _aliases(self, facts: SchemaFacts) -> tuple[tuple[str, str], ...]:
        """The import aliases a lookup may have read: the resolver
        (:func:`integ_lint.model.names.follow_reexports`) reads module ``m``'s binding
        ``k`` only while it resolves a name starting ``m.k``, and every name it resolves
        it first probes as a symbol."""
        if not facts.module:
            return facts.aliases
        prefixes = _prefixes(self.probed_names)
        module = facts.module
        return tuple(entry for entry in facts.aliases if f"{module}.{entry[0]}" in prefixes)

    def merged(self, older: KeptSummary) -> SchemaSummary | None:
        if not isinstance(older, SchemaSummary):
            return None
        return SchemaSummary(
            probed_names=self.probed_names | older.probed_names,
            probed_params=self.probed_params | older.probed_params,
            read_classes=self.read_classes | older.read_classes,
            member_classes=self.member_classes | older.member_classes,
            calls_read=self.calls_read or older.calls_read,
            inert_callees=(
                self.inert_callees & older.inert_callees
                if self.calls_read and older.calls_read
                else self.inert_callees | older.inert_callees
            ),
            queried=(
                self.queried | older.queried
                if self.queried is not None and older.queried is not None
                else None
            ),
            shared_modules=self.shared_modules | older.shared_modules,
        )


def _prefixes(names: Iterable[str]) -> set[str]:
    """Every dotted prefix of ``names`` (``a``, ``a.b``, ``a.b.c`` of ``a.b.c``)."""
    out: set[str] = set()
    for name in names:
        end = len(name)
        while end > 0 and name[:end] not in out:
            out.add(name[:end])
            end = name.rfind(".", 0, end)
    return out


def build_schema_index(project: ProjectIndex) -> SchemaIndex:
    return SchemaIndex(project)


def schema_index(project: ProjectIndex) -> SchemaIndex:
    return project.derived(KEY, build_schema_index)


def iter_sites(index: SchemaIndex, project: ProjectIndex) -> Iterator[ResolvedSite]:
    """Resolved sites on the paths findings may be reported on."""
    for resolved in index.sites:
        if project.report_paths is None or resolved.path in project.report_paths:
            yield resolved


def names(schemas: Iterable[Schema]) -> list[str]:
    return [s.name for s in schemas]
