"""The faster constructors integ_lint.engine.node_init gives LibCST's node classes
build the same nodes as the ones dataclasses generated, validate them the same
way, and are installed only once a process has parsed enough files to pay for them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import libcst as cst
import pytest

from integ_lint.engine import analysis, node_init

ROOT = Path(__file__).resolve().parent.parent

# Run in a fresh interpreter: installing is for the whole process, and the trees
# built before it are the reference.
_SCRIPT = textwrap.dedent(
    """
    import inspect
    import sys
    from pathlib import Path

    import libcst as cst

    from integ_lint.engine import analysis, node_init

    paths = sorted(
        p for folder in sys.argv[1:] for p in Path(folder).rglob("*.py") if p.is_file()
    )
    sources = [p.read_text(encoding="utf-8", errors="replace") for p in paths]

    def parse_all():
        trees = []
        for source in sources:
            try:
                trees.append(analysis._parse_module(source))
            except Exception as exc:
                trees.append(type(exc).__name__)
        return trees

    def built_by_hand():
        call = cst.Call(func=cst.Name("f"), args=[cst.Arg(cst.Integer("1"))])
        return [
            call,
            call.with_changes(func=cst.Attribute(cst.Name("a"), cst.Name("b"))),
            cst.Name("x", (), ()),
            cst.Comma(),
        ]

    def signatures():
        found = {}
        for kind in vars(cst).values():
            if isinstance(kind, type) and cst.CSTNode in kind.__mro__:
                parameters = inspect.signature(kind).parameters.values()
                found[kind] = [(p.name, p.kind, id(p.default)) for p in parameters]
        return found

    assert not node_init._installed
    before, by_hand, signatures_before = parse_all(), built_by_hand(), signatures()
    shared_before = cst.Call(func=cst.Name("f")).lpar is cst.Call(func=cst.Name("g")).lpar
    node_init.install()
    assert cst.Name.__init__.__code__.co_filename == "<integ-lint node constructors>"
    after, by_hand_after = parse_all(), built_by_hand()
    # The same parameters and the same default objects: a caller that passes the
    # signature's default for a factory field (hypothesis does) gets the factory's.
    same_signatures = signatures() == signatures_before
    factory = inspect.signature(cst.Comma).parameters["whitespace_after"].default
    comma = cst.Comma(whitespace_after=factory)
    same_signatures = same_signatures and type(comma.whitespace_after) is cst.SimpleWhitespace
    shared_after = cst.Call(func=cst.Name("f")).lpar is cst.Call(func=cst.Name("g")).lpar
    differ = [
        str(path)
        for path, old, new, source in zip(paths, before, after, sources)
        if (old if isinstance(old, str) else None) != (new if isinstance(new, str) else None)
        or (not isinstance(new, str) and (not old.deep_equals(new) or new.code != source))
    ]
    same_by_hand = all(a.deep_equals(b) for a, b in zip(by_hand, by_hand_after))
    installed = sum(
        1
        for kind in vars(cst).values()
        if isinstance(kind, type)
        and cst.CSTNode in kind.__mro__
        and "__init__" in kind.__dict__
        and kind.__init__.__code__.co_filename.startswith("<integ-lint")
    )
    print(
        len(paths), len(differ), same_by_hand, shared_before == shared_after, installed,
        same_signatures,
    )
    print("\\n".join(differ[:5]))
    """
)


def test_the_same_trees_before_and_after_installing() -> None:
    folders = [str(ROOT / "fixtures"), str(ROOT / "integ_lint" / "engine"), str(ROOT / "rules")]
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *folders],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    first_line = done.stdout.split("\n", 1)[0].split()
    files, differ, same_by_hand, same_sharing, installed, same_signatures = first_line
    assert int(files) > 200
    assert int(differ) == 0, done.stdout
    assert same_by_hand == "True"
    assert same_sharing == "True"
    assert int(installed) > 150  # every node class LibCST exports
    assert same_signatures == "True"


def test_validation_and_arguments_as_before() -> None:
    node_init.install()
    assert cst.Name.__init__.__code__.co_filename == "<integ-lint node constructors>"
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not an identifier")
    with pytest.raises(TypeError):
        cst.Name()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        cst.Name("x", unknown=1)  # type: ignore[call-arg]
    first, second = cst.Call(func=cst.Name("f")), cst.Call(func=cst.Name("g"))
    # A default factory runs once per node, as in the generated constructor.
    assert first.whitespace_after_func.deep_equals(cst.SimpleWhitespace(""))
    assert first.whitespace_after_func is not second.whitespace_after_func
    parenthesised = cst.Name("x", (cst.LeftParen(),), (cst.RightParen(),))
    assert [type(node) for node in parenthesised.lpar] == [cst.LeftParen]
    assert cst.Module([]).code_for_node(parenthesised) == "(x)"


def test_installed_only_after_enough_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(node_init, "_installed", False)
    monkeypatch.setattr(node_init, "_parses", 0)
    installs: list[int] = []
    monkeypatch.setattr(node_init, "install", lambda: installs.append(node_init._parses))
    for _ in range(node_init._PARSES_BEFORE_INSTALL - 1):
        analysis._parse_module("x = 1\n")
    assert installs == []
    analysis._parse_module("x = 1\n")
    assert installs == [node_init._PARSES_BEFORE_INSTALL]
