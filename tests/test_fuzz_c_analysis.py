"""Fuzzing the C analysis: whatever text comes in, a result or a diagnostic comes out.

Three input families: (a) random bytes and text, (b) plausible C from a small grammar (functions,
malloc/free/fopen/fclose, loops, ifs, gotos, struct fields, macros, unicode in comments and
strings, very long lines, deep nesting), (c) mutations of the labelled corpus in ``bench/corpus``.

The pure entry point :func:`analysis.c_leaks.analyze_preprocessed` is fuzzed directly, because
:func:`tui.sources.c_preprocess.analyze_text` turns any exception into an "internal analysis error"
diagnostic, which would hide crashes. Its documented failure is a diagnostic (pycparser's
``ParseError``, or nesting too deep to parse, turned into words), never an exception. The
diff-scoped path (patch -> touched functions -> analysis -> findings on changed lines ->
annotated diff -> fix) must accept any pair of old and new texts.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.annotate import annotate_change
from analysis.c_functions import changed_functions, function_spans
from analysis.c_leaks import analyze_preprocessed
from analysis.correlation import findings_on_changed_lines
from analysis.diffs import added_calls, changed_lines, removed_calls
from analysis.fix import synthesize_fix, unified_diff
from analysis.model import AnalysisResult
from tui.sources.c_preprocess import PreprocessError, analyze_text, preprocess

pytestmark = pytest.mark.skipif(
    not (shutil.which("cpp") or shutil.which("gcc") or shutil.which("cc")),
    reason="no C preprocessor installed",
)

CORPUS = sorted((Path(__file__).parent.parent / "bench" / "corpus").glob("*.c"))
CORPUS_TEXT = {path.name: path.read_text() for path in CORPUS}
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_SLOW = settings(FUZZ, max_examples=120)
"""For whole programs: pycparser takes 20-100 ms per unit, and the file should run within a minute."""
DIAGNOSTIC_START = ("syntax error", "cannot parse")
"""How every diagnostic of :func:`analyze_preprocessed` starts: a clear message, not a traceback."""


def preprocessed(source: str, filename: str = "fuzz.c") -> str | None:
    """The preprocessor's output, or ``None`` when cpp rejects the text (cpp's diagnostic, not ours)."""
    try:
        return preprocess(source, filename)
    except PreprocessError as error:
        assert error.diagnostic.message  # cpp's refusal still says why
        return None


def analyse(source: str, filename: str = "fuzz.c", only: set[str] | None = None) -> AnalysisResult | None:
    """Preprocess, then run the pure analysis (``None`` when cpp rejects the text)."""
    text = preprocessed(source, filename)
    return None if text is None else analyze_preprocessed(text, filename, only_functions=only)


def assert_well_formed(result: AnalysisResult | None, filename: str = "fuzz.c") -> None:
    """Findings point into the file; diagnostics say what is wrong in words."""
    if result is None:
        return
    assert isinstance(result, AnalysisResult)
    for diagnostic in result.diagnostics:
        assert diagnostic.message.startswith(DIAGNOSTIC_START), diagnostic
        assert "Traceback" not in diagnostic.message
    for finding in result.findings:
        assert finding.file == filename and finding.line >= 1 and finding.function and finding.message


# --- (b) a small grammar of plausible C -----------------------------------------------------------

PRELUDE = """#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#define ALLOC(n) malloc(n)
#define RELEASE(x) do { free(x); (x) = NULL; } while (0)
#define CHECK(x) if (!(x)) goto out
struct node { struct node *next; char *data; int n; };
typedef struct node node_t;
static char *keep;
static void use(const char *p) { (void)p; }
static void (*fp)(void *);
#ifndef assert
#define assert(x) ((x) ? (void)0 : abort())
#endif
"""
VARIABLES = "    char *p = NULL, *q = NULL; FILE *f = NULL; int fd = -1, n = argc; node_t *s = NULL;\n"
CONDITIONS = st.sampled_from([
    "p", "!p", "p == NULL", "n > 0", "0", "1", "n", "f != NULL", "fd < 0", "s && s->data",
    "q != p", "sizeof(int) == 4", "n-- > 0", "(n & 1) || !q",
])
SIMPLE = st.sampled_from([
    "p = malloc(16);", "p = ALLOC(n);", "q = p;", "free(p);", "free(q);", "RELEASE(p);",
    "p = realloc(p, 32);", "q = realloc(p, n);", 'p = strdup("h\\u00e9llo \\"x\\"");',
    'f = fopen("x", "r");', "fclose(f);", 'fd = open("x", O_RDONLY);', "close(fd);",
    "s = malloc(sizeof *s);", "s->data = p;", "s->next = s;", "free(s->data);", "free(s);",
    "p = s->data;", "keep = p;", "p = NULL;", "use(p);", "n++;", "p[0] = 'x';", "*p = 0;",
    "return p;", "return NULL;", "return arg;", "goto out;", "CHECK(p);", "break;", "continue;",
    "p = helper(p, n);", "helper(q, 1);", "q = helper(NULL, 0);", "memcpy(p, q, 4);",
    "/* ключ 🚀 مرحبا e\u0301 */", '// ☃ "not a string', 'puts("☃ \\t ✓ مرحبا");', ";",
    "p = n ? p : q;", "(void)(p && q);", "fd = fd >= 0 ? fd : open(\"y\", 0);",
    "assert(p);", "p = calloc(n, 1);", "p = (char *)malloc(1);", "*(&p) = malloc(1);",
    "free(*(&p));", "free((void *)p);", "free(&p);", "free(p + 1);", "free(NULL);", "free();",
    "free(p, q);", "malloc();", "realloc(p);", "fclose();", "p = realloc(NULL, 4);", "exit(1);",
    "abort();", "p = fgets(p, 1, f);", "posix_memalign((void **)&p, 16, 32);", "s->data = strdup(p);",
    "(*s).data = p;", "p = s->next->data;", "free(s->next->data);", "q = p++;", "p += 1;",
    "free(p++);", "f = stdin;", "p = &*p;", "p = table[n];", "table[n] = malloc(1);",
    "free(table[n]);", "fd = dup(fd);", "fp = free; fp(p);", "(*fp)(p);", "take(&p);",
    "case 1: ;", "default: ;", "goto again;", "char *t = malloc(1); free(t);", "return free(p), q;",
    "for (;;) { break; }", "for (char *t = malloc(1); t; t = NULL) free(t);", "while (n);",
    "if (p);", "do ; while (0);", "n = sizeof(malloc(1));", "typedef char *str; str z = malloc(1);",
    "struct node local; local.data = malloc(1);", "struct node local2 = { .data = malloc(1) };",
    "static char *sp = NULL; sp = malloc(1);", "char *const cp = malloc(1);", "char vla[n];",
    "p = (n > 0 ? malloc(1) : NULL);", "s = s ? s : calloc(1, sizeof *s);", "p = getenv(\"X\");",
    "f = fdopen(fd, \"r\");", "f = popen(\"ls\", \"r\"); pclose(f);", "p = strndup(p, 2);",
    "p = reallocarray(p, 2, 2);", "p = aligned_alloc(16, 32);", "p = alloca(8);",
    "p = (char *)__builtin_alloca(8);", "fd = socket(1, 1, 0);", "n = (p = malloc(1)) != NULL;",
    "if ((p = malloc(1)) == NULL) return NULL;", "while ((q = malloc(1))) free(q);", "p = q = malloc(2);",
    "s->next = malloc(sizeof *s); s = s->next;", "free(s); s = s->next;", "free(s->data); free(s);",
])
TOP_LEVEL = st.sampled_from([
    "", "static const int K = 1 << 3;\n", "enum { E1, E2 = E1 + 4, E3 = 1 / 0 };\n",
    "static int zero = 0;\n", "static const long BIG = (1L << 63 << 63 << 63) / 3 % -7;\n",
    "void take(char **pp) { free(*pp); *pp = NULL; }\n", "void free_all(node_t *s);\n",
    "int old(a) char *a; { free(a); return 0; }\n", "void v(int n, ...) { (void)n; }\n",
    "char *rec(char *a, int n) { return n ? rec(a, n - 1) : a; }\n",
    "void free(void *p);\n", "struct node by_value(struct node n) { return n; }\n",
    "static char *table[4];\n", "int main(int argc, char **argv, char **envp) { return 0; }\n",
    "static const int DEEP = 1" + " + 1" * 1200 + ";\n",
])
""" Top-level extras: constants for branch folding, K&R and variadic definitions, recursion."""


def _wrap(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Compound statements around generated statements."""
    return st.one_of(
        st.tuples(CONDITIONS, inner).map(lambda t: f"if ({t[0]}) {{ {t[1]} }}"),
        st.tuples(CONDITIONS, inner, inner).map(lambda t: f"if ({t[0]}) {{ {t[1]} }} else {{ {t[2]} }}"),
        st.tuples(CONDITIONS, inner).map(lambda t: f"while ({t[0]}) {{ {t[1]} }}"),
        inner.map(lambda s: f"for (n = 0; n < 3; n++) {{ {s} }}"),
        st.tuples(inner, CONDITIONS).map(lambda t: f"do {{ {t[0]} }} while ({t[1]});"),
        st.tuples(inner, inner).map(lambda t: f"switch (n) {{ case 1: {t[0]} break; default: {t[1]} }}"),
        inner.map(lambda s: f"{{ {s} }}"),
        inner.map(lambda s: f"again: {s}"),
    )


