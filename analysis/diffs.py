"""Unified-diff parsing: which lines a change touched, and which C calls it added or removed.

Commit correlation needs three facts from a patch: the line numbers it changed (to intersect with
analysis findings), the functions those changes sit in, and whether it removed a ``free`` or added
an allocation. Patches come from ``git`` or from GitHub's ``patch`` field, so the parser accepts a
full ``diff --git`` section as well as bare hunks starting at ``@@``. It does no I/O.

Call detection is lexical, not a C parse: comments and string literals are blanked out line by
line first so that ``// free(buffer);`` or ``"free(x)"`` does not count, and a call that appears
both removed and added (a moved or re-indented line) cancels out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$")
"""``@@ -old_start[,old_len] +new_start[,new_len] @@ section``; a missing length means 1."""

_IDENTIFIER_CALL = re.compile(r"([A-Za-z_]\w*)\s*\(")
"""An identifier followed by ``(``: a call, a definition or a macro use."""

_DEFINITION = re.compile(r"^[A-Za-z_][\w\s\*,]*?\b([A-Za-z_]\w*)\s*\([^;]*$")
"""A line at column 0 that looks like the start of a function definition (no ``;``)."""

_NOT_FUNCTIONS = frozenset({"if", "for", "while", "switch", "return", "sizeof", "defined"})
"""Keywords that are followed by ``(`` but are not function names."""

ALLOCATION_FUNCTIONS: tuple[str, ...] = (
    "malloc",
    "calloc",
    "realloc",
    "reallocarray",
    "strdup",
    "strndup",
    "aligned_alloc",
    "posix_memalign",
)
"""C library calls that hand out heap memory the caller must free."""


@dataclass(frozen=True)
class Hunk:
    """One ``@@`` hunk of a unified diff."""

    old_start: int
    """First line of the hunk in the old file."""
    old_length: int
    """Lines the hunk spans in the old file."""
    new_start: int
    """First line of the hunk in the new file."""
    new_length: int
    """Lines the hunk spans in the new file (context plus additions)."""
    section: str
    """Text after the second ``@@``: git's guess at the enclosing function, may be empty."""
    functions: tuple[str, ...]
    """Functions the hunk's added or removed lines sit in, as far as the hunk shows."""

    @property
    def new_range(self) -> range:
        """New-file line numbers the hunk covers; a pure deletion covers its context lines."""
        return range(self.new_start, self.new_start + max(self.new_length, 1))


@dataclass(frozen=True)
class ChangedLines:
    """What a patch changed, in line numbers and texts."""

    added: tuple[int, ...]
    """New-file line numbers of added lines."""
    removed: tuple[int, ...]
    """Old-file line numbers of removed lines."""
    added_text: tuple[str, ...]
    """Added lines without the leading ``+``, in order."""
    removed_text: tuple[str, ...]
    """Removed lines without the leading ``-``, in order."""
    hunks: tuple[Hunk, ...] = ()
    """The hunks, in order."""

    @property
    def is_empty(self) -> bool:
        """True when the patch adds and removes nothing (binary, mode-only or empty)."""
        return not self.added and not self.removed


@dataclass(frozen=True)
class CallSite:
    """A call of a named function on an added or removed line."""

    name: str
    """Function called, e.g. ``free``."""
    arguments: str
    """Argument text with whitespace collapsed, e.g. ``buffer``."""
    line: int
    """Line number: new-file for added calls, old-file for removed ones."""

    @property
    def text(self) -> str:
        """The call as written, normalised: ``free(buffer)``."""
        return f"{self.name}({self.arguments})"


def _function_of_section(section: str) -> str | None:
    """The function name in a hunk header's section text, if it names one."""
    for match in _IDENTIFIER_CALL.finditer(section):
        if match.group(1) not in _NOT_FUNCTIONS:
            return match.group(1)
    return None


def _defined_function(line: str) -> str | None:
    """The function a line starts the definition of, or ``None``."""
    match = _DEFINITION.match(line)
    if match is None or match.group(1) in _NOT_FUNCTIONS:
        return None
    return match.group(1)


def changed_lines(patch: str) -> ChangedLines:
    """Parse a unified diff of one file.

    Lines before the first ``@@`` (``diff --git``, ``index``, ``---``/``+++`` headers) are ignored,
    as is ``\\ No newline at end of file``.

    Args:
        patch: The diff text; empty for binary files.

    Returns:
        Added and removed line numbers and texts, and the hunks with the functions they touch.
    """
    added: list[int] = []
    removed: list[int] = []
    added_text: list[str] = []
    removed_text: list[str] = []
    hunks: list[Hunk] = []
    header: re.Match[str] | None = None
    functions: list[str] = []
    current: str | None = None
    old_no = new_no = 0

    def close_hunk() -> None:
        if header is not None:
            old_len = 1 if header.group(2) is None else int(header.group(2))
            new_len = 1 if header.group(4) is None else int(header.group(4))
            hunks.append(
                Hunk(
                    int(header.group(1)),
                    old_len,
                    int(header.group(3)),
                    new_len,
                    header.group(5).strip(),
                    tuple(dict.fromkeys(functions)),
                )
            )

    for raw in patch.splitlines():
        match = _HUNK_HEADER.match(raw)
        if match is not None:
            close_hunk()
            header, functions = match, []
            current = _function_of_section(match.group(5))
            old_no, new_no = int(match.group(1)), int(match.group(3))
            continue
        if header is None or raw.startswith("\\"):
            continue
        marker, text = raw[:1], raw[1:]
        if marker == "+":
            current = _defined_function(text) or current
            added.append(new_no)
            added_text.append(text)
            new_no += 1
        elif marker == "-":
            removed.append(old_no)
            removed_text.append(text)
            old_no += 1
        elif marker in (" ", ""):
            # A closing brace at column 0 ends the function: later lines are outside it.
            current = None if text.startswith("}") else _defined_function(text) or current
            old_no += 1
            new_no += 1
            continue
        else:  # a new file section ("diff --git ...") ends the hunk
            close_hunk()
            header = None
            continue
        if current is not None:
            functions.append(current)
        if text.startswith("}"):
            current = None
    close_hunk()
    return ChangedLines(
        tuple(added), tuple(removed), tuple(added_text), tuple(removed_text), tuple(hunks)
    )


def strip_c_noise(line: str) -> str:
    """Blank out comments and string/char literals on one line of C.

    Block comments spanning several lines are handled only in part: a line starting with ``*``
    (the usual continuation style) is treated as comment. Good enough for spotting calls.

    Args:
        line: One line of C source.

    Returns:
        The code part of the line.
    """
    if line.lstrip().startswith(("*", "/*")) and "*/" not in line:
        return ""
    out: list[str] = []
    i, quote = 0, ""
    while i < len(line):
        char = line[i]
        if quote:
            if char == "\\":
                i += 2
                continue
            if char == quote:
                quote = ""
                out.append(char)
        elif char in "\"'":
            quote = char
            out.append(char)
        elif line.startswith("//", i):
            break
        elif line.startswith("/*", i):
            end = line.find("*/", i + 2)
            if end < 0:
                break
            i = end + 2
            out.append(" ")
            continue
        else:
            out.append(char)
        i += 1
    return "".join(out)


def _calls_in(line: str, names: frozenset[str]) -> Iterable[tuple[str, str]]:
    """``(name, arguments)`` of each call of one of ``names`` on a line."""
    code = strip_c_noise(line)
    for match in _IDENTIFIER_CALL.finditer(code):
        name = match.group(1)
        if name not in names:
            continue
        start = match.end()
        depth, end = 1, start
        while end < len(code) and depth:
            depth += {"(": 1, ")": -1}.get(code[end], 0)
            end += 1
        arguments = code[start : end - 1] if depth == 0 else code[start:]
        yield name, " ".join(arguments.split())


def find_calls(line: str, names: str | Iterable[str]) -> tuple[CallSite, ...]:
    """Calls of ``names`` on one line of C, ignoring comments and string literals.

    Args:
        line: One line of C source.
        names: A function name or several.

    Returns:
        The calls, left to right; ``CallSite.line`` is 0 (the caller knows the line).
    """
    wanted = frozenset([names] if isinstance(names, str) else names)
    return tuple(CallSite(name, arguments, 0) for name, arguments in _calls_in(line, wanted))


def _net_calls(
    lines: Sequence[int], texts: Sequence[str], others: Sequence[str], names: frozenset[str]
) -> tuple[CallSite, ...]:
    """Calls on ``texts`` that do not also appear on ``others`` (moved lines cancel out)."""
    counterpart = Counter(call for text in others for call in _calls_in(text, names))
    found: list[CallSite] = []
    for number, text in zip(lines, texts, strict=True):
        for call in _calls_in(text, names):
            if counterpart[call] > 0:
                counterpart[call] -= 1
                continue
            found.append(CallSite(call[0], call[1], number))
    return tuple(found)


def removed_calls(patch: str | ChangedLines, name: str | Iterable[str]) -> tuple[CallSite, ...]:
    """Calls the patch removes and does not add back, e.g. ``free(buffer)``.

    Args:
        patch: A unified diff, or its already parsed :class:`ChangedLines`.
        name: A function name or several (``"free"``).

    Returns:
        The removed calls with their old-file line numbers, in order.
    """
    changes = patch if isinstance(patch, ChangedLines) else changed_lines(patch)
    names = frozenset([name] if isinstance(name, str) else name)
    return _net_calls(changes.removed, changes.removed_text, changes.added_text, names)


def added_calls(
    patch: str | ChangedLines, names: str | Iterable[str] = ALLOCATION_FUNCTIONS
) -> tuple[CallSite, ...]:
    """Calls the patch adds that it did not just move, e.g. a new ``malloc(size)``.

    Args:
        patch: A unified diff, or its already parsed :class:`ChangedLines`.
        names: Function names to look for; the C allocation functions by default.

    Returns:
        The added calls with their new-file line numbers, in order.
    """
    changes = patch if isinstance(patch, ChangedLines) else changed_lines(patch)
    wanted = frozenset([names] if isinstance(names, str) else names)
    return _net_calls(changes.added, changes.added_text, changes.removed_text, wanted)
