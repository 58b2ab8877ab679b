"""The C leak analysis on fixtures and small inline programs: exact lines, kinds and silences."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.c_leaks import analyze_preprocessed, borrowing_params
from analysis.model import AnalysisResult, FindingKind, LeakFinding
from tui.sources.c_preprocess import (
    PreprocessError,
    analyze_files,
    analyze_text,
    preprocess,
)

FIXTURES = Path(__file__).parent / "c_fixtures"

needs_cpp = pytest.mark.skipif(
    not (shutil.which("cpp") or shutil.which("gcc") or shutil.which("cc")),
    reason="no C preprocessor installed",
)
pytestmark = needs_cpp


def analyze_fixture(name: str) -> AnalysisResult:
    """Preprocess a fixture, then run the pure analysis on the text."""
    source = (FIXTURES / name).read_text()
    return analyze_preprocessed(preprocess(source, name), name)


def only(result: AnalysisResult) -> LeakFinding:
    assert result.diagnostics == ()
    assert len(result.findings) == 1, result.findings
    return result.findings[0]


def test_worker_leak_in_loop_is_reported_with_exact_lines() -> None:
    # GIVEN the demo worker, which mallocs 10 MiB per iteration of while (1) and never frees it
    # WHEN it is analysed
    finding = only(analyze_fixture("worker.c"))
    # THEN the leak is tied to the allocation line, the loop and the last use of buffer
    assert finding.kind is FindingKind.LEAK_IN_LOOP
    assert (finding.function, finding.variable) == ("controller", "buffer")
    assert (finding.line, finding.alloc_line, finding.loop_line) == (25, 25, 24)
    assert (finding.lost_line, finding.fix_line) == (25, 26)
    assert finding.file == "worker.c"
    assert finding.message == ("allocated at 25 in loop at 24; overwritten at 25 on the next "
                               "iteration; never freed — grows without bound")


def test_worker_with_free_after_use_is_clean() -> None:
    # GIVEN the worker with free(buffer); after process_work(buffer);
    # WHEN it is analysed
    result = analyze_fixture("worker_fixed.c")
    # THEN nothing is reported
    assert result == AnalysisResult()


def test_early_return_leak_points_at_the_return_and_the_block_before_it() -> None:
    # GIVEN strdup'd copy that one error path returns without freeing
    # WHEN analysed
    finding = only(analyze_fixture("early_return.c"))
    # THEN it is a plain leak lost at the `return -2` on line 10; the fix goes inside that block
    assert finding.kind is FindingKind.LEAK
    assert (finding.function, finding.variable) == ("parse_header", "copy")
    assert (finding.alloc_line, finding.lost_line, finding.fix_line) == (5, 10, 9)
    assert finding.loop_line is None


@pytest.mark.parametrize(
    "fixture",
    [
        "freed_all_paths.c",  # if/else-if/else, break in a loop, `continue` on NULL
        "returned.c",  # ownership returned to the caller
        "global_store.c",  # stored in a static global and in a global struct's array
        "null_check.c",  # `if (!values) return;` is the failed-allocation branch
        "unknown_external.c",  # an external function may keep the pointer
    ],
)
def test_ownership_leaving_or_freed_everywhere_is_silent(fixture: str) -> None:
    # GIVEN a fixture where every block is freed or handed over on every path
    # WHEN analysed
    result = analyze_fixture(fixture)
    # THEN there is no finding and no diagnostic
    assert result == AnalysisResult()


def test_same_tu_function_that_only_reads_is_a_borrow_but_unknown_is_not() -> None:
    # GIVEN the unknown_external shape, but with queue_push defined in the file and only printing
    source = (FIXTURES / "unknown_external.c").read_text().replace(
        "void queue_push(void *item);",
        '#include <stdio.h>\nvoid queue_push(void *item) { printf("%p", item); }',
    )
    # WHEN analysed
    finding = only(analyze_text(source, "queue.c"))
    # THEN the job leaks on every iteration of the bounded for loop
    assert finding.kind is FindingKind.LEAK_IN_LOOP
    assert finding.variable == "job"
    assert finding.message.endswith("leaks on every iteration")


def test_syntax_error_becomes_a_diagnostic_with_file_and_line() -> None:
    # GIVEN a file with `if (p {`
    # WHEN analysed
    result = analyze_fixture("syntax_error.c")
    # THEN there is one diagnostic at line 5 of that file and no finding
    assert result.findings == ()
    [diagnostic] = result.diagnostics
    assert (diagnostic.file, diagnostic.line) == ("syntax_error.c", 5)
    assert "syntax error" in diagnostic.message


def test_gnu_attributes_and_restrict_are_parsed() -> None:
    # GIVEN a file full of __attribute__ and __restrict with a leak in for (;;)
    # WHEN analysed
    finding = only(analyze_fixture("attributes.c"))
    # THEN the leak is found at the original lines
    assert (finding.function, finding.variable, finding.kind) == (
        "poll_forever", "frame", FindingKind.LEAK_IN_LOOP)
    assert (finding.alloc_line, finding.loop_line, finding.fix_line) == (14, 13, 15)


def test_functions_from_headers_are_context_not_subjects() -> None:
    # GIVEN preprocessed text where a header defines a leaking inline function
    text = (
        '# 1 "util.h"\n'
        "void *malloc(unsigned long n);\n"
        "static void header_leak(void) { char *h = malloc(1); }\n"
        '# 1 "main.c"\n'
        "void main_leak(void) { char *m = malloc(1); }\n"
    )
    # WHEN the main file is analysed
    result = analyze_preprocessed(text, "main.c")
    # THEN only main.c's function is reported, at main.c's line 1
    assert [(f.file, f.function, f.line) for f in result.findings] == [("main.c", "main_leak", 1)]


SNIPPETS = {
    "double_free": ("void f(void) {\n char *p = malloc(1);\n free(p);\n free(p);\n}\n",
                    [(FindingKind.DOUBLE_FREE, "p", 4)]),
    "use_after_free": ("void f(void) {\n char *p = malloc(1);\n free(p);\n p[0] = 1;\n}\n",
                       [(FindingKind.USE_AFTER_FREE, "p", 4)]),
    "overwrite_outside_loop": ("void f(void) {\n char *p = malloc(1);\n p = malloc(2);\n"
                               " free(p);\n}\n", [(FindingKind.LEAK, "p", 2)]),
    "outer_variable_in_loop": ("void f(int n) {\n char *s = 0;\n for (int i = 0; i < n; i++) {\n"
                               "  s = strdup(\"x\");\n }\n free(s);\n}\n",
                               [(FindingKind.LEAK_IN_LOOP, "s", 4)]),
    "goto_cleanup_path_and_plain_return": ("void f(int x) {\n char *p = malloc(1);\n"
                                           " if (x) goto out;\n return;\nout:\n free(p);\n}\n",
                                           [(FindingKind.LEAK, "p", 2)]),
    "realloc_onto_itself_leaks_on_failure": ("void f(int n) {\n char *p = malloc(1);\n"
                                             " p = realloc(p, n);\n if (!p) return;\n"
                                             " free(p);\n}\n", [(FindingKind.LEAK, "p", 3)]),
    "realloc_through_a_temporary": ("void f(int n) {\n char *p = malloc(1);\n"
                                    " char *t = realloc(p, n);\n if (!t) { free(p); return; }\n"
                                    " p = t;\n free(p);\n}\n", []),
    "assignment_in_null_check": ("int f(int n) {\n char *p;\n if ((p = malloc(n)) == NULL)\n"
                                 "  return -1;\n free(p);\n return 0;\n}\n", []),
    "exit_ends_the_path": ("void f(void) {\n char *p = malloc(1);\n exit(1);\n}\n", []),
    "freed_in_one_branch_only": ("void f(int x) {\n char *p = malloc(1);\n if (x) {\n"
                                 "  free(p);\n }\n}\n", [(FindingKind.LEAK, "p", 2)]),
    "goto_cleanup_frees_everything": (
        "int f(int n) {\n char *a = malloc(n);\n char *b = NULL;\n int rc = -1;\n"
        " if (!a) goto out;\n b = malloc(n);\n if (!b) goto out;\n rc = 0;\nout:\n"
        " free(b);\n free(a);\n return rc;\n}\n", []),
    "goto_label_after_the_free": (
        "int f(int w) {\n int rc = -1;\n char *l = malloc(8);\n if (!l) goto out;\n"
        " if (w < 0) goto out;\n free(l);\n rc = 0;\nout:\n return rc;\n}\n",
        [(FindingKind.LEAK, "l", 3)]),
    "goto_out_of_a_nested_block": (
        "void f(int n) {\n for (int i = 0; i < n; i++) {\n  char *p = malloc(4);\n"
        "  if (i == 2) goto done;\n  free(p);\n }\ndone:\n return;\n}\n",
        [(FindingKind.LEAK, "p", 3)]),
    "backward_goto_is_silent": ("void f(int n) {\nagain:\n n--;\n if (n > 0) goto again;\n}\n",
                                []),
    "alias_freed_through_copy": ("void f(void) {\n char *p = malloc(4);\n char *q = p;\n"
                                 " free(q);\n}\n", []),
    "alias_use_after_free": ("void f(void) {\n char *p = malloc(4);\n char *q = p;\n"
                             " free(q);\n p[0] = 1;\n}\n", [(FindingKind.USE_AFTER_FREE, "p", 5)]),
    "alias_both_lost": ("void f(void) {\n char *p = malloc(4);\n char *q = p;\n q[0] = 1;\n}\n",
                        [(FindingKind.LEAK, "p", 2)]),
    "cursor_moves_but_start_is_freed": (
        "void f(void) {\n char *s = strdup(\"ab\");\n if (!s) return;\n"
        " for (char *c = s; *c; c++) *c = 'x';\n free(s);\n}\n", []),
    "local_struct_field_dies": ("struct s { char *a; int n; };\nvoid f(void) {\n struct s v;\n"
                                " v.a = malloc(4);\n v.n = 1;\n}\n", [(FindingKind.LEAK, "v.a", 4)]),
    "local_struct_passed_by_address": (
        "struct s { char *a; };\nvoid keep(struct s *);\nvoid f(void) {\n struct s v;\n"
        " v.a = malloc(4);\n keep(&v);\n}\n", []),
    "local_array_of_pointers_dies": (
        "int f(void) {\n char *slots[4];\n for (int i = 0; i < 4; i++) {\n"
        "  slots[i] = malloc(16);\n  if (!slots[i]) return -1;\n }\n return 0;\n}\n",
        [(FindingKind.LEAK, "slots", 4)]),
    "local_array_elements_freed": (
        "void f(void) {\n char *a[2];\n for (int i = 0; i < 2; i++) a[i] = malloc(1);\n"
        " for (int i = 0; i < 2; i++) free(a[i]);\n}\n", []),
    "discarded_result": ("void f(void) {\n strdup(\"x\");\n}\n", [(FindingKind.LEAK, "strdup()", 2)]),
    "if_zero_is_dead": ("void f(void) {\n if (0) {\n  char *p = malloc(1);\n }\n}\n", []),
    "while_zero_is_dead": ("void f(void) {\n while (0) {\n  char *p = malloc(1);\n }\n}\n", []),
    "enum_and_static_const": (
        "enum { OFF, ON };\nstatic const int FLAG = OFF;\nstatic int never_written = 0;\n"
        "void f(void) {\n char *p = NULL;\n if (FLAG || never_written || ON - 1) p = malloc(1);\n}\n",
        []),
    "constant_returning_function": (
        "static int enabled(void) { return 0; }\nvoid f(void) {\n if (enabled()) {\n"
        "  char *p = malloc(1);\n }\n}\n", []),
    "short_circuit_assignment": (
        "int f(int bad) {\n char *p = NULL;\n if (bad || (p = malloc(4)) == NULL)\n  return -1;\n"
        " free(p);\n return 0;\n}\n", []),
    "assert_refines": ("void f(void) {\n char *p = malloc(1);\n assert(p != NULL);\n free(p);\n}\n",
                       []),
    "realloc_then_abort_is_not_reported": (
        "void f(int n) {\n char *p = malloc(1);\n if (!p) return;\n p = realloc(p, n);\n"
        " if (p == NULL) abort();\n free(p);\n}\n", []),
    "realloc_of_a_field": ("struct v { int *d; };\nvoid f(struct v *v, int n) {\n"
                           " v->d = realloc(v->d, n);\n}\n", [(FindingKind.LEAK, "v->d", 3)]),
    "field_use_after_free": ("struct l { char *b; };\nvoid f(struct l *l) {\n free(l->b);\n"
                             " l->b[0] = 0;\n}\n", [(FindingKind.USE_AFTER_FREE, "l->b", 4)]),
    "field_freed_then_reset": ("struct l { char *b; };\nvoid f(struct l *l) {\n free(l->b);\n"
                               " l->b = NULL;\n l->b = malloc(2);\n}\n", []),
    "counted_loop_runs_once": (
        "void f(void) {\n char *d = NULL;\n int i;\n for (i = 0; i < 1; i++) {\n"
        "  d = malloc(1);\n }\n for (i = 0; i < 1; i++) {\n  free(d);\n }\n}\n", []),
    "alloca_is_not_heap": ("void f(void) {\n char *p = __builtin_alloca(8);\n p[0] = 1;\n}\n", []),
    "struct_returned_by_value_with_fresh_field": (
        "struct sp { char *t; int n; };\nstatic struct sp mk(void) {\n struct sp s;\n"
        " s.t = malloc(4);\n s.n = 4;\n return s;\n}\nint f(void) {\n struct sp v = mk();\n"
        " if (v.t == NULL) return 0;\n return v.n;\n}\n", [(FindingKind.LEAK, "v.t", 9)]),
    "compared_with_a_global_stream": (
        "#include <stdio.h>\nvoid f(const char *p) {\n FILE *f = fopen(p, \"r\");\n"
        " if (!f) return;\n if (f != stdin) fclose(f);\n}\n", []),
    "member_lost_when_its_holder_is_freed": (
        "struct b { char *d; };\nvoid f(void) {\n struct b *b = malloc(sizeof *b);\n"
        " if (!b) return;\n b->d = malloc(8);\n free(b);\n}\n", [(FindingKind.LEAK, "b->d", 5)]),
    "member_freed_first": (
        "struct b { char *d; };\nvoid f(void) {\n struct b *b = malloc(sizeof *b);\n"
        " if (!b) return;\n b->d = malloc(8);\n free(b->d);\n free(b);\n}\n", []),
    "member_handed_to_a_helper_first": (
        "struct b { char *d; };\nvoid done(struct b *);\nvoid f(void) {\n"
        " struct b *b = malloc(sizeof *b);\n if (!b) return;\n b->d = malloc(8);\n done(b);\n"
        " free(b);\n}\n", []),
    "same_condition_twice": (
        "void f(int c) {\n char *p = NULL;\n if (c) p = malloc(1);\n if (c) free(p);\n}\n", []),
}


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_inline_snippets(name: str) -> None:
    # GIVEN a small program with a known answer
    body, expected = SNIPPETS[name]
    source = "#include <stdlib.h>\n#include <string.h>\n#include <assert.h>\n" + body
    # WHEN analysed
    result = analyze_text(source, f"{name}.c")
    # THEN exactly the expected (kind, variable, line) triples come back, lines offset by includes
    assert result.diagnostics == ()
    assert [(f.kind, f.variable, f.line - 3) for f in result.findings] == expected


def test_partial_free_has_no_single_safe_fix_line() -> None:
    # GIVEN p freed in one branch only
    source = "#include <stdlib.h>\n" + SNIPPETS["freed_in_one_branch_only"][0]
    # WHEN analysed
    finding = only(analyze_text(source, "partial.c"))
    # THEN no fix line is proposed: a free at the end would double-free the other branch
    assert finding.fix_line is None
    assert finding.message.endswith("(on some paths)")


def test_borrowing_summary_follows_calls_inside_the_file() -> None:
    # GIVEN the worker, where process_work passes buffer on to process_work_item (printf only)
    from pycparser import c_ast
    from pycparser.c_parser import CParser

    text = preprocess((FIXTURES / "worker.c").read_text(), "worker.c")
    ast = CParser().parse(text, "worker.c")
    functions = [n for n in ast.ext if isinstance(n, c_ast.FuncDef)]
    # WHEN summarised
    borrowed = borrowing_params(functions)
    # THEN both functions borrow their first parameter
    assert {("process_work", 0), ("process_work_item", 0)} <= borrowed


def test_defines_and_include_dirs_reach_the_preprocessor(tmp_path: Path) -> None:
    # GIVEN a header in its own directory and a leak compiled in only under -DLEAKY
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "sizes.h").write_text("#define CHUNK 64\n")
    source = ("#include <stdlib.h>\n#include \"sizes.h\"\nvoid f(void) {\n"
              "#ifdef LEAKY\n  char *p = malloc(CHUNK);\n#endif\n}\n")
    path = tmp_path / "f.c"
    path.write_text(source)
    # WHEN analysed with and without the define
    with_define = analyze_files([str(path)], include_dirs=[str(tmp_path / "inc")], defines=["LEAKY"])
    without = analyze_files([str(path)], include_dirs=[str(tmp_path / "inc")])
    # THEN only the defined build leaks, at line 5 of the original file
    assert [(f.variable, f.line) for f in with_define.findings] == [("p", 5)]
    assert without == AnalysisResult()


def test_missing_header_is_a_preprocess_error_with_line() -> None:
    # GIVEN a source including a header that does not exist
    source = "int x;\n#include \"no_such_header.h\"\n"
    # WHEN preprocessed
    with pytest.raises(PreprocessError) as raised:
        preprocess(source, "src/missing.c")
    # THEN the diagnostic names the file and line 2
    assert (raised.value.diagnostic.file, raised.value.diagnostic.line) == ("src/missing.c", 2)
    assert "no_such_header.h" in raised.value.diagnostic.message


def test_unreadable_file_becomes_a_diagnostic(tmp_path: Path) -> None:
    # GIVEN a path that does not exist
    missing = str(tmp_path / "gone.c")
    # WHEN analysed
    result = analyze_files([missing])
    # THEN it is reported as a diagnostic for that path
    assert [d.file for d in result.diagnostics] == [missing]


WORKER = (FIXTURES / "worker.c").read_text()


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_analyze_text_never_raises_on_arbitrary_text(text: str) -> None:
    # GIVEN any text WHEN analysed THEN a result comes back (findings or diagnostics), no exception
    result = analyze_text(text, "fuzz.c")
    assert isinstance(result, AnalysisResult)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=len(WORKER)))
def test_analyze_text_never_raises_on_truncated_worker(cut: int) -> None:
    # GIVEN the worker cut at any character WHEN analysed THEN no exception escapes
    result = analyze_text(WORKER[:cut], "worker.c")
    assert isinstance(result, AnalysisResult)


INTERPROC = (FIXTURES / "interproc.c").read_text()
TOKENS = ["int", "char", "*", "p", "q", "=", "malloc(4)", "free(p)", ";", "{", "}", "(", ")",
          "if", "else", "while", "for", "goto out", "out:", "return", "0", "NULL", "&", "->f",
          ".f", "[0]", ",", "switch (p)", "case 1:", "break", "continue", "do", "realloc(p, 2)",
          "fopen(\"x\", \"r\")", "close(p)", "struct s", "void f(void)", "p++", "!", "||", "&&"]


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=len(INTERPROC)))
def test_analyze_text_never_raises_on_truncated_interprocedural_fixture(cut: int) -> None:
    # GIVEN the interprocedural fixture cut anywhere WHEN analysed THEN no exception escapes
    assert isinstance(analyze_text(INTERPROC[:cut], "interproc.c"), AnalysisResult)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=60))
def test_analyze_text_never_raises_on_token_soup_inside_a_function(tokens: list[str]) -> None:
    # GIVEN C-ish tokens inside a function body (often parsable, often not)
    source = "#include <stdlib.h>\n#include <stdio.h>\nvoid g(void) {\n" + " ".join(tokens) + "\n}\n"
    # WHEN analysed THEN findings or a diagnostic come back, never an exception
    result = analyze_text(source, "soup.c")
    assert isinstance(result, AnalysisResult)
    assert all(d.file == "soup.c" for d in result.diagnostics)
