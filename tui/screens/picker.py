"""The incident picker: shown before the dashboard when several incidents are open."""

from __future__ import annotations

from datetime import datetime, timezone

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Label, OptionList
from textual.widgets.option_list import Option

from analysis.model import Incident
from widgets.incident_header import STATUS_MARKS


def incident_line(incident: Incident, now: datetime | None = None) -> str:
    """One picker row: number, status in words, urgency, service, age and title."""
    now = now or datetime.now(timezone.utc)
    minutes = int((now - incident.created_at).total_seconds() // 60)
    age = f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"
    return (f"#{incident.number} {STATUS_MARKS[incident.status]} | {incident.urgency} | {incident.service}"
            f" | {age} ago | {incident.title}")


class IncidentPickerApp(App[str | None]):
    """Lists open incidents, newest first; Enter opens one, Escape or q quits."""

    TITLE = "incident-tui: pick an incident"
    BINDINGS = [Binding("escape,q", "quit_picker", "Quit")]
    CSS = """
    #picker-title { height: 1; padding: 0 1; background: $panel; width: 100%; }
    OptionList { height: 1fr; }
    """

    def __init__(self, incidents: list[Incident]) -> None:
        """Create the picker.

        Args:
            incidents: Open incidents, newest first.
        """
        super().__init__()
        self._incidents = incidents

    def compose(self) -> ComposeResult:
        """A title, the incidents and the footer."""
        yield Label(f"{len(self._incidents)} open incidents: Enter opens one", id="picker-title")
        yield OptionList(*(Option(incident_line(i), id=i.id) for i in self._incidents))
        yield Footer()

    def on_mount(self) -> None:
        """Focus the list on the newest incident, so Enter opens it straight away."""
        options = self.query_one(OptionList)
        options.focus()
        options.highlighted = 0

    @on(OptionList.OptionSelected)
    def open_selected(self, event: OptionList.OptionSelected) -> None:
        """Exit with the chosen incident's ID."""
        self.exit(event.option.id)

    def action_quit_picker(self) -> None:
        """Exit without choosing."""
        self.exit(None)
