"""The commit correlation pane: ranked suspects with their scores and reasons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Static

from analysis.display_text import printable
from analysis.model import Suspect
from widgets.timeline import plain_cell


def reasons_text(suspect: Suspect) -> str:
    """Every reason with its weight, one per line, strongest first."""
    lines = [f"{suspect.commit.short_sha} {suspect.commit.subject}  by {suspect.commit.author}"]
    lines.append(f"score {suspect.score:.0f} ({suspect.confidence} confidence):")
    for reason in sorted(suspect.reasons, key=lambda r: -abs(r.weight)):
        lines.append(f"  {reason.weight:+5.0f}  {reason.label}")
    files = ", ".join(change.path for change in suspect.commit.files) or "no files"
    lines.append(f"  files: {files}")
    # Subjects, authors and paths come from any committer: one line each, controls escaped.
    return "\n".join(printable(line) for line in lines)


def note_text(note: str) -> Content:
    """A status or reasons block as plain content (a ``str`` would be parsed as markup), controls escaped."""
    return Content(printable(note, multiline=True))


def suspect_row(rank: int, suspect: Suspect, now: datetime) -> tuple[str, str, Text, Text, Text, str]:
    """The cells of one suspect row; commit text is plain (never markup) with controls escaped.

    Args:
        rank: 1 for the top suspect.
        suspect: The suspect.
        now: Reference for the commit's age.

    Returns:
        ``(rank, score, sha, subject, author, age)``.
    """
    return (str(rank), f"{suspect.score:.0f}", plain_cell(suspect.commit.short_sha),
            plain_cell(suspect.commit.subject[:48]), plain_cell(suspect.commit.author),
            age_text(suspect.commit.committed_at, now))


def age_text(at: datetime, now: datetime) -> str:
    """How long before ``now``, e.g. ``3h12m ago``."""
    minutes = int((now - at).total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m ago" if minutes >= 60 else f"{minutes}m ago"


class SuspectTable(DataTable[str]):
    """One row per suspect commit, ranked."""

    DEFAULT_CSS = """
    SuspectTable { height: 1fr; min-height: 3; }
    """


class SuspectPane(Vertical):
    """Ranked suspects on top, the highlighted one's reasons below."""

    DEFAULT_CSS = """
    SuspectPane > SuspectTable { height: 1fr; }
    SuspectPane > #suspect-reasons { height: auto; max-height: 60%; }
    """

    @dataclass
    class Highlighted(Message):
        """The user moved to another suspect."""

        suspect: Suspect
        """The suspect now highlighted."""

    suspects: reactive[tuple[Suspect, ...] | None] = reactive(None)
    """Ranked suspects (``None`` while the analysis runs); set by the screen."""
    status_note: reactive[str] = reactive("waiting for the incident before ranking changes")
    """What to say while there are no suspects."""

    def compose(self) -> ComposeResult:
        """The table and the reasons."""
        yield SuspectTable(cursor_type="row", id="suspect-table")
        yield Static(note_text(self.status_note), id="suspect-reasons")

    def on_mount(self) -> None:
        """Set up the columns."""
        table = self.query_one(SuspectTable)
        for label in ("#", "score", "commit", "subject", "author", "when"):
            table.add_column(label, key=label)

    def watch_status_note(self, note: str) -> None:
        """Show the note while there is nothing ranked."""
        if not self.suspects and self.is_mounted:
            self.query_one("#suspect-reasons", Static).update(note_text(note))

    def watch_suspects(self, suspects: tuple[Suspect, ...] | None) -> None:
        """Fill the table and show the top suspect's reasons."""
        if not self.is_mounted:
            return
        table = self.query_one(SuspectTable)
        table.clear()
        now = datetime.now(timezone.utc)
        for rank, suspect in enumerate(suspects or (), start=1):
            table.add_row(*suspect_row(rank, suspect, now), key=suspect.commit.sha)
        reasons = self.query_one("#suspect-reasons", Static)
        if suspects:
            reasons.update(note_text(reasons_text(suspects[0])))
        elif suspects is not None:
            reasons.update("no commits in the window before the first OOM kill")

    @on(DataTable.RowHighlighted, "#suspect-table")
    def show_highlighted_reasons(self, event: DataTable.RowHighlighted) -> None:
        """Show the reasons of the highlighted suspect and tell the screen."""
        event.stop()
        for suspect in self.suspects or ():
            if suspect.commit.sha == event.row_key.value:
                self.query_one("#suspect-reasons", Static).update(note_text(reasons_text(suspect)))
                self.post_message(self.Highlighted(suspect))
                return