STATEMENTS = st.recursive(
    st.lists(SIMPLE, min_size=1, max_size=4).map(" ".join),
    lambda inner: st.lists(_wrap(inner), min_size=1, max_size=3).map("\n    ".join),
    max_leaves=25,
)
NESTED = st.tuples(st.integers(1, 200), SIMPLE).map(lambda t: "{" * t[0] + t[1] + "}" * t[0])
"""Deep block nesting (recursion limits in the parser and the walkers)."""
PARENTHESISED = st.integers(1, 300).map(lambda depth: "n = " + "(" * depth + "n" + ")" * depth + ";")
LONG_LINE = st.tuples(SIMPLE, st.integers(20, 150)).map(lambda t: " ".join([t[0]] * t[1]))
ELSE_CHAIN = st.integers(1, 150).map(lambda depth: "if (n) p = malloc(1);" + " else if (n) free(p);" * depth)
LONG_CHAIN = st.tuples(st.sampled_from(["return p", "if (1", "n = K", "free(p"]), st.integers(100, 1500)).map(
    lambda t: t[0] + " + 1" * t[1] + {"i": ") p = malloc(1);", "f": ");"}.get(t[0][0], ";"))
"""Long left-associative chains: shallow to parse, deep for recursive folders and walkers."""
BODY = st.one_of(STATEMENTS, NESTED, PARENTHESISED, LONG_LINE, ELSE_CHAIN, LONG_CHAIN, STATEMENTS, STATEMENTS)


