"""Memory- and resource-lifetime analysis of one preprocessed C translation unit.

Entry point: :func:`analyze_preprocessed`. The text must come from a preprocessor run that kept
line markers (``# 26 "worker.c"``), so every coordinate pycparser records is a line of the original
file; :mod:`tui.sources.c_preprocess` produces such text.

Functions are walked callee first over the unit's call graph; each walk yields the function's
findings and its summary (what it does with each parameter, whether it returns a fresh resource,
whether it returns at all), which its callers' walks then use. Calls to functions neither in the
unit nor in the library tables are assumed to keep what they are given, unless the prototype
declares the parameter ``const``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pycparser import c_ast
from pycparser.c_lexer import CLexer
from pycparser.c_parser import ParseError

from analysis.c_consts import Constants, written_names
from analysis.c_ownership import Unit
from analysis.c_paths import FunctionWalker
from analysis.c_prefix import SeededParser, parse_unit
from analysis.c_slice import Slicer, folding_globals, used_names
from analysis.c_summaries import Summary, UnitCallees, bottom_up, const_pointer_params
from analysis.c_uses import Effect, line_of
from analysis.model import AnalysisResult, Diagnostic, LeakFinding

_PARSE_ERROR = re.compile(r"^(?P<file>.*?):(?P<line>\d+)(?::\d+)?: (?P<message>.*)$", re.DOTALL)
_PARSER: list[SeededParser] = []


def parse(text: str, filename: str) -> c_ast.FileAST:
    """Parse preprocessed text with a cached parser (building one is the slow part).

    Args:
        text: Preprocessor output.
        filename: Name for coordinates without a line marker.

    Returns:
        The syntax tree.

    Raises:
        ParseError: The text is not C that pycparser accepts.
        RecursionError: Blocks or expressions nest deeper than Python's stack allows (about 140
            levels); :func:`analyze_preprocessed` reports both as a diagnostic.
    """
    parser = _parser()
    parser.seed = {}
    return parser.parse(text, filename)


def _parser() -> SeededParser:
    if not _PARSER:
        _PARSER.append(SeededParser())
    return _PARSER[0]


def _parse_unit(text: str, filename: str) -> tuple[c_ast.FileAST, str]:
    """Parse with the header prefix cached (:mod:`analysis.c_prefix`).

    Returns:
        The tree, and the text the parser actually read (the brace geometry needs only that).
    """
    ast, start = parse_unit(_parser(), text, filename)
    return ast, text[start:]


def analyze_preprocessed(text: str, filename: str, *, only_functions: set[str] | None = None,
                         incremental: bool = True) -> AnalysisResult:
    """Find leaks, double frees, uses after free and unclosed resources in ``filename``.

    Args:
        text: Preprocessor output with line markers.
        filename: The file name the markers use for the main file; only functions whose body is
            in that file are reported (headers are context, not subjects).
        only_functions: When given, walk only these functions and what they call (callees are
            summarised, not reported): the diff-scoped mode for large files. Only the slice of
            the text these functions need is parsed (:mod:`analysis.c_slice`), with the same
            findings as parsing it all; the whole text is parsed when slicing fails.
        incremental: False parses the whole text even with ``only_functions`` (for comparisons).

    Returns:
        Findings sorted by line, or a diagnostic when the text does not parse.
    """
    if only_functions and incremental:
        sliced = _analyze_slice(text, filename, only_functions)
        if sliced is not None:
            return sliced
    try:
        ast, read = _parse_unit(text, filename)
    except ParseError as error:
        return AnalysisResult(diagnostics=(_located(parse_error_diagnostic(str(error), filename)),))
    except RecursionError:
        return AnalysisResult(diagnostics=(
            Diagnostic(filename, None, "cannot parse: expressions nested too deeply"),))
    return _findings(ast, read, filename, only_functions)


def _findings(ast: c_ast.FileAST, text: str, filename: str,
              only_functions: set[str] | None) -> AnalysisResult:
    """Walk a parsed unit (``text``: what the parser read, for brace positions); sorted findings."""
    findings = list(walk_unit(ast.ext or [], filename, _Geometry(text, filename).end_line,
                              only_functions))
    findings.sort(key=lambda f: (f.line, f.function, f.variable, f.kind.value))
    return AnalysisResult(findings=tuple(findings))


def _located(diagnostic: Diagnostic) -> Diagnostic:
    """Add the lexer's position to a parse error that carries none."""
    if diagnostic.line is None and _PARSER:
        lexer = _PARSER[0].clex
        line, file = getattr(lexer, "_lineno", None), getattr(lexer, "_filename", None)
        if isinstance(line, int) and line > 0:
            return Diagnostic(file or diagnostic.file, line,
                              diagnostic.message + " (at or just before this line)")
    return diagnostic


