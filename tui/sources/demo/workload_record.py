"""What the demo workload has done so far: samples, events, kills, rollouts and the pod's state.

:class:`WorkloadRecord` is the state the supervisor thread writes and every other thread reads. All
of it is guarded by one condition variable, which also lets callers wait for a state without
polling. Every history is bounded, so a demo left crash-looping for days keeps a flat footprint:
the oldest entries go first, except the first OOM kill, which anchors the investigation.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone

from analysis.model import (
    ContainerState,
    Deployment,
    MemorySample,
    OomKill,
    Termination,
    TimelineEntry,
    TimelineKind,
)

MAX_SAMPLES = 20_000
"""Memory samples kept by default (at four a second, 83 minutes of running worker)."""
MAX_EVENTS = 5_000
"""Timeline events kept (about 1,600 crash-loop cycles of kill, back-off and restart)."""
MAX_KILLS = 1_000
"""Recent OOM kills kept besides the first one."""
MAX_DEPLOYMENTS = 100
"""Rollouts kept (the demo rolls out once per start and once per merged fix)."""
EVENT_SOURCE = "demo"
"""``TimelineEntry.source`` of the supervisor's events."""


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


class WorkloadRecord:
    """The supervised workload's shared, bounded state; every method takes the one lock."""

    def __init__(self, pod: str, *, max_samples: int = MAX_SAMPLES, max_kills: int = MAX_KILLS) -> None:
        """Start an empty record for a pod that is being created.

        Args:
            pod: Pod name to report until the first rollout names the real one.
            max_samples: Memory samples kept (oldest dropped first).
            max_kills: OOM kills kept besides the first (oldest dropped first).
        """
        self.cond = threading.Condition(threading.RLock())
        """Guards every field; notified on every change so :meth:`wait_until` wakes up."""
        self.pod = pod
        """Current pod name."""
        self.state, self.reason = "waiting", "ContainerCreating"
        self.restart_count = 0
        self.started_at: datetime | None = None
        self.last_termination: Termination | None = None
        self.problem: str | None = None
        """Why there is no worker (e.g. the build failed), with what to do; None when all is well."""
        self._samples: deque[MemorySample] = deque(maxlen=max_samples)
        self._events: deque[TimelineEntry] = deque(maxlen=MAX_EVENTS)
        self._first_kill: OomKill | None = None
        self._kills: deque[OomKill] = deque(maxlen=max_kills)
        self._kill_count = 0
        self._deployments: deque[Deployment] = deque(maxlen=MAX_DEPLOYMENTS)

    # -- writes (under the lock; each notifies the waiters) -----------------------------------

    def add_event(self, at: datetime, kind: TimelineKind, summary: str, source: str = EVENT_SOURCE) -> None:
        """Append a timeline event."""
        self.add_entry(TimelineEntry(at=at, kind=kind, summary=summary, source=source))

    def add_entry(self, entry: TimelineEntry) -> None:
        """Append a ready-made timeline entry (e.g. a PR merge from outside)."""
        with self.cond:
            self._events.append(entry)
            self.cond.notify_all()

    def add_sample(self, sample: MemorySample) -> None:
        """Append a memory sample."""
        with self.cond:
            self._samples.append(sample)
            self.cond.notify_all()

    def add_kill(self, kill: OomKill) -> None:
        """Record an OOM kill; the first one is kept for good (it anchors the investigation)."""
        with self.cond:
            if self._first_kill is None:
                self._first_kill = kill
            else:
                self._kills.append(kill)
            self._kill_count += 1
            self.cond.notify_all()

    def add_deployment(self, deployment: Deployment) -> None:
        """Record a rollout and put it on the timeline."""
        with self.cond:
            self._deployments.append(deployment)
            self.cond.notify_all()

    def set_state(self, state: str, reason: str | None, **fields: object) -> None:
        """Change the container state (and any of ``started_at``, ``restart_count`` ...)."""
        with self.cond:
            self.state, self.reason = state, reason
            for name, value in fields.items():
                if not hasattr(self, name):
                    raise AttributeError(name)
                setattr(self, name, value)
            self.cond.notify_all()

    # -- reads (copies, safe to hand to another thread) ---------------------------------------

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until ``predicate()`` is true (re-checked on every change) or ``timeout`` passes.

        Returns:
            The predicate's last value.
        """
        with self.cond:
            return self.cond.wait_for(predicate, timeout)

    def memory_since(self, after: datetime | None) -> list[MemorySample]:
        """Samples taken strictly after ``after`` (all retained when None), oldest first."""
        with self.cond:
            if after is None:
                return list(self._samples)
            # Newest first until ``after``: a poll asks for a handful of new samples, so this stays
            # cheap however long the buffer is.
            newer: list[MemorySample] = []
            for sample in reversed(self._samples):
                if sample.at <= after:
                    break
                newer.append(sample)
        newer.reverse()
        return newer

    def container_state(self, container: str, limit_bytes: int) -> ContainerState:
        """The container's state as ``kubectl get pod -o yaml`` would show it."""
        with self.cond:
            return ContainerState(
                pod=self.pod, container=container, state=self.state, reason=self.reason,
                restart_count=self.restart_count, limit_bytes=limit_bytes,
                last_termination=self.last_termination,
                started_at=self.started_at if self.state == "running" else None,
            )

    def events(self) -> list[TimelineEntry]:
        """The retained events, oldest first."""
        with self.cond:
            events = list(self._events)
        return sorted(events, key=lambda e: e.at)

    def oom_kills(self) -> list[OomKill]:
        """The first OOM kill and the most recent ones (up to ``max_kills``), oldest first."""
        with self.cond:
            first = [self._first_kill] if self._first_kill is not None else []
            return first + list(self._kills)

    @property
    def kill_count(self) -> int:
        """Every OOM kill seen, including those no longer retained."""
        with self.cond:
            return self._kill_count

    def deployments(self) -> list[Deployment]:
        """The retained rollouts, oldest first."""
        with self.cond:
            return list(self._deployments)
