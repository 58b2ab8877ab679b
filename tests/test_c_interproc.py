"""Interprocedural analysis: summaries, wrappers, out-parameters, Juliet-style flows, diff scope."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analysis.c_events import Effect
from analysis.c_functions import changed_functions, function_spans
from analysis.c_leaks import _Geometry, analyze_preprocessed, parse, walk_unit
from analysis.c_summaries import Summary
from analysis.model import AnalysisResult, FindingKind
from tui.sources.c_preprocess import analyze_text, preprocess

FIXTURES = Path(__file__).parent / "c_fixtures"
pytestmark = pytest.mark.skipif(not (shutil.which("cpp") or shutil.which("gcc")),
                                reason="no C preprocessor installed")


def triples(result: AnalysisResult) -> list[tuple[str, FindingKind, int]]:
    """(function, kind, line) of every finding, in order."""
    assert result.diagnostics == ()
    return [(f.function, f.kind, f.line) for f in result.findings]


def summaries_of(name: str) -> dict[str, Summary]:
    """Every function's summary in a fixture."""
    text = preprocess((FIXTURES / name).read_text(), name)
    found: dict[str, Summary] = {}
    walk_unit(parse(text, name).ext, name, _Geometry(text, name).end_line, summaries=found)
    return found


def test_juliet_style_flows_report_every_bad_and_no_good() -> None:
    # GIVEN CWE-401 flow variants: constants, static flags, constant-returning functions, switch,
    # counted loops, goto, aliases, sinks, sources and function pointers
    result = analyze_text((FIXTURES / "juliet" / "cwe401_flows.c").read_text(), "flows.c")
    # WHEN analysed THEN each bad function leaks at its allocation and no good function is named
    assert triples(result) == [
        ("bad_01", FindingKind.LEAK, 23), ("bad_04", FindingKind.LEAK, 51),
        ("bad_08", FindingKind.LEAK, 95), ("bad_12", FindingKind.LEAK, 119),
        ("bad_18", FindingKind.LEAK, 182), ("bad_31", FindingKind.LEAK, 193),
        ("bad_41", FindingKind.LEAK, 233), ("bad_42", FindingKind.LEAK, 260),
        ("bad_44", FindingKind.LEAK, 275),
    ]


def test_helpers_wrappers_and_out_parameters() -> None:
    # GIVEN init/free helpers through out-parameters, a list builder and destroyer, a realloc
    # wrapper that exits on failure and a release helper
    result = analyze_text((FIXTURES / "interproc.c").read_text(), "interproc.c")
    # WHEN analysed
    # THEN leaks are found through the out-parameters (only past the failure check), the realloc
    # wrapper keeps ownership, and the helper's free makes a double free and a use after free
    assert triples(result) == [
        ("format_total", FindingKind.LEAK, 25),
        ("leak_loaded", FindingKind.LEAK, 61),
        ("grow", FindingKind.LEAK, 109),
        ("release_twice", FindingKind.DOUBLE_FREE, 124),
        ("use_released", FindingKind.USE_AFTER_FREE, 130),
    ]
    leak = result.findings[0]
    assert (leak.variable, leak.lost_line, leak.fix_line) == ("b.data", 29, 28)
    assert leak.message == "allocated at 25; still held at the return at 29; never freed"


def test_summaries_say_what_each_helper_does() -> None:
    # GIVEN the interprocedural fixture WHEN summarised bottom-up
    found = summaries_of("interproc.c")
    # THEN release, borrow, allocation, realloc wrapping and out-parameters are recognised
    assert found["release"].params == (Effect.RELEASE,)
    assert found["destroy"].params == (Effect.RELEASE,)
    assert found["push"].allocates == "memory"
    assert found["xrealloc"].allocates == "memory" and found["xrealloc"].consumes == 0
    assert found["buffer_init"].out_allocs == ((0, "data", "memory", frozenset({0})),)
    assert found["load"].out_allocs == ((0, "*", "memory", frozenset({0})),)
    assert found["buffer_free"].out_allocs == ()


def test_function_that_stores_its_argument_in_a_global_list_keeps_it() -> None:
    # GIVEN a registry that links the caller's pointer into a global list
    source = ("#include <stdlib.h>\nstruct e { char *name; struct e *next; };\n"
              "static struct e *reg;\n"
              "static int keep(char *name) {\n struct e *e = malloc(sizeof *e);\n"
              " if (!e) return -1;\n e->name = name;\n e->next = reg;\n reg = e;\n return 0;\n}\n"
              "int add(void) {\n char *c = malloc(4);\n if (!c) return -1;\n"
              " if (keep(c) != 0) { free(c); return -1; }\n return 0;\n}\n")
    # WHEN analysed THEN nothing is reported: ownership moved into the list
    assert analyze_text(source, "keep.c") == AnalysisResult()


