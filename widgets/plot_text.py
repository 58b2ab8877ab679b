"""A plotext figure as Rich text, straight from its cell matrix.

``textual-plotext`` renders a plot as ``Text.from_ansi(plot.build())``: plotext writes every cell
and its colours as ANSI escapes, and Rich parses them all back. At a dashboard pane's size that
round trip is about 40% of a drawing (bench/perf_graph.py). Here the figure's matrix is built as
plotext builds it, then read cell by cell: each run of cells with the same colours becomes one
span, its style found once per colour triple (plotext's own escape for it, parsed by Rich), so the
result is the text ``from_ansi`` would give, without writing or parsing the escapes.

It reads plotext 5's figure internals (``_set_sizes``, ``_build_matrix``, ``monitor.matrix``),
which is why ``plotext<6`` is pinned; when they are missing it falls back to the ANSI round trip.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from plotext import _utility as plotext_utility
from rich.style import Style
from rich.text import Text


@lru_cache(maxsize=256)
def cell_style(fullground: Any, style: Any, background: Any) -> Style | None:
    """The Rich style of plotext's colour triple, as ``Text.from_ansi`` reads its escape."""
    escape = plotext_utility.colors_to_ansi(fullground, style, background)
    if not escape:
        return None
    parsed = Text.from_ansi(f"{escape}x{plotext_utility.ansi_end}")
    spans = parsed.spans
    return spans[0].style if spans and isinstance(spans[0].style, Style) else None


def figure_text(figure: Any) -> Text:
    """The figure (a plotext figure, such as textual-plotext's ``Plot``) drawn as Rich text.

    Args:
        figure: The figure, with everything drawn on it.

    Returns:
        One line per matrix row, top first, each cell's marker styled with its colours.
    """
    try:
        figure._set_sizes()
        figure._build_matrix()
        matrix = figure.monitor.matrix
        markers, fullground, styles, background = matrix.marker, matrix.fullground, matrix.style, matrix.background
    except AttributeError:  # not the plotext 5 internals this reads: take the long way
        return Text.from_ansi(figure.build())
    text = Text()
    for row in reversed(range(len(markers))):  # row 0 is the bottom of the figure
        row_markers, row_fg, row_style, row_bg = markers[row], fullground[row], styles[row], background[row]
        start = 0
        width = len(row_markers)
        while start < width:
            colours = (row_fg[start], row_style[start], row_bg[start])
            end = start + 1
            while end < width and (row_fg[end], row_style[end], row_bg[end]) == colours:
                end += 1
            text.append("".join(row_markers[start:end]), cell_style(*colours))
            start = end
        text.append("\n")
    return text
