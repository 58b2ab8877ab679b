"""Which upstreams are failing, since when, when they will be tried again, and what to tell the user."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from tui.backoff import DEFAULT_CAP, RetryPolicy


@dataclass(frozen=True)
class Staleness:
    """One failing upstream."""

    since: datetime
    """First failure of the current run of failures."""
    error: str
    """The latest error message."""
    failures: int
    """Failures in a row."""
    next_attempt: float
    """Monotonic time of the next attempt."""
    permanent: bool
    """The latest failure needs the user to act (bad token, no permission)."""


class StaleTracker:
    """Remembers failing upstreams until they answer again, and spaces out their retries."""

    def __init__(self, *, cap: float = DEFAULT_CAP, clock: Callable[[], float] = time.monotonic,
                 rng: Callable[[], float] = random.random, absolute_times: bool = False) -> None:
        """Start with every upstream healthy.

        Args:
            cap: Longest wait between attempts the backoff picks by itself.
            clock: Monotonic seconds (a parameter so the countdown can be tested without waiting).
            rng: Uniform [0, 1) source for the jitter.
            absolute_times: Notes say ``retrying at HH:MM:SS UTC`` (true until the retry, so they
                need no redraw every second: low-bandwidth mode) instead of ``retrying in Ns``.
        """
        self._failing: dict[str, Staleness] = {}
        self._cap, self._clock, self._rng = cap, clock, rng
        self._absolute_times = absolute_times

    def failed(self, source: str, error: str, *, interval: float, retry_after: float | None = None,
               permanent: bool = False) -> Staleness:
        """Record a failure of ``source`` and schedule its next attempt.

        Args:
            source: The upstream's name.
            error: What went wrong, safe to show.
            interval: The poller's normal interval: the first backoff step.
            retry_after: Seconds the server asked us to wait, if it did.
            permanent: Only the user can fix it.

        Returns:
            The upstream's state, with the time of the next attempt.
        """
        previous = self._failing.get(source)
        since = previous.since if previous else datetime.now(timezone.utc)
        failures = previous.failures + 1 if previous else 1
        policy = RetryPolicy(base=interval, cap=max(self._cap, interval))
        wait = policy.delay(failures, retry_after=retry_after, permanent=permanent, rng=self._rng)
        state = Staleness(since, error, failures, self._clock() + wait, permanent)
        self._failing[source] = state
        return state

    def recovered(self, source: str) -> bool:
        """``source`` answered again; returns whether it had been failing."""
        return self._failing.pop(source, None) is not None

    def retry_now(self, source: str) -> None:
        """Make a failing ``source`` due now (the user asked to refresh); its failure count stays."""
        state = self._failing.get(source)
        if state is not None:
            self._failing[source] = replace(state, next_attempt=self._clock())

    def due(self, source: str) -> bool:
        """Whether ``source`` may be asked now (healthy, or its backoff has run out)."""
        state = self._failing.get(source)
        return state is None or self._clock() >= state.next_attempt

    def failing(self) -> tuple[str, ...]:
        """The upstreams failing now."""
        return tuple(self._failing)

    def state(self, source: str) -> Staleness | None:
        """The failing upstream's state, or ``None`` when it is healthy."""
        return self._failing.get(source)

    def note(self, source: str) -> str | None:
        """What the pane says about a failing ``source``, else ``None``.

        A passing failure reads ``stale since HH:MM:SS UTC, retrying in Ns: error``; one that needs
        the user reads ``error (since HH:MM:SS UTC, checking again in Ns)``, its message saying what
        to do. With ``absolute_times``, ``in Ns`` becomes ``at HH:MM:SS UTC``.
        """
        state = self._failing.get(source)
        if state is None:
            return None
        wait = max(0.0, state.next_attempt - self._clock())
        if self._absolute_times:
            when = f"at {datetime.now(timezone.utc) + timedelta(seconds=round(wait)):%H:%M:%S} UTC"
        else:
            when = f"in {wait:.0f}s"
        if state.permanent:
            return f"{state.error} (since {state.since:%H:%M:%S} UTC, checking again {when})"
        return f"stale since {state.since:%H:%M:%S} UTC, retrying {when}: {state.error}"
