"""The annotated diff: the suspect's C change with the leak analysis marked on its lines."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from analysis.annotate import AnnotatedDiff, DiffLineKind
from analysis.display_text import printable

LINE_STYLES: dict[DiffLineKind, str] = {
    DiffLineKind.ADDED: "green",
    DiffLineKind.REMOVED: "red",
    DiffLineKind.FIX: "bold cyan",
    DiffLineKind.GAP: "dim",
    DiffLineKind.CONTEXT: "",
}
"""Colours per line kind; the kind is also always shown as a character in the gutter."""


def render_diff(diff: AnnotatedDiff) -> Text:
    """Render an annotated diff as text: gutter with line numbers and a kind mark, notes below.

    Args:
        diff: The diff to render.

    Returns:
        Rich text, readable without colour: ``-``/``+`` mark the change, ``F`` the proposed fix,
        and each annotation is a ``^`` line under the line it belongs to.
    """
    text = Text()
    # Paths, source lines and notes come from any committer: controls are escaped, tabs kept.
    text.append(printable(f"{diff.path} @ {diff.sha[:7]}: {len(diff.findings)} finding(s)") + "\n", style="bold")
    for line in diff.lines:
        if line.kind is DiffLineKind.GAP:
            text.append(f"{'':>9}   {printable(line.text, multiline=True)}\n", style=LINE_STYLES[line.kind])
            continue
        old = "" if line.old_line is None else str(line.old_line)
        new = "" if line.new_line is None else str(line.new_line)
        mark = line.kind.value
        text.append(f"{old:>4} {new:>4} {mark} {printable(line.text, multiline=True)}\n", style=LINE_STYLES[line.kind])
        for note in line.notes:
            text.append(f"{'':>9} ^ {printable(note)}\n", style="bold yellow")
    return text


class AnnotatedDiffView(VerticalScroll, can_focus=True):
    """A scrollable annotated diff."""

    DEFAULT_CSS = """
    AnnotatedDiffView { height: 1fr; }
    AnnotatedDiffView > Static { width: auto; }
    """

    diff: reactive[AnnotatedDiff | None] = reactive(None)
    """The diff to show; set by the screen."""
    status_note: reactive[str] = reactive("no suspect C change yet")
    """What to show when there is no diff."""

    def compose(self):
        """A single static holding the rendered diff."""
        yield Static(Content(printable(self.status_note, multiline=True)), id="diff-body")

    def watch_diff(self, diff: AnnotatedDiff | None) -> None:
        """Render the new diff."""
        if self.is_mounted and diff is not None:
            self.query_one("#diff-body", Static).update(render_diff(diff))

    def watch_status_note(self, note: str) -> None:
        """Show the note while there is no diff."""
        if self.is_mounted and self.diff is None:
            self.query_one("#diff-body", Static).update(Content(printable(note, multiline=True)))
