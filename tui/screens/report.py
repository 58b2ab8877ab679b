"""The in-app report viewer."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, MarkdownViewer


class ReportScreen(ModalScreen[None]):
    """Shows a generated Markdown report and where it was saved."""

    BINDINGS = [Binding("escape,q", "close", "Close")]

    def __init__(self, markdown: str, path: Path) -> None:
        """Create the viewer.

        Args:
            markdown: The report.
            path: Where it was written.
        """
        super().__init__()
        self._markdown = markdown
        self._path = path

    def compose(self) -> ComposeResult:
        """Path line, the report, and the footer."""
        yield Label(f"Report saved to {self._path}", id="report-path")
        yield MarkdownViewer(self._markdown, show_table_of_contents=False, id="report")
        yield Footer()

    def action_close(self) -> None:
        """Back to the dashboard."""
        self.dismiss(None)
