"""Where the fix PRs of a local repository are recorded and numbered (it has no PR API of its own)."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Protocol, runtime_checkable

from analysis.model import PullRequest


class PullRequestRegistry(Protocol):
    """Where fix PRs of a local repository are recorded and numbered."""

    def find_pr(self, incident_id: str) -> PullRequest | None:
        """The PR recorded for an incident, if any."""
        ...

    def record_pr(self, incident_id: str, pr: PullRequest) -> PullRequest:
        """Record a PR for an incident and return it with its number assigned.

        Recording again for the same incident returns the PR already recorded.
        """
        ...


@runtime_checkable
class ListablePullRequestRegistry(PullRequestRegistry, Protocol):
    """A registry that can also list what it holds (used to recognise merged fix PRs)."""

    def pull_requests(self) -> list[PullRequest]:
        """Every recorded PR, in order of number."""
        ...


class InMemoryPullRequestRegistry:
    """A thread-safe registry that lives as long as the process; numbers start at ``first``."""

    def __init__(self, first: int = 1) -> None:
        """Create an empty registry.

        Args:
            first: Number given to the first recorded PR.
        """
        self._lock = threading.Lock()
        self._next = first
        self._by_incident: dict[str, PullRequest] = {}

    def find_pr(self, incident_id: str) -> PullRequest | None:
        """The PR recorded for ``incident_id``, if any."""
        with self._lock:
            return self._by_incident.get(incident_id)

    def record_pr(self, incident_id: str, pr: PullRequest) -> PullRequest:
        """Number and keep ``pr``; an incident keeps its first PR."""
        with self._lock:
            if incident_id not in self._by_incident:
                self._by_incident[incident_id] = replace(pr, number=self._next, reused=False)
                self._next += 1
            return self._by_incident[incident_id]

    def pull_requests(self) -> list[PullRequest]:
        """Every recorded PR, in order of number."""
        with self._lock:
            return sorted(self._by_incident.values(), key=lambda pr: pr.number)
