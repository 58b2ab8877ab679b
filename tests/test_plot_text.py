"""The memory plot as text from plotext's cell matrix is the text of its ANSI round trip.

``widgets.plot_text.figure_text`` skips writing and parsing plotext's escapes; every character and
every character's style must come out as ``Text.from_ansi(figure.build())`` gives them, for the
plots the pane draws (braille and ASCII, kills, restarts, gaps, no samples) in plotext's themes.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from rich.style import Style
from rich.text import Text
from textual_plotext import Plot

from analysis.memory import MIB
from analysis.model import MemorySample
from widgets.memory_graph import MemoryView, draw_memory_plot
from widgets.plot_text import figure_text

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def sawtooth(seconds: int) -> tuple[MemorySample, ...]:
    """A worker leaking to the limit and restarting, a sample every half second, with a gap."""
    return tuple(MemorySample(NOW - timedelta(seconds=age / 2), (age % 13) * 5 * MIB, "cgroup-v1")
                 for age in range(2 * seconds, 0, -1) if not 100 < age < 140)


VIEWS = {
    "braille, kills and a restart": MemoryView(samples=sawtooth(300), limit_bytes=64 * MIB, now=NOW,
                                               oom_kills=(NOW - timedelta(seconds=100), NOW),
                                               restarts=(NOW - timedelta(seconds=90),)),
    "ascii": MemoryView(samples=sawtooth(60), limit_bytes=64 * MIB, now=NOW, window=timedelta(minutes=1),
                        oom_kills=(NOW - timedelta(seconds=10),), ascii_only=True),
    "no samples, no limit": MemoryView(samples=(), limit_bytes=None, now=NOW),
}


def styles_per_character(text: Text) -> list[Style]:
    """Each character's combined style (spans applied in order, as Rich renders them)."""
    combined = [Style()] * len(text.plain)
    for span in text.spans:
        style = span.style if isinstance(span.style, Style) else Style.parse(span.style)
        for index in range(span.start, span.end):
            combined[index] = combined[index] + style
    return combined


@pytest.mark.parametrize("theme", ["default", "dark", "pro", "clear"])
@pytest.mark.parametrize(("name", "size"), [(name, size) for name in VIEWS for size in ((78, 20), (40, 10))])
def test_matrix_text_is_the_ansi_round_trip(name: str, size: tuple[int, int], theme: str) -> None:
    # GIVEN a plot drawn as the pane draws it, themed
    def drawn() -> Plot:
        plot = Plot()
        draw_memory_plot(plot, VIEWS[name], *size)
        plot.theme(theme)
        return plot

    # WHEN it is turned into text from its matrix, and through ANSI as textual-plotext does
    direct, through_ansi = figure_text(drawn()), Text.from_ansi(drawn().build())
    # THEN the characters and their styles are the same
    assert direct.plain == through_ansi.plain
    assert styles_per_character(direct) == styles_per_character(through_ansi)
    if theme != "clear" and VIEWS[name].samples:  # the data's colour, at least ("clear" drops colours)
        assert any(span.style for span in direct.spans)
