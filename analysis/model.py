"""The frozen domain model that every source returns and every pane displays.

Instances cross thread boundaries (thread workers build them, the UI thread reads them), so every
type here is an immutable dataclass holding only tuples, strings, numbers and datetimes. All
datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from analysis.findings import AnalysisResult, Diagnostic, FindingKind, Fix, LeakFinding

__all__ = [
    "AnalysisResult", "Commit", "ContainerState", "Deployment", "Diagnostic", "FileChange", "FindingKind",
    "Fix", "Incident", "IncidentStatus", "LeakFinding", "MemorySample", "OnCallTeam", "OomKill", "PullRequest",
    "Reason", "Responder", "Suspect", "Termination", "TimelineEntry", "TimelineKind", "WorkloadInfo",
]


class IncidentStatus(str, Enum):
    """PagerDuty's incident states."""

    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Responder:
    """A person on the on-call rota for the incident's service."""

    name: str
    """Display name."""
    handle: str
    """Short user handle, shown as @handle."""
    level: int
    """Escalation level: 1 is primary, 2 secondary."""


@dataclass(frozen=True)
class OnCallTeam:
    """Who was on call for the service when the incident fired."""

    team: str
    """Team name."""
    escalation_policy: str
    """Escalation policy name."""
    responders: tuple[Responder, ...] = ()
    """Responders ordered by escalation level."""


@dataclass(frozen=True)
class Incident:
    """An incident in PagerDuty's shape."""

    id: str
    """Incident ID, e.g. ``Q1ABCDEF2GHIJK``."""
    number: int
    """Human incident number, e.g. 1234."""
    title: str
    """Incident title."""
    service: str
    """Name of the PagerDuty service."""
    urgency: str
    """``high`` or ``low``."""
    status: IncidentStatus
    """Current status."""
    created_at: datetime
    """When the incident was triggered."""
    assignee: str | None = None
    """Name of the current assignee, if any."""
    html_url: str | None = None
    """Link to the incident in the incident store's UI."""
    acknowledged_at: datetime | None = None
    """When it was first acknowledged."""
    resolved_at: datetime | None = None
    """When it was resolved."""
    severity: str | None = None
    """Severity label (SEV-1..3) when the store has one."""
    service_id: str | None = None
    """The service's ID in the incident store (PagerDuty ``PXXXXXX``), when it has one."""


class TimelineKind(str, Enum):
    """What a timeline entry records; the value is the label shown in the timeline."""

    INCIDENT = "incident"
    """A PagerDuty log entry (trigger, notify, acknowledge, annotate, resolve ...)."""
    OOM_KILL = "oom-kill"
    """A container was killed for exceeding its memory limit."""
    RESTART = "restart"
    """A container was restarted."""
    BACKOFF = "backoff"
    """The kubelet is waiting before the next restart (CrashLoopBackOff)."""
    DEPLOYMENT = "deploy"
    """A new revision of the workload was rolled out."""
    COMMIT = "commit"
    """A commit landed on the default branch."""
    PR_MERGED = "pr-merged"
    """A pull request was merged."""
    PR_OPENED = "pr-opened"
    """A pull request was opened."""
    EVENT = "k8s-event"
    """Any other Kubernetes event."""
    CHANGE = "change"
    """A change event the incident store correlates with the incident (PagerDuty change events)."""


@dataclass(frozen=True)
class TimelineEntry:
    """One point on the incident's merged time axis."""

    at: datetime
    """When it happened (UTC)."""
    kind: TimelineKind
    """What sort of entry this is."""
    summary: str
    """One-line description."""
    source: str
    """Where the entry came from: ``pagerduty``, ``kubernetes``, ``git``, ``demo`` ..."""


@dataclass(frozen=True)
class MemorySample:
    """One reading of a container's memory usage."""

    at: datetime
    """When the sample was taken (UTC)."""
    bytes: int
    """Working-set (or RSS) bytes."""
    source: str
    """What produced it: ``cgroup-v2``, ``cgroup-v1``, ``proc``, ``metrics-server`` ..."""


@dataclass(frozen=True)
class Termination:
    """A container's terminated state, as in ``lastState.terminated``."""

    reason: str
    """``OOMKilled``, ``Error``, ``Completed`` ..."""
    exit_code: int
    """137 for SIGKILL."""
    started_at: datetime
    """When that run of the container started."""
    finished_at: datetime
    """When it was killed."""


