"""Show a C function with analysis findings marked on its lines, for the report and the panes.

Text processing only: the definition is found by name and its end by brace matching over the
code part of each line (comments and string literals blanked), which is enough for the
functions an analysis finding points at.
"""

from __future__ import annotations

import re

from analysis.diffs import strip_c_noise
from analysis.model import FindingKind, LeakFinding

MAX_EXCERPT_LINES = 40
"""Longer functions are cut to the lines around the finding."""


def function_span(source: str, function: str) -> tuple[int, int] | None:
    """1-based first and last line of a C function definition, by brace matching.

    Args:
        source: The file's text.
        function: The function's name.

    Returns:
        ``(first, last)`` or ``None`` when no definition is found.
    """
    lines = source.splitlines()
    header = re.compile(rf"^[A-Za-z_].*\b{re.escape(function)}\s*\(")
    for index, line in enumerate(lines):
        if not header.match(line) or strip_c_noise(line).rstrip().endswith(";"):
            continue
        depth, opened = 0, False
        for end in range(index, len(lines)):
            code = strip_c_noise(lines[end])
            if not opened and ";" in code and "{" not in code:
                break  # a prototype spread over lines
            depth += code.count("{") - code.count("}")
            opened = opened or "{" in code
            if opened and depth <= 0:
                return index + 1, end + 1
    return None


def excerpt_lines(source: str, finding: LeakFinding) -> list[str]:
    """The finding's function with its lines marked, ready for a ``c`` code block.

    The allocation, the lost reference and the loop get a trailing ``// Line N: ...`` comment;
    where the analysis says a ``free`` is missing, a ``// MISSING: free(var);`` line is shown.

    Args:
        source: The file's text.
        finding: The finding to show.

    Returns:
        The lines; empty when the finding's lines are not in ``source``.
    """
    lines = source.splitlines()
    marks: dict[int, str] = {}
    leak = finding.kind in (FindingKind.LEAK, FindingKind.LEAK_IN_LOOP)
    if finding.loop_line:
        marks[finding.loop_line] = "loop repeats the allocation"
    if finding.lost_line and finding.lost_line != finding.alloc_line:
        marks[finding.lost_line] = f"last reference to {finding.variable} lost"
    alloc_note = f"{finding.variable} allocated, never freed" if leak else finding.kind.value
    marks[finding.alloc_line] = f"{alloc_note} ({finding.kind.value})" if leak else alloc_note
    if finding.line not in marks:
        marks[finding.line] = finding.kind.value
    if not all(1 <= n <= len(lines) for n in marks):
        return []
    span = function_span(source, finding.function) or (min(marks), max(marks))
    first, last = span
    points = list(marks) + ([finding.fix_line] if finding.fix_line else [])
    if last - first + 1 > MAX_EXCERPT_LINES:
        first = max(first, min(points) - 5)
        last = min(last, max(points) + 5)
    out: list[str] = [] if first == span[0] else ["// ..."]
    for number in range(first, last + 1):
        text = lines[number - 1]
        out.append(f"{text}  // Line {number}: {marks[number]}" if number in marks else text)
        if leak and finding.fix_line == number:
            indent = text[: len(text) - len(text.lstrip())]
            if text.rstrip().endswith("{"):
                indent += "    "
            out.append(f"{indent}// MISSING: free({finding.variable});  <- should be here")
    if last != span[1]:
        out.append("// ...")
    return out
