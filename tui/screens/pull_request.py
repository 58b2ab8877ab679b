"""The fix PR preview (before creating it) and the PR view (after)."""

from __future__ import annotations

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from analysis.model import PullRequest


class PrPreviewScreen(ModalScreen[bool]):
    """Title, body and diff of the PR about to be opened; ``y`` creates it, Escape cancels."""

    BINDINGS = [
        Binding("y", "create", "Create PR", priority=True),
        Binding("escape,n", "cancel", "Cancel"),
    ]

    def __init__(self, title: str, body: str, diff: str, target: str) -> None:
        """Create the preview.

        Args:
            title: PR title.
            body: PR body (Markdown).
            diff: The fix as a unified diff.
            target: Where it will be created, e.g. ``branch incident/Q1-fix -> main of repo``.
        """
        super().__init__()
        self._title, self._body, self._diff, self._target = title, body, diff, target

    def compose(self) -> ComposeResult:
        """The preview, scrollable, with the keys in the footer."""
        with VerticalScroll(id="dialog"):
            yield Label("Open this fix PR?  y = create, Escape = cancel", id="question")
            yield Static(f"Title: {self._title}\nTarget: {self._target}", markup=False)
            yield Static(self._body, markup=False, classes="pr-body")
            yield Static(Syntax(self._diff, "diff", theme="ansi_dark", word_wrap=True), classes="pr-diff")
        yield Footer()

    def action_create(self) -> None:
        """Confirm."""
        self.dismiss(True)

    def action_cancel(self) -> None:
        """Cancel."""
        self.dismiss(False)


def pr_text(pr: PullRequest) -> str:
    """The PR's details as plain text."""
    state = f"merged at {pr.merged_at:%H:%M:%S} UTC" if pr.merged_at else "open"
    reused = " (already existed; reused)" if pr.reused else ""
    lines = [
        f"PR #{pr.number}{reused}: {pr.title}",
        f"branch {pr.branch} -> {pr.base} | {state}",
    ]
    if pr.url:
        lines.append(pr.url)
    if pr.head_sha:
        lines.append(f"head {pr.head_sha[:12]}")
    return "\n".join(lines)


class PrViewScreen(ModalScreen[str | None]):
    """Shows the fix PR; in the demo, ``m`` merges it (dismissing with ``"merge"``)."""

    BINDINGS = [
        Binding("m", "merge", "Merge (demo)"),
        Binding("escape,q", "close", "Close"),
    ]

    def __init__(self, pr: PullRequest, *, can_merge: bool) -> None:
        """Create the view.

        Args:
            pr: The pull request.
            can_merge: Whether this source set can merge (the demo can; live mode merges on GitHub).
        """
        super().__init__()
        self._pr = pr
        self._can_merge = can_merge

    def compose(self) -> ComposeResult:
        """PR details and body."""
        with VerticalScroll(id="dialog"):
            yield Static(pr_text(self._pr), markup=False, id="pr-summary")
            yield Static(self._pr.body, markup=False, classes="pr-body")
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out merging where it is not possible."""
        if action == "merge":
            return True if self._can_merge and self._pr.merged_at is None else None
        return True

    def action_merge(self) -> None:
        """Ask the dashboard to merge."""
        self.dismiss("merge")

    def action_close(self) -> None:
        """Back to the dashboard."""
        self.dismiss(None)
