"""Memory-leak analysis of one preprocessed C translation unit.

Entry point: :func:`analyze_preprocessed`. The text must come from a preprocessor run that kept
line markers (``# 26 "worker.c"``), so every coordinate pycparser records is a line of the original
file; :mod:`tui.sources.c_preprocess` produces such text.

The analysis is intraprocedural with one interprocedural step: a per-function summary of which
parameters a function defined in the same translation unit only *borrows* (never frees, stores,
returns or passes on to something that might). Passing a block to such a function keeps ownership
with the caller; passing it to anything unknown is assumed to hand it over, and nothing is reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pycparser import c_ast
from pycparser.c_lexer import CLexer
from pycparser.c_parser import CParser, ParseError

from analysis.c_paths import FunctionWalker
from analysis.c_uses import (
    Assign,
    Borrows,
    Ctx,
    Event,
    Use,
    UseKind,
    assign_events,
    expr_events,
    line_of,
)
from analysis.model import AnalysisResult, Diagnostic, LeakFinding

_PARSE_ERROR = re.compile(r"^(?P<file>.*?):(?P<line>\d+)(?::\d+)?: (?P<message>.*)$", re.DOTALL)


def analyze_preprocessed(text: str, filename: str) -> AnalysisResult:
    """Find leaks in the functions of ``filename`` within a preprocessed translation unit.

    Args:
        text: Preprocessor output with line markers.
        filename: The file name the markers use for the main file; only functions whose body is
            in that file are reported (headers are context, not subjects).

    Returns:
        Findings sorted by line, or a diagnostic when the text does not parse.
    """
    try:
        ast = CParser().parse(text, filename)
    except ParseError as error:
        return AnalysisResult(diagnostics=(parse_error_diagnostic(str(error), filename),))
    except RecursionError:
        return AnalysisResult(diagnostics=(
            Diagnostic(filename, None, "cannot parse: expressions nested too deeply"),))
    functions = [node for node in ast.ext or [] if isinstance(node, c_ast.FuncDef)]
    borrowed = borrowing_params(functions)

    def borrows(callee: str, index: int) -> bool:
        return (callee, index) in borrowed

    geometry = _Geometry(text, filename)
    findings: list[LeakFinding] = []
    for func in functions:
        if func.coord is None or func.coord.file != filename:
            continue
        findings.extend(FunctionWalker(func, filename, borrows, geometry.end_line).run())
    findings.sort(key=lambda f: (f.line, f.function, f.variable))
    return AnalysisResult(findings=tuple(findings))


def parse_error_diagnostic(message: str, filename: str) -> Diagnostic:
    """Turn pycparser's ``file:line:col: message`` into a :class:`Diagnostic`.

    Args:
        message: ``str()`` of the ParseError.
        filename: File to blame when the message names none.

    Returns:
        The diagnostic, with the line when the message has one.
    """
    match = _PARSE_ERROR.match(message)
    if match is None:
        file, _, rest = message.partition(": ")
        return Diagnostic(file or filename, None, f"syntax error: {rest or message}")
    return Diagnostic(match["file"] or filename, int(match["line"]),
                      f"syntax error: {match['message']}")


def borrowing_params(functions: list[c_ast.FuncDef]) -> frozenset[tuple[str, int]]:
    """Which parameters each defined function only borrows.

    A parameter is borrowed when the body never frees it, assigns it, stores it, returns it or
    passes it to a function that is not itself known to borrow it. The facts are grown from
    nothing to a fixpoint, so recursion that passes the pointer around counts as *not* borrowing:
    the safe side for a leak checker.

    Args:
        functions: Every function definition of the translation unit.

    Returns:
        Pairs ``(function name, parameter index)``.
    """
    facts: set[tuple[str, int]] = set()

    def borrows(callee: str, index: int) -> bool:
        return (callee, index) in facts

    for _ in range(len(functions) + 1):
        changed = False
        for func in functions:
            for index, name in enumerate(_param_names(func)):
                if name is None or (func.decl.name, index) in facts:
                    continue
                try:
                    ok = all(_harmless(event, name) for event in _stmt_events(func.body, borrows))
                except RecursionError:
                    ok = False
                if ok:
                    facts.add((func.decl.name, index))
                    changed = True
        if not changed:
            break
    return frozenset(facts)


def _param_names(func: c_ast.FuncDef) -> list[str | None]:
    args = getattr(func.decl.type, "args", None)
    return [p.name if isinstance(p, c_ast.Decl) else None for p in getattr(args, "params", None) or []]


def _harmless(event: Event, name: str) -> bool:
    if isinstance(event, Use) and event.name == name:
        return event.kind in (UseKind.BORROW, UseKind.COND)
    if isinstance(event, Assign) and event.name == name:
        return False  # reassigned (or shadowed): we cannot follow it any more
    return True


def _stmt_events(node: c_ast.Node | None, borrows: Borrows) -> Iterator[Event]:
    """Every ownership event in a statement, ignoring control flow (for summaries)."""
    if node is None:
        return
    if isinstance(node, c_ast.Compound):
        for item in node.block_items or []:
            yield from _stmt_events(item, borrows)
    elif isinstance(node, c_ast.DeclList):
        for decl in node.decls or []:
            yield from _stmt_events(decl, borrows)
    elif isinstance(node, c_ast.Decl):
        if isinstance(node.init, c_ast.InitList):
            yield from expr_events(node.init, Ctx.VALUE, borrows)
        elif node.init is not None and node.name:
            yield from assign_events(node.name, node.init, line_of(node), borrows)
        elif node.name:
            yield Assign(node.name, line_of(node), None, False)  # a shadowing declaration
    elif isinstance(node, c_ast.If):
        yield from expr_events(node.cond, Ctx.COND, borrows)
        yield from _stmt_events(node.iftrue, borrows)
        yield from _stmt_events(node.iffalse, borrows)
    elif isinstance(node, c_ast.While | c_ast.DoWhile):
        yield from expr_events(node.cond, Ctx.COND, borrows)
        yield from _stmt_events(node.stmt, borrows)
    elif isinstance(node, c_ast.For):
        yield from _stmt_events(node.init, borrows)
        yield from expr_events(node.cond, Ctx.COND, borrows)
        yield from expr_events(node.next, Ctx.BORROW, borrows)
        yield from _stmt_events(node.stmt, borrows)
    elif isinstance(node, c_ast.Switch):
        yield from expr_events(node.cond, Ctx.BORROW, borrows)
        yield from _stmt_events(node.stmt, borrows)
    elif isinstance(node, c_ast.Case | c_ast.Default):
        for stmt in node.stmts or []:
            yield from _stmt_events(stmt, borrows)
    elif isinstance(node, c_ast.Label | c_ast.AttributedStatement):
        yield from _stmt_events(node.stmt, borrows)
    elif isinstance(node, c_ast.Return):
        yield from expr_events(node.expr, Ctx.VALUE, borrows)
    elif not isinstance(node, c_ast.Goto | c_ast.Break | c_ast.Continue | c_ast.EmptyStatement
                        | c_ast.Typedef | c_ast.Pragma | c_ast.StaticAssert):
        yield from expr_events(node, Ctx.BORROW, borrows)


class _Geometry:
    """Where statements end: pycparser records where nodes start, not where blocks close."""

    def __init__(self, text: str, filename: str) -> None:
        self._rbrace: dict[tuple[str, int, int], int] = {}
        self._memo: dict[int, int] = {}
        lexer = CLexer(error_func=lambda _message, _line, _column: None)
        lexer.input(text, filename)
        open_braces: list[tuple[str, int, int]] = []
        while (token := lexer.token()) is not None:
            if token.type == "LBRACE":
                open_braces.append((token.filename, token.lineno, token.column))
            elif token.type == "RBRACE" and open_braces:
                self._rbrace[open_braces.pop()] = token.lineno

    def end_line(self, node: c_ast.Node) -> int:
        """Last source line of ``node``: the closing brace for a block.

        Args:
            node: A statement or block.

        Returns:
            The line (the start line when nothing better is known).
        """
        cached = self._memo.get(id(node))
        if cached is not None:
            return cached
        end = line_of(node)
        coord = node.coord
        if isinstance(node, c_ast.Compound) and coord is not None:
            brace = self._rbrace.get((coord.file, coord.line, coord.column))
            if brace is not None:
                self._memo[id(node)] = brace
                return brace
        for _, child in node.children():
            end = max(end, self.end_line(child))
        self._memo[id(node)] = end
        return end
