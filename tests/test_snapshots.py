"""SVG snapshots of the dashboard with a frozen clock and fixed data (pytest-textual-snapshot)."""

from __future__ import annotations

from pathlib import Path

import pytest
import time_machine

from tests.conftest import wait_until
from tests.static_sources import FROZEN_NOW, static_sources
from tui.app import IncidentApp


@pytest.fixture
def frozen_app(tmp_path: Path):
    with time_machine.travel(FROZEN_NOW, tick=False):
        yield IncidentApp(static_sources(tmp_path), workload_interval=3600, incident_interval=3600)


async def investigated(pilot) -> None:
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.investigation is not None, what="the investigation")
    await pilot.pause()


def test_full_dashboard(snap_compare, frozen_app) -> None:
    # GIVEN fixed data and a frozen clock THEN the four panes render the same every time
    assert snap_compare(frozen_app, terminal_size=(160, 48), run_before=investigated)


def test_compact_memory_pane(snap_compare, frozen_app) -> None:
    assert snap_compare(frozen_app, terminal_size=(80, 24), run_before=investigated)


def test_compact_suspects_pane(snap_compare, frozen_app) -> None:
    async def show_suspects(pilot) -> None:
        await investigated(pilot)
        await pilot.press("3")

    assert snap_compare(frozen_app, terminal_size=(80, 24), run_before=show_suspects)


def test_compact_diff_pane(snap_compare, frozen_app) -> None:
    async def show_diff(pilot) -> None:
        await investigated(pilot)
        await pilot.press("4")

    assert snap_compare(frozen_app, terminal_size=(80, 24), run_before=show_diff)
