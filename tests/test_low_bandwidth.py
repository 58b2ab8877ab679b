"""Low-bandwidth mode (``--low-bandwidth``): reads far apart, ASCII graph, manual refresh, mode shown.

Pilot tests on the real demo sources, wrapped in counters that record what the dashboard asked
each upstream; normal mode is checked against the same counters so the window is known to be long
enough to tell the modes apart (the SVG snapshots in test_snapshots.py pin normal mode's look).
"""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

from rich.style import Style
from rich.text import Text
from textual_plotext import Plot

from analysis.memory import MIB
from analysis.model import MemorySample
from tests.conftest import DemoRun, wait_until
from tests.static_sources import StaticWorkload, static_sources
from tui.app import IncidentApp
from tui.cli import build_parser
from tui.sources.base import SourceError
from widgets.incident_header import IncidentHeader
from widgets.memory_graph import MemoryGraph, MemoryPlot, MemoryView, ascii_only, draw_memory_plot

WINDOW = 4.0
"""Seconds of quiet watched after start-up: four normal workload reads, none in low-bandwidth
mode (its reads are 5 s apart); the assertion is about reads that must not happen, so it needs a
span of time rather than a condition."""
BRAILLE = range(0x2800, 0x2900)
"""Unicode's braille block: what the normal graph draws its line with."""


class Counting:
    """Wraps a source and counts calls of the named methods (sync or async alike: counted on call)."""

    def __init__(self, inner: object, *counted: str) -> None:
        self._inner = inner
        self._counted = counted
        self.calls = dict.fromkeys(counted, 0)
        self._lock = threading.Lock()  # the workload is read from worker threads

    def __getattr__(self, name: str):
        value = getattr(self._inner, name)
        if name not in self._counted:
            return value

        def counted(*args, **kwargs):
            with self._lock:
                self.calls[name] += 1
            return value(*args, **kwargs)

        return counted


def counted_app(demo: DemoRun, *, low_bandwidth: bool) -> tuple[IncidentApp, Counting, Counting]:
    """The demo app with the mode's own intervals (none passed), its workload and incidents counted."""
    workload = Counting(demo.sources.workload, "container_state")
    incidents = Counting(demo.sources.incidents, "open_incidents", "log_entries")
    sources = dataclasses.replace(demo.sources, workload=workload, incidents=incidents, low_bandwidth=low_bandwidth)
    return IncidentApp(sources), workload, incidents


async def settled(pilot) -> None:
    """Wait until the first reads have answered and none is in flight (start-up is over)."""
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen._info is not None and screen.incident is not None
                     and not screen._in_flight, what="the first workload and incident reads")


