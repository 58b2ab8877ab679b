"""The memory pane draws its plot sparingly: new samples wait for the next column, events do not.

A bare app holding only the pane, fed views as the dashboard feeds them; what is drawn is read from
the plot's own ``view`` and the summary's text.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from textual.app import App, ComposeResult
from textual.widgets import Static

from analysis.memory import MIB
from analysis.model import MemorySample
from tests.conftest import wait_until
from widgets.memory_graph import MemoryGraph, MemoryPlot, MemoryView

HOLD = 5.0
"""The pane's least interval between plot drawings in these tests: long enough that no stall of
the test machine between two statements can pass it, short enough to wait out once."""


class PaneApp(App):
    """Only the memory pane."""

    def compose(self) -> ComposeResult:
        yield MemoryGraph()


def summary_of(app: App) -> str:
    return str(app.query_one("#memory-summary", Static).render())


async def test_new_samples_wait_for_the_plot_but_not_for_the_summary_and_a_kill_is_drawn_at_once() -> None:
    now = datetime.now(timezone.utc)
    first = MemoryView(samples=(MemorySample(now - timedelta(seconds=1), 20 * MIB, "cgroup-v1"),),
                       limit_bytes=64 * MIB, now=now - timedelta(seconds=1), window=timedelta(minutes=1))
    app = PaneApp()
    async with app.run_test(size=(80, 20)) as pilot:
        graph, plot = app.query_one(MemoryGraph), app.query_one(MemoryPlot)
        graph.min_plot_interval = HOLD
        # GIVEN the pane has drawn a first view
        graph.view = first
        await wait_until(pilot, lambda: plot.view is first, what="the first drawing")
        # WHEN a view that only adds a sample arrives right after
        second = replace(first, samples=(*first.samples, MemorySample(now, 40 * MIB, "cgroup-v1")), now=now)
        graph.view = second
        await pilot.pause()
        # THEN the summary shows the new value at once, while the plot keeps the first view
        assert summary_of(app).startswith("40.0 MiB / 64.0 MiB"), summary_of(app)
        assert plot.view is first
        # AND the plot draws the newest view once the interval has passed
        await wait_until(pilot, lambda: plot.view is second, what="the held-back drawing")
        # WHEN an OOM kill arrives right after that drawing
        third = replace(second, oom_kills=(now,))
        graph.view = third
        await pilot.pause()
        # THEN it is drawn at once, not held back
        assert plot.view is third
        assert "OOM" in plot.render().plain
