"""The demo's PagerDuty stand-in: incidents, log entries, notes and fix PRs in SQLite.

:class:`IncidentStore` implements :class:`~tui.sources.base.IncidentSource` for the dashboard and
the ``PullRequestRegistry`` protocol (``find_pr`` / ``record_pr``) that the local git code source
uses to number and find fix PRs. One connection is shared across threads behind a lock, in WAL mode,
so the supervisor thread can trigger while a UI worker reads.
"""

from __future__ import annotations

import secrets
import sqlite3
import string
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from analysis.model import (
    Incident,
    IncidentStatus,
    OnCallTeam,
    PullRequest,
    Responder,
    TimelineEntry,
    TimelineKind,
)
from tui.sources.base import NotFoundError
from tui.sources.demo.store_file import open_or_recover

DB_NAME = "incidents.sqlite3"
"""File name of the store inside the state directory."""
FIRST_INCIDENT_NUMBER = 1001
"""Number given to the first incident."""
FIRST_PR_NUMBER = 42
"""Number given to the first recorded pull request."""
LOG_SOURCE = "demo-pagerduty"
"""``TimelineEntry.source`` of incident log entries."""

DEMO_ROTA = OnCallTeam(
    team="Ads Platform",
    escalation_policy="Ads Platform - Default",
    responders=(
        Responder(name="Sam Okafor", handle="sokafor", level=1),
        Responder(name="Lena Fischer", handle="lfischer", level=2),
    ),
)
"""Who is on call for ads-demo-service in the demo."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY, number INTEGER NOT NULL UNIQUE, title TEXT NOT NULL,
    service TEXT NOT NULL, urgency TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
    assignee TEXT, acknowledged_at TEXT, resolved_at TEXT, severity TEXT
);
CREATE TABLE IF NOT EXISTS log_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, incident_id TEXT NOT NULL REFERENCES incidents(id),
    at TEXT NOT NULL, type TEXT NOT NULL, agent TEXT, channel TEXT, summary TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, incident_id TEXT NOT NULL REFERENCES incidents(id),
    at TEXT NOT NULL, author TEXT NOT NULL, content TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pull_requests (
    number INTEGER PRIMARY KEY, incident_id TEXT NOT NULL UNIQUE, title TEXT NOT NULL,
    body TEXT NOT NULL, branch TEXT NOT NULL, base TEXT NOT NULL, url TEXT, created_at TEXT,
    merged_at TEXT, head_sha TEXT
);
"""


@dataclass(frozen=True)
class Note:
    """A note attached to an incident."""

    at: datetime
    """When it was added."""
    author: str
    """Who added it."""
    content: str
    """The text."""


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(timezone.utc).isoformat()


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def new_incident_id() -> str:
    """A random 14-character upper-case alphanumeric ID in PagerDuty's style (``Q...``)."""
    alphabet = string.ascii_uppercase + string.digits
    return "Q" + "".join(secrets.choice(alphabet) for _ in range(13))


