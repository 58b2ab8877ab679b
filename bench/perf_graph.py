"""The memory graph with 12 hours of 1 s samples: the cost of one frame, and the app's peak RSS.

Used by :mod:`bench.perf_app` (``graph_redraw`` and ``twelve_hours``).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository."""

sys.path.insert(0, str(ROOT))
from bench.perf_rows import measure  # noqa: E402 - after the path is set


# -- the memory graph ------------------------------------------------------------------------

GRAPH_FIX = (
    "; MISSED: nearly all of it is plotext building its cell matrices and the line's braille interpolation, "
    "which grow with the cells, not with the samples. The pane builds it only when a braille column fills "
    "(135 s per column at this span and width) or a kill, restart or span change arrives, so at 12 hours the "
    "cost comes a few times an hour. Would fix: a canvas of our own for this one plot")
"""Why a 160x48 frame can miss its target and what would fix it (appended when it does)."""

def graph_redraw(sizes: tuple[tuple[int, int], ...], repeats: int) -> list[dict[str, object]]:
    """Median ms of the memory pane's per-frame work with 12 h of 1 s samples, at each size.

    The frame is what the dashboard does for one new view: take each stretch's peak from its
    ``MemoryHistory`` (``peaks``, as ``_update_memory`` does), then the pane's summary line and
    ``MemoryPlot.render``'s work: the plotext drawing and the figure as styled text (from its cell
    matrix, ``figure_text``). Beside it: the same through ANSI as textual-plotext renders
    (``Text.from_ansi(build())``), and the widget walking every sample itself (the first version).
    """
    from rich.text import Text
    from textual_plotext import Plot

    from analysis.memory import MIB, downsample_max
    from analysis.memory_history import MemoryHistory
    from analysis.model import MemorySample
    from tui.screens.dashboard import HISTORY_RESOLUTION, HISTORY_SAMPLES
    from tui.screens.dashboard_views import display_points
    from widgets.memory_graph import MemoryView, draw_memory_plot, summary_line
    from widgets.plot_text import figure_text

    now = datetime.now(UTC)
    window = timedelta(hours=12)
    samples = [MemorySample(now - timedelta(seconds=43_200 - i), (4 + (i % 7) * 10) * MIB, "metrics-server")
               for i in range(43_200)]
    history = MemoryHistory(HISTORY_SAMPLES, resolution=HISTORY_RESOLUTION)
    history.extend(samples)
    everything = MemoryView(samples=tuple(samples), limit_bytes=64 * MIB, now=now, window=window)

    def timed(work) -> float:
        ticks = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            work()
            ticks.append(time.perf_counter() - t0)
        return statistics.median(ticks) * 1000

    rows = []
    for width, height in sizes:
        plot = Plot()

        def frame(plot=plot, width=width, height=height) -> None:
            view = MemoryView(samples=history.peaks(now - window, now, display_points(width)), limit_bytes=64 * MIB,
                              now=now, window=window)
            summary_line(view)
            draw_memory_plot(plot, view, width, height)
            figure_text(plot)

        def ansi_frame(plot=plot, width=width, height=height) -> None:
            view = MemoryView(samples=history.peaks(now - window, now, display_points(width)), limit_bytes=64 * MIB,
                              now=now, window=window)
            summary_line(view)
            draw_memory_plot(plot, view, width, height)
            Text.from_ansi(plot.build())

        def old_frame(plot=plot, width=width, height=height) -> None:
            summary_line(everything)
            draw_memory_plot(plot, everything, width, height)
            Text.from_ansi(plot.build())

        frame_ms, ansi_ms, old_ms = timed(frame), timed(ansi_frame), timed(old_frame)
        peaks_ms = timed(lambda width=width: history.peaks(now - window, now, display_points(width)))
        shown = len(downsample_max(history.peaks(now - window, now, display_points(width)), now - window, now,
                                   max(width * 2, 10)))
        note = (f"{len(history)} samples kept; the dashboard hands the pane {display_points(width)} stretch peaks "
                f"({peaks_ms:.1f} ms: bisection and max() of slices), the pane draws {shown} points "
                f"(2 x width {width}, braille), text included; median of {repeats}. Through ANSI as "
                f"textual-plotext renders: {ansi_ms:.1f} ms; the pane walking all 43,200 samples itself (the "
                f"first version): {old_ms:.1f} ms")
        rows.append(measure(f"memory graph frame, 12 h of 1 s samples, {width}x{height}", frame_ms, "ms", 10.0,
                            note + (GRAPH_FIX if frame_ms >= 10 else "")))
    return rows


# -- peak RSS with a 12-hour history ---------------------------------------------------------

RSS_SCRIPT = r'''
import asyncio, sys, tempfile, time
from datetime import UTC, datetime, timedelta
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from analysis.model import MemorySample
from tests.static_sources import KILL, static_sources, MIB
from tui.app import IncidentApp

class TwelveHours:
    """A history source answering 12 hours of 1 s samples, as Prometheus would; they end where the
    static workload's live samples begin, so the dashboard keeps all of them."""
    async def memory_history(self, info, start, end):
        last = KILL - timedelta(seconds=8)
        return [MemorySample(last - timedelta(seconds=43_199 - i), (4 + (i % 7) * 10) * MIB, "prometheus")
                for i in range(43_200)]

async def main():
    import dataclasses
    sources = dataclasses.replace(static_sources(Path(tempfile.mkdtemp())), history=TwelveHours())
    app = IncidentApp(sources)
    async with app.run_test(size=(160, 48)) as pilot:
        for _ in range(200):
            await pilot.pause(0.1)
            if app.screen._history_loaded:
                break
        await pilot.press("w", "w")  # the 12-hour span: every sample drawn
        await pilot.pause(3)
        cpu, wall = time.process_time(), time.monotonic()
        await pilot.pause(20)  # idle: the workload is read every second; the pane redraws when a column fills
        cpu = 100 * (time.process_time() - cpu) / (time.monotonic() - wall)
        print(len(app.screen._history), app.screen.memory_window, f"{cpu:.2f}")
    hwm = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmHWM"))
    print(int(hwm.split()[1]) * 1024)

asyncio.run(main())
'''


def twelve_hours() -> tuple[float, float, int]:
    """A fresh process running the dashboard headless with a 12-hour history on the 12-hour span:
    its VmHWM (MB), its CPU over 20 idle seconds (% of one core) and the samples it kept."""
    result = subprocess.run([sys.executable, "-c", RSS_SCRIPT, str(ROOT)], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, check=True)
    lines = result.stdout.split("\n")
    kept, _, cpu = lines[-3].split()
    return int(lines[-2]) / 1e6, float(cpu), int(kept)
