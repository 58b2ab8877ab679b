"""Adapt a blocking incident store to the async :class:`~tui.sources.base.IncidentSource`."""

from __future__ import annotations

import asyncio

from analysis.model import Incident, OnCallTeam, TimelineEntry
from tui.sources.base import BlockingIncidentSource


class ThreadedIncidentSource:
    """Runs each call of a blocking store in a worker thread, so the UI loop never blocks."""

    def __init__(self, blocking: BlockingIncidentSource) -> None:
        """Wrap ``blocking``.

        Args:
            blocking: A store with the same methods, blocking (e.g. the demo's SQLite store).
        """
        self.blocking = blocking

    async def open_incidents(self) -> list[Incident]:
        """Open incidents, newest first."""
        return await asyncio.to_thread(self.blocking.open_incidents)

    async def incident(self, incident_id: str) -> Incident:
        """One incident."""
        return await asyncio.to_thread(self.blocking.incident, incident_id)

    async def log_entries(self, incident_id: str) -> list[TimelineEntry]:
        """The incident's log entries."""
        return await asyncio.to_thread(self.blocking.log_entries, incident_id)

    async def acknowledge(self, incident_id: str) -> Incident:
        """Acknowledge the incident."""
        return await asyncio.to_thread(self.blocking.acknowledge, incident_id)

    async def add_note(self, incident_id: str, content: str) -> None:
        """Attach a note."""
        await asyncio.to_thread(self.blocking.add_note, incident_id, content)

    async def on_call(self, incident_id: str) -> OnCallTeam:
        """Who is on call."""
        return await asyncio.to_thread(self.blocking.on_call, incident_id)

    async def notes(self, incident_id: str) -> list[object]:
        """The incident's notes, oldest first."""
        return await asyncio.to_thread(self.blocking.notes, incident_id)

    async def change_events(self, incident_id: str) -> list[TimelineEntry]:
        """The store's correlated changes, when it records any (the demo store does not)."""
        method = getattr(self.blocking, "change_events", None)
        return [] if method is None else await asyncio.to_thread(method, incident_id)
