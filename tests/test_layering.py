"""The one-way layers of STYLE.md: analysis is pure, widgets never fetch."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN_IN_ANALYSIS = {
    "textual", "rich", "httpx", "kubernetes", "github", "subprocess", "socket", "sqlite3",
    "urllib", "requests", "tui", "widgets", "threading", "asyncio", "os", "shutil", "tempfile",
}
"""Modules whose use means I/O, UI or an upper layer."""

FORBIDDEN_IN_WIDGETS = {"tui", "httpx", "kubernetes", "github", "subprocess", "socket", "sqlite3"}
"""Widgets display; they do not reach sources or the network."""


def imported_roots(path: Path) -> set[str]:
    """Top-level names of every module a file imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", sorted((ROOT / "analysis").glob("*.py")), ids=lambda p: p.name)
def test_analysis_imports_no_io_ui_or_upper_layer(path: Path) -> None:
    # GIVEN a module of the pure analysis package
    # WHEN its imports are read
    forbidden = imported_roots(path) & FORBIDDEN_IN_ANALYSIS
    # THEN none of them does I/O, UI or comes from an upper layer
    assert not forbidden, f"{path.name} imports {sorted(forbidden)}"


@pytest.mark.parametrize("path", sorted((ROOT / "widgets").glob("*.py")), ids=lambda p: p.name)
def test_widgets_import_no_sources(path: Path) -> None:
    # GIVEN a presentational widget module
    forbidden = imported_roots(path) & FORBIDDEN_IN_WIDGETS
    # THEN it imports no source, client or process module
    assert not forbidden, f"{path.name} imports {sorted(forbidden)}"


def test_layering_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    # GIVEN a file that imports subprocess
    bad = tmp_path / "bad.py"
    bad.write_text("import subprocess\nfrom textual.app import App\n")
    # THEN the checker sees both
    assert {"subprocess", "textual"} <= imported_roots(bad)
