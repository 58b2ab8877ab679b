"""The incremental mode parses a slice of the file yet finds exactly what the full parse finds.

For every function of every corpus file, and for the changed function of the benchmark's
50,000-line file, ``analyze_preprocessed(..., only_functions={f})`` is compared with the same call
parsing the whole text. Nothing here is timed (bench/perf_analysis.py measures).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import c_leaks
from analysis.c_functions import function_spans
from analysis.c_leaks import analyze_preprocessed, parse
from analysis.c_prefix import SeededParser, parse_unit, prefix_end
from analysis.c_slice import Slicer, definitions
from bench.perf_corpus import CULPRIT_FUNCTION, large_c_file
from tui.sources.c_preprocess import preprocess

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted((ROOT / "bench" / "corpus").glob("*.c"))
FIXTURES = sorted((ROOT / "tests" / "c_fixtures").glob("*.c"))


def _both(text: str, name: str, functions: set[str]) -> tuple[object, object]:
    """(incremental, full) results for ``functions``."""
    return (analyze_preprocessed(text, name, only_functions=functions),
            analyze_preprocessed(text, name, only_functions=functions, incremental=False))


def _dump(node: object) -> list[tuple[object, ...]]:
    """Every node of a tree with its attributes and coordinates, in order."""
    out: list[tuple[object, ...]] = []
    stack = [node]
    while stack:
        current = stack.pop()
        attrs = tuple(getattr(current, name) for name in current.attr_names)  # type: ignore[attr-defined]
        out.append((type(current).__name__, attrs, str(current.coord)))  # type: ignore[attr-defined]
        stack.extend(child for _, child in reversed(current.children()))  # type: ignore[attr-defined]
    return out


@pytest.mark.parametrize("path", CORPUS[::5] + FIXTURES[::3], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_cached_header_prefix_gives_the_tree_a_whole_parse_gives(path: Path) -> None:
    # GIVEN a corpus file (its headers are parsed on their own, then the rest with their names)
    text = preprocess(path.read_text(encoding="utf-8"), path.name)
    parser = SeededParser()
    # WHEN it is parsed through the prefix cache, twice (a miss, then a hit), and whole
    parse_unit(parser, text, path.name)
    cached, _start = parse_unit(parser, text, path.name)
    whole = parse(text, path.name)
    # THEN both trees hold the same nodes, attributes and coordinates
    assert _dump(cached) == _dump(whole)


def test_the_prefix_ends_where_the_main_file_s_code_starts() -> None:
    # GIVEN a file with two includes, then code, then a third include
    text = preprocess("#include <stdio.h>\n#include <stdlib.h>\nint x;\n#include <string.h>\nint y;\n", "p.c")
    # WHEN the prefix is found
    end = prefix_end(text, "p.c")
    # THEN it stops at the marker returning to p.c just before `int x;`, before string.h
    assert end is not None
    assert text[end:].startswith("#") and '"p.c"' in text[end:].split("\n", 1)[0]
    assert "int x;" not in text[:end] and "int x;" in text[end:]
    assert prefix_end("int x;\n", "p.c") is None


@pytest.mark.parametrize("path", CORPUS + FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_function_alone_has_the_same_findings_sliced_and_whole(path: Path) -> None:
    # GIVEN a corpus file, preprocessed
    source = path.read_text(encoding="utf-8")
    text = preprocess(source, path.name)
    names = {name for name, _first, _last in function_spans(source, path.name)}
    assert names, "every corpus file defines functions"
    for name in sorted(names):
        # WHEN one function is analysed incrementally and with the whole file parsed
        sliced, whole = _both(text, path.name, {name})
        # THEN the findings (and the absence of diagnostics) are the same
        assert sliced == whole, name


def test_the_large_file_s_changed_function_has_the_same_finding_sliced_and_whole() -> None:
    # GIVEN the benchmark's 50,000-line file after the culprit commit
    _before, after = large_c_file()
    text = preprocess(after, "pipeline.c")
    # WHEN the changed function is analysed both ways
    sliced, whole = _both(text, "pipeline.c", {CULPRIT_FUNCTION})
    # THEN both report the one leak in the loop, identically
    assert sliced == whole
    assert [(f.function, f.kind.value, f.variable) for f in sliced.findings] == [
        (CULPRIT_FUNCTION, "leak-in-loop", "buffer")]


def test_the_slice_keeps_the_changed_function_and_its_callees_only() -> None:
    # GIVEN the large file, whose controller() calls drain_2()
    _before, after = large_c_file()
    slicer = Slicer(preprocess(after, "pipeline.c"))
    # WHEN the closure of controller() is taken
    kept = slicer.closure({CULPRIT_FUNCTION})
    # THEN it holds the two definitions, out of thousands
    assert kept is not None
    assert {slicer.definitions[i].name for i in kept} == {CULPRIT_FUNCTION, "drain_2"}
    assert len(slicer.definitions) > 2000


def test_blanked_definitions_keep_every_line_where_it_was() -> None:
    # GIVEN a small preprocessed unit of three functions
    text = preprocess("int a(void) { return 1; }\nint b(void)\n{\n  return 2;\n}\nint c(void) { return b(); }\n", "t.c")
    slicer = Slicer(text)
    # WHEN a() is blanked away (only c and b kept)
    kept = slicer.closure({"c"})
    sliced = slicer.text_keeping(kept or set())
    # THEN the text has the same lines, b and c on theirs, a gone
    assert sliced.count("\n") == text.count("\n")
    assert [name for name, _f, _l in function_spans(sliced, "t.c")] == ["b", "c"]
    assert function_spans(sliced, "t.c") == function_spans(text, "t.c")[1:]


def test_a_static_global_written_elsewhere_is_not_folded_in_the_slice() -> None:
    # GIVEN a flag that looks constant to the changed function but another function sets it
    source = (
        "#include <stdlib.h>\n"
        "static int keep = 0;\n"
        "void enable(void) { keep = 1; }\n"
        "void run(void) {\n  char *p = malloc(4);\n  if (keep) return;\n  free(p);\n}\n"
    )
    text = preprocess(source, "flag.c")
    # WHEN run() alone is analysed both ways
    sliced, whole = _both(text, "flag.c", {"run"})
    # THEN the early return is a real path in both: the same leak is found
    assert sliced == whole
    assert [f.function for f in sliced.findings] == ["run"]


def test_an_unknown_function_falls_back_to_the_whole_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a request for a function the text does not define
    text = preprocess("int f(void) { return 0; }\n", "u.c")
    calls: list[str] = []
    original = c_leaks._parse_unit
    monkeypatch.setattr(c_leaks, "_parse_unit", lambda t, n: calls.append(t) or original(t, n))
    # WHEN it is analysed
    result = analyze_preprocessed(text, "u.c", only_functions={"missing"})
    # THEN the whole text was parsed (once) and nothing is reported
    assert calls == [text]
    assert result.findings == () and result.diagnostics == ()


def test_an_error_in_an_untouched_function_does_not_stop_the_changed_one() -> None:
    # GIVEN a file whose untouched function has a syntax error
    text = preprocess("int ok(void) { return 0; }\nint bad(void) { return 0 }\n", "e.c")
    # WHEN the good function is analysed incrementally
    result = analyze_preprocessed(text, "e.c", only_functions={"ok"})
    # THEN the bad one is never parsed: no diagnostic, no finding
    assert result.diagnostics == () and result.findings == ()


def test_an_error_in_the_changed_function_is_reported_at_its_real_line() -> None:
    # GIVEN a file whose changed function (line 3) has a syntax error
    text = preprocess("int a(void) { return 0; }\n\nint bad(void) { return 0 }\n", "e.c")
    # WHEN it is analysed incrementally
    result = analyze_preprocessed(text, "e.c", only_functions={"bad"})
    # THEN the slice fails, the whole parse reports it, at line 3, as the full mode does
    assert result == analyze_preprocessed(text, "e.c", only_functions={"bad"}, incremental=False)
    assert [(d.file, d.line) for d in result.diagnostics] == [("e.c", 3)]


def test_struct_bodies_and_initialisers_are_not_taken_for_functions() -> None:
    # GIVEN a unit with a struct, a braced initialiser and one function
    text = "struct s { int a; };\nint table[2] = { 1, 2 };\nint (*fp)(int) = 0;\nint f(int x) { return x; }\n"
    # WHEN its definitions are listed
    found = definitions(text)
    # THEN only the function is one
    assert [d.name for d in found] == ["f"]
    assert text[found[0].start:found[0].end].strip() == "int f(int x) { return x; }"


def test_only_functions_that_may_write_a_read_global_join_the_slice() -> None:
    # GIVEN a global read by run(), written by set_level(), only read by show()
    text = preprocess(
        "static int level = 0;\n"
        "void set_level(int v) { level = v; }\n"
        "int show(void) { return level + 1; }\n"
        "int quoted(void) { return level + (int)\";\"[0]; }\n"
        "int run(void) { return level; }\n", "g.c")
    slicer = Slicer(text)
    kept = slicer.closure({"run"}) or set()
    # WHEN the context for `level` is found
    context = {slicer.definitions[i].name for i in slicer.mentioning({"level"}, kept)}
    # THEN the writer joins, the reader does not, and a statement with a string is kept to be safe
    assert context == {"set_level", "quoted"}
