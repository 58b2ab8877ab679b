"""A failing upstream makes its pane say it is stale; the rest keeps working; it recovers by itself."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

from tests.conftest import wait_until
from tests.static_sources import StaticWorkload, static_sources
from tui.app import IncidentApp
from tui.sources.base import SourceError
from widgets.incident_header import IncidentHeader
from widgets.memory_graph import MemoryGraph


class FlakyWorkload(StaticWorkload):
    """A workload whose memory reads fail while ``down`` is set, like a metrics API outage."""

    def __init__(self, deployed_sha: str) -> None:
        super().__init__(deployed_sha)
        self.down = threading.Event()
        self.down.set()

    def memory_since(self, after):
        if self.down.is_set():
            raise SourceError("metrics API unreachable (connection refused)")
        return super().memory_since(after)


async def test_stale_memory_pane_says_so_and_recovers(tmp_path: Path) -> None:
    # GIVEN a dashboard whose workload source is down
    base = static_sources(tmp_path)
    workload = FlakyWorkload(base.workload.deployments()[0].sha)
    app = IncidentApp(dataclasses.replace(base, workload=workload), workload_interval=0.1, incident_interval=0.1)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        graph = screen.query_one(MemoryGraph)
        # THEN the memory pane says it is stale, since when, and why
        await wait_until(pilot, lambda: graph.view is not None and graph.view.stale_note, what="a stale note")
        assert "retrying in" in graph.view.stale_note and "connection refused" in graph.view.stale_note
        # AND the incident pane still shows the incident
        await wait_until(pilot, lambda: screen.incident is not None, what="the incident")
        assert "#1001" in str(screen.query_one(IncidentHeader).render())
        # WHEN the upstream comes back
        workload.down.clear()
        # THEN the pane recovers without any key pressed
        # (the static samples are dated at a fixed time, so check the screen received them rather
        # than whether they fall inside the graph's window at today's wall-clock time)
        await wait_until(pilot, lambda: graph.view.stale_note is None and screen._history, what="recovery")
