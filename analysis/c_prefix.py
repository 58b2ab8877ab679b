"""Parse the headers a file includes once, not once per file.

Preprocessed C starts with the declarations of every header it includes (pycparser-fake-libc's
``stdio.h``, ``stdlib.h`` and friends are a few hundred of them), and for a small file parsing
those costs more than parsing the file itself. Files that include the same headers in the same
way produce the same *prefix*, up to the line marker where the text returns to the main file.

:func:`parse_unit` parses such a prefix once, remembers its top-level nodes and the names it
declared (typedef names change how the rest is parsed), and parses only the remainder of later
texts, with those names in scope. The remainder starts with a line marker, so every coordinate is
what a parse of the whole text gives; the nodes are the same nodes. Any surprise (no prefix, a
prefix that does not parse on its own) parses the whole text.
"""

from __future__ import annotations

import re
from collections import OrderedDict

from pycparser import c_ast
from pycparser.c_parser import CParser

_MARKER = re.compile(r'^[ \t]*#[ \t]*(?:line[ \t]+)?\d+[ \t]+"((?:\\.|[^"\\])*)"[^\n]*$', re.MULTILINE)
_CACHE_SIZE = 8
_PREFIXES: OrderedDict[str, tuple[tuple[c_ast.Node, ...], dict[str, bool]]] = OrderedDict()


class SeededParser(CParser):
    """A pycparser parser whose file scope can start with names already declared.

    ``CParser.parse`` resets its scope stack to one empty scope; a property turns that reset
    into "one scope holding :attr:`seed`", which is the only change needed.
    """

    seed: dict[str, bool] = {}  # noqa: RUF012 - replaced per parse, never mutated
    """Names declared before the text starts: True for typedef names, False for others."""

    @property  # type: ignore[override]
    def _scope_stack(self) -> list[dict[str, bool]]:
        return self.__stack

    @_scope_stack.setter
    def _scope_stack(self, value: list[dict[str, bool]]) -> None:
        if len(value) == 1 and not value[0]:
            value = [dict(self.seed)]
        self.__stack = value

    def file_scope(self) -> dict[str, bool]:
        """The names the last parse declared at file scope."""
        return dict(self.__stack[0])


def prefix_end(text: str, filename: str) -> int | None:
    """Where the included headers end: the last main-file line marker before main-file code.

    Args:
        text: Preprocessor output with line markers.
        filename: The main file's name as the markers spell it.

    Returns:
        The offset of that marker line, or None when no header precedes the main file's code.
    """
    split: int | None = None
    current, position = filename, 0
    for marker in _MARKER.finditer(text):
        if current == filename and text[position:marker.start()].strip():
            break  # main-file code before this marker: the prefix ends before it
        current = marker[1]
        if current == filename:
            split = marker.start()
        position = marker.end()
    # Only a split with some header text before it saves anything.
    return split if split and _MARKER.search(text, 0, split) and _has_header(text, split, filename) else None


def _has_header(text: str, split: int, filename: str) -> bool:
    """Whether any marker before ``split`` names another file than the main one (or cpp's own)."""
    return any(m[1] not in (filename, "<built-in>", "<command-line>")
               for m in _MARKER.finditer(text, 0, split))


def parse_unit(parser: SeededParser, text: str, filename: str) -> tuple[c_ast.FileAST, int]:
    """Parse ``text``, reusing the parse of its header prefix when one is cached.

    Args:
        parser: The parser to use (its seed is set and reset here).
        text: Preprocessor output with line markers.
        filename: Name for coordinates without a line marker.

    Returns:
        The syntax tree, and the offset where the freshly parsed text starts (0 when the whole
        text was parsed): tokens before it were parsed earlier.

    Raises:
        ParseError: The text (or its remainder) is not C that pycparser accepts.
    """
    split = prefix_end(text, filename)
    if split is None:
        return _plain(parser, text, filename), 0
    prefix = text[:split]
    cached = _PREFIXES.get(prefix)
    if cached is None:
        try:
            head = _plain(parser, prefix, filename)
        except Exception:  # noqa: BLE001 - a prefix that is not whole declarations: parse it all
            return _plain(parser, text, filename), 0
        cached = (tuple(head.ext or ()), parser.file_scope())
        _PREFIXES[prefix] = cached
        if len(_PREFIXES) > _CACHE_SIZE:
            _PREFIXES.popitem(last=False)
    else:
        _PREFIXES.move_to_end(prefix)
    nodes, scope = cached
    parser.seed = scope
    try:
        rest = parser.parse(text[split:], filename)
    finally:
        parser.seed = {}
    return c_ast.FileAST([*nodes, *(rest.ext or ())], rest.coord), split


def _plain(parser: SeededParser, text: str, filename: str) -> c_ast.FileAST:
    parser.seed = {}
    return parser.parse(text, filename)