@st.composite
def c_programs(draw: st.DrawFn) -> str:
    """A translation unit: prelude, a helper and a few functions with generated bodies."""
    helper = draw(BODY)
    functions = draw(st.lists(BODY, min_size=1, max_size=2))
    label = draw(st.sampled_from(["out: return p;", "out: ;", "", "out: free(p); return q;"]))
    parts = [PRELUDE, *draw(st.lists(TOP_LEVEL, max_size=3)), f"char *helper(char *arg, int argc) {{\n{VARIABLES}    {helper}\n    {label}\n    return NULL;\n}}\n"]
    for index, body in enumerate(functions):
        parts.append(f"static char *f{index}(char *arg, int argc) {{\n{VARIABLES}    {body}\n"
                     f"    {label}\n    return q;\n}}\n")
    return "".join(parts)


# --- (c) mutations of the real corpus ------------------------------------------------------------

_TOKEN = re.compile(r"\w+|[^\w\s]")
SPLICE = ["{", "}", "(", ")", ";", "free(p);", "malloc(1)", "goto out;", "return", "*", "&", "NULL",
          "while (1)", "if (", "else", "struct", "->", "#define X(", "/*", "\"", "'", "\\", "0x"]


@st.composite
def corpus_mutations(draw: st.DrawFn) -> tuple[str, str]:
    """``(file name, mutated text)``: truncate, delete, duplicate, swap or splice."""
    name = draw(st.sampled_from(sorted(CORPUS_TEXT)))
    text = CORPUS_TEXT[name]
    for _ in range(draw(st.integers(1, 3))):
        lines = text.splitlines(keepends=True) or [""]
        operation = draw(st.sampled_from(["truncate", "delete", "duplicate", "swap", "splice"]))
        if operation == "truncate":
            text = text[:draw(st.integers(0, len(text)))]
        elif operation in ("delete", "duplicate"):
            at = draw(st.integers(0, len(lines) - 1))
            lines[at:at + 1] = [] if operation == "delete" else [lines[at], lines[at]]
            text = "".join(lines)
        else:
            tokens = list(_TOKEN.finditer(text))
            if not tokens:
                continue
            first = tokens[draw(st.integers(0, len(tokens) - 1))]
            if operation == "splice":
                text = text[:first.start()] + draw(st.sampled_from(SPLICE)) + text[first.end():]
                continue
            second = tokens[draw(st.integers(0, len(tokens) - 1))]
            a, b = sorted((first, second), key=lambda m: m.start())
            if a.start() != b.start():
                text = text[:a.start()] + b.group() + text[a.end():b.start()] + a.group() + text[b.end():]
    return name, text


