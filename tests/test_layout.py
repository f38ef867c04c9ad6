"""The package's layout keeps its promises: read from the imports of every module, so they stay true.

- one package per stage of config → fetch → parse → dedup → tag → store → publish, plus
  the pipeline and the CLI; at the top only what every stage shares;
- each third-party library behind its stage (httpx only in fetch/, feedparser only in
  parse/, feedgen only in publish/, tinydb only in store/…);
- a stage is reached from outside only through its face (its ``__init__``);
- no import circle between modules, nor between stages;
- no module over 400 lines, at most 10 modules at the top.
"""

from __future__ import annotations

import ast
import importlib.util
from collections import defaultdict
from pathlib import Path

import pytest

from paths import ROOT

PACKAGE = ROOT / "aggregator"
STAGES = ("config", "fetch", "parse", "dedup", "tag", "store", "publish")
PACKAGES = (*STAGES, "pipeline", "cli")
SHARED = {"__init__", "__main__", "records", "reports", "errors", "text", "atomicfile", "gcpolicy", "processes"}
# Each library that a stage wraps, and the packages allowed to import it.
LIBRARIES = {
    "httpx": {"fetch"}, "brotli": {"fetch"},
    "feedparser": {"parse"},
    "feedgen": {"publish"}, "lxml": {"publish"},
    "tinydb": {"store"}, "orjson": {"store"}, "psycopg": {"store"},
    "ruamel": {"config"},
    "w3lib": {"dedup"},
    "click": {"cli"}, "rich": {"cli"},
    "filelock": {"store", "config"},
}
# What each package may import from the others (the flow, read downwards).
ALLOWED = {
    "config": {"tag"},  # validates topic patterns with the tag stage's compiler
    "fetch": set(), "parse": set(), "dedup": set(), "tag": set(), "publish": set(),
    "store": {"dedup"},  # the heads table keeps dedup's title tokens and URL keys
    "pipeline": set(STAGES),
    "cli": {*STAGES, "pipeline"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def is_module(name: str) -> bool:
    return name in modules()


def imports_of(path: Path) -> list[tuple[str, int]]:
    """Every module *path* imports (absolute names), at any depth of the code, with its line."""
    return [(target, line) for target, line, _face in imports_with_faces(path)]


def imports_with_faces(path: Path) -> list[tuple[str, int, str | None]]:
    """Like ``imports_of``, with the package a submodule was taken from ("from pkg import sub")."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, int, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) \
                if node.level else node.module
            for alias in node.names:  # "from pkg import sub" imports the module pkg.sub
                sub = f"{base}.{alias.name}"
                found.append((sub, node.lineno, base) if is_module(sub) else (base, node.lineno, None))
    return found


def exports(package: str) -> set[str]:
    return set(importlib.import_module(f"aggregator.{package}").__all__)


def package_of(name: str) -> str | None:
    """The stage (or pipeline, cli) a module of ours belongs to; None at the top level."""
    parts = name.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in PACKAGES) else None


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in modules().items():
        for target, _line in imports_of(path):
            if target.startswith("aggregator") and target != name:
                edges[name].add(target)
    return edges


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of *edges* as a list of nodes, or None (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_flow_is_the_folder_listing() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(PACKAGES)
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top <= SHARED and len(top) <= 10


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_says_what_it_owns_and_exports(package: str) -> None:
    face = PACKAGE / package / "__init__.py"
    doc = ast.get_docstring(ast.parse(face.read_text(encoding="utf-8"))) or ""
    assert "Owns:" in doc and "Must not:" in doc and "Start reading at" in doc, face
    module = importlib.import_module(f"aggregator.{package}")
    assert module.__all__ and all(hasattr(module, n) for n in module.__all__)


def test_each_library_is_imported_only_by_its_stage() -> None:
    wrong = []
    for name, path in modules().items():
        for target, line in imports_of(path):
            allowed = LIBRARIES.get(target.split(".")[0])
            if allowed is not None and package_of(name) not in allowed:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not wrong


def test_stages_reach_each_other_only_through_their_faces_and_down_the_flow() -> None:
    wrong = []
    for name, path in modules().items():
        if name == "aggregator.__main__":  # ``python -m aggregator`` is the command line
            continue
        here = package_of(name)
        for target, line, face in imports_with_faces(path):
            there = package_of(target) if target.startswith("aggregator.") else None
            if there is None or there == here:
                continue
            where = f"{path.relative_to(ROOT)}:{line} imports {target}"
            exported = face == f"aggregator.{there}" and target.rpartition(".")[2] in exports(there)
            if target != f"aggregator.{there}" and not exported:
                wrong.append(where + f" (use the face, aggregator.{there})")
            elif here is None or there not in ALLOWED[here]:
                wrong.append(where + f" ({here or 'the top level'} may not depend on {there})")
    assert not wrong


def test_no_import_circle_between_modules() -> None:
    assert cycle(graph()) is None


def test_no_import_circle_between_stages() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for name, targets in graph().items():
        for target in targets:
            a, b = package_of(name), package_of(target)
            if a and b and a != b:
                edges[a].add(b)
    assert cycle(edges) is None


def test_the_cycle_finder_finds_one() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": {"c"}}) is None


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_over_400_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 400
