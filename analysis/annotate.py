"""Annotated diffs: a suspect's C change with the analysis findings attached to its lines.

The diff pane and the report both show the change that most likely caused the incident, with the
allocation site, the point where the last reference is lost and the suggested fix marked on the
lines they belong to. This module computes that view from two file versions; it does no I/O.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import Enum

from analysis.model import Fix, LeakFinding


class DiffLineKind(str, Enum):
    """What a line of an annotated diff is."""

    CONTEXT = " "
    """Unchanged line."""
    ADDED = "+"
    """Line added by the commit."""
    REMOVED = "-"
    """Line removed by the commit."""
    FIX = "F"
    """Line the proposed fix would add (not part of the commit)."""
    GAP = "~"
    """Unchanged lines left out between hunks."""


@dataclass(frozen=True)
class DiffLine:
    """One line of an annotated diff."""

    kind: DiffLineKind
    """What sort of line this is."""
    old_line: int | None
    """Line number in the parent version, if the line exists there."""
    new_line: int | None
    """Line number in the commit's version, if the line exists there."""
    text: str
    """The source text, without a trailing newline."""
    notes: tuple[str, ...] = ()
    """Analysis annotations for this line, e.g. ``ALLOC buffer (leak-in-loop)``."""


@dataclass(frozen=True)
class AnnotatedDiff:
    """A file's change with findings attached, ready to display."""

    path: str
    """Repository path of the file."""
    sha: str
    """Commit the new version comes from."""
    lines: tuple[DiffLine, ...]
    """The lines to show, in order."""
    findings: tuple[LeakFinding, ...]
    """The findings that were placed."""

    @property
    def annotated_count(self) -> int:
        """How many lines carry at least one note."""
        return sum(1 for line in self.lines if line.notes)


def notes_by_line(findings: tuple[LeakFinding, ...] | list[LeakFinding]) -> dict[int, list[str]]:
    """Map new-file line numbers to the annotations the findings put there.

    Args:
        findings: Findings located in the new version of the file.

    Returns:
        Line number to the notes for that line, in finding order.
    """
    notes: dict[int, list[str]] = {}

    def add(line: int | None, note: str) -> None:
        if line is not None:
            notes.setdefault(line, []).append(note)

    for finding in findings:
        kind = finding.kind.value
        add(finding.loop_line, f"LOOP  {finding.variable} is reallocated on every iteration")
        add(finding.alloc_line, f"ALLOC {finding.variable} ({kind}): {finding.message}")
        if finding.lost_line is not None and finding.lost_line != finding.alloc_line:
            add(finding.lost_line, f"LOST  last reference to {finding.variable} lost here")
        elif finding.lost_line == finding.alloc_line:
            add(finding.lost_line, f"LOST  {finding.variable} overwritten here on the next iteration")
    return notes


def annotate_change(
    path: str,
    sha: str,
    old_text: str,
    new_text: str,
    findings: tuple[LeakFinding, ...] | list[LeakFinding],
    *,
    fix: Fix | None = None,
    context: int = 3,
) -> AnnotatedDiff:
    """Build the annotated diff of one file between a commit's parent and the commit.

    Context is widened so every finding's lines are shown even when they lie outside the
    changed hunks, since the leak is often in lines the commit did not touch (a removed
    ``free`` leaves the allocation as context).

    Args:
        path: Repository path of the file.
        sha: The commit's SHA.
        old_text: The file in the parent commit ("" when the file was added).
        new_text: The file in the commit.
        findings: Findings on the new version (line numbers of ``new_text``).
        fix: The proposed fix for this file, whose inserted lines are shown as ``FIX`` lines.
        context: Unchanged lines to keep around each change and each annotated line.

    Returns:
        The annotated diff.
    """
    old_lines = old_text.splitlines()
    new_lines = new_text.splitlines()
    notes = notes_by_line(findings)
    fix_after = _fix_insertions(fix, new_text) if fix and fix.file == path else {}

    rows: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(i2 - i1):
                rows.append(_row(DiffLineKind.CONTEXT, i1 + offset + 1, j1 + offset + 1, new_lines[j1 + offset], notes))
            continue
        for index in range(i1, i2):
            rows.append(DiffLine(DiffLineKind.REMOVED, index + 1, None, old_lines[index]))
        for index in range(j1, j2):
            rows.append(_row(DiffLineKind.ADDED, None, index + 1, new_lines[index], notes))
    rows = _insert_fix_lines(rows, fix_after)
    return AnnotatedDiff(path=path, sha=sha, lines=tuple(_elide(rows, context)), findings=tuple(findings))


def _row(kind: DiffLineKind, old: int | None, new: int, text: str, notes: dict[int, list[str]]) -> DiffLine:
    """A diff row for new-file line ``new`` carrying that line's notes."""
    return DiffLine(kind, old, new, text, tuple(notes.get(new, ())))


def _fix_insertions(fix: Fix, new_text: str) -> dict[int, list[str]]:
    """Lines the fix adds, keyed by the new-file line they follow.

    The fix was made against the commit's version of the file, so a diff between that version
    and ``fix.patched`` says exactly where each added line goes.
    """
    if fix.original != new_text:
        return {}
    inserted: dict[int, list[str]] = {}
    original, patched = fix.original.splitlines(), fix.patched.splitlines()
    for tag, i1, _i2, j1, j2 in difflib.SequenceMatcher(a=original, b=patched, autojunk=False).get_opcodes():
        if tag in ("insert", "replace"):
            inserted.setdefault(i1, []).extend(patched[j1:j2])
    return inserted


def _insert_fix_lines(rows: list[DiffLine], fix_after: dict[int, list[str]]) -> list[DiffLine]:
    """Place the fix's lines after the new-file line they follow."""
    if not fix_after:
        return rows
    result: list[DiffLine] = []
    for row in rows:
        result.append(row)
        if row.new_line is not None and row.new_line in fix_after:
            for text in fix_after.pop(row.new_line):
                result.append(DiffLine(DiffLineKind.FIX, None, None, text, ("FIX   proposed: add this line",)))
    return result


def _elide(rows: list[DiffLine], context: int) -> list[DiffLine]:
    """Keep changed, fix and annotated lines with ``context`` lines around them; fold the rest."""
    keep = [False] * len(rows)
    for index, row in enumerate(rows):
        if row.kind is not DiffLineKind.CONTEXT or row.notes:
            for near in range(max(0, index - context), min(len(rows), index + context + 1)):
                keep[near] = True
    result: list[DiffLine] = []
    skipped = 0
    for row, kept in zip(rows, keep):
        if kept:
            if skipped:
                result.append(DiffLine(DiffLineKind.GAP, None, None, f"... {skipped} unchanged lines ..."))
                skipped = 0
            result.append(row)
        else:
            skipped += 1
    if skipped:
        result.append(DiffLine(DiffLineKind.GAP, None, None, f"... {skipped} unchanged lines ..."))
    return result
