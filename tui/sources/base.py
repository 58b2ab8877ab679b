"""The interfaces the dashboard reads from; demo and live sources implement them.

All methods may block (they do I/O) and are called from thread workers, never from the UI thread.
They return frozen :mod:`analysis.model` values and raise :class:`SourceError` subclasses on
failure, with a message fit to show the user.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from analysis.model import (
    Commit,
    ContainerState,
    Deployment,
    Fix,
    Incident,
    MemorySample,
    OomKill,
    OnCallTeam,
    PullRequest,
    TimelineEntry,
    WorkloadInfo,
)


class SourceError(Exception):
    """An upstream failed; ``str(error)`` is safe to show (never contains a token).

    The dashboard retries a failed read with exponential backoff (:mod:`tui.backoff`); the two
    attributes tell it how: wait at least ``retry_after`` seconds when the server said so (a 429's
    reset time), and treat a ``permanent`` failure (bad token, no permission, no such object) as
    one the user has to fix, retried only rarely.
    """

    permanent_by_default = False
    """Whether errors of this class are permanent unless said otherwise."""

    def __init__(self, message: str = "", *, retry_after: float | None = None, permanent: bool | None = None) -> None:
        """Create the error.

        Args:
            message: What went wrong and, where it helps, what to do; shown to the user.
            retry_after: Seconds the upstream asked us to wait before the next request.
            permanent: Retrying will not help until the user acts; the class default when ``None``.
        """
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = self.permanent_by_default if permanent is None else permanent


class NotFoundError(SourceError):
    """The requested object (incident, commit, file) does not exist."""

    permanent_by_default = True


class AuthError(SourceError):
    """The upstream refused the credentials (401) or the permission (403); the user must act."""

    permanent_by_default = True


class RateLimitedError(SourceError):
    """The upstream is rate limiting us; ``retry_after`` says for how long, when it told."""


class ReadOnlyError(SourceError):
    """A write was attempted in ``--read-only`` mode."""

    permanent_by_default = True


class IncidentSource(Protocol):
    """PagerDuty, or the demo's local incident store.

    Async, because the live client is httpx's ``AsyncClient`` (STYLE.md rule 4): the dashboard
    awaits these in async workers on the UI loop. A blocking store is adapted with
    :class:`tui.sources.threaded.ThreadedIncidentSource`.
    """

    async def open_incidents(self) -> list[Incident]:
        """Triggered and acknowledged incidents of the mapped services, newest first."""
        ...

    async def incident(self, incident_id: str) -> Incident:
        """One incident. Raises :class:`NotFoundError` when it does not exist."""
        ...

    async def log_entries(self, incident_id: str) -> list[TimelineEntry]:
        """The incident's log entries as timeline entries, oldest first."""
        ...

    async def acknowledge(self, incident_id: str) -> Incident:
        """Acknowledge the incident; acknowledging an acknowledged incident changes nothing."""
        ...

    async def add_note(self, incident_id: str, content: str) -> None:
        """Attach a note to the incident."""
        ...

    async def on_call(self, incident_id: str) -> OnCallTeam:
        """Who was on call for the incident's service."""
        ...

    async def change_events(self, incident_id: str) -> list[TimelineEntry]:
        """Changes the store correlates with the incident (``CHANGE`` entries); [] when it has none."""
        ...

    async def notes(self, incident_id: str) -> list[object]:
        """The incident's notes, oldest first; each has a ``content`` string (the PR note check reads it)."""
        ...


class BlockingIncidentSource(Protocol):
    """The same operations, blocking (the demo's SQLite store)."""

    def open_incidents(self) -> list[Incident]:
        """See :meth:`IncidentSource.open_incidents`."""
        ...

    def incident(self, incident_id: str) -> Incident:
        """See :meth:`IncidentSource.incident`."""
        ...

    def log_entries(self, incident_id: str) -> list[TimelineEntry]:
        """See :meth:`IncidentSource.log_entries`."""
        ...

    def acknowledge(self, incident_id: str) -> Incident:
        """See :meth:`IncidentSource.acknowledge`."""
        ...

    def add_note(self, incident_id: str, content: str) -> None:
        """See :meth:`IncidentSource.add_note`."""
        ...

    def on_call(self, incident_id: str) -> OnCallTeam:
        """See :meth:`IncidentSource.on_call`."""
        ...

    def notes(self, incident_id: str) -> list[object]:
        """See :meth:`IncidentSource.notes`."""
        ...


class WorkloadSource(Protocol):
    """Kubernetes, or the demo's supervised worker process."""

    def describe(self) -> WorkloadInfo:
        """Static facts: names, memory limit and how it is enforced."""
        ...

    def memory_since(self, after: datetime | None) -> list[MemorySample]:
        """Samples taken strictly after ``after`` (all retained samples when ``None``), oldest first."""
        ...

    def container_state(self) -> ContainerState:
        """The watched container's current state."""
        ...

    def events(self) -> list[TimelineEntry]:
        """OOM kills, restarts, back-offs, deployments and other workload events, oldest first."""
        ...

    def oom_kills(self) -> list[OomKill]:
        """Every OOM kill seen, oldest first."""
        ...

    def deployments(self) -> list[Deployment]:
        """Rollouts of the workload, oldest first."""
        ...

    def previous_logs(self, lines: int = 200) -> str:
        """The last ``lines`` lines the previous (killed) run wrote; "" when there is none."""
        ...


class MemoryHistorySource(Protocol):
    """Memory history from before the dashboard started (Prometheus in live mode)."""

    async def memory_history(self, workload: WorkloadInfo, start: datetime, end: datetime) -> list[MemorySample]:
        """Samples of ``workload``'s container in ``[start, end]``, oldest first."""
        ...


class CodeSource(Protocol):
    """GitHub, or the demo's local git repository."""

    @property
    def repository(self) -> str:
        """``owner/name`` (or a local label) of the repository."""
        ...

    @property
    def default_branch(self) -> str:
        """The branch deployments come from."""
        ...

    def commits(self, since: datetime, until: datetime) -> list[Commit]:
        """Commits on the default branch committed in ``[since, until]``, newest first, with files."""
        ...

    def file_at(self, sha: str, path: str) -> str:
        """A file's text at a commit. Raises :class:`NotFoundError` if absent."""
        ...

    def parent_of(self, sha: str) -> str | None:
        """The first parent's SHA, or ``None`` for a root commit."""
        ...

    def merged_pull_requests(self, since: datetime, until: datetime) -> list[PullRequest]:
        """Pull requests merged in the window."""
        ...

    def find_fix_pr(self, incident: Incident) -> PullRequest | None:
        """The fix PR already opened for this incident, if any."""
        ...

    def open_fix_pr(self, incident: Incident, fix: Fix, title: str, body: str) -> PullRequest:
        """Create branch ``incident/<id>-fix`` with ``fix`` and open a PR against the default branch.

        Idempotent: when the branch or PR exists it is reused (``PullRequest.reused``). Never writes
        to the default branch.
        """
        ...
