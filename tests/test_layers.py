"""The data flows one way: no module imports from a package above its own.

Layers, bottom to top (a package may import from its own layer or any layer below)::

    foundation (errors, calendar, lines, streams)
    records -> accrual -> budget -> demand -> simulation -> scenarios -> outturn
    -> whatif -> report -> datasets -> cli

``datasets`` sits near the top because the sample county and the calibration study run
whole forecasts; ``cli`` is the outermost shell.
"""

from __future__ import annotations

import ast
from pathlib import Path

import forecastlib

LAYERS = [
    {"errors", "calendar", "lines", "streams"},
    {"records"},
    {"accrual"},
    {"budget"},
    {"demand"},
    {"simulation"},
    {"scenarios"},
    {"outturn"},
    {"whatif"},
    {"report"},
    {"datasets"},
    {"cli", "__main__"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
ROOT = Path(forecastlib.__file__).parent


def _package_of(path: Path) -> str:
    part = path.relative_to(ROOT).parts[0]
    return part.removesuffix(".py")


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "forecastlib" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_every_package_has_a_layer():
    packages = {_package_of(path) for path in ROOT.rglob("*.py")} - {"__init__"}
    assert packages <= set(RANK), sorted(packages - set(RANK))


def test_no_module_imports_from_a_package_above_it():
    upward = []
    for path in sorted(ROOT.rglob("*.py")):
        own = _package_of(path)
        if own == "__init__":  # the top-level re-exports everything
            continue
        for imported in _imported_packages(path):
            if imported in RANK and RANK[imported] > RANK[own]:
                upward.append(f"{path.relative_to(ROOT)} imports forecastlib.{imported}")
    assert not upward, "\n".join(upward)