# --- the properties ------------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=600).map(lambda raw: raw.decode("utf-8", errors="replace")))
def test_random_bytes_give_a_result_or_a_diagnostic(text: str) -> None:
    # GIVEN random bytes WHEN analysed THEN a result or a worded diagnostic, never an exception
    assert_well_formed(analyse(text))


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("{}()[];*&=!<>+-,.#\"'\\/ \n\tabcpfnq01_ \u00e9\u2603")), max_size=400))
def test_c_flavoured_text_gives_a_result_or_a_diagnostic(text: str) -> None:
    # GIVEN text made of C punctuation WHEN analysed THEN a result or a worded diagnostic
    assert_well_formed(analyse(text))


@FUZZ
@given(st.text(max_size=400))
def test_preprocessed_random_text_never_raises(text: str) -> None:
    # GIVEN any text handed to the pure analysis as if it were preprocessor output
    # WHEN analysed THEN a result comes back (pycparser's own line markers may be malformed too)
    assert_well_formed(analyze_preprocessed(text, "fuzz.c"))


@FUZZ_SLOW
@given(c_programs())
def test_grammatical_c_gives_a_result_or_a_diagnostic(source: str) -> None:
    # GIVEN a plausible C program
    text = preprocessed(source)
    if text is None:
        return
    # WHEN analysed whole and diff-scoped to one function THEN results or worded diagnostics
    assert_well_formed(analyze_preprocessed(text, "fuzz.c"))
    assert_well_formed(analyze_preprocessed(text, "fuzz.c", only_functions={"f0"}))


@FUZZ
@given(corpus_mutations())
def test_mutated_corpus_gives_a_result_or_a_diagnostic(mutated: tuple[str, str]) -> None:
    # GIVEN a corpus file truncated, with lines deleted or duplicated, or tokens swapped
    name, text = mutated
    # WHEN analysed THEN findings in that file or a worded diagnostic come back
    assert_well_formed(analyse(text, name), name)


@settings(FUZZ, max_examples=100)
@given(corpus_mutations())
def test_the_cli_wrapper_reports_no_internal_error(mutated: tuple[str, str]) -> None:
    # GIVEN a mutated corpus file WHEN analysed the way `incident-tui analyze` does it
    name, text = mutated
    # THEN no diagnostic is the wrapper's catch-all for an exception inside the analysis
    internal = [d for d in analyze_text(text, name).diagnostics if d.message.startswith("internal")]
    assert not internal, internal


HUNK_LINES = st.one_of(
    st.tuples(st.integers(0, 10**6), st.none() | st.integers(0, 10**4), st.integers(0, 10**6),
              st.none() | st.integers(0, 10**4), st.text(max_size=20)).map(
        lambda t: f"@@ -{t[0]}{'' if t[1] is None else f',{t[1]}'} +{t[2]}{'' if t[3] is None else f',{t[3]}'} @@ {t[4]}"),
    st.tuples(st.sampled_from(["+", "-", " ", "\\", "", "d"]), st.text(max_size=40)).map("".join),
    st.sampled_from(["+}", "+int f(void) {", "-free(p);", "+free(p", '+ "free(p)"', "+/* free(p) */",
                     "diff --git a/x b/x", '+#line 3 "x.c"', '+#line 99999999999999999999 "x.c"', "+'\\''",
                     "+/* unterminated", "-fclose(f);", "+p = malloc(n);"]),
)


@FUZZ
@given(st.lists(HUNK_LINES, max_size=30).map("\n".join))
def test_any_patch_text_is_read(patch: str) -> None:
    # GIVEN any text shaped more or less like a unified diff
    changes = changed_lines(patch)
    # WHEN its calls, touched functions and findings are looked up THEN each step returns
    removed_calls(patch, ("free", "fclose"))
    added_calls(patch)
    source = "\n".join(line[1:] for line in patch.splitlines())
    spans = function_spans(source, "x.c")
    assert all(first <= last for _, first, last in spans)
    changed_functions(source, "x.c", set(changes.added))
    assert len(changes.added) == len(changes.added_text) and len(changes.removed) == len(changes.removed_text)


