"""Small modal screens: a yes/no confirmation and the key help."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ConfirmScreen(ModalScreen[bool]):
    """Ask before a write: ``y``/Enter confirms, ``n``/Escape cancels."""

    BINDINGS = [
        Binding("y", "confirm", "Yes"),
        Binding("n,escape", "cancel", "No"),
    ]

    def __init__(self, question: str, detail: str = "", *, confirm_label: str = "Yes") -> None:
        """Create the dialog.

        Args:
            question: One-line question.
            detail: What exactly will be written, and where.
            confirm_label: Label of the confirming button.
        """
        super().__init__()
        self._question = question
        self._detail = detail
        self._confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        """Question, detail and two buttons."""
        with Vertical(id="dialog"):
            yield Label(self._question, id="question")
            if self._detail:
                with VerticalScroll(id="detail-scroll"):
                    yield Static(self._detail, id="detail", markup=False)
            with Horizontal(id="buttons"):
                yield Button(f"{self._confirm_label} (y)", variant="primary", id="yes")
                yield Button("Cancel (n)", id="no")

    def on_mount(self) -> None:
        """Focus the confirming button so Enter confirms."""
        self.query_one("#yes", Button).focus()

    @on(Button.Pressed, "#yes")
    def action_confirm(self) -> None:
        """Answer yes."""
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_cancel(self) -> None:
        """Answer no."""
        self.dismiss(False)


HELP_TEXT = """\
incident-tui keys

  a        acknowledge the incident (asks first; greyed out once acknowledged)
  r        generate the incident report (Markdown, saved under reports/)
  p        preview and open the fix PR (asks first); shows the PR once it exists
  m        merge the fix PR (demo only, in the PR view)
  t        toggle timeline times between UTC and local time
  w        memory graph: last 5 min / 1 h / 12 h (history from Prometheus when configured)
  l        the killed run's output (kubectl logs --previous)
  1 2 3 4  focus memory / timeline / suspects / diff
  Tab      next pane        z  zoom the focused pane (again to restore)
  ctrl+p   command palette  ?  this help      q  quit

Low-bandwidth (--low-bandwidth; "low-bandwidth" in the header)
  ctrl+r   poll every upstream now. Otherwise memory is read every 5 s and
           the incident every 15 s; panes redraw only when their data change;
           no animations; the graph uses ASCII; stale notes give the retry time.

Read-only (--read-only; READ-ONLY above the footer)
  a, p and m are refused with a message; r still saves the report, a local
  file. Every write, reuse and refusal is logged in <state-dir>/audit.jsonl.

Panes
  memory    usage over time; the limit is the horizontal line; OOM marks kills,
            R marks restarts. Samples come from the source named in the header.
  timeline  incident log, OOM kills, restarts, back-offs, deployments, commits
            and PR merges on one axis (PD, OOM!, RST, WAIT, DEP, GIT, MRG tags).
  suspects  commits in the 24 h before the first OOM kill, ranked; the reasons
            and their weights are listed under the table.
  diff      the top suspect's C change: - removed, + added, F proposed fix,
            ^ analysis notes (ALLOC, LOOP, LOST) under the line they belong to.
"""


class HelpScreen(ModalScreen[None]):
    """The key and pane reference."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def compose(self) -> ComposeResult:
        """The help text in a scrollable box."""
        with VerticalScroll(id="dialog"):
            yield Static(HELP_TEXT, markup=False)

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)


class LogsScreen(ModalScreen[None]):
    """The previous (killed) run's output, like ``kubectl logs --previous``."""

    BINDINGS = [Binding("escape,q,l", "close", "Close")]

    def __init__(self, title: str, text: str) -> None:
        """Create the view.

        Args:
            title: What the logs are of, e.g. the pod and container.
            text: The log lines.
        """
        super().__init__()
        self._title = title
        self._text = text

    def compose(self) -> ComposeResult:
        """The title and the scrollable log."""
        with VerticalScroll(id="dialog"):
            yield Label(self._title, id="question")
            yield Static(self._text or "(no output from the previous run)", markup=False, id="logs")

    def action_close(self) -> None:
        """Back to the dashboard."""
        self.dismiss(None)
