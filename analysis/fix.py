"""Synthesising the minimal patch for a leak finding: one release line (``free(var);``,
``fclose(f);``, ``close(fd);``).

Pure: the caller passes ``reanalyze`` (preprocess + parse + analyse, which does I/O), and a
compiler check is added later by :func:`tui.sources.c_compile.verify_fix`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable

from analysis.model import AnalysisResult, FindingKind, Fix, LeakFinding

_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)?$")
_RELEASES = frozenset({"free", "fclose", "pclose", "close"})
_JUMP = re.compile(r"^(return|break|continue|goto)\b")
_NO_NEWLINE = "\\ No newline at end of file\n"


def synthesize_fix(source: str, path: str, finding: LeakFinding,
                   reanalyze: Callable[[str], AnalysisResult]) -> Fix | None:
    """Insert the release call (``free``, ``fclose``, ``close``) after ``fix_line`` and check it.

    Args:
        source: The C file's text.
        path: Repository path of the file, used in the diff headers (``a/<path>``, ``b/<path>``).
        finding: A ``leak``, ``leak-in-loop`` or ``resource-leak`` finding with a ``fix_line``.
        reanalyze: Analyses a patched text of the same file.

    Returns:
        The fix, with ``verified_by_analysis`` True only when re-analysis reports nothing left for
        that variable in that function; ``None`` when no safe single-line insertion exists.
    """
    if finding.kind not in (FindingKind.LEAK, FindingKind.LEAK_IN_LOOP, FindingKind.RESOURCE_LEAK):
        return None
    release = finding.release if finding.release in _RELEASES else "free"
    call = f"{release}({finding.variable});"
    if finding.fix_line is None or not _IDENTIFIER.match(finding.variable):
        return None
    lines = source.splitlines(keepends=True)
    index = finding.fix_line - 1
    if not 0 <= index < len(lines):
        return None
    indent = _insertion_indent(lines, index)
    if indent is None:
        return None
    newline = _newline_of(lines)
    anchor = lines[index]
    if not anchor.endswith(("\n", "\r")):
        anchor += newline  # the anchor was the last line, without a final newline
    patched_lines = [*lines[:index], anchor, f"{indent}{call}{newline}",
                     *lines[index + 1:]]
    patched = "".join(patched_lines)
    diff = unified_diff(source, patched, path)
    remaining, notes = _reanalysis(patched, finding, reanalyze)
    where = ("its last use in the loop body" if finding.kind is FindingKind.LEAK_IN_LOOP
             else f"before it is lost at line {finding.lost_line}")
    return Fix(
        file=path,
        function=finding.function,
        description=f"insert {call} after line {finding.fix_line}, {where}",
        original=source,
        patched=patched,
        diff=diff,
        lines_added=1,
        verified_by_analysis=not remaining,
        compiled=None,
        verification_notes=notes,
    )


def unified_diff(original: str, patched: str, path: str) -> str:
    """A ``git apply``-able unified diff between two versions of one file.

    Args:
        original: Text before.
        patched: Text after.
        path: Repository path, used as ``a/<path>`` and ``b/<path>``.

    Returns:
        The diff, empty when the texts are equal.
    """
    out: list[str] = []
    for line in difflib.unified_diff(original.splitlines(keepends=True),
                                     patched.splitlines(keepends=True),
                                     fromfile=f"a/{path}", tofile=f"b/{path}"):
        if line.endswith("\n"):
            out.append(line)
        else:
            # difflib leaves a final line without newline as is; git needs the marker.
            out.extend((line + "\n", _NO_NEWLINE))
    return "".join(out)


def _insertion_indent(lines: list[str], index: int) -> str | None:
    """Indentation for a line inserted after ``lines[index]``, or None when that is unsafe."""
    code = _code_of(lines[index])
    stripped = code.strip()
    if not stripped or stripped.startswith("#"):
        return None
    if stripped.endswith("{"):
        # Opening a block: take the indentation of the block's first line.
        for following in lines[index + 1:]:
            if _code_of(following).strip():
                if _code_of(following).strip().startswith("}"):
                    return None
                return _leading_space(following)
        return None
    if not stripped.endswith((";", "}")) or _JUMP.match(stripped):
        return None  # mid-statement, or after a jump (the free would be dead code)
    if not stripped.startswith("{") and _is_unbraced_body(lines, index):
        return None  # `if (x)\n    use(p);`: the free would silently leave the if
    return _leading_space(lines[index])


def _is_unbraced_body(lines: list[str], index: int) -> bool:
    """True when the statement starting on ``lines[index]`` is the body of a brace-less if/loop."""
    start = index
    # Walk back to the first line of a multi-line statement (previous line not ending it).
    while start > 0:
        previous = _code_of(lines[start - 1]).strip()
        if not previous:
            start -= 1
            continue
        if previous.endswith((";", "{", "}")) or previous.startswith("#"):
            return False
        if previous.endswith(")") or re.search(r"\b(else|do)$", previous):
            # `if (...)`, `for (...)`, `else`: the statement belongs to it. A multi-line call's
            # earlier line ends with `(` or `,`, not with `)`.
            return True
        start -= 1
    return False


def _code_of(line: str) -> str:
    """The line without a trailing ``//`` or one-line ``/* */`` comment (strings are rare here)."""
    line = re.sub(r"/\*.*?\*/", "", line)
    return line.split("//", 1)[0].rstrip("\r\n")


def _leading_space(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _newline_of(lines: list[str]) -> str:
    for line in lines:
        if line.endswith("\r\n"):
            return "\r\n"
        if line.endswith("\n"):
            return "\n"
    return "\n"


def _reanalysis(patched: str, finding: LeakFinding,
                reanalyze: Callable[[str], AnalysisResult]) -> tuple[list[LeakFinding], tuple[str, ...]]:
    """Findings left for the same variable and function in the patched text, and notes."""
    result = reanalyze(patched)
    if result.diagnostics:
        first = result.diagnostics[0]
        return [finding], (f"re-analysis failed: {first.message}",)
    remaining = [f for f in result.findings
                 if f.function == finding.function and f.variable == finding.variable]
    if remaining:
        return remaining, tuple(f"re-analysis still reports {f.kind.value} at line {f.line}: "
                                f"{f.message}" for f in remaining)
    return [], (f"re-analysis: no finding left for {finding.variable} in {finding.function}()",)