@dataclass(frozen=True)
class ContainerState:
    """The current state of the watched container, as Kubernetes reports it."""

    pod: str
    """Pod name."""
    container: str
    """Container name."""
    state: str
    """``running``, ``waiting`` or ``terminated``."""
    reason: str | None
    """Reason of the current state (``CrashLoopBackOff``, ``OOMKilled``), if any."""
    restart_count: int
    """Restarts so far."""
    limit_bytes: int | None
    """Memory limit in bytes, ``None`` when unlimited."""
    last_termination: Termination | None = None
    """The previous run's termination (``lastState.terminated``)."""
    started_at: datetime | None = None
    """When the current run started, if running."""


@dataclass(frozen=True)
class OomKill:
    """One OOM kill of the watched container."""

    at: datetime
    """When the container was killed (``finishedAt``)."""
    started_at: datetime
    """When that run started."""
    exit_code: int
    """Exit code (137)."""
    peak_bytes: int | None
    """Highest usage seen in that run, when sampled."""
    restart_count: int
    """Restart count after the kill."""


@dataclass(frozen=True)
class WorkloadInfo:
    """Static facts about the watched workload."""

    service: str
    """PagerDuty service name it is mapped to."""
    namespace: str
    """Kubernetes namespace (``demo`` in the demo)."""
    pod: str
    """Pod name."""
    container: str
    """Container name."""
    limit_bytes: int | None
    """Memory limit in bytes."""
    limit_mechanism: str
    """How the limit is enforced: ``kubernetes``, ``cgroup-v2``, ``cgroup-v1`` or ``watchdog``."""
    environment: str
    """Where it runs, e.g. ``Kubernetes (minikube)`` or ``local demo process``."""
    notes: tuple[str, ...] = ()
    """Caveats to show the user (e.g. "Python stand-in worker: no C compiler")."""
    cpu_limit: str | None = None
    """CPU limit as written in the manifest, e.g. ``250m``."""


@dataclass(frozen=True)
class Deployment:
    """A rollout of the workload."""

    at: datetime
    """When it started."""
    revision: str
    """Revision identifier (ReplicaSet revision, or the commit SHA in the demo)."""
    sha: str | None
    """The commit deployed, when known."""
    description: str
    """One-line description."""


@dataclass(frozen=True)
class FileChange:
    """One file touched by a commit."""

    path: str
    """Path in the repository after the change."""
    status: str
    """``added``, ``modified``, ``removed`` or ``renamed``."""
    additions: int
    """Lines added."""
    deletions: int
    """Lines removed."""
    patch: str
    """Unified diff of this file (may be empty for binary files)."""


@dataclass(frozen=True)
class Commit:
    """A commit with its metadata and changes."""

    sha: str
    """Full SHA."""
    author: str
    """Author name."""
    author_email: str
    """Author e-mail."""
    authored_at: datetime
    """Author date."""
    committed_at: datetime
    """Committer date (when it landed)."""
    message: str
    """Full commit message."""
    files: tuple[FileChange, ...] = ()
    """Files changed."""

    @property
    def short_sha(self) -> str:
        """The first seven characters of the SHA."""
        return self.sha[:7]

    @property
    def subject(self) -> str:
        """The first line of the message."""
        return self.message.splitlines()[0] if self.message else ""


@dataclass(frozen=True)
class PullRequest:
    """A pull request (the fix PR, or a merged PR in the window)."""

    number: int
    """PR number."""
    title: str
    """Title."""
    body: str
    """Markdown body."""
    branch: str
    """Head branch."""
    base: str
    """Base branch."""
    url: str | None = None
    """Web URL, if the code host has one."""
    created_at: datetime | None = None
    """When it was opened."""
    merged_at: datetime | None = None
    """When it was merged, if it was."""
    head_sha: str | None = None
    """Commit at the head of the branch."""
    reused: bool = False
    """True when an existing PR for the incident was found instead of creating one."""


@dataclass(frozen=True)
class Reason:
    """One piece of evidence behind a suspect's score."""

    label: str
    """What was observed, e.g. ``removes free(buffer) in worker.c``."""
    weight: float
    """Points it contributes (negative lowers suspicion)."""


@dataclass(frozen=True)
class Suspect:
    """A commit ranked by how likely it caused the incident."""

    commit: Commit
    """The commit."""
    score: float
    """Sum of the reasons' weights, clamped at 0."""
    reasons: tuple[Reason, ...]
    """Why it got that score."""
    findings: tuple[LeakFinding, ...] = ()
    """Analysis findings on the lines this commit changed."""

    @property
    def confidence(self) -> str:
        """``high``, ``medium`` or ``low`` from the score."""
        if self.score >= 60:
            return "high"
        if self.score >= 30:
            return "medium"
        return "low"