def test_unknown_external_keeps_but_const_parameter_borrows() -> None:
    # GIVEN two prototypes without bodies, one taking `const char *`
    source = ("#include <stdlib.h>\nvoid takes(char *p);\nvoid shows(const char *p);\n"
              "void a(void) {\n char *p = malloc(1);\n takes(p);\n}\n"
              "void b(void) {\n char *p = malloc(1);\n shows(p);\n}\n")
    # WHEN analysed THEN only the const (borrowing) call leaves the block leaked
    assert triples(analyze_text(source, "ext.c")) == [("b", FindingKind.LEAK, 9)]


def test_only_functions_restricts_findings_but_keeps_callee_summaries() -> None:
    # GIVEN the interprocedural fixture, preprocessed once
    text = preprocess((FIXTURES / "interproc.c").read_text(), "interproc.c")
    # WHEN only format_total and release_twice are analysed
    result = analyze_preprocessed(text, "interproc.c",
                                  only_functions={"format_total", "release_twice"})
    # THEN their findings come back (through buffer_init's and release's summaries), no others
    assert triples(result) == [("format_total", FindingKind.LEAK, 25),
                               ("release_twice", FindingKind.DOUBLE_FREE, 124)]
    # AND analyze_text passes the option through
    again = analyze_text((FIXTURES / "interproc.c").read_text(), "interproc.c",
                         only_functions={"grow"})
    assert triples(again) == [("grow", FindingKind.LEAK, 109)]


def test_changed_functions_maps_diff_lines_to_function_names() -> None:
    # GIVEN the fixture's raw text and its preprocessed text
    raw = (FIXTURES / "interproc.c").read_text()
    text = preprocess(raw, "interproc.c")
    # WHEN lines inside buffer_free (19), on format_total's signature (23) and between
    # functions (22) changed
    changed = changed_functions(raw, "interproc.c", {19, 22, 23})
    # THEN the two functions are named, and preprocessed text gives the same spans
    assert changed == {"buffer_free", "format_total"}
    assert changed_functions(text, "interproc.c", {19, 22, 23}) == changed
    assert ("buffer_init", 10, 16) in function_spans(raw, "interproc.c")
    assert changed_functions(raw, "interproc.c", {1, 2, 1000}) == set()


def test_juliet_style_double_free_use_after_free_and_handles() -> None:
    # GIVEN CWE-415/416/775-style bad and good functions
    source = (FIXTURES / "juliet" / "cwe415_416_775.c").read_text()
    # WHEN analysed
    result = analyze_text(source, "j.c")
    # THEN only the bad ones are reported, each with its own kind and line
    assert triples(result) == [
        ("bad_415", FindingKind.DOUBLE_FREE, 21),
        ("bad_415_41", FindingKind.DOUBLE_FREE, 48),
        ("bad_416", FindingKind.USE_AFTER_FREE, 57),
        ("bad_775_fopen", FindingKind.RESOURCE_LEAK, 72),
        ("bad_775_open", FindingKind.RESOURCE_LEAK, 90),
    ]


def test_wrapper_that_allocates_members_and_a_caller_that_frees_only_the_shell() -> None:
    # GIVEN make() returning a block whose data field is a second fresh block
    source = ("#include <stdlib.h>\nstruct buf { char *data; int n; };\n"
              "static struct buf *make(int n) {\n    struct buf *b = malloc(sizeof *b);\n"
              "    if (b == NULL)\n        return NULL;\n    b->data = malloc(n);\n"
              "    if (b->data == NULL) {\n        free(b);\n        return NULL;\n    }\n"
              "    b->n = n;\n    return b;\n}\n"
              "int shell_only(void) {\n    struct buf *b = make(8);\n    if (!b)\n        return -1;\n"
              "    b->data[0] = 1;\n    free(b);\n    return 0;\n}\n"
              "int both(void) {\n    struct buf *b = make(8);\n    if (!b)\n        return -1;\n"
              "    free(b->data);\n    free(b);\n    return 0;\n}\n")
    # WHEN analysed
    result = analyze_text(source, "buf.c")
    # THEN only the caller that frees the shell loses the data block, at the free
    assert triples(result) == [("shell_only", FindingKind.LEAK, 16)]
    assert result.findings[0].message == ("allocated at 16; lost when the structure holding it "
                                          "is freed at 20; never freed")