class IncidentStore:
    """SQLite-backed incidents; an IncidentSource and a pull-request registry."""

    def __init__(
        self,
        state_dir: Path,
        *,
        rota: OnCallTeam = DEMO_ROTA,
        service: str = "ads-demo-service",
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        """Open (creating if needed) ``<state_dir>/incidents.sqlite3``.

        A file that is not a sound SQLite database (garbage, truncated) is kept as
        ``incidents.sqlite3.corrupt-<UTC stamp>`` and a fresh store is created; ``recovery_note``
        then says so and where the old one is.

        Args:
            state_dir: Directory holding the database.
            rota: The on-call rota; level 1 is notified and assigned on trigger.
            service: Service name of new incidents.
            clock: Source of "now" for log entries.
        """
        Path(state_dir).mkdir(parents=True, exist_ok=True)
        self.path = Path(state_dir) / DB_NAME
        self.rota = rota
        self.service = service
        self._clock = clock
        self._lock = threading.RLock()
        self.kept_corrupt: Path | None
        """Where an unreadable database was moved before a fresh one was made (None: it was fine)."""
        self.recovery_note: str | None
        """What happened to an unreadable database, for the user (None: nothing happened)."""
        self._db, self.kept_corrupt, self.recovery_note = open_or_recover(self.path, _SCHEMA, self._clock())

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction under the lock (BEGIN IMMEDIATE: no lost updates across processes)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @property
    def primary(self) -> Responder:
        """The level-1 responder."""
        return min(self.rota.responders, key=lambda r: r.level)

    # -- incidents ---------------------------------------------------------------------------

    def trigger(
        self,
        title: str,
        *,
        at: datetime | None = None,
        details: str = "",
        severity: str = "SEV-2",
        urgency: str = "high",
    ) -> Incident:
        """Open an incident, assign it to the primary and log trigger + notify entries.

        Args:
            title: Incident title.
            at: Trigger time (default now).
            details: Extra text for the trigger log entry.
            severity: Severity label.
            urgency: ``high`` or ``low``.

        Returns:
            The new incident.
        """
        at = at or self._clock()
        primary = self.primary
        incident_id = new_incident_id()
        with self._tx() as db:
            row = db.execute("SELECT MAX(number) FROM incidents").fetchone()
            number = (row[0] or FIRST_INCIDENT_NUMBER - 1) + 1
            db.execute(
                "INSERT INTO incidents (id, number, title, service, urgency, status, created_at,"
                " assignee, severity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (incident_id, number, title, self.service, urgency,
                 IncidentStatus.TRIGGERED.value, _iso(at), primary.name, severity),
            )
            summary = f"Triggered through the Events API: {title}"
            if details:
                summary += f" ({details})"
            self._log(db, incident_id, at, "trigger", "Events API", "api", summary)
            self._log(db, incident_id, at, "notify", primary.name, "push,sms",
                      f"Notified {primary.name} (@{primary.handle}) by push notification and SMS "
                      f"(escalation level {primary.level}, {self.rota.escalation_policy})")
        return self.incident(incident_id)

    @staticmethod
    def _log(db: sqlite3.Connection, incident_id: str, at: datetime, kind: str,
             agent: str | None, channel: str | None, summary: str) -> None:
        db.execute(
            "INSERT INTO log_entries (incident_id, at, type, agent, channel, summary)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (incident_id, _iso(at), kind, agent, channel, summary),
        )

    @staticmethod
    def _incident(row: sqlite3.Row) -> Incident:
        return Incident(
            id=row["id"], number=row["number"], title=row["title"], service=row["service"],
            urgency=row["urgency"], status=IncidentStatus(row["status"]),
            created_at=_dt(row["created_at"]),  # type: ignore[arg-type]
            assignee=row["assignee"], acknowledged_at=_dt(row["acknowledged_at"]),
            resolved_at=_dt(row["resolved_at"]), severity=row["severity"],
        )

    def incident(self, incident_id: str) -> Incident:
        """One incident.

        Raises:
            NotFoundError: When there is no such incident.
        """
        with self._lock:
            row = self._db.execute("SELECT * FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"incident {incident_id} not found")
        return self._incident(row)

    def open_incidents(self) -> list[Incident]:
        """Triggered and acknowledged incidents, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM incidents WHERE status != ? ORDER BY number DESC",
                (IncidentStatus.RESOLVED.value,),
            ).fetchall()
        return [self._incident(row) for row in rows]

    def log_entries(self, incident_id: str) -> list[TimelineEntry]:
        """The incident's log entries, oldest first."""
        self.incident(incident_id)
        with self._lock:
            rows = self._db.execute(
                "SELECT at, summary FROM log_entries WHERE incident_id = ? ORDER BY at, id",
                (incident_id,),
            ).fetchall()
        return [TimelineEntry(at=_dt(r["at"]), kind=TimelineKind.INCIDENT,  # type: ignore[arg-type]
                              summary=r["summary"], source=LOG_SOURCE) for r in rows]

    def acknowledge(self, incident_id: str, by: str | None = None) -> Incident:
        """Acknowledge; a second call (or one on a resolved incident) changes nothing.

        Args:
            incident_id: The incident.
            by: Who acknowledges (default: the primary responder).

        Raises:
            NotFoundError: When there is no such incident.
        """
        by = by or self.primary.name
        with self._tx() as db:
            row = db.execute("SELECT status FROM incidents WHERE id = ?", (incident_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"incident {incident_id} not found")
            if row["status"] == IncidentStatus.TRIGGERED.value:
                at = self._clock()
                db.execute(
                    "UPDATE incidents SET status = ?, acknowledged_at = ?, assignee = ? WHERE id = ?",
                    (IncidentStatus.ACKNOWLEDGED.value, _iso(at), by, incident_id),
                )
                self._log(db, incident_id, at, "acknowledge", by, "tui", f"Acknowledged by {by}")
        return self.incident(incident_id)

    def resolve(self, incident_id: str, by: str | None = None, reason: str = "") -> Incident:
        """Resolve the incident (idempotent).

        Raises:
            NotFoundError: When there is no such incident.
        """
        by = by or self.primary.name
        with self._tx() as db:
            row = db.execute("SELECT status FROM incidents WHERE id = ?", (incident_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"incident {incident_id} not found")
            if row["status"] != IncidentStatus.RESOLVED.value:
                at = self._clock()
                db.execute("UPDATE incidents SET status = ?, resolved_at = ? WHERE id = ?",
                           (IncidentStatus.RESOLVED.value, _iso(at), incident_id))
                self._log(db, incident_id, at, "resolve", by, "tui",
                          f"Resolved by {by}" + (f": {reason}" if reason else ""))
        return self.incident(incident_id)

    def add_note(self, incident_id: str, content: str, author: str | None = None) -> None:
        """Attach a note and log it as an annotation.

        Raises:
            NotFoundError: When there is no such incident.
        """
        self.incident(incident_id)
        author = author or self.primary.name
        at = self._clock()
        with self._tx() as db:
            db.execute("INSERT INTO notes (incident_id, at, author, content) VALUES (?, ?, ?, ?)",
                       (incident_id, _iso(at), author, content))
            first_line = content.strip().splitlines()[0] if content.strip() else ""
            self._log(db, incident_id, at, "annotate", author, "tui",
                      f"Note added by {author}: {first_line}")

    def notes(self, incident_id: str) -> list[Note]:
        """The incident's notes, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT at, author, content FROM notes WHERE incident_id = ? ORDER BY at, id",
                (incident_id,),
            ).fetchall()
        return [Note(_dt(r["at"]), r["author"], r["content"]) for r in rows]  # type: ignore[arg-type]

    def on_call(self, incident_id: str) -> OnCallTeam:
        """The demo rota (the same for every incident of the service)."""
        return self.rota

    # -- PullRequestRegistry -------------------------------------------------------------------

    @staticmethod
    def _pr(row: sqlite3.Row) -> PullRequest:
        return PullRequest(
            number=row["number"], title=row["title"], body=row["body"], branch=row["branch"],
            base=row["base"], url=row["url"], created_at=_dt(row["created_at"]),
            merged_at=_dt(row["merged_at"]), head_sha=row["head_sha"],
        )

    def find_pr(self, incident_id: str) -> PullRequest | None:
        """The fix PR recorded for the incident, if any."""
        with self._lock:
            row = self._db.execute("SELECT * FROM pull_requests WHERE incident_id = ?",
                                   (incident_id,)).fetchone()
        return None if row is None else self._pr(row)

    def record_pr(self, incident_id: str, pr: PullRequest) -> PullRequest:
        """Store a new fix PR and give it the next number (``pr.number`` is ignored).

        One PR per incident: when one is recorded already it is returned with ``reused=True``.

        Returns:
            The stored PR with its assigned number.
        """
        with self._tx() as db:
            existing = db.execute("SELECT * FROM pull_requests WHERE incident_id = ?",
                                  (incident_id,)).fetchone()
            if existing is not None:
                return replace(self._pr(existing), reused=True)
            row = db.execute("SELECT MAX(number) FROM pull_requests").fetchone()
            number = (row[0] or FIRST_PR_NUMBER - 1) + 1
            stored = replace(pr, number=number, created_at=pr.created_at or self._clock(),
                             reused=False)
            db.execute(
                "INSERT INTO pull_requests (number, incident_id, title, body, branch, base, url,"
                " created_at, merged_at, head_sha) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (number, incident_id, stored.title, stored.body, stored.branch, stored.base,
                 stored.url, _iso(stored.created_at), _iso(stored.merged_at), stored.head_sha),
            )
        return stored

    def mark_pr_merged(self, number: int, at: datetime) -> PullRequest:
        """Record that PR ``number`` was merged at ``at``.

        Raises:
            NotFoundError: When no PR has that number.
        """
        with self._tx() as db:
            cursor = db.execute("UPDATE pull_requests SET merged_at = ? WHERE number = ?",
                                (_iso(at), number))
            if cursor.rowcount == 0:
                raise NotFoundError(f"pull request #{number} not found")
            row = db.execute("SELECT * FROM pull_requests WHERE number = ?", (number,)).fetchone()
        return self._pr(row)

    def pull_requests(self) -> list[PullRequest]:
        """Every recorded PR, by number."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM pull_requests ORDER BY number").fetchall()
        return [self._pr(row) for row in rows]
