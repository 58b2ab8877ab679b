"""Incremental analysis: parse only what the changed functions need, not the whole file.

pycparser spends about 100 microseconds a line, so a 50,000-line file takes seconds to parse
while the function a commit changed is a few dozen lines. A *slice* of the preprocessed text
keeps every top-level declaration (typedefs, structs, enums, globals, prototypes: the context
any function may need) and only the function definitions the analysis can look at:

- the changed functions and, transitively, every function their bodies name (callees are
  walked for their summaries, and a function named as a value may be called through a pointer);
- the functions that may write a ``static`` or ``const`` global a kept function reads and does
  not write itself, because a write anywhere in the unit stops that global from folding to a
  constant (:class:`analysis.c_consts.Constants`);
- the functions that declare an ``enum`` in their body (its constants are unit-wide there too).

Every other definition is blanked: only its newlines and line markers stay (its last line
becomes spaces), so every kept token keeps its original line and column and findings are identical to the
full analysis. Anything unexpected (no definition found for a changed function, a slice that
does not parse) falls back to the full parse.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from pycparser import c_ast

from analysis.c_functions import DEFINITION_HEAD, NOT_FUNCTION_NAMES

_TOKEN = re.compile(
    r'(?P<comment>/\*.*?\*/|//[^\n]*)|(?P<string>"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\')'
    r"|(?P<marker>^[ \t]*#[^\n]*)|(?P<brace>[{}])|(?P<semi>;)",
    re.DOTALL | re.MULTILINE,
)
_STRINGS = re.compile(r'"(?:\\.|[^"\\\n])*"')
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_CALL = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
_ENUM = re.compile(r"\benum\b")
_WRITE = re.compile(r"<<=|>>=|(?<![=!<>])=(?!=)|\+\+|--|&")


@dataclass(frozen=True)
class Definition:
    """One top-level function definition of the preprocessed text."""

    name: str
    """The function's name."""
    start: int
    """Offset of the first character of its declaration head."""
    body: int
    """Offset of its opening brace."""
    end: int
    """Offset just past its closing brace."""


def definitions(text: str) -> list[Definition]:
    """Every top-level function definition of preprocessed text, in order.

    A lexical scan (strings and comments skipped, braces counted): a top-level brace block whose
    head ends in ``name(...)`` is a definition; ``struct s {`` and ``= {`` initialisers are not.

    Args:
        text: Preprocessor output.

    Returns:
        The definitions, with their character spans.
    """
    found: list[Definition] = []
    depth, item_start = 0, 0
    open_at: tuple[str, int, int] | None = None
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind in ("comment", "string"):
            continue
        if kind == "marker":
            # A marker may sit inside a definition's head; blanking keeps markers, so the head
            # starts at the previous ``;`` or ``}`` and the marker goes along with it.
            continue
        if kind == "semi":
            if depth == 0:
                item_start = match.end()
            continue
        if match.group() == "{":
            if depth == 0:
                head = _STRINGS.sub('""', text[item_start:match.start()])
                named = DEFINITION_HEAD.search(head)
                name = named[1] if named and named[1] not in NOT_FUNCTION_NAMES else ""
                open_at = (name, item_start, match.start()) if name else None
            depth += 1
        elif depth > 0:
            depth -= 1
            if depth == 0 and open_at is not None:
                found.append(Definition(*open_at, match.end()))
                item_start, open_at = match.end(), None
    return found



