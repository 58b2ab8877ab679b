"""Which upstreams are failing, since when, and what to tell the user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone


@dataclass(frozen=True)
class Staleness:
    """One failing upstream."""

    since: datetime
    """First failure of the current run of failures."""
    error: str
    """The latest error message."""
    retry_in: float
    """Seconds until the next attempt."""


class StaleTracker:
    """Remembers failing upstreams until they answer again."""

    def __init__(self) -> None:
        """Start with every upstream healthy."""
        self._failing: dict[str, Staleness] = {}

    def failed(self, source: str, error: str, *, retry_in: float) -> None:
        """Record a failure of ``source``, keeping the time of the first one."""
        previous = self._failing.get(source)
        since = previous.since if previous else datetime.now(timezone.utc)
        self._failing[source] = Staleness(since, error, retry_in)

    def recovered(self, source: str) -> None:
        """``source`` answered again."""
        self._failing.pop(source, None)

    def note(self, source: str) -> str | None:
        """``stale since HH:MM:SS, retrying in Ns: error`` for a failing source, else ``None``."""
        state = self._failing.get(source)
        if state is None:
            return None
        return f"stale since {state.since:%H:%M:%S} UTC, retrying in {state.retry_in:.0f}s: {state.error}"