def diff_scoped(old: str, new: str, path: str = "src/fuzz.c") -> None:
    """The investigation's per-file path on one change, checked end to end."""
    patch = unified_diff(old, new, path)
    changes = changed_lines(patch)
    removed_calls(patch, ("free", "fclose", "close"))
    lines = set(changes.added) | {n for hunk in changes.hunks for n in hunk.new_range}
    touched = changed_functions(new, path, lines)
    for name, first, last in function_spans(new, path):
        assert name and 1 <= first <= last
    result = analyse(new, path, only=touched) if touched else AnalysisResult()
    assert_well_formed(result, path)
    on_change = findings_on_changed_lines(result.findings if result else (), patch)
    diff = annotate_change(path, "0" * 40, old, new, on_change)
    assert all(isinstance(line.text, str) for line in diff.lines)
    for finding in on_change[:1]:
        # The fix step re-analyses the patched text; it must accept whatever the finding says.
        synthesize_fix(new, path, finding, lambda source: analyse(source, path) or AnalysisResult())


@FUZZ_SLOW
@given(st.one_of(c_programs(), corpus_mutations().map(lambda m: m[1]), st.text(max_size=300)),
       st.one_of(c_programs(), corpus_mutations().map(lambda m: m[1]), st.text(max_size=300)))
def test_diff_scoped_analysis_accepts_any_pair_of_texts(old: str, new: str) -> None:
    # GIVEN any old and new text of a file WHEN the change is analysed like a suspect commit
    # THEN every step returns (assertions inside), whatever the texts are
    diff_scoped(old, new)


@settings(max_examples=60, deadline=None)
@given(corpus_mutations())
def test_diff_scoped_analysis_on_a_mutated_corpus_file(mutated: tuple[str, str]) -> None:
    # GIVEN a corpus file and a mutation of it (a realistic small commit)
    name, new = mutated
    # WHEN the change is analysed diff-scoped THEN every step returns
    diff_scoped(CORPUS_TEXT[name], new, name)


# --- regressions: crashes the fuzzing found, one test each ---------------------------------------

LONG_SUM = " + 1" * 3000


def test_regression_a_3000_term_constant_initialiser_is_not_a_recursion_error() -> None:
    # GIVEN a global constant whose initialiser is 3000 additions deep (the folder recursed per term)
    source = f"#include <stdlib.h>\nstatic const int K = 1{LONG_SUM};\nvoid f(void) {{ char *p = malloc(K); }}\n"
    # WHEN analysed THEN the leak is still found; the constant is merely unknown
    result = analyse(source)
    assert result is not None and result.diagnostics == ()
    assert [(f.function, f.variable) for f in result.findings] == [("f", "p")]


def test_regression_a_3000_term_return_expression_is_not_a_recursion_error() -> None:
    # GIVEN a function returning a 3000-term sum (folded to see whether every return is constant)
    source = f"int g(int n) {{ return n{LONG_SUM}; }}\n"
    # WHEN analysed THEN a clean result comes back
    assert analyse(source) == AnalysisResult()


def test_regression_constant_division_of_a_huge_value_is_exact_not_an_overflow() -> None:
    # GIVEN constants past a float's range divided and reduced (`int(a / b)` overflowed a float)
    huge = "(1L" + " << 63" * 20 + ")"
    source = (f"static const long Q = {huge} / 3;\nstatic const int D = -7 / 2;\n"
              "static const int M = -7 % 2;\n")
    from analysis.c_consts import Constants
    from analysis.c_leaks import parse

    # WHEN folded THEN the values follow C (truncation toward zero, remainder takes the dividend's sign)
    constants = Constants(parse(preprocessed(source) or "", "fuzz.c").ext)
    assert constants.values["Q"] == (1 << 63 * 20) // 3
    assert (constants.values["D"], constants.values["M"]) == (-3, -1)
    # AND a branch on such a constant is analysed, not crashed on
    result = analyse(source + "#include <stdlib.h>\nvoid f(void) { if (Q / 7) { char *p = malloc(1); } }\n")
    assert result is not None and [f.variable for f in result.findings] == ["p"]
