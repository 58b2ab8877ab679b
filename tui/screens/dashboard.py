"""The dashboard: memory, timeline, suspects and diff for one incident, kept live.

The screen owns all state, timers and workers (STYLE.md rule 3). Thread workers read the sources
and post immutable snapshots; handlers on the UI thread store them and hand pieces down to the
presentational widgets. The keys' actions live in :mod:`tui.screens.dashboard_actions`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Static

from analysis.memory_history import MemoryHistory
from analysis.model import (
    ContainerState,
    Deployment,
    Incident,
    OomKill,
    PullRequest,
    TimelineEntry,
    WorkloadInfo,
)
from tui.backoff import DEFAULT_CAP
from tui.logsetup import startup_milestone
from tui.screens.dashboard_actions import DashboardActions
from tui.screens.dashboard_polling import DashboardPolling
from tui.screens.dashboard_views import DashboardViews
from tui.session import SourceSet
from tui.staleness import StaleTracker
from widgets.diff_view import AnnotatedDiffView
from widgets.incident_header import IncidentHeader
from widgets.memory_graph import MemoryGraph
from widgets.suspects import SuspectPane
from widgets.timeline import TimelineTable

if TYPE_CHECKING:
    from tui.investigation import (
        Investigation,  # the module loads pycparser: only for annotations
    )

HISTORY_RESOLUTION = 0.5
"""Seconds per memory sample kept: faster sources keep the highest sample of each half second."""
HISTORY_SAMPLES = int(12 * 3600 / HISTORY_RESOLUTION)
"""Memory samples kept: 12 hours at :data:`HISTORY_RESOLUTION`."""

PANES: tuple[tuple[str, str], ...] = (
    ("pane-memory", "1 Memory"),
    ("pane-timeline", "2 Timeline"),
    ("pane-suspects", "3 Suspects"),
    ("pane-diff", "4 Diff"),
)
"""Pane IDs and their titles, in focus-key order."""

COMPACT_WIDTH, COMPACT_HEIGHT = 120, 36
"""Below either size the four panes do not fit, so one is shown at a time, like tabs."""


class Pane(Vertical, can_focus=False):
    """A titled, zoomable box around one of the four views."""

    ALLOW_MAXIMIZE = True


class DashboardScreen(DashboardActions, DashboardPolling, DashboardViews, Screen[None]):
    """One incident's dashboard."""

    BINDINGS = [
        Binding("a", "acknowledge", "Ack"),
        Binding("r", "report", "Report"),
        Binding("p", "open_pr", "Fix PR"),
        Binding("t", "toggle_time", "UTC/local"),
        Binding("z", "zoom", "Zoom"),
        Binding("w", "memory_window", "5m/1h/12h", show=False),
        Binding("l", "previous_logs", "Logs", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("tab", "cycle_pane(1)", "Next pane", show=False),
        Binding("shift+tab", "cycle_pane(-1)", "Previous pane", show=False),
        Binding("1", "focus_pane(0)", "Memory", show=False),
        Binding("2", "focus_pane(1)", "Timeline", show=False),
        Binding("3", "focus_pane(2)", "Suspects", show=False),
        Binding("4", "focus_pane(3)", "Diff", show=False),
        # Low-bandwidth mode only (check_action hides it otherwise): the long intervals need a way
        # to look now.
        Binding("ctrl+r", "refresh_now", "Refresh"),
    ]

    incident: reactive[Incident | None] = reactive(None)
    """The incident on screen."""
    pr: reactive[PullRequest | None] = reactive(None)
    """The fix PR once opened."""
    compact: reactive[bool] = reactive(False)
    """One pane at a time, for small terminals."""
    memory_window: reactive[int] = reactive(0)
    """Index into :data:`tui.screens.dashboard_views.MEMORY_WINDOWS` of the stretch the graph draws."""
    active_pane: reactive[int] = reactive(0)
    """Index into :data:`PANES` of the pane in front (compact mode) or focused."""

    def __init__(
        self,
        sources: SourceSet,
        *,
        incident_id: str | None = None,
        incident: Incident | None = None,
        workload_interval: float = 0.5,
        incident_interval: float = 2.0,
        retry_cap: float = DEFAULT_CAP,
    ) -> None:
        """Create the dashboard.

        Args:
            sources: Where everything comes from.
            incident_id: The incident to show; the newest open one when ``None``.
            incident: That incident as already read, shown until the first poll answers.
            workload_interval: Seconds between workload reads.
            incident_interval: Seconds between incident reads.
            retry_cap: Longest backoff between attempts at a failing upstream (unless it asks for more).
        """
        super().__init__()
        self.sources = sources
        self._incident_id = incident_id
        self._initial_incident = incident
        self._workload_interval = workload_interval
        self._incident_interval = incident_interval
        self._history = MemoryHistory(HISTORY_SAMPLES, resolution=HISTORY_RESOLUTION)
        self._info: WorkloadInfo | None = None
        self._container: ContainerState | None = None
        self._workload_events: tuple[TimelineEntry, ...] = ()
        self._oom_kills: tuple[OomKill, ...] = ()
        self._log_entries: tuple[TimelineEntry, ...] = ()
        self._change_entries: tuple[TimelineEntry, ...] | None = None
        self.investigation: Investigation | None = None
        self._investigating = False
        self._history_loaded = False
        self._deployments: tuple[Deployment, ...] | None = None
        """The workload's rollouts from its last complete read (handed to the analysis); ``None``
        until one has answered (the first read posts memory early, rollouts after)."""
        self._in_flight: set[str] = set()
        """Upstreams with a read under way: a tick never starts a second one."""
        self._memory_column = -1
        """The graph column of its right edge when last drawn (see ``_memory_column_moved``)."""
        self._stale = StaleTracker(cap=retry_cap, absolute_times=sources.low_bandwidth)

    # ----- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Header, the pane tabs (compact mode only), the four panes and the footer."""
        yield IncidentHeader(id="header")
        yield Static(id="pane-tabs")
        with Container(id="panes"):
            with Pane(id="pane-memory", classes="pane"):
                yield MemoryGraph(id="memory")
            with Pane(id="pane-timeline", classes="pane"):
                yield TimelineTable(id="timeline")
            with Pane(id="pane-suspects", classes="pane"):
                yield SuspectPane(id="suspects")
            with Pane(id="pane-diff", classes="pane"):
                yield AnnotatedDiffView(id="diff")
        yield Footer()

    def on_mount(self) -> None:
        """Start polling and draw the first frame."""
        startup_milestone("dashboard mounted")
        self.set_class(self.sources.low_bandwidth, "-low-bandwidth")
        self.call_after_refresh(self._update_pane_titles)
        self._update_header()
        if self._initial_incident is not None:
            self.incident = self._initial_incident  # the header has it before the first poll returns
        self._tick_workload()
        self._tick_incident()
        self.workload_timer = self.set_interval(self._workload_interval, self._tick_workload)
        self.incident_timer = self.set_interval(self._incident_interval, self._tick_incident)
        # The "retrying in Ns" countdown redraws every second; on a slow link the notes give the
        # clock time of the retry instead and are redrawn only when a read fails or recovers.
        self.stale_timer = None if self.sources.low_bandwidth else self.set_interval(1.0, self._tick_stale_notes)
        self.query_one(MemoryGraph).focus()
        for notice in self.sources.notices:  # the terminal hides what was printed before the app started
            self.notify(notice, title="Worked around", severity="warning", timeout=15)

    def on_resize(self, event: events.Resize) -> None:
        """Switch to one pane at a time when four do not fit."""
        self.compact = event.size.width < COMPACT_WIDTH or event.size.height < COMPACT_HEIGHT

    def watch_compact(self, compact: bool) -> None:
        """Apply the compact layout class."""
        self.set_class(compact, "-compact")
        self._update_pane_titles()

    def watch_active_pane(self) -> None:
        """Bring the active pane to the front."""
        self._update_pane_titles()

    def _update_pane_titles(self) -> None:
        """Mark the active pane by text (``>``), not by colour alone, and fill the tab line."""
        if not self.is_mounted:
            return
        tabs = []
        for index, (pane_id, title) in enumerate(PANES):
            pane = self.query_one(f"#{pane_id}", Pane)
            active = index == self.active_pane
            pane.set_class(active, "-active")
            pane.border_title = f"> {title}" if active else title
            tabs.append(f"[{title}]" if active else f" {title} ")
        self.query_one("#pane-tabs", Static).update(" ".join(tabs) + "   (1-4 or Tab to switch, z zoom)")

    @on(events.DescendantFocus)
    def follow_focus(self, event: events.DescendantFocus) -> None:
        """Make the pane that holds the focused widget the active one."""
        for index, (pane_id, _) in enumerate(PANES):
            pane = self.query_one(f"#{pane_id}", Pane)
            if event.widget is pane or pane in event.widget.ancestors:
                self.active_pane = index
                return

    # ----- handlers (UI thread: store, then hand down) -------------------------------------

    @on(DashboardPolling.WorkloadPolled)
    def store_workload_snapshot(self, message: DashboardPolling.WorkloadPolled) -> None:
        """Keep the new samples and state, redraw the memory pane and the timeline."""
        # Events None: the first read's early snapshot; that read is still under way (in flight).
        events_read = message.events is not None
        if events_read:
            self._answered("workload")
        if message.deployments is not None:
            self._deployments = message.deployments
        first = self._info is None
        if first:
            startup_milestone("first workload snapshot (memory and state)")
        # On a slow link the pane is redrawn only when something it shows changed: a poll with no
        # new sample (a container in back-off) costs no bytes.
        changed = (first or bool(message.samples) or message.info != self._info
                   or message.container != self._container or message.oom_kills != self._oom_kills
                   or (events_read and message.events != self._workload_events))
        self._info = message.info
        self._history.extend(message.samples)
        if first:
            self._tick_workload()  # start the history load now rather than a tick later
        self._container = message.container
        self._oom_kills = message.oom_kills
        if message.events is not None and message.events != self._workload_events:
            self._workload_events = message.events
            self._update_timeline()
        # Otherwise also when the graph's right edge has moved by a column: redrawing a picture
        # that has not changed is what kept the app at 6% of a core while idle.
        if changed or (not self.sources.low_bandwidth and self._memory_column_moved()):
            self._update_memory()
        self._maybe_investigate()

    @on(DashboardPolling.IncidentPolled)
    def store_incident_snapshot(self, message: DashboardPolling.IncidentPolled) -> None:
        """Keep the incident and its log; start the investigation once there is one."""
        self._answered("incidents")
        if message.incident != self.incident:
            self.incident = message.incident
        if message.changes is not None:
            self._change_entries = message.changes
        if message.log_entries != self._log_entries or message.changes:
            self._log_entries = message.log_entries
            self._update_timeline()
        self._maybe_investigate()

    @on(DashboardPolling.InvestigationFinished)
    def show_investigation(self, message: DashboardPolling.InvestigationFinished) -> None:
        """Show the ranking, the annotated diff and the fix."""
        self._investigating = False
        self._answered("code")
        self.investigation = message.investigation
        suspects = self.query_one(SuspectPane)
        suspects.suspects = message.investigation.suspects
        diff_view = self.query_one(AnnotatedDiffView)
        top = message.investigation.top_diff
        if top is not None:
            diff_view.diff = top
        else:
            diff_view.status_note = "no suspect changed a C source in the window"
        if message.investigation.notes:
            self.notify("\n".join(message.investigation.notes), title="Analysis fallback", severity="warning")
        self._update_timeline()
        self.refresh_bindings()

    @on(DashboardPolling.HistoryLoaded)
    def prepend_history(self, message: DashboardPolling.HistoryLoaded) -> None:
        """Put the older samples before the live ones (the bounded buffer keeps the newest)."""
        self._history_loaded = True
        self._answered("history")
        added = self._history.prepend(message.samples)
        self.notify(f"Loaded {added} memory samples from before this session ({self.sources.history.__class__.__name__}); w widens the graph.")
        self._update_memory()

    def watch_memory_window(self) -> None:
        """Redraw at the new width of history."""
        self._update_memory()

    @on(SuspectPane.Highlighted)
    def show_suspect_diff(self, message: SuspectPane.Highlighted) -> None:
        """Show the highlighted suspect's C diff, when it has one."""
        if self.investigation and message.suspect.commit.sha in self.investigation.diffs:
            self.query_one(AnnotatedDiffView).diff = self.investigation.diffs[message.suspect.commit.sha]

    def watch_incident(self) -> None:
        """Redraw the header and re-check which keys apply."""
        self._update_header()
        self.refresh_bindings()

    def watch_pr(self) -> None:
        """Show the PR on the timeline."""
        self._update_timeline()
        self.refresh_bindings()