async def run_for(pilot, seconds: float) -> None:
    """Let the app run for ``seconds`` of wall time, handling its messages meanwhile."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        await pilot.pause(0.1)


def footer_descriptions(screen) -> list[str]:
    """The key descriptions the footer shows."""
    return [key.description for key in screen.query("FooterKey")]


async def test_low_bandwidth_mode_is_shown_and_the_graph_is_ascii(demo: DemoRun) -> None:
    # GIVEN the demo in low-bandwidth mode at 80x24
    app, _, _ = counted_app(demo, low_bandwidth=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        graph = screen.query_one(MemoryGraph)
        # WHEN the memory pane has samples and the limit
        await wait_until(pilot, lambda: graph.view is not None and graph.view.samples and graph.view.limit_bytes,
                         what="memory samples")
        await pilot.pause()
        # THEN the header names the mode, leading its first line so 80 columns never cut it off
        header = str(screen.query_one(IncidentHeader).render())
        assert "demo, low-bandwidth" in header and header.startswith("LOW-BANDWIDTH | ")
        # AND the plot is drawn in ASCII only: data marks, limit line and frame alike
        plot = screen.query_one(MemoryPlot).render().plain
        assert plot.isascii(), sorted({c for c in plot if not c.isascii()})
        assert "*" in plot and "limit 64 MiB" in plot and "-----" in plot
        # AND the footer offers the refresh key, animations are off
        assert "Refresh" in footer_descriptions(screen)
        assert app.animation_level == "none"


async def test_low_bandwidth_reads_are_far_apart_and_ctrl_r_reads_every_upstream(demo: DemoRun) -> None:
    # GIVEN the demo in low-bandwidth mode with its own intervals, past start-up
    app, workload, incidents = counted_app(demo, low_bandwidth=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await settled(pilot)
        before = workload.calls["container_state"], incidents.calls["open_incidents"]
        # WHEN it runs for the window
        await run_for(pilot, WINDOW)
        # THEN neither upstream was asked again (normal mode asks the workload about four times)
        assert workload.calls["container_state"] - before[0] <= 1  # one if start-up ran late into the 5 s
        assert incidents.calls["open_incidents"] == before[1]
        # WHEN ctrl+r is pressed
        workload_reads, incident_reads = workload.calls["container_state"], incidents.calls["open_incidents"]
        log_reads = incidents.calls["log_entries"]
        await pilot.press("ctrl+r")
        # THEN every upstream is read now: the workload, the incident and its log
        await wait_until(pilot, lambda: workload.calls["container_state"] > workload_reads
                         and incidents.calls["open_incidents"] > incident_reads
                         and incidents.calls["log_entries"] > log_reads, timeout=10, what="reads after ctrl+r")
        assert any("Refreshing" in n.message for n in app._notifications)
        # AND the key is in the help
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: app.screen is not screen, what="help")
        assert "ctrl+r   poll every upstream now" in str(app.screen.query_one("Static").render())


async def test_normal_mode_is_unchanged(demo: DemoRun) -> None:
    # GIVEN the demo in normal mode with its own intervals, past start-up
    app, workload, incidents = counted_app(demo, low_bandwidth=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await settled(pilot)
        before = workload.calls["container_state"], incidents.calls["open_incidents"]
        # WHEN it runs for the same window
        await run_for(pilot, WINDOW)
        # THEN the workload is read every second and the incident every two (timers may slip on a
        # busy machine, never speed up; low-bandwidth mode reads at most once in this window)
        assert workload.calls["container_state"] - before[0] >= 2
        assert incidents.calls["open_incidents"] - before[1] >= 1
        # AND the graph is braille, the header has no low-bandwidth label, there is no refresh key
        graph = screen.query_one(MemoryGraph)
        await wait_until(pilot, lambda: graph.view is not None and graph.view.samples, what="memory samples")
        await pilot.pause()
        plot = screen.query_one(MemoryPlot).render().plain
        assert any(ord(c) in BRAILLE for c in plot)
        assert "low-bandwidth" not in str(screen.query_one(IncidentHeader).render()).lower()
        assert "Refresh" not in footer_descriptions(screen)
        assert app.animation_level != "none"


class CountingStaticWorkload(StaticWorkload):
    """The static workload (the same answer every time), counting its reads."""

    def __init__(self, deployed_sha: str) -> None:
        super().__init__(deployed_sha)
        self.reads = 0

    def container_state(self):
        self.reads += 1
        return super().container_state()


async def memory_views_while_polled(tmp_path: Path, *, low_bandwidth: bool, polls: int = 5) -> list[object]:
    """The distinct memory views the pane was handed over ``polls`` polls of unchanging data."""
    base = static_sources(tmp_path)
    workload = CountingStaticWorkload(base.workload.deployments()[0].sha)
    sources = dataclasses.replace(base, workload=workload, low_bandwidth=low_bandwidth)
    # Short intervals on purpose: the test is about what a poll redraws, not how often polls come.
    app = IncidentApp(sources, workload_interval=0.1, incident_interval=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        graph = app.screen.query_one(MemoryGraph)
        await wait_until(pilot, lambda: graph.view is not None and app.screen._history, what="the first samples")
        views = [graph.view]
        reads = workload.reads
        while workload.reads < reads + polls:
            await pilot.pause(0.05)
            if graph.view is not views[-1]:
                views.append(graph.view)
        return views


async def test_low_bandwidth_redraws_memory_only_when_its_data_changed(tmp_path: Path) -> None:
    # GIVEN a workload that answers the same every time
    # WHEN it is polled five more times in low-bandwidth mode
    low = await memory_views_while_polled(tmp_path / "low", low_bandwidth=True)
    # THEN the memory pane keeps the view it had: nothing is redrawn
    assert len(low) == 1
    # AND normal mode hands down a fresh view when the graph's right edge has moved by a column
    # (about 2 s for the 5-minute span at 80 columns), not on every poll
    normal = await memory_views_while_polled(tmp_path / "normal", low_bandwidth=False, polls=40)
    assert 2 <= len(normal) <= 10
    assert all(later.now > earlier.now for earlier, later in zip(normal, normal[1:]))


def test_ascii_plot_looks_the_same_in_fewer_runs() -> None:
    # GIVEN a leaking memory view drawn by plotext in ASCII mode
    now = datetime.now(timezone.utc)
    samples = tuple(MemorySample(now - timedelta(seconds=60 - i), i * MIB, "test") for i in range(60))
    view = MemoryView(samples=samples, limit_bytes=64 * MIB, now=now, window=timedelta(minutes=1),
                      oom_kills=(now - timedelta(seconds=10),), ascii_only=True)
    plot = Plot()
    draw_memory_plot(plot, view, 78, 15)
    drawn = Text.from_ansi(plot.build())
    # WHEN it is turned into ASCII
    shown = ascii_only(drawn)
    # THEN every cell is ASCII, the same width, with the same background, and every mark keeps its colour
    assert shown.plain.isascii() and len(shown.plain) == len(drawn.plain)

    def styles(text: Text) -> list[Style | None]:
        cells: list[Style | None] = [None] * len(text.plain)
        for span in text.spans:
            cells[span.start:span.end] = [span.style] * (span.end - span.start)
        return cells

    for char, before, after in zip(shown.plain, styles(drawn), styles(shown)):
        assert (before and before.bgcolor) == (after and after.bgcolor)
        if char.strip():
            assert before == after
    # AND in fewer style runs (each run boundary costs the terminal a reset and a full style)
    assert len(shown.spans) < len(drawn.spans)


class FlakyWorkload(StaticWorkload):
    """A workload whose memory reads fail, counting every attempt."""

    def __init__(self, deployed_sha: str) -> None:
        super().__init__(deployed_sha)
        self.attempts = 0

    def memory_since(self, after):
        self.attempts += 1
        raise SourceError("metrics API unreachable (connection refused)")


async def test_stale_note_names_the_retry_time_and_ctrl_r_cuts_the_backoff_short(tmp_path: Path) -> None:
    # GIVEN a low-bandwidth dashboard whose workload fails, with a long backoff
    base = static_sources(tmp_path)
    workload = FlakyWorkload(base.workload.deployments()[0].sha)
    sources = dataclasses.replace(base, workload=workload, low_bandwidth=True)
    app = IncidentApp(sources, retry_cap=600)
    async with app.run_test(size=(80, 24)) as pilot:
        graph = app.screen.query_one(MemoryGraph)
        # THEN the memory pane names the clock time of the retry (no per-second countdown to redraw)
        await wait_until(pilot, lambda: graph.view is not None and graph.view.stale_note, what="a stale note")
        assert "retrying at" in graph.view.stale_note and " UTC: metrics API unreachable" in graph.view.stale_note
        assert "retrying in" not in graph.view.stale_note
        attempts = workload.attempts
        # WHEN ctrl+r is pressed inside the backoff
        await pilot.press("ctrl+r")
        # THEN the failing upstream is tried again now
        await wait_until(pilot, lambda: workload.attempts > attempts, timeout=10, what="a retry after ctrl+r")


def test_low_bandwidth_is_an_option_of_live_and_demo(tmp_path: Path) -> None:
    # GIVEN the CLI as users run it
    for command in ("live", "demo"):
        # THEN --help of live and demo lists the option
        shown = subprocess.run([sys.executable, "-m", "tui", command, "--help"],
                               capture_output=True, text=True, check=True).stdout
        assert "--low-bandwidth" in shown and "ctrl+r" in shown
    # AND it parses for demo, live and the bare command (which runs live)
    assert build_parser().parse_args(["demo", "--low-bandwidth"]).low_bandwidth
    assert build_parser().parse_args(["live", "--low-bandwidth"]).low_bandwidth
    assert not build_parser().parse_args(["demo"]).low_bandwidth
    # AND live with it gets as far as the config (not an argparse "unrecognized arguments")
    missing = tmp_path / "missing.toml"
    run = subprocess.run([sys.executable, "-m", "tui", "--low-bandwidth", "--config", str(missing)],
                         capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
    assert run.returncode == 2 and "unrecognized" not in run.stderr and str(missing) in run.stderr
