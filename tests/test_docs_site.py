"""The documentation site's configuration covers every page and every subpackage.

The site itself is built with ``mkdocs build --strict`` in CI (``.ci/run``); these checks
are fast and catch a page or a subpackage added without a place on the site.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _nav_files(entries: object) -> set[str]:
    """Every file named in a MkDocs ``nav`` (nested lists of ``{title: file}``)."""
    if isinstance(entries, str):
        return {entries}
    if isinstance(entries, list):
        return set().union(*(_nav_files(entry) for entry in entries)) if entries else set()
    if isinstance(entries, dict):
        return set().union(*(_nav_files(value) for value in entries.values()))
    return set()


def _config() -> dict:
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))


def test_every_docs_page_and_notebook_is_in_the_nav():
    nav = _nav_files(_config()["nav"])
    pages = {str(path.relative_to(ROOT / "docs")) for path in (ROOT / "docs").rglob("*.md")
             if "notebooks" not in path.parts}
    notebooks = {f"notebooks/{path.name}" for path in (ROOT / "notebooks").glob("*.ipynb")}
    assert pages | notebooks <= nav, f"not in mkdocs.yml nav: {sorted(pages | notebooks - nav)}"


def test_every_subpackage_has_an_api_reference_page():
    documented = set()
    for page in (ROOT / "docs" / "api").glob("*.md"):
        documented |= set(re.findall(r"^::: forecastlib\.(\w+)", page.read_text(), re.M))
    package = ROOT / "src" / "forecastlib"
    subpackages = {path.parent.name for path in package.glob("*/__init__.py")}
    missing = subpackages - documented - {"cli"}  # the command line: docs/cli.md
    assert not missing, f"add docs/api/<name>.md with '::: forecastlib.<name>' for {missing}"


def test_nav_helper_reads_nested_sections():
    nav = [{"Home": "index.md"}, {"Guide": [{"A": "a.md"}, "b.md"]}, {"Empty": []}]
    assert _nav_files(nav) == {"index.md", "a.md", "b.md"}
