"""Which C functions a change touches: the diff-scoped mode's first step.

Works on raw source or on preprocessed text (line markers are followed) with a small lexical
scan, so it needs neither a preprocessor nor a successful parse: comments, strings and character
literals are skipped, braces are counted, and a top-level brace block preceded by
``name(...)`` is a function definition.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r'(?P<comment>/\*.*?\*/|//[^\n]*)|(?P<string>"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\')'
    r"|(?P<marker>^[ \t]*#[^\n]*)|(?P<brace>[{}])|(?P<semi>;)|(?P<newline>\n)",
    re.DOTALL | re.MULTILINE,
)
_LINE_MARKER = re.compile(r'^\s*#\s*(?:line\s+)?(\d+)\s+"((?:\\.|[^"\\])*)"')
NOT_FUNCTION_NAMES = frozenset({"if", "for", "while", "switch", "return", "sizeof", "do", "else",
                                "__attribute__", "__asm__", "asm", "defined"})
"""Words followed by parentheses that never name a function."""
DEFINITION_HEAD = re.compile(r"([A-Za-z_]\w*)\s*\([^;{}]*\)\s*(?:__attribute__\s*\(\(.*?\)\)\s*)*"
                             r"(?:[A-Za-z_][\w\s,*\[\]]*;\s*)*$", re.DOTALL)
"""What precedes a definition's ``{``: ``name(...)``, attributes, K&R parameter declarations."""


def function_spans(text: str, filename: str) -> list[tuple[str, int, int]]:
    """Every function definition of ``filename`` with its first and last line.

    Args:
        text: Raw C source, or preprocessor output with line markers.
        filename: The main file (for preprocessed text, only its functions are returned).

    Returns:
        ``(name, first line, last line)`` in source order.
    """
    spans: list[tuple[str, int, int]] = []
    line, current_file = 1, filename
    depth, last_end = 0, 0
    head: list[str] = []
    head_line: int | None = None
    open_at: tuple[str, int, str] | None = None
    for match in _TOKEN.finditer(text):
        gap = text[last_end:match.start()]  # plain code: never holds a newline (a token)
        last_end = match.end()
        if depth == 0 and gap.strip():
            head_line = line if head_line is None else head_line
            head.append(gap)
        kind = match.lastgroup
        if kind == "newline":
            line += 1
            if depth == 0:
                head.append(" ")
        elif kind in ("comment", "string"):
            line += match.group().count("\n")
            if depth == 0 and kind == "string":
                head.append(match.group())
        elif kind == "marker":
            marker = _LINE_MARKER.match(match.group())
            if marker:
                line, current_file = int(marker[1]) - 1, marker[2]
        elif kind == "semi":
            if depth == 0:
                head, head_line = [], None
        elif match.group() == "{":
            if depth == 0:
                found = DEFINITION_HEAD.search("".join(head))
                name = found[1] if found and found[1] not in NOT_FUNCTION_NAMES else ""
                open_at = (name, head_line or line, current_file)
            depth += 1
        elif depth > 0:
            depth -= 1
            if depth == 0 and open_at is not None:
                name, first, file = open_at
                if name and file == filename:
                    spans.append((name, first, line))
                open_at, head, head_line = None, [], None
    return spans


def changed_functions(text: str, filename: str, changed_new_lines: set[int]) -> set[str]:
    """Names of the functions whose line span intersects the changed lines.

    Args:
        text: Raw C source of the new version, or its preprocessed text with line markers.
        filename: The file's name (as in the markers, for preprocessed text).
        changed_new_lines: Line numbers (in the new version) that the change added or modified.

    Returns:
        The function names (empty when no function was touched).
    """
    return {name for name, first, last in function_spans(text, filename)
            if any(first <= line <= last for line in changed_new_lines)}