def _analyze_slice(text: str, filename: str, only_functions: set[str]) -> AnalysisResult | None:
    """The incremental mode (see :mod:`analysis.c_slice`); ``None`` means "parse everything".

    The first parse holds the changed functions and their callees; when they read a global that
    folds to a constant, the functions that mention it join and the slice is parsed once more.
    """
    slicer = Slicer(text)
    kept = slicer.closure(only_functions)
    if kept is None:
        return None
    try:
        ast, read = _parse_unit(slicer.text_keeping(kept), filename)
        walked = [node for node in ast.ext or [] if isinstance(node, c_ast.FuncDef)]
        # A global the kept functions already write is not constant whatever the others do.
        unsettled = (folding_globals(ast.ext or []) & used_names(walked)) - written_names(walked)
        context = slicer.mentioning(unsettled, kept)
        if context:
            ast, read = _parse_unit(slicer.text_keeping(kept | context), filename)
    except (ParseError, RecursionError):
        return None  # the full parse reports the error at its real position
    return _findings(ast, read, filename, only_functions)


def walk_unit(ext: Iterable[c_ast.Node], filename: str, end_line=line_of,  # type: ignore[no-untyped-def]
              only_functions: set[str] | None = None,
              summaries: dict[str, Summary] | None = None) -> list[LeakFinding]:
    """Walk a unit's functions bottom-up; return the findings of the main file's functions.

    Args:
        ext: Top-level nodes of the parsed unit.
        filename: Main file name.
        end_line: Last source line of a statement.
        only_functions: Restrict the walk (see :func:`analyze_preprocessed`).
        summaries: Filled with every function's summary when given.

    Returns:
        The findings, in walk order.
    """
    ext = list(ext)
    functions = {node.decl.name: node for node in ext if isinstance(node, c_ast.FuncDef)}
    callees = UnitCallees(const_params=const_pointer_params(ext), defined=frozenset(functions))
    if summaries is not None:
        callees.summaries = summaries
    unit = Unit(filename, callees, Constants(ext), end_line, _struct_typedefs(ext))
    findings: list[LeakFinding] = []
    for name in bottom_up(functions, only_functions):
        func = functions[name]
        found, summary = FunctionWalker(func, unit).run()
        callees.summaries[name] = summary
        if func.coord is not None and func.coord.file == filename and (
                only_functions is None or name in only_functions):
            findings.extend(found)
    return findings


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
    """Which parameters each function only borrows (never frees, stores, returns or passes on).

    Args:
        functions: Every function definition of the translation unit.

    Returns:
        Pairs ``(function name, parameter index)``.
    """
    summaries: dict[str, Summary] = {}
    walk_unit(functions, "", summaries=summaries)
    return frozenset((name, index) for name, summary in summaries.items()
                     for index, effect in enumerate(summary.params) if effect is Effect.BORROW)


def _struct_typedefs(ext: list[c_ast.Node]) -> frozenset[str]:
    names = set()
    for node in ext:
        if (isinstance(node, c_ast.Typedef) and isinstance(node.type, c_ast.TypeDecl)
                and isinstance(node.type.type, c_ast.Struct)):
            names.add(node.name)
    return frozenset(names)


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
