"""Turn PagerDuty REST API v2 payloads into :mod:`analysis.model` values.

Pure functions, no I/O. Payloads are checked here because Prism (and therefore our contract tests)
skips response validation for ``GET /incidents/{id}``, and because a proxy or an API change can
hand us anything: a missing required field becomes a :class:`~tui.sources.base.SourceError` with a
message that names the field, never a ``KeyError`` deep inside a worker.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from analysis.model import (
    Incident,
    IncidentStatus,
    OnCallTeam,
    Responder,
    TimelineEntry,
    TimelineKind,
)
from tui.sources.base import SourceError

_SERVICE_ID = re.compile(r"^P[A-Z0-9]{6}$")
"""The shape of a PagerDuty service ID (``PXXXXXX``)."""
SOURCE = "pagerduty"
"""``TimelineEntry.source`` of PagerDuty log entries."""

Json = dict[str, Any]

_CHANNELS = {
    "api": "the API", "email": "email", "nagios": "Nagios", "website": "the website",
    "web_trigger": "a web trigger", "auto": "automation", "timeout": "a timeout", "sms": "SMS",
    "phone": "phone", "note": "a note", "mobile": "the mobile app", "slack": "Slack",
}
"""``channel.type`` -> words for "Triggered via ..."."""
_NOTIFICATIONS = {
    "sms_notification": "SMS", "email_notification": "email", "phone_notification": "phone call",
    "push_notification": "push notification",
}
"""``channel.notification.type`` -> words for "Notified X by ..."."""


@dataclass(frozen=True)
class Alert:
    """One alert grouped into an incident."""

    id: str
    """Alert ID."""
    summary: str
    """What the monitoring tool said."""
    created_at: datetime
    """When it triggered."""
    status: str
    """``triggered`` or ``resolved``."""
    severity: str | None
    """``critical``, ``error``, ``warning`` or ``info``, when given."""
    details: tuple[tuple[str, str], ...] = ()
    """``body.details`` flattened to (key, text) pairs."""


@dataclass(frozen=True)
class Note:
    """A note attached to an incident."""

    id: str
    """Note ID."""
    author: str
    """Who wrote it (a user, or a service's bot user)."""
    content: str
    """The text."""
    created_at: datetime
    """When it was added."""


@dataclass(frozen=True)
class ChangeEvent:
    """A change event PagerDuty correlated with an incident (deploys, config changes)."""

    id: str
    """Change event ID."""
    summary: str
    """What changed."""
    timestamp: datetime
    """When the emitting tool saw the change."""
    source: str | None
    """The tool or host that reported it."""
    correlation_reason: str | None
    """Why PagerDuty relates it: ``most_recent``, ``related_service`` or ``intelligent``."""
    services: tuple[str, ...] = ()
    """Names of the services it concerns."""
    links: tuple[str, ...] = ()
    """URLs attached to the event."""


def _field(payload: Json, key: str, kind: type | tuple[type, ...], what: str) -> Any:
    """``payload[key]``, checked to be present and of ``kind``."""
    value = payload.get(key) if isinstance(payload, dict) else None
    if value is None or not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise SourceError(f"PagerDuty returned {what} without a valid {key!r}")
    return value


def parse_time(value: Any, what: str) -> datetime:
    """An ISO 8601 timestamp as an aware UTC datetime.

    Raises:
        SourceError: ``value`` is not a timestamp.
    """
    if not isinstance(value, str):
        raise SourceError(f"PagerDuty returned {what} without a valid timestamp")
    try:
        parsed = datetime.fromisoformat(value)  # Python 3.11 reads the "Z" suffix too
        if parsed.tzinfo is None:
            # time_zone=UTC is requested everywhere, so a naive time is UTC.
            parsed = parsed.replace(tzinfo=UTC)
        # OverflowError: a valid RFC 3339 time whose UTC instant falls outside years 1-9999
        # (0001-01-01T00:00:00+05:45).
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise SourceError(f"PagerDuty returned {what} with a malformed timestamp {value!r}") from None


def _optional_time(value: Any, what: str) -> datetime | None:
    return parse_time(value, what) if value else None


def _name(reference: Any) -> str | None:
    """The display name of a reference (``summary``), or its ID when the summary is missing."""
    if not isinstance(reference, dict):
        return None
    return reference.get("summary") or reference.get("name") or reference.get("id")


def parse_incident(payload: Any) -> Incident:
    """An ``Incident`` object as an :class:`~analysis.model.Incident`.

    Raises:
        SourceError: A field the dashboard relies on is missing or malformed.
    """
    if not isinstance(payload, dict):
        raise SourceError("PagerDuty returned an incident that is not an object")
    ident = _field(payload, "id", str, "an incident")
    what = f"incident {ident}"
    status_text = _field(payload, "status", str, what)
    try:
        status = IncidentStatus(status_text)
    except ValueError:
        raise SourceError(f"PagerDuty returned {what} with unknown status {status_text!r}") from None
    service = _field(payload, "service", dict, what)
    assignments = payload.get("assignments") or []
    acknowledgements = payload.get("acknowledgements") or []
    ack_times = sorted(parse_time(a.get("at"), what) for a in acknowledgements if isinstance(a, dict) and a.get("at"))
    priority = payload.get("priority")
    return Incident(
        id=ident,
        number=_field(payload, "incident_number", int, what),
        title=_field(payload, "title", str, what),
        service=_name(service) or "",
        urgency=payload.get("urgency") or "high",
        status=status,
        created_at=parse_time(_field(payload, "created_at", str, what), what),
        assignee=_name(assignments[0].get("assignee")) if assignments and isinstance(assignments[0], dict) else None,
        html_url=payload.get("html_url"),
        acknowledged_at=ack_times[0] if ack_times else None,
        resolved_at=_optional_time(payload.get("resolved_at"), what),
        severity=_name(priority) if isinstance(priority, dict) else None,
        service_id=service.get("id") if isinstance(service.get("id"), str) else None,
    )


def _channel_words(channel: Json) -> str:
    kind = channel.get("type") or "unknown channel"
    return _CHANNELS.get(kind, kind.replace("_", " "))


def log_entry_summary(entry: Json) -> str:
    """A one-line, readable description of a log entry ("Acknowledged by Sam Okafor")."""
    kind = str(entry.get("type", "")).removesuffix("_log_entry").removesuffix("_reference")
    agent = _name(entry.get("agent")) or "PagerDuty"
    channel = entry.get("channel") if isinstance(entry.get("channel"), dict) else {}
    assignees = ", ".join(filter(None, (_name(a) for a in entry.get("assignees") or []))) or None
    note = entry.get("note")
    if kind == "trigger":
        detail = channel.get("summary") or channel.get("description") or channel.get("subject")
        return f"Triggered via {_channel_words(channel)}" + (f": {detail}" if detail else "")
    if kind in ("acknowledge", "acknowledgement"):
        return f"Acknowledged by {agent}" + (f": {note}" if note else "")
    if kind == "unacknowledge":
        return "Unacknowledged" + (f" by {agent}" if channel.get("type") != "timeout" else " (acknowledgement timed out)")
    if kind == "notify":
        notification = channel.get("notification") if isinstance(channel.get("notification"), dict) else {}
        method = _NOTIFICATIONS.get(notification.get("type", ""), None) or _channel_words(channel)
        return f"Notified {_name(entry.get('user')) or 'a responder'} by {method}"
    if kind == "annotate":
        text = note or channel.get("summary")
        return f"Note added by {agent}" + (f": {text}" if text else "")
    if kind == "assign":
        return f"Assigned to {assignees or 'nobody'} by {agent}"
    if kind == "escalate":
        return f"Escalated to {assignees or 'the next level'}" + (f" by {agent}" if agent != "PagerDuty" else "")
    if kind == "resolve":
        return f"Resolved by {agent}" + (f": {note}" if note else "")
    if kind == "snooze":
        duration = channel.get("duration")
        # JSON allows any number here; inf and NaN (which Python's json reads) have no minutes.
        finite = isinstance(duration, (int, float)) and not isinstance(duration, bool) and math.isfinite(duration)
        minutes = f" for {int(duration) // 60} min" if finite and duration else ""
        return f"Snoozed by {agent}{minutes}"
    if kind == "delegate":
        return f"Reassigned by {agent}" + (f" to {assignees}" if assignees else "")
    summary = entry.get("summary")
    return summary if isinstance(summary, str) and summary else kind.replace("_", " ").capitalize()


def parse_log_entry(entry: Any) -> TimelineEntry:
    """A log entry as an ``INCIDENT`` timeline entry.

    Raises:
        SourceError: The entry has no ``created_at``.
    """
    if not isinstance(entry, dict):
        raise SourceError("PagerDuty returned a log entry that is not an object")
    at = parse_time(entry.get("created_at"), f"log entry {entry.get('id', '?')}")
    return TimelineEntry(at=at, kind=TimelineKind.INCIDENT, summary=log_entry_summary(entry), source=SOURCE)


def parse_alert(payload: Any) -> Alert:
    """An ``Alert`` object."""
    ident = _field(payload, "id", str, "an alert")
    body = payload.get("body") if isinstance(payload.get("body"), dict) else {}
    details = body.get("details")
    pairs = tuple((str(k), str(v)) for k, v in details.items()) if isinstance(details, dict) else (
        (("details", str(details)),) if details else ())
    return Alert(id=ident, summary=payload.get("summary") or "", status=payload.get("status") or "triggered",
                 created_at=parse_time(payload.get("created_at"), f"alert {ident}"),
                 severity=payload.get("severity"), details=pairs)


def parse_note(payload: Any) -> Note:
    """An ``IncidentNote`` object."""
    if not isinstance(payload, dict):
        raise SourceError("PagerDuty returned a note that is not an object")
    content = _field(payload, "content", str, "a note")
    return Note(id=str(payload.get("id") or ""), author=_name(payload.get("user")) or "unknown", content=content,
                created_at=parse_time(payload.get("created_at"), "a note"))


def parse_change_event(payload: Any) -> ChangeEvent:
    """A related ``ChangeEvent``, keeping PagerDuty's ``correlation_reason``."""
    ident = _field(payload, "id", str, "a change event")
    reason = payload.get("correlation_reason")
    return ChangeEvent(
        id=ident, summary=payload.get("summary") or "", source=payload.get("source"),
        timestamp=parse_time(payload.get("timestamp"), f"change event {ident}"),
        correlation_reason=reason.get("reason") if isinstance(reason, dict) else None,
        services=tuple(filter(None, (_name(s) for s in payload.get("services") or []))),
        links=tuple(link["href"] for link in payload.get("links") or [] if isinstance(link, dict) and link.get("href")),
    )


def handle_from_name(name: str) -> str:
    """A short handle in the demo's style: first initial and last name, "Sam Okafor" -> ``sokafor``.

    On-call entries carry user references (name only); fetching every user for an e-mail address
    would cost a request per responder on each refresh.
    """
    words = re.findall(r"[A-Za-z0-9]+", name.lower())
    if not words:
        return "unknown"
    return words[0] if len(words) == 1 else words[0][0] + words[-1]


def parse_on_call(policy_name: str, team: str, oncalls: list[Json]) -> OnCallTeam:
    """Build the on-call team from ``/oncalls`` rows of one escalation policy.

    A user on call through several schedules appears once per schedule; they are listed once per
    escalation level.
    """
    seen: set[tuple[str, int]] = set()
    responders: list[Responder] = []
    for row in oncalls:
        user = row.get("user") if isinstance(row, dict) else None
        name = _name(user)
        level = row.get("escalation_level") if isinstance(row, dict) else None
        if not name or not isinstance(level, int):
            continue
        key = (str(user.get("id") or name), level)  # type: ignore[union-attr]
        if key in seen:
            continue
        seen.add(key)
        responders.append(Responder(name=name, handle=handle_from_name(name), level=level))
    responders.sort(key=lambda r: (r.level, r.name))
    return OnCallTeam(team=team, escalation_policy=policy_name, responders=tuple(responders))


def first_name(references: Any) -> str | None:
    """The display name of the first reference in a list, if any."""
    if isinstance(references, list):
        for reference in references:
            if name := _name(reference):
                return name
    return None


def error_detail(data: Any) -> str | None:
    """The human part of an error body: PagerDuty's ``error`` object, or Prism's problem+json."""
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        error = data["error"]
        parts = [str(error.get("message") or "")] + [str(e) for e in error.get("errors") or []]
        return "; ".join(p for p in parts if p) or None
    if isinstance(data, dict) and data.get("title"):
        # Prism's answer when a request or response breaks the spec: name the first violation.
        violations = data.get("validation") or []
        first = violations[0].get("message") if violations and isinstance(violations[0], dict) else None
        return str(data["title"]) + (f" ({first})" if first else "")
    return None


def match_service(rows: list[Any], wanted: str) -> str | None:
    """The ID of the service named ``wanted`` among ``GET /services?query=`` rows.

    ``query`` matches substrings ("ads" finds "ads-demo-service-canary" too), so only an exact
    name counts, case-insensitively as a fallback. A value shaped like an ID is taken as one.
    """
    services = [row for row in rows if isinstance(row, dict) and row.get("id")]
    for same in (lambda name: name == wanted, lambda name: name.casefold() == wanted.casefold()):
        for row in services:
            if same(str(row.get("name", ""))):
                return str(row["id"])
    return wanted if _SERVICE_ID.match(wanted) else None


def change_event_entries(events: list[ChangeEvent]) -> list[TimelineEntry]:
    """Change events as ``CHANGE`` timeline entries (summary, origin, PagerDuty's reason), oldest first."""
    entries = []
    for event in events:
        reason = f" ({event.correlation_reason})" if event.correlation_reason else ""
        origin = f" from {event.source}" if event.source else ""
        entries.append(TimelineEntry(event.timestamp, TimelineKind.CHANGE, f"{event.summary}{origin}{reason}", "pagerduty"))
    return sorted(entries, key=lambda entry: entry.at)
