"""The package layering: a module imports from its own layer and lower ones only.

Every module under `harness/` is parsed (not imported) and every `harness.*`
import counts, wherever it is: at the top, inside a function, or under
`if TYPE_CHECKING:`.  Layers, low to high:

 0 the foundation (top-level modules listed in FOUNDATION)
 1 scenario/  2 procs/  3 envs/  4 targets/  5 plan/  6 runner/  7 results.py
 8 judge/  9 engine/  10 analyses/  11 reports/  12 commands/, cli.py, __main__.py

The pure analyses (bisect, its bands, and gate) also may import only the
foundation, scenario, plan, results, judge and each other, and never `rich`:
they decide, they do not run cells or print.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

HARNESS = ROOT / "harness"

FOUNDATION = frozenset(
    {
        "harness",
        "errors",
        "outcomes",
        "atomic",
        "clock",
        "platforms",
        "httpx_import",
        "textsafety",
        "patterns",
        "boundedread",
        "schema_check",
    }
)
#: The first component under `harness.` -> its rank (the foundation is rank 0).
RANKS: dict[str, int] = {
    "scenario": 1,
    "procs": 2,
    "envs": 3,
    "targets": 4,
    "plan": 5,
    "runner": 6,
    "results": 7,
    "judge": 8,
    "engine": 9,
    "analyses": 10,
    "cards": 10,
    "reports": 11,
    "commands": 12,
    "cli": 12,
    "__main__": 12,
}
PURE_ANALYSES = frozenset(
    {"harness.analyses.bisect", "harness.analyses.bisect_bands", "harness.analyses.gate"}
)
PURE_MAY_IMPORT = frozenset({"scenario", "plan", "results", "judge"})


#: Violations of the target layering that exist today; a fixed one must leave the set.
def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    """Whether `harness.x.y` names a module or package (not a name inside one)."""
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def layer(module: str) -> str:
    """`harness.scenario.loader` -> `scenario`; a foundation module -> `harness`."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "harness"
    return "harness" if top in FOUNDATION else top


def rank(module: str) -> int | None:
    top = layer(module)
    return 0 if top == "harness" else RANKS.get(top)


def harness_imports(module: str, source: str, is_package: bool = False) -> Iterator[str]:
    """The `harness` modules `source` imports, anywhere in it (names resolved to modules)."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "harness":
                    yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                stem = package[: len(package) - (node.level - 1)]
                base = ".".join([*stem, base] if base else stem)
            if base.split(".")[0] != "harness":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield sub if is_module(sub) else base


def imports_rich(source: str) -> bool:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            if any(alias.name.split(".")[0] == "rich" for alias in node.names):
                return True
        elif (
            isinstance(node, ast.ImportFrom)
            and not node.level
            and (node.module or "").split(".")[0] == "rich"
        ):
            return True
    return False


def violations_of(module: str, source: str, is_package: bool = False) -> set[str]:
    """Every layering violation of one module, as `module -> imported (why)`."""
    found: set[str] = set()
    own = rank(module)
    if own is None:
        return {f"{module}: not in any layer (add it to RANKS or FOUNDATION)"}
    for imported in sorted(set(harness_imports(module, source, is_package))):
        theirs = rank(imported)
        if theirs is None:
            found.add(f"{module} -> {imported} (not in any layer)")
        elif theirs > own:
            found.add(f"{module} -> {imported} (rank {theirs} > rank {own})")
        elif (
            module in PURE_ANALYSES
            and imported not in PURE_ANALYSES
            and layer(imported) not in PURE_MAY_IMPORT | {"harness"}
        ):
            found.add(f"{module} -> {imported} (pure analysis: {layer(imported)})")
    if module in PURE_ANALYSES and imports_rich(source):
        found.add(f"{module} -> rich (pure analysis: rich)")
    return found


def all_violations() -> set[str]:
    found: set[str] = set()
    for path in sorted(HARNESS.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        found |= violations_of(module_name(path), source, path.name == "__init__.py")
    return found


def test_harness_modules_import_only_their_layer_and_lower_ones() -> None:
    new = sorted(all_violations())
    assert not new, "layer violations:\n" + "\n".join(new)


@pytest.mark.parametrize(
    "source",
    [
        "from harness.commands.run import execute\n",
        "import harness.commands.run\n",
        "from harness.commands import run\n",
        "def later() -> None:\n    from harness.commands.run import execute\n",
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from harness.commands.run import execute\n",
        "from ..commands.run import execute\n",
    ],
)
def test_the_checker_reports_an_upward_import(source: str) -> None:
    violations = violations_of("harness.scenario.synthetic", source)
    assert violations == {"harness.scenario.synthetic -> harness.commands.run (rank 12 > rank 1)"}


def test_the_checker_allows_own_layer_and_lower_ones() -> None:
    source = (
        "from harness import errors\n"
        "from harness.scenario.model import Scenario\n"
        "from . import model\n"
    )
    assert violations_of("harness.scenario.synthetic", source) == set()
    assert violations_of("harness.plan.synthetic", source) == set()


def test_the_checker_keeps_the_analyses_pure() -> None:
    source = "from rich.console import Console\nfrom harness.runner.cell import CellRunner\n"
    assert violations_of("harness.analyses.gate", source) == {
        "harness.analyses.gate -> rich (pure analysis: rich)",
        "harness.analyses.gate -> harness.runner.cell (pure analysis: runner)",
    }
    assert violations_of("harness.analyses.narrowing", source) == set()
