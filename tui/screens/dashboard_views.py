"""How the dashboard hands its state down to the widgets, as frozen views.

Kept apart from the polling and layout in :mod:`tui.screens.dashboard` and the keys in
:mod:`tui.screens.dashboard_actions`; every method here runs on the UI thread.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from analysis.model import TimelineEntry, TimelineKind
from widgets.incident_header import HeaderView, IncidentHeader
from widgets.memory_graph import MemoryGraph, MemoryView
from widgets.suspects import SuspectPane
from widgets.timeline import TimelineTable

if TYPE_CHECKING:
    from tui.screens.dashboard import DashboardScreen

DISPLAY_POINTS = 1024
"""Points handed to the memory graph before its width is known."""


def display_points(width: int) -> int:
    """Points worth handing a graph ``width`` cells wide: two per cell (braille), at least 20."""
    return max(2 * width, 20) if width > 0 else DISPLAY_POINTS
MEMORY_WINDOWS = (timedelta(minutes=5), timedelta(hours=1), timedelta(hours=12))
"""Stretches of history the memory graph can draw; ``w`` cycles through them."""


class DashboardViews:
    """Mixin building each widget's view from the screen's state."""

    def _maybe_investigate(self: DashboardScreen) -> None:
        """Start the root-cause pipeline once there is an incident and an OOM kill to anchor it."""
        if self.investigation is not None or self._investigating or self.incident is None:
            return
        if not self._stale.due("code"):  # the code host failed: wait out its backoff
            return
        if self._deployments is None and "workload" in self._in_flight:
            # The first workload read is still listing the rollouts the analysis takes in.
            return
        anchor = self._oom_kills[0].at if self._oom_kills else self.incident.created_at
        self._investigating = True
        self.query_one(SuspectPane).status_note = "ranking the changes before the first OOM kill..."
        # After the next refresh: the first frame with data is drawn before the analysis (and the
        # C parser it imports) competes with it for the interpreter.
        self.call_after_refresh(self.run_investigation, anchor, self._deployments or ())

    def _update_header(self: DashboardScreen) -> None:
        """Hand the header its view."""
        service = self._info.service if self._info else "the mapped service"
        self.query_one(IncidentHeader).view = HeaderView(
            incident=self.incident,
            service=service,
            mode=self.sources.mode_label,
            stale_note=self._stale.note("incidents") or self._stale.note("code"),
        )

    def _update_memory(self: DashboardScreen) -> None:
        """Hand the memory pane a new snapshot (the pane decides when its plot is drawn again)."""
        if self._info is None and not self._history and self._stale.note("workload") is None:
            return
        info = self._info
        now = datetime.now(timezone.utc)
        restarts = tuple(e.at for e in self._workload_events if e.kind is TimelineKind.RESTART)
        # Show the chosen stretch, but no more than there is history, so the first minute of a
        # session fills the graph instead of hugging its right edge. Whole minutes: the axis then
        # holds still between them, and a drawing that only adds samples can wait (MemoryGraph).
        observed = now - self._history.first.at if self._history else timedelta(0)
        whole_minutes = timedelta(minutes=math.ceil(observed / timedelta(minutes=1)))
        window = min(MEMORY_WINDOWS[self.memory_window], max(timedelta(minutes=1), whole_minutes))
        self._memory_column = self._column_at(now, window)
        self.query_one(MemoryGraph).view = MemoryView(
            # The graph never draws more points than it has columns: hand it each stretch's peak
            # (and the newest sample), not twelve hours of samples.
            samples=self._history.peaks(now - window, now, display_points(self.query_one(MemoryGraph).size.width)),
            window=window,
            limit_bytes=info.limit_bytes if info else None,
            now=now,
            oom_kills=tuple(k.at for k in self._oom_kills),
            restarts=restarts,
            limit_mechanism=info.limit_mechanism if info else "unknown",
            container=self._container,
            stale_note=self._stale.note("workload"),
            notes=(*(info.notes if info else ()), *self._history_notes()),
            ascii_only=self.sources.low_bandwidth,
        )

    def _column_at(self: DashboardScreen, now: datetime, window: timedelta) -> int:
        """Which graph column ``now`` falls in (a braille column is half a cell wide)."""
        cells = max(self.query_one(MemoryGraph).size.width, 10)
        return int(now.timestamp() / max(window.total_seconds() / (2 * cells), 0.001))

    def _memory_column_moved(self: DashboardScreen) -> bool:
        """Whether the graph's right edge has moved since it was last drawn."""
        graph = self.query_one(MemoryGraph).view
        if graph is None:
            return True
        return self._column_at(datetime.now(timezone.utc), graph.window) != self._memory_column

    def _history_notes(self: DashboardScreen) -> tuple[str, ...]:
        """What the memory pane says about the history upstream (Prometheus), when it is failing."""
        note = self._stale.note("history")
        return (f"history {note}",) if note else ()

    def _update_timeline(self: DashboardScreen) -> None:
        """Merge every source's entries onto one axis."""
        entries = [*self._log_entries, *(self._change_entries or ()), *self._workload_events]
        if self.investigation is not None:
            entries.extend(self.investigation.code_host_entries())
            entries.extend(self.investigation.commit_entries())
        if self.pr is not None and self.pr.created_at is not None:
            entries.append(TimelineEntry(self.pr.created_at, TimelineKind.PR_OPENED, f"PR #{self.pr.number} {self.pr.title}", "git"))
        entries.sort(key=lambda entry: entry.at)
        self.query_one(TimelineTable).entries = tuple(entries)
