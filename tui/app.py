"""The incident-tui application: thin; it holds the sources and shows the dashboard."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from analysis.model import Incident
from tui.screens.dashboard import DashboardScreen
from tui.session import LIVE_INTERVALS, LOW_BANDWIDTH_INTERVALS, NORMAL_INTERVALS, SourceSet


class IncidentApp(App[None]):
    """One incident, from page to fix PR."""

    CSS_PATH = "app.tcss"
    TITLE = "incident-tui"
    BINDINGS = [Binding("q", "quit", "Quit")]

    def __init__(
        self,
        sources: SourceSet,
        *,
        incident_id: str | None = None,
        incident: Incident | None = None,
        workload_interval: float | None = None,
        incident_interval: float | None = None,
        retry_cap: float | None = None,
    ) -> None:
        """Create the app around a set of sources (demo or live).

        Args:
            sources: Where everything comes from; ``sources.low_bandwidth`` picks the slow-link mode.
            incident_id: The incident to open; the newest open one when ``None``.
            incident: That incident as already read (live mode picked it), shown at once.
            workload_interval: Seconds between workload reads; when ``None``, the mode's
                (:data:`tui.session.NORMAL_INTERVALS` or :data:`tui.session.LOW_BANDWIDTH_INTERVALS`).
            incident_interval: Seconds between incident reads; the mode's when ``None``.
            retry_cap: Longest backoff between attempts at a failing upstream; the default when ``None``.
        """
        super().__init__()
        self._retry_cap = retry_cap
        self.sources = sources
        self._incident_id = incident_id
        self._incident = incident
        default_workload, default_incident = (LOW_BANDWIDTH_INTERVALS if sources.low_bandwidth
                                              else LIVE_INTERVALS if sources.mode == "live" else NORMAL_INTERVALS)
        self._intervals = (
            default_workload if workload_interval is None else workload_interval,
            default_incident if incident_interval is None else incident_interval,
        )
        if sources.low_bandwidth:
            # Every animation frame (scrolling, toasts fading) is bytes down a slow link.
            self.animation_level = "none"

    def get_default_screen(self) -> Screen:
        """The dashboard is the app's only full screen."""
        workload_interval, incident_interval = self._intervals
        return DashboardScreen(
            self.sources,
            incident_id=self._incident_id,
            incident=self._incident,
            workload_interval=workload_interval,
            incident_interval=incident_interval,
            **({} if self._retry_cap is None else {"retry_cap": self._retry_cap}),
        )

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Put the dashboard's keys in the command palette too."""
        yield from super().get_system_commands(screen)
        if isinstance(screen, DashboardScreen):
            yield SystemCommand("Acknowledge incident (a)", "Acknowledge after confirmation", screen.action_acknowledge)
            yield SystemCommand("Generate incident report (r)", "Write and show the Markdown report", screen.action_report)
            yield SystemCommand("Open fix PR (p)", "Preview, then open the fix PR", screen.action_open_pr)
            yield SystemCommand("Toggle UTC/local time (t)", "Timeline time zone", screen.action_toggle_time)
            yield SystemCommand("Zoom pane (z)", "Zoom or restore the active pane", screen.action_zoom)
            yield SystemCommand("Key help (?)", "All keys and what the panes show", screen.action_help)
            if self.sources.low_bandwidth:
                yield SystemCommand("Refresh now (ctrl+r)", "Poll every upstream now", screen.action_refresh_now)
