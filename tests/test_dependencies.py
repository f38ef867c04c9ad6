"""Every library the package imports is declared in pyproject.toml (not only pulled in by another)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys

from paths import ROOT

PACKAGE = ROOT / "aggregator"


def declared() -> set[str]:
    """Distribution names of [project] dependencies, normalised (PEP 503)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M).group(1)
    names = re.findall(r'^\s*"([A-Za-z0-9._-]+)', block, re.M)
    return {re.sub(r"[-_.]+", "-", n).lower() for n in names}


def imported() -> set[str]:
    """Top-level modules imported anywhere in aggregator/, the standard library and ourselves left out."""
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in ("aggregator", "__future__")}


def test_every_imported_library_is_declared() -> None:
    dists = importlib.metadata.packages_distributions()
    missing = {}
    for module in sorted(imported()):
        names = {re.sub(r"[-_.]+", "-", d).lower() for d in dists.get(module, [module])}
        if not names & declared():
            missing[module] = sorted(names)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_the_check_sees_what_it_should() -> None:
    assert {"lxml", "httpx", "feedgen", "ruamel", "brotli"} <= imported()
    assert {"lxml", "httpx", "ruamel-yaml", "brotli"} <= declared()
