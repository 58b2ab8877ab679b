"""The incident header: number, title, status, urgency and assignee in one or two lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from analysis.display_text import printable
from analysis.model import Incident, IncidentStatus

STATUS_MARKS: dict[IncidentStatus, str] = {
    IncidentStatus.TRIGGERED: "!! TRIGGERED",
    IncidentStatus.ACKNOWLEDGED: "ok ACKNOWLEDGED",
    IncidentStatus.RESOLVED: "-- RESOLVED",
}
"""Status with a text mark, so it never depends on colour."""


@dataclass(frozen=True)
class HeaderView:
    """What the header shows."""

    incident: Incident | None
    """The incident, or ``None`` while waiting for one."""
    service: str
    """The watched service."""
    mode: str
    """``demo`` or ``live``, plus ``read-only`` when writes are refused."""
    stale_note: str | None = None
    """Set when the incident source is failing."""


READ_ONLY_MARK = "READ-ONLY"
"""Leads the header in read-only mode, so no terminal width can cut it off."""


def is_read_only(view: HeaderView) -> bool:
    """Whether the view's mode label says writes are refused (``demo, read-only``)."""
    return "read-only" in view.mode


LOW_BANDWIDTH_MARK = "LOW-BANDWIDTH"
"""Leads the header in low-bandwidth mode: it explains why the panes update every few seconds."""


def is_low_bandwidth(view: HeaderView) -> bool:
    """Whether the view's mode label says the session is in low-bandwidth mode."""
    return "low-bandwidth" in view.mode


def header_text(view: HeaderView, now: datetime | None = None) -> str:
    """The header's text; it starts with :data:`READ_ONLY_MARK` and :data:`LOW_BANDWIDTH_MARK` in those modes."""
    now = now or datetime.now(timezone.utc)
    # The mode label closes a long line that is cut at narrow widths: lead with the modes that
    # change what the user can expect (no writes; slow updates).
    marks = [mark for mark, on in ((READ_ONLY_MARK, is_read_only(view)), (LOW_BANDWIDTH_MARK, is_low_bandwidth(view))) if on]
    lead = "".join(f"{mark} | " for mark in marks)
    if view.incident is None:
        line = f"{lead}No incident yet for {view.service}: watching the workload [{view.mode}]"
    else:
        incident = view.incident
        age = int((now - incident.created_at).total_seconds() // 60)
        line = (
            f"{lead}#{incident.number} {STATUS_MARKS[incident.status]} | {incident.urgency} urgency"
            f" | {incident.assignee or 'unassigned'}"
            f" | {incident.created_at.astimezone(timezone.utc):%H:%M:%S} UTC, {age} min ago"
            f" | {view.mode}\n{incident.service}: {incident.title}"
        )
    if view.stale_note:
        line += f"\nSTALE incidents: {view.stale_note}"
    return line


class IncidentHeader(Static):
    """Shows the incident's identity and state; status classes drive the colour."""

    DEFAULT_CSS = """
    IncidentHeader { height: auto; padding: 0 1; background: $panel; text-wrap: nowrap; text-overflow: ellipsis; }
    IncidentHeader.-triggered { background: $error 40%; }
    IncidentHeader.-acknowledged { background: $warning 30%; }
    IncidentHeader.-resolved { background: $success 30%; }
    """

    view: reactive[HeaderView | None] = reactive(None)
    """The snapshot to show; set by the screen."""

    def watch_view(self, view: HeaderView | None) -> None:
        """Update the text and the status class."""
        if view is None:
            return
        # Upstream text (a PagerDuty title) is shown as it is: never read as markup, controls made visible.
        self.update(Content(printable(header_text(view), multiline=True)))
        status = view.incident.status.value if view.incident else None
        for candidate in IncidentStatus:
            self.set_class(candidate.value == status, f"-{candidate.value}")
        self.set_class(is_read_only(view), "-read-only")