class Slicer:
    """Builds slices of one preprocessed text for a set of changed functions."""

    def __init__(self, text: str) -> None:
        """Scan ``text`` once for its function definitions.

        Args:
            text: Preprocessor output with line markers.
        """
        self.text = text
        """The full preprocessed text."""
        self.definitions = definitions(text)
        """Every function definition, in order."""
        self._starts = [d.start for d in self.definitions]
        self._by_name: dict[str, list[int]] = {}
        for index, definition in enumerate(self.definitions):
            self._by_name.setdefault(definition.name, []).append(index)
        self._identifiers: dict[int, frozenset[str]] = {}
        self._head_calls: set[str] | None = None

    def closure(self, roots: Iterable[str]) -> set[int] | None:
        """Indexes of the definitions of ``roots`` and of every function they name, transitively.

        Returns:
            The indexes, or ``None`` when a root has no definition (the caller falls back).
        """
        pending: list[int] = []
        for root in roots:
            if root not in self._by_name:
                return None
            pending.extend(self._by_name[root])
        kept: set[int] = set()
        while pending:
            index = pending.pop()
            if index in kept:
                continue
            kept.add(index)
            for name in self.identifiers(index) & self._by_name.keys():
                pending.extend(self._by_name[name])
        return None if self._misnamed(kept) else kept

    def _misnamed(self, kept: set[int]) -> bool:
        """Whether a kept function calls a name that some definition's head holds as ``name(``.

        The lexical scan takes the last ``name(...)`` of a head as the function's name; an exotic
        declarator could fool it, and a callee dropped under a wrong name would change the
        results. Such a call is rare, and then the whole text is parsed.
        """
        if self._head_calls is None:
            self._head_calls = {name for d in self.definitions
                                for name in _CALL.findall(self.text, d.start, d.body)}
        called = {name for index in kept for name in _CALL.findall(
            self.text, self.definitions[index].body, self.definitions[index].end)}
        return bool((called - self._by_name.keys()) & self._head_calls)

    def identifiers(self, index: int) -> frozenset[str]:
        """Every identifier in one definition (a superset of the names it uses; cached)."""
        cached = self._identifiers.get(index)
        if cached is None:
            definition = self.definitions[index]
            cached = frozenset(_IDENTIFIER.findall(self.text, definition.start, definition.end))
            self._identifiers[index] = cached
        return cached

    def mentioning(self, names: set[str], kept: set[int]) -> set[int]:
        """Definitions outside ``kept`` that may write one of ``names`` or declare an ``enum``.

        "May write" is lexical and generous: the name sits in a statement (text between ``;``,
        ``{`` and ``}``) that holds an assignment, ``++``, ``--`` or ``&``. Every write the
        analysis counts (:func:`analysis.c_consts.written_names`) has that shape, so leaving the
        other definitions out changes nothing.
        """
        found = {index for index in self._inside(_ENUM) if index not in kept}
        if names:
            pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(names))) + r")\b")
            for index, match in self._inside_matches(pattern):
                if index not in kept and index not in found and self._in_write(match.start(), index):
                    found.add(index)
        return found

    def _inside(self, pattern: re.Pattern[str]) -> set[int]:
        return {index for index, _match in self._inside_matches(pattern)}

    def _inside_matches(self, pattern: re.Pattern[str]) -> Iterable[tuple[int, re.Match[str]]]:
        """Matches of ``pattern`` inside a definition, with the definition's index."""
        for match in pattern.finditer(self.text):
            index = bisect_right(self._starts, match.start()) - 1
            if index >= 0 and match.start() < self.definitions[index].end:
                yield index, match

    def _in_write(self, position: int, index: int) -> bool:
        """Whether the statement around ``position`` could write something."""
        definition = self.definitions[index]
        start = max(self.text.rfind(c, definition.start, position) for c in ";{}") + 1
        ends = [e for e in (self.text.find(c, position, definition.end) for c in ";{}") if e >= 0]
        statement = self.text[start:min(ends, default=definition.end)]
        # A quote means a string may hold a `;` or brace that cut the statement short: keep it.
        return _WRITE.search(statement) is not None or '"' in statement or "'" in statement

    def text_keeping(self, kept: set[int]) -> str:
        """The text with every definition not in ``kept`` blanked (newlines and markers stay)."""
        pieces: list[str] = []
        position = 0
        for index, definition in enumerate(self.definitions):
            if index in kept:
                continue
            pieces.append(self.text[position:definition.start])
            pieces.append(_blank(self.text[definition.start:definition.end]))
            position = definition.end
        pieces.append(self.text[position:])
        return "".join(pieces)


def _blank(region: str) -> str:
    """``region`` emptied but for its newlines and line markers.

    The last line becomes spaces, so code after the closing brace on that line keeps its column.
    """
    lines = region.split("\n")
    kept = [line if line.lstrip().startswith("#") else "" for line in lines[:-1]]
    return "\n".join([*kept, " " * len(lines[-1])])


def folding_globals(ext: Iterable[c_ast.Node]) -> set[str]:
    """Globals whose value :class:`analysis.c_consts.Constants` may fold (static or const).

    Args:
        ext: Top-level nodes of a parsed unit.

    Returns:
        Their names.
    """
    names = set()
    for node in ext:
        if isinstance(node, c_ast.Decl) and node.name and isinstance(node.type, c_ast.TypeDecl):
            storage, quals = node.storage or [], node.type.quals or []
            if "extern" not in storage and ("const" in quals or "static" in storage):
                names.add(node.name)
    return names


def used_names(functions: Iterable[c_ast.FuncDef]) -> set[str]:
    """Every identifier the bodies of ``functions`` use."""
    names: set[str] = set()
    stack: list[c_ast.Node] = [f.body for f in functions if f.body is not None]
    while stack:
        node = stack.pop()
        if isinstance(node, c_ast.ID):
            names.add(node.name)
        stack.extend(child for _, child in node.children())
    return names
