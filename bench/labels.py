"""Read the labelled corpus: each file's category and every function's expected findings.

A corpus file starts with ``/* CATEGORY: name`` and puts ``/* EXPECT: kind[, kind...] */`` (or
``/* EXPECT: none */``) on the line right before every function definition. Function definitions
are found with a deliberately simple, line-based finder (a header at column 0 that ends in ``{``,
or is followed by a line holding only ``{``); the body's extent comes from brace matching that
skips comments, strings and character literals. The corpus is written to that convention, and
``tests/test_bench_corpus.py`` keeps it so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

KINDS = ("leak", "double-free", "use-after-free", "resource-leak")
"""The finding kinds the benchmark scores (incident-tui's ``leak-in-loop`` counts as ``leak``)."""

FILE_SCOPE = "<file-scope>"
"""The function name given to a finding whose line is outside every function."""

CATEGORY_RE = re.compile(r"/\*\s*CATEGORY:\s*([a-z][a-z-]*)")
LABEL_RE = re.compile(r"/\*\s*EXPECT:\s*([^*]*?)\s*\*/")
HEADER_RE = re.compile(r"^[A-Za-z_][\w \t*]*?\b([A-Za-z_]\w*)\s*\([^;{}]*\)\s*(\{)?\s*$")
NOT_A_FUNCTION = frozenset({"if", "for", "while", "switch", "return", "sizeof", "typedef"})


class LabelError(ValueError):
    """A corpus file breaks the labelling convention."""


@dataclass(frozen=True)
class Function:
    """One function definition and the findings it is labelled with."""

    name: str
    """The function's name."""
    start: int
    """1-based line of the definition's header."""
    end: int
    """1-based line of the body's closing brace."""
    expected: frozenset[str]
    """Labelled kinds; empty for ``EXPECT: none``."""
    labels: int
    """How many EXPECT comments sit right before the header (exactly 1 when well labelled)."""


@dataclass(frozen=True)
class CorpusFile:
    """A parsed corpus file."""

    path: Path
    """Where the file is."""
    category: str | None
    """The ``CATEGORY`` from the header comment."""
    functions: tuple[Function, ...]
    """Every function definition, in source order."""
    label_count: int
    """All EXPECT comments in the file (orphans included)."""

    @property
    def leaky(self) -> bool:
        """True when at least one function is labelled with a finding."""
        return any(f.expected for f in self.functions)

    def function_at(self, line: int) -> str:
        """The name of the function whose definition spans ``line``, or :data:`FILE_SCOPE`."""
        for function in self.functions:
            if function.start <= line <= function.end:
                return function.name
        return FILE_SCOPE

    def names(self) -> set[str]:
        """The names of the functions defined in this file."""
        return {f.name for f in self.functions}


def parse_label(text: str) -> frozenset[str]:
    """Turn the inside of an EXPECT comment into a set of kinds.

    Raises:
        LabelError: when a kind is unknown or ``none`` is mixed with kinds.
    """
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if parts == ["none"]:
        return frozenset()
    kinds = {"leak" if p == "leak-in-loop" else p for p in parts}
    unknown = kinds - set(KINDS)
    if not parts or unknown:
        raise LabelError(f"bad EXPECT label {text!r}")
    return frozenset(kinds)


def _body_end(lines: list[str], open_line: int) -> int:
    """Return the 0-based line holding the brace that closes the body opened on ``open_line``."""
    depth = 0
    in_block_comment = False
    for index in range(open_line, len(lines)):
        line = lines[index]
        i = 0
        while i < len(line):
            two = line[i : i + 2]
            if in_block_comment:
                if two == "*/":
                    in_block_comment = False
                    i += 1
            elif two == "/*":
                in_block_comment = True
                i += 1
            elif two == "//":
                break
            elif line[i] in "\"'":
                quote, i = line[i], i + 1
                while i < len(line) and line[i] != quote:
                    i += 2 if line[i] == "\\" else 1
            elif line[i] == "{":
                depth += 1
            elif line[i] == "}":
                depth -= 1
                if depth == 0:
                    return index
            i += 1
    raise LabelError(f"unbalanced braces from line {open_line + 1}")


def parse_corpus_file(path: Path) -> CorpusFile:
    """Read one corpus file's category, functions and labels.

    Raises:
        LabelError: when a label is malformed or a body's braces do not balance.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    text = "\n".join(lines)
    category = CATEGORY_RE.search(text)
    functions: list[Function] = []
    index = 0
    while index < len(lines):
        match = HEADER_RE.match(lines[index])
        next_is_brace = index + 1 < len(lines) and lines[index + 1].strip() == "{"
        if not match or match.group(1) in NOT_A_FUNCTION or not (match.group(2) or next_is_brace):
            index += 1
            continue
        open_line = index if match.group(2) else index + 1
        end = _body_end(lines, open_line)
        label_matches = LABEL_RE.findall(lines[index - 1]) if index > 0 else []
        expected = parse_label(label_matches[0]) if len(label_matches) == 1 else frozenset()
        functions.append(
            Function(match.group(1), index + 1, end + 1, expected, len(label_matches))
        )
        index = end + 1
    return CorpusFile(
        path=path,
        category=category.group(1) if category else None,
        functions=tuple(functions),
        label_count=len(LABEL_RE.findall(text)),
    )


def load_corpus(directory: Path) -> list[CorpusFile]:
    """Parse every ``*.c`` file under ``directory``, sorted by name."""
    return [parse_corpus_file(p) for p in sorted(directory.glob("*.c"))]


def readme_categories(readme: Path) -> list[str]:
    """The category names listed in the corpus README's table (first column, in backticks)."""
    found = re.findall(r"^\|\s*`([a-z][a-z-]*)`\s*\|", readme.read_text(encoding="utf-8"), re.MULTILINE)
    return list(dict.fromkeys(found))
