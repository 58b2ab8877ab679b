"""The incident timeline: every source's events on one time axis, in UTC or local time."""

from __future__ import annotations

from datetime import datetime, timezone

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import DataTable

from analysis.display_text import printable
from analysis.model import TimelineEntry, TimelineKind

KIND_LABELS: dict[TimelineKind, str] = {
    TimelineKind.INCIDENT: "PD  ",
    TimelineKind.OOM_KILL: "OOM!",
    TimelineKind.RESTART: "RST ",
    TimelineKind.BACKOFF: "WAIT",
    TimelineKind.DEPLOYMENT: "DEP ",
    TimelineKind.COMMIT: "GIT ",
    TimelineKind.PR_MERGED: "MRG ",
    TimelineKind.PR_OPENED: "PR  ",
    TimelineKind.EVENT: "K8S ",
    TimelineKind.CHANGE: "CHG ",
}
"""Short text tags per kind, so the kind is readable without colour."""


def format_time(at: datetime, *, local: bool, now: datetime | None = None) -> str:
    """Format a timestamp for the timeline.

    Args:
        at: An aware datetime.
        local: Show local time instead of UTC.
        now: Reference for deciding whether to show the date; entries from another day get
            ``MM-DD`` in front.

    Returns:
        ``HH:MM:SS`` or ``MM-DD HH:MM:SS``.
    """
    try:
        shown = at.astimezone() if local else at.astimezone(timezone.utc)
        reference = (now or datetime.now(timezone.utc)).astimezone(shown.tzinfo)
    except OverflowError:
        # A time at the edge of year 1 or 9999 has no local equivalent: show it in UTC.
        shown = at.astimezone(timezone.utc)
        reference = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    if shown.date() != reference.date():
        return shown.strftime("%m-%d %H:%M:%S")
    return shown.strftime("%H:%M:%S")


def zone_label(local: bool) -> str:
    """Column header naming the time zone in force, e.g. ``UTC`` or ``local (CET, +01:00)``."""
    if not local:
        return "time UTC"
    now = datetime.now().astimezone()
    offset = now.strftime("%z")
    return f"local {now.tzname()} {offset[:3]}:{offset[3:]}"


def plain_cell(text: str) -> Text:
    """A table cell showing ``text`` as written: never read as markup, controls escaped.

    A ``str`` cell is parsed as Rich markup, so a title holding ``[/]`` would crash the table and
    ``[link=...]`` would restyle it; text from upstreams is therefore always passed as ``Text``.

    Args:
        text: Text from any source.

    Returns:
        One line of plain text, styled like the table's own ``str`` cells.
    """
    return Text(printable(text), no_wrap=True, end="")


def timeline_row(entry: TimelineEntry, *, local: bool, now: datetime) -> tuple[str, str, Text]:
    """The cells of one timeline row: time, kind tag and the summary as plain text.

    Args:
        entry: The entry.
        local: Show local time instead of UTC.
        now: Reference for showing the date (see :func:`format_time`).

    Returns:
        ``(time, kind, what)``.
    """
    return (format_time(entry.at, local=local, now=now), KIND_LABELS.get(entry.kind, entry.kind.value),
            plain_cell(entry.summary))


class TimelineTable(DataTable[str]):
    """A read-only table of timeline entries, newest last, following the latest entry."""

    DEFAULT_CSS = """
    TimelineTable { height: 1fr; }
    """

    entries: reactive[tuple[TimelineEntry, ...]] = reactive(tuple, always_update=True)
    """Entries oldest first; set by the screen."""
    show_local: reactive[bool] = reactive(False)
    """Show local time instead of UTC."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        """Create the table.

        Args:
            id: Widget ID.
            classes: CSS classes.
        """
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)

    def on_mount(self) -> None:
        """Build the columns."""
        self._rebuild()

    def watch_entries(self) -> None:
        """Redraw when entries change."""
        self._rebuild()

    def watch_show_local(self) -> None:
        """Redraw in the other time zone."""
        self._rebuild()

    def _rebuild(self) -> None:
        """Replace all rows, keeping the cursor at the end when it was there."""
        if not self.is_mounted:
            return
        follow = self.row_count == 0 or self.cursor_row >= self.row_count - 1
        self.clear(columns=True)
        self.add_column(zone_label(self.show_local), key="time")
        self.add_column("kind", key="kind")
        self.add_column("what", key="what")
        now = datetime.now(timezone.utc)
        for entry in self.entries:
            self.add_row(*timeline_row(entry, local=self.show_local, now=now))
        if follow and self.row_count:
            self.move_cursor(row=self.row_count - 1)
