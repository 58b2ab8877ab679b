"""The live memory graph: usage over time, the limit line, OOM kills and restarts."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from rich.style import Style
from rich.text import Span, Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Static
from textual_plotext import Plot, PlotextPlot

from analysis.display_text import printable
from analysis.memory import MIB, downsample_max, format_bytes, summarize
from analysis.model import ContainerState, MemorySample
from widgets.plot_text import figure_text


@dataclass(frozen=True)
class MemoryView:
    """Everything the memory pane shows, as one immutable snapshot."""

    samples: tuple[MemorySample, ...]
    """Samples oldest first (the screen's bounded history)."""
    limit_bytes: int | None
    """The memory limit."""
    now: datetime
    """Right edge of the graph."""
    oom_kills: tuple[datetime, ...] = ()
    """When the container was OOM-killed."""
    restarts: tuple[datetime, ...] = ()
    """When it was restarted."""
    limit_mechanism: str = "unknown"
    """How the limit is enforced (cgroup-v2, cgroup-v1, watchdog, kubernetes)."""
    container: ContainerState | None = None
    """Current container state."""
    window: timedelta = timedelta(minutes=5)
    """How much history to draw."""
    stale_note: str | None = None
    """Set when the workload source is failing, e.g. ``stale since 14:02:11, retrying in 8s``."""
    notes: tuple[str, ...] = field(default_factory=tuple)
    """Caveats from the source (stand-in worker, no metrics)."""
    ascii_only: bool = False
    """Draw with ASCII characters only (low-bandwidth mode): ``*`` markers instead of braille,
    ``-``, ``|`` and ``+`` instead of box drawing, for terminals and links where a multi-byte
    character costs three bytes or shows as garbage."""


PLOT_MIN_INTERVAL = 1.0
"""Least seconds between two drawings of the plot when only new samples arrived."""


def only_samples_differ(new: MemoryView, shown: MemoryView) -> bool:
    """Whether the plot of ``new`` differs from that of ``shown`` only by newer samples (and the
    clock), not by a kill, a restart, the limit, the span or the mode. The summary's fields
    (state, notes, stale note) are not the plot's and are ignored."""
    return replace(new, samples=shown.samples, now=shown.now, container=shown.container, notes=shown.notes,
                   stale_note=shown.stale_note, limit_mechanism=shown.limit_mechanism) == shown


ASCII_MARKER = "*"
"""The data marker in ASCII mode: one per cell, visible without colour."""
ASCII_LINES = str.maketrans({
    "─": "-", "━": "-", "│": "|", "┃": "|",
    "┌": "+", "┐": "+", "└": "+", "┘": "+", "┬": "+", "┴": "+", "├": "+", "┤": "+", "┼": "+",
    "•": "*", "█": "#",
})
"""plotext draws its frame, ticks and ``hline``/``vline`` with box-drawing characters it has no
switch for; in ASCII mode they are translated cell for cell (same width, so styles stay aligned)."""


def ascii_only(text: Text) -> Text:
    """``text`` with box drawing translated to ASCII and anything else outside ASCII as ``?``.

    Every character maps to exactly one character, so the spans (colours) keep their places.
    """
    plain = text.plain.translate(ASCII_LINES)
    plain = "".join(char if char.isascii() else "?" for char in plain)
    return Text(plain, style=text.style, spans=merged_spans(plain, text.spans), end=text.end, no_wrap=text.no_wrap)


def merged_spans(plain: str, spans: list[Span]) -> list[Span]:
    """``spans`` in fewer, longer runs, looking the same: blanks take a touching neighbour's style
    when only the foreground differs (a blank shows no foreground), then touching runs of one style
    are joined.

    plotext colours the spaces between marks apart from the marks, and the terminal gets a reset
    plus the whole style again at every run boundary, so this cuts the bytes of a graph redraw.
    """
    ordered = sorted(spans, key=lambda span: span.start)

    def plain_colours(span: Span) -> bool:
        # Only colour, no underline or reverse (which would show on a blank too).
        style = span.style
        return isinstance(style, Style) and style == Style(color=style.color, bgcolor=style.bgcolor)

    restyled: list[Span] = []
    for index, span in enumerate(ordered):
        if not plain[span.start:span.end].strip() and plain_colours(span):
            touching = [other for other in (ordered[index - 1] if index else None,
                                            ordered[index + 1] if index + 1 < len(ordered) else None)
                        if other is not None and (other.end == span.start or other.start == span.end)]
            for other in touching:
                if plain_colours(other) and other.style.bgcolor == span.style.bgcolor:  # type: ignore[union-attr]
                    span = Span(span.start, span.end, other.style)
                    break
        restyled.append(span)
    merged: list[Span] = []
    for span in restyled:
        if merged and merged[-1].end == span.start and merged[-1].style == span.style:
            merged[-1] = Span(merged[-1].start, span.end, span.style)
        else:
            merged.append(span)
    return merged


def state_label(container: ContainerState | None) -> str:
    """The container state in words, e.g. ``waiting: CrashLoopBackOff``."""
    if container is None:
        return "state unknown"
    label = container.state.upper()
    return f"{label} ({container.reason})" if container.reason else label


def summary_line(view: MemoryView) -> str:
    """The one-line header above the graph: value, % of limit, state, counts, mechanism."""
    summary = summarize(view.samples, view.limit_bytes)
    percent = f" ({summary.percent_of_limit:.0f}% of limit)" if summary.percent_of_limit is not None else ""
    figures = [
        f"{format_bytes(summary.current_bytes)} / {format_bytes(view.limit_bytes)}{percent}",
        state_label(view.container),
        f"OOM kills {len(view.oom_kills)}",
        f"restarts {view.container.restart_count if view.container else len(view.restarts)}",
    ]
    lines = [" | ".join(figures)]
    evidence = view.container.last_termination if view.container else None
    if evidence is not None:
        # The evidence card: kept on screen while the container waits or runs again.
        ran = (evidence.finished_at - evidence.started_at).total_seconds()
        lines.append(f"last: {evidence.reason} exit {evidence.exit_code} at "
                     f"{evidence.finished_at:%H:%M:%S} UTC after {ran:.0f}s")
    provenance = [f"limit by {view.limit_mechanism}"]
    if view.samples:
        provenance.append(f"samples: {view.samples[-1].source}")
    provenance.extend(view.notes)
    line = "\n".join([*lines, " | ".join(provenance)])
    if view.stale_note:
        line = f"STALE {view.stale_note}\n{line}"
    return line


def summary_content(view: MemoryView) -> Content:
    """:func:`summary_line` as displayed: plain content (a ``str`` would be read as markup), with
    the controls that reasons, notes and stale messages from upstreams may carry escaped."""
    return Content(printable(summary_line(view), multiline=True))


def split_at_gaps(points: list[tuple[float, float]], gap: float) -> list[list[tuple[float, float]]]:
    """Split ``(seconds, value)`` points wherever consecutive points are more than ``gap`` apart."""
    segments: list[list[tuple[float, float]]] = []
    for point in points:
        if segments and point[0] - segments[-1][-1][0] <= gap:
            segments[-1].append(point)
        else:
            segments.append([point])
    return segments


def draw_memory_plot(plt: Plot, view: MemoryView, width: int, height: int) -> None:
    """Draw the view onto a plotext plot object (not plotext's global figure).

    The x axis is seconds before ``view.now``; OOM kills are vertical lines labelled ``OOM``,
    restarts are labelled ``R`` on the floor, so neither depends on colour.

    Args:
        plt: The plot to draw on; it is cleared first.
        view: What to draw.
        width: Plot width in cells, which bounds the number of points drawn.
        height: Plot height in cells.
    """
    plt.clear_figure()
    plt.plotsize(width, height)
    # Braille packs 2x4 points into a cell; ASCII has one point per cell (and the same x range).
    marker = ASCII_MARKER if view.ascii_only else "braille"
    window = view.window.total_seconds()
    start = view.now - view.window
    points = downsample_max(view.samples, start, view.now, max(width * 2, 10))
    limit_mib = view.limit_bytes / MIB if view.limit_bytes else None
    top = max([limit_mib or 0.0] + [y for _, y in points] + [1.0]) * 1.15
    plt.xlim(-window, 0)
    plt.ylim(0, top)
    plt.xlabel("seconds before now")
    plt.ylabel("MiB")
    # The limit and the OOM kills are drawn as series *before* the usage, so a sample in the
    # limit's row or a kill's column stays visible: plotext's hline/vline would be drawn over it,
    # hiding exactly the samples that matter most (the ones about to be killed).
    if limit_mib is not None:
        plt.plot([-window, 0], [limit_mib, limit_mib], marker="─", color="red")
    kills = [offset for offset in ((killed - view.now).total_seconds() for killed in view.oom_kills)
             if -window <= offset <= 0]
    for offset in kills:
        plt.plot([offset, offset], [0, top], marker="│", color="red")
    # A container that is down (back-off, restart) has no samples; draw each run on its own so
    # the gap stays empty instead of being bridged by a line that looks like a slow decline.
    for segment in split_at_gaps(points, max(2.0, 3 * window / max(width * 2, 10))):
        plt.plot([x for x, _ in segment], [y for _, y in segment], marker=marker, color="cyan")
    if limit_mib is not None:
        plt.text(f"limit {limit_mib:.0f} MiB", x=-window * 0.98, y=limit_mib * 1.06, color="red", alignment="left")
    for offset in kills:
        # Labels sit in the top row, above the limit, and lean away from the right frame so a
        # kill at "now" still reads "OOM" rather than being clipped to "OO".
        alignment = "right" if offset > -window * 0.05 else "center"
        plt.text("OOM", x=offset, y=top * 0.99, color="red", alignment=alignment)
    for restarted in view.restarts:
        offset = (restarted - view.now).total_seconds()
        if -window <= offset <= 0:
            plt.text("R", x=offset, y=top * 0.04, color="yellow", alignment="center")


class MemoryPlot(PlotextPlot):
    """The plot part of the memory pane; redraws whenever the view changes."""

    view: reactive[MemoryView | None] = reactive(None)
    """The snapshot to draw."""

    def render(self):  # type: ignore[override]
        """Draw the current view at the widget's size and return it as text.

        Sized and themed as textual-plotext's own ``render`` does, but the figure becomes text
        straight from plotext's cell matrix (:func:`~widgets.plot_text.figure_text`) instead of
        through ANSI escapes written and parsed again.
        """
        width, height = self.size.width, self.size.height
        if self.view is not None:
            draw_memory_plot(self.plt, self.view, width, height)
        self.plt.plotsize(width, height)
        self.plt._set_size(width, height)  # as textual-plotext does (its issue 5: resizing)
        self.plt.theme(self._get_plotext_theme_name(self.app.theme))
        rendered = figure_text(self.plt)
        if self.view is not None and self.view.ascii_only:
            return ascii_only(rendered)
        return rendered


class MemoryGraph(Vertical, can_focus=True):
    """The memory pane: a summary line over the plot."""

    DEFAULT_CSS = """
    MemoryGraph { height: 1fr; }
    MemoryGraph > #memory-summary { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
    MemoryGraph > MemoryPlot { height: 1fr; }
    """

    view: reactive[MemoryView | None] = reactive(None)
    """The snapshot to show; set by the screen."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.min_plot_interval = PLOT_MIN_INTERVAL
        """Least seconds between two drawings of the plot that only add samples."""
        self._plotted_at = -float("inf")  # time.monotonic() of the plot's last drawing
        self._pending_plot: MemoryView | None = None
        self._plot_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        """The summary line and the plot."""
        yield Static("waiting for the first memory sample...", id="memory-summary")
        yield MemoryPlot()

    def watch_view(self, view: MemoryView | None) -> None:
        """Hand the new snapshot down to the summary and the plot."""
        if view is None:
            return
        summary = self.query_one("#memory-summary", Static)
        content = summary_content(view)
        previous = summary.content
        if not isinstance(previous, Content) or previous.plain != content.plain:
            # A new value in as many lines repaints the summary alone: a layout pass (the default)
            # re-renders the whole screen, ~50 ms at 120x36, twice a second in the demo.
            lines_changed = not isinstance(previous, Content) or previous.plain.count("\n") != content.plain.count("\n")
            summary.update(content, layout=lines_changed)
        self._hand_to_plot(view)

    def _hand_to_plot(self, view: MemoryView) -> None:
        """Draw ``view`` now, or, when it only adds samples, once a braille column's time (at least
        :attr:`min_plot_interval`) has passed since the last drawing.

        New samples move only the newest column, so drawing them more often than a column fills
        costs a plotext build (~10 ms) for a picture that barely moves; a kill, a restart or a new
        span is drawn at once. The summary above is not held back.
        """
        plot = self.query_one(MemoryPlot)
        wait = 0.0
        if plot.view is not None and only_samples_differ(view, plot.view):
            column = view.window.total_seconds() / max(2 * plot.size.width, 20)
            wait = self._plotted_at + max(self.min_plot_interval, column) - time.monotonic()
        if wait > 0:
            self._pending_plot = view
            if self._plot_timer is None:
                self._plot_timer = self.set_timer(wait, self._draw_pending_plot, name="memory plot")
            return
        if self._plot_timer is not None:
            self._plot_timer.stop()
            self._plot_timer = None
        self._pending_plot = None
        self._plotted_at = time.monotonic()
        plot.view = view

    def _draw_pending_plot(self) -> None:
        """Timer: draw the view that was held back."""
        self._plot_timer = None
        if self._pending_plot is not None:
            self._hand_to_plot(self._pending_plot)
