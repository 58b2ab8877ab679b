"""How the dashboard reads its upstreams: timers, thread and async workers, backoff on failure.

Kept apart from the layout and the snapshot handlers in :mod:`tui.screens.dashboard`. Workers
read the sources and post immutable snapshots; they never touch widgets. A failed read marks its
upstream stale in :class:`~tui.staleness.StaleTracker`, which spaces the next attempts out
(exponential backoff with jitter, never sooner than the server asked); the other upstreams keep
their own rhythm. At most one read per upstream is in flight, so a hanging server never piles up
threads or sockets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from textual import work
from textual.message import Message

from analysis.model import (
    ContainerState,
    Deployment,
    Incident,
    MemorySample,
    OomKill,
    TimelineEntry,
    WorkloadInfo,
)
from tui.sources.base import SourceError
from widgets.suspects import SuspectPane

if TYPE_CHECKING:
    from tui.investigation import (
        Investigation,  # the module loads pycparser: only for annotations
    )
    from tui.screens.dashboard import DashboardScreen

HISTORY_LOOKBACK_HOURS = 12
"""How far back to load memory history (Prometheus) when the session starts."""


def _failure(source: str, error: BaseException) -> DashboardPolling.SourceFailed:
    """The message for a failed read, keeping what the error says about retrying."""
    text = str(error) or type(error).__name__
    if isinstance(error, SourceError):
        return DashboardPolling.SourceFailed(source, text, error.retry_after, error.permanent)
    return DashboardPolling.SourceFailed(source, text)


class DashboardPolling:
    """Mixin: the polling workers, their gating and the failure bookkeeping."""

    @dataclass
    class WorkloadPolled(Message):
        """A fresh read of the workload."""

        info: WorkloadInfo
        """Static workload facts."""
        samples: tuple[MemorySample, ...]
        """Samples newer than the last one the screen has."""
        container: ContainerState
        """Current container state."""
        events: tuple[TimelineEntry, ...] | None
        """All workload events so far; ``None`` in the first read's early snapshot (events follow)."""
        oom_kills: tuple[OomKill, ...]
        """All OOM kills so far."""
        deployments: tuple[Deployment, ...] | None = None
        """The workload's rollouts (``None`` in the first read's early snapshot)."""

    @dataclass
    class IncidentPolled(Message):
        """A fresh read of the incident."""

        incident: Incident | None
        """The incident, or ``None`` while there is none."""
        log_entries: tuple[TimelineEntry, ...]
        """Its log entries."""
        changes: tuple[TimelineEntry, ...] | None = None
        """Correlated change events, read once per incident (``None``: not read this time)."""

    @dataclass
    class InvestigationFinished(Message):
        """The root-cause pipeline finished."""

        investigation: Investigation
        """Its outcome."""

    @dataclass
    class HistoryLoaded(Message):
        """Memory history from before the session arrived."""

        samples: tuple[MemorySample, ...]
        """Samples oldest first."""

    @dataclass
    class SourceFailed(Message):
        """A read from an upstream failed."""

        source: str
        """Which upstream: ``workload``, ``incidents``, ``code`` or ``history``."""
        error: str
        """What went wrong, safe to show."""
        retry_after: float | None = None
        """Seconds the upstream asked us to wait, if it said."""
        permanent: bool = False
        """Only the user can fix it (bad token, no permission)."""

    # ----- ticks (UI thread): start a read only when it is due and none is in flight ---------

    def _tick_workload(self: DashboardScreen) -> None:
        """Timer: read the workload, and the history until it has loaded once."""
        if "workload" not in self._in_flight and self._stale.due("workload"):
            self._in_flight.add("workload")
            self.poll_workload()
        if (self.sources.history is not None and self._info is not None and not self._history_loaded
                and "history" not in self._in_flight and self._stale.due("history")):
            self._in_flight.add("history")
            self.load_history(self._info)

    def _tick_incident(self: DashboardScreen) -> None:
        """Timer: read the incident."""
        if "incidents" not in self._in_flight and self._stale.due("incidents"):
            self._in_flight.add("incidents")
            self.poll_incident()

    def _poll_everything_now(self: DashboardScreen) -> tuple[str, ...]:
        """Manual refresh: ask every upstream now, backoff or not, and restart the interval timers.

        An upstream whose read is under way is not asked twice (that read is the fresh one).
        The code host is asked again only while the analysis has not succeeded: the commits
        before the first OOM kill do not change, so a finished analysis is not redone.

        Returns:
            The upstreams asked (or already being asked).
        """
        for source in self._stale.failing():
            self._stale.retry_now(source)
        self._tick_workload()
        self._tick_incident()
        self._maybe_investigate()
        # The next automatic read comes a full interval after this one, not a second later.
        for timer in (self.workload_timer, self.incident_timer):
            timer.reset()
        asked = ["workload", "incidents"]
        if self.sources.history is not None and not self._history_loaded:
            asked.append("history")
        if self._investigating:
            asked.append("code")
        return tuple(asked)

    def _tick_stale_notes(self: DashboardScreen) -> None:
        """Timer (1 s): count the "retrying in Ns" notes down while anything is failing."""
        if self._stale.failing():
            self._show_stale_notes()

    # ----- workers (they read, then post; they never touch widgets) ---------------------------

    @work(thread=True, group="workload", exit_on_error=False)
    def poll_workload(self: DashboardScreen) -> None:
        """Read the workload and post a snapshot."""
        workload = self.sources.workload
        last = self._history.last.at if self._history else None
        try:
            info = workload.describe()
            samples = tuple(workload.memory_since(last))
            container = workload.container_state()
            if self._info is None:
                # The first read posts the memory pane's value before events and ReplicaSets are
                # listed (two more round trips): the number is on screen while they are read.
                self.post_message(self.WorkloadPolled(info, samples, container, None, tuple(workload.oom_kills())))
                samples = ()
            events = tuple(workload.events())  # lists the rollouts too: deployments() answers from them
            message = self.WorkloadPolled(info, samples, container, events, tuple(workload.oom_kills()),
                                          tuple(workload.deployments()))
        except Exception as error:  # any upstream failure makes the pane stale, never the app crash
            self.post_message(_failure("workload", error))
            return
        self.post_message(message)

    @work(group="incident", exit_on_error=False)
    async def poll_incident(self: DashboardScreen) -> None:
        """Read the incident (or find the newest open one) and its log (async: httpx in live mode)."""
        incidents = self.sources.incidents
        try:
            if self._incident_id is None:
                open_incidents = await incidents.open_incidents()
                incident = open_incidents[0] if open_incidents else None
            else:
                incident = await incidents.incident(self._incident_id)
            entries = tuple(await incidents.log_entries(incident.id)) if incident else ()
            # Change events hardly move once the incident exists: read them once, not every poll.
            changes = None
            if incident is not None and self._change_entries is None:
                changes = tuple(await incidents.change_events(incident.id))
        except Exception as error:  # shown as stale; a later poll retries
            self.post_message(_failure("incidents", error))
            return
        self.post_message(self.IncidentPolled(incident, entries, changes))

    @work(group="history", exit_on_error=False)
    async def load_history(self: DashboardScreen, info: WorkloadInfo) -> None:
        """Load memory from before the session (async: Prometheus is an httpx client)."""
        assert self.sources.history is not None
        end = datetime.now(timezone.utc)
        try:
            samples = await self.sources.history.memory_history(
                info, end - timedelta(hours=HISTORY_LOOKBACK_HOURS), end)
        except Exception as error:  # history is a bonus: say so, carry on with live samples, retry
            self.post_message(_failure("history", error))
            return
        self.post_message(self.HistoryLoaded(tuple(samples)))

    @work(thread=True, exclusive=True, group="investigation", exit_on_error=False)
    def run_investigation(self: DashboardScreen, first_oom: datetime, deployments: tuple[Deployment, ...]) -> None:
        """Rank the changes before ``first_oom`` and prepare the fix.

        ``deployments`` are the rollouts the workload reads brought; the analysis never asks the
        cluster itself, so it cannot add requests beside the poll's (or past a 429's back-off).
        """
        try:
            from tui.investigation import (
                investigate,  # here: it loads pycparser, not needed for the first frame
            )

            investigation = investigate(
                self.sources.code,
                first_oom=first_oom,
                deployments=list(deployments),
                build_globs=self.sources.build_globs,
                window=self.sources.window,
            )
        except Exception as error:  # the pane says what failed; a later incident poll retries
            self.post_message(_failure("code", error))
            return
        self.post_message(self.InvestigationFinished(investigation))

    # ----- failures ---------------------------------------------------------------------------

    def _answered(self: DashboardScreen, source: str) -> None:
        """``source`` answered: it is no longer in flight, and no longer stale."""
        self._in_flight.discard(source)
        if self._stale.recovered(source):
            self._show_stale_notes()

    # Named, not @on-decorated: Textual registers @on handlers only on classes built by its
    # metaclass, and this mixin is not one.
    def on_dashboard_polling_source_failed(self: DashboardScreen, message: SourceFailed) -> None:
        """Record the failure and back off; the affected pane says it is stale, the others keep going."""
        self._in_flight.discard(message.source)
        interval = self._workload_interval if message.source in ("workload", "history") else self._incident_interval
        first = self._stale.state(message.source) is None
        self._stale.failed(message.source, message.error, interval=interval,
                           retry_after=message.retry_after, permanent=message.permanent)
        if message.source == "history" and first:
            self.notify(f"No memory history yet: {message.error}", title="History", severity="warning")
        if message.source == "code":
            self._investigating = False
        self._show_stale_notes()

    def _show_stale_notes(self: DashboardScreen) -> None:
        """Redraw every place that says an upstream is stale (or no longer is)."""
        self._update_header()
        self._update_memory()
        if self.investigation is None and not self._investigating:
            note = self._stale.note("code")
            if note is not None:
                self.query_one(SuspectPane).status_note = f"analysis: {note}"
