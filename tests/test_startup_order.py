"""The first workload read puts the memory value on screen before the slower reads behind it finish.

A workload whose ``events()`` (in Kubernetes: event and ReplicaSet lists, two more round trips)
does not answer until the test lets it: the memory pane must already show the value, the read must
still count as in flight (so no second read starts beside it), and the events must follow.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

from analysis.memory import MIB
from analysis.model import MemorySample, TimelineEntry, TimelineKind
from tests.conftest import wait_until
from tests.static_sources import StaticWorkload, static_sources
from tui.app import IncidentApp
from textual.widgets import Static

from widgets.memory_graph import MemoryGraph
from widgets.timeline import TimelineTable


class SlowEventsWorkload(StaticWorkload):
    """Answers memory (30 MiB, now) and state at once; ``events()`` waits for :attr:`release`;
    reads are counted."""

    def __init__(self, deployed_sha: str) -> None:
        super().__init__(deployed_sha)
        self.release = threading.Event()
        self.describes = 0

    def describe(self):
        self.describes += 1
        return super().describe()

    def memory_since(self, after: datetime | None) -> list[MemorySample]:
        # Samples of the last seconds, so they fall inside the graph's window.
        now = datetime.now(timezone.utc)
        samples = [MemorySample(now - timedelta(seconds=age), 30 * MIB, "cgroup-v1") for age in (2, 1, 0)]
        return [sample for sample in samples if after is None or sample.at > after]

    def events(self) -> list[TimelineEntry]:
        self.release.wait(timeout=30)
        return super().events()


async def test_memory_is_shown_while_the_first_events_read_is_still_out(tmp_path: Path) -> None:
    # GIVEN a workload whose event read hangs until released
    base = static_sources(tmp_path)
    workload = SlowEventsWorkload(base.workload._deployed.sha)
    app = IncidentApp(dataclasses.replace(base, workload=workload), workload_interval=0.1, incident_interval=0.2)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = app.screen
        graph = screen.query_one(MemoryGraph)
        try:
            # WHEN the dashboard starts
            await wait_until(pilot, lambda: graph.view is not None, what="the memory pane's first view")
            # THEN the memory pane has its value and limit while the events are still being read
            summary = str(graph.query_one("#memory-summary", Static).render())
            assert summary.startswith("30.0 MiB / 64.0 MiB"), summary
            assert not workload.release.is_set()
            timeline_kinds = {entry.kind for entry in screen.query_one(TimelineTable).entries}
            assert TimelineKind.OOM_KILL not in timeline_kinds
            # AND that read still counts as in flight: the 0.1 s timer has not started another one
            await wait_until(pilot, lambda: screen._in_flight >= {"workload"}, what="the read in flight")
            assert workload.describes == 1
            # AND the analysis waits for it (it reads the rollouts that read is listing), though the
            # incident and its OOM kill are known
            await wait_until(pilot, lambda: screen.incident is not None, what="the incident")
            assert not screen._investigating and screen.investigation is None
        finally:
            workload.release.set()
        # WHEN the events answer
        # THEN they reach the timeline and the read is over
        await wait_until(pilot, lambda: TimelineKind.OOM_KILL in {e.kind for e in screen.query_one(TimelineTable).entries},
                         what="the events on the timeline")
        await wait_until(pilot, lambda: workload.describes > 1, what="the next workload read")
        # AND the analysis runs
        await wait_until(pilot, lambda: screen.investigation is not None, what="the investigation")
