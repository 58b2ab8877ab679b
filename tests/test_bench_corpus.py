"""Keep the benchmark corpus honest: it compiles, every function is labelled once, all categories
are there, and the scoring and output parsers do their arithmetic right. No analyzer is run here."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pycparser
import pytest
from pycparser import c_ast

from bench.labels import (
    FILE_SCOPE,
    LabelError,
    load_corpus,
    parse_corpus_file,
    parse_label,
    readme_categories,
)
from bench.scoring import Score, file_outcomes, score, score_by_kind
from bench.tools import parse_clang, parse_cppcheck, parse_gcc, parse_incident_tui

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "bench" / "corpus"
FILES = sorted(CORPUS.glob("*.c"))
needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")


def completed(stdout: str = "", stderr: str = "", rc: int = 0) -> subprocess.CompletedProcess[str]:
    """A finished process with canned output, for the parser tests."""
    return subprocess.CompletedProcess(["tool"], rc, stdout, stderr)


# --- the corpus ---------------------------------------------------------------------------------


def test_corpus_has_at_least_90_files_with_bugs_and_clean_ones_in_balance() -> None:
    # GIVEN the parsed corpus
    files = load_corpus(CORPUS)
    # WHEN files are split into those with a labelled bug and those without
    leaky = [f for f in files if f.leaky]
    clean = [f for f in files if not f.leaky]
    # THEN there are at least 90, in roughly equal measure
    assert len(files) >= 90
    assert len(leaky) >= 0.4 * len(files)
    assert len(clean) >= 0.4 * len(files)


@needs_gcc
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_corpus_file_compiles_without_warnings(path: Path) -> None:
    # GIVEN a corpus file
    # WHEN gcc checks it with -Wall
    proc = subprocess.run(
        ["gcc", "-fsyntax-only", "-std=gnu11", "-Wall", str(path)],
        capture_output=True, text=True, check=False,
    )
    # THEN it compiles and prints nothing
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_function_has_exactly_one_label_and_main_exists(path: Path) -> None:
    # GIVEN a corpus file
    # WHEN its functions and labels are read
    parsed = parse_corpus_file(path)
    # THEN each definition has one EXPECT line right before it, no label is orphaned,
    # and main() is there for whole-program analyzers
    unlabelled = [f.name for f in parsed.functions if f.labels != 1]
    assert not unlabelled, f"functions without exactly one label: {unlabelled}"
    assert parsed.label_count == len(parsed.functions), "an EXPECT label is not before a function"
    assert "main" in parsed.names()
    main = next(f for f in parsed.functions if f.name == "main")
    assert main.expected == frozenset()


@needs_gcc
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_line_finder_agrees_with_pycparser(path: Path) -> None:
    # GIVEN a corpus file preprocessed against pycparser's fake libc
    import pycparser_fake_libc

    fake = Path(pycparser_fake_libc.__file__).parent
    text = subprocess.run(
        ["gcc", "-E", "-nostdinc", "-std=gnu11", "-I", str(fake), str(path)],
        capture_output=True, text=True, check=True,
    ).stdout
    ast = pycparser.CParser().parse(text, str(path))
    # WHEN pycparser lists its function definitions
    defs = {(n.decl.name, n.coord.line) for n in ast.ext if isinstance(n, c_ast.FuncDef)}
    # THEN the line-based finder used for scoring found the same ones at the same lines
    found = {(f.name, f.start) for f in parse_corpus_file(path).functions}
    assert found == defs


def test_every_readme_category_is_present_and_every_file_has_a_listed_category() -> None:
    # GIVEN the categories the README lists and those the files declare
    listed = set(readme_categories(CORPUS / "README.md"))
    used = {f.category for f in load_corpus(CORPUS)}
    # THEN both sets are the same (and cover every kind of bug and trap)
    assert listed == used
    assert {"leak-loop", "double-free", "use-after-free", "file-leak", "fd-leak"} <= used
    assert {"clean-dead-path", "clean-freeing-callee", "clean-realloc"} <= used


def test_clean_files_have_only_none_labels_and_buggy_files_have_a_bug() -> None:
    # GIVEN every file
    for f in load_corpus(CORPUS):
        # THEN clean-* categories label nothing and the others label at least one bug
        assert f.leaky != f.category.startswith("clean-"), f.path.name


# --- labels -------------------------------------------------------------------------------------


def test_labels_parse_kinds_none_and_reject_unknown_kinds() -> None:
    # GIVEN label texts WHEN parsed THEN leak-in-loop counts as leak and unknown kinds fail
    assert parse_label("none") == frozenset()
    assert parse_label("leak-in-loop") == {"leak"}
    assert parse_label("leak, resource-leak") == {"leak", "resource-leak"}
    with pytest.raises(LabelError):
        parse_label("memory-leak")
    with pytest.raises(LabelError):
        parse_label("none, leak")


def test_function_at_maps_lines_to_the_enclosing_definition(tmp_path: Path) -> None:
    # GIVEN a tiny labelled file with a brace inside a string and a comment
    src = tmp_path / "t.c"
    src.write_text(
        "int g;\n"
        "/* EXPECT: none */\n"
        "static int f(void) {\n"
        "    const char *s = \"}\"; /* } */\n"
        "    return s[0];\n"
        "}\n"
        "/* EXPECT: leak */\n"
        "int main(void)\n"
        "{\n"
        "    return 0;\n"
        "}\n"
    )
    # WHEN it is parsed
    parsed = parse_corpus_file(src)
    # THEN each line maps to its function, and lines between functions to file scope
    assert [(f.name, f.start, f.end) for f in parsed.functions] == [("f", 3, 6), ("main", 8, 11)]
    assert parsed.function_at(5) == "f"
    assert parsed.function_at(10) == "main"
    assert parsed.function_at(1) == FILE_SCOPE
    assert parsed.functions[1].expected == {"leak"}


# --- scoring ------------------------------------------------------------------------------------


def test_score_counts_tp_fp_fn_per_function_and_kind() -> None:
    # GIVEN three labelled triples and a tool that finds one, misses two and invents one
    expected = {("a.c", "f", "leak"), ("a.c", "g", "double-free"), ("b.c", "h", "leak")}
    reported = {("a.c", "f", "leak"), ("a.c", "g", "leak")}
    # WHEN scored
    s = score(expected, reported)
    # THEN TP=1, FP=1 (right function, wrong kind), FN=2, and the ratios follow
    assert s == Score(tp=1, fp=1, fn=2)
    assert s.precision == pytest.approx(0.5)
    assert s.recall == pytest.approx(1 / 3)
    assert s.f1 == pytest.approx(0.4)
    assert score_by_kind(expected, reported)["leak"] == Score(tp=1, fp=1, fn=1)
    assert file_outcomes(expected, reported, "b.c") == {
        "tp": [], "fp": [], "fn": [("b.c", "h", "leak")]
    }


def test_score_ratios_are_undefined_without_reports_or_labels() -> None:
    # GIVEN a silent tool, and a tool with only false alarms on a clean corpus
    silent = score({("a.c", "f", "leak")}, set())
    noisy = score(set(), {("a.c", "f", "leak")})
    # THEN precision is undefined for the first, recall for the second, F1 for both
    assert (silent.precision, silent.recall, silent.f1) == (None, 0.0, None)
    assert (noisy.precision, noisy.recall, noisy.f1) == (0.0, None, None)


# --- output parsers -----------------------------------------------------------------------------


def test_gcc_parser_keeps_function_headers_and_folds_the_fopen_malloc_twin() -> None:
    # GIVEN gcc 12 output where a leaked FILE is also reported as a malloc leak
    stderr = (
        "x.c: In function 'first_byte':\n"
        "x.c:13:16: warning: leak of FILE 'f' [CWE-775] [-Wanalyzer-file-leak]\n"
        "x.c:13:16: warning: leak of 'f' [CWE-401] [-Wanalyzer-malloc-leak]\n"
        "x.c: In function 'g':\n"
        "x.c:20:5: warning: double-'free' of 'c' [CWE-415] [-Wanalyzer-double-free]\n"
        "x.c:22:5: warning: dereference of NULL 'p' [CWE-476] [-Wanalyzer-null-dereference]\n"
    )
    # WHEN parsed
    parsed = parse_gcc(completed(stderr=stderr))
    # THEN one resource leak and one double free remain, each in its function
    assert [(f.line, f.kind, f.function) for f in parsed.findings] == [
        (13, "resource-leak", "first_byte"), (20, "double-free", "g"),
    ]
    assert parsed.ignored == 1


def test_clang_and_cppcheck_parsers_map_messages_and_ids() -> None:
    # GIVEN canned clang and cppcheck output
    clang = (
        "x.c:15:17: warning: Potential leak of memory pointed to by 'p' [unix.Malloc]\n"
        "        return -1;\n"
        "x.c:9:5: note: Memory is allocated\n"
        "x.c:20:12: warning: Use of memory after it is freed [unix.Malloc]\n"
        "x.c:30:1: warning: Opened stream never closed. Potential resource leak "
        "[alpha.unix.Stream]\n"
        "x.c:31:1: warning: Value stored to 'x' is never read [deadcode.DeadStores]\n"
    )
    cppcheck = (
        "x.c:13:5:error:memleakOnRealloc:Common realloc mistake: 'p' nulled\n"
        "x.c:20:5:error:doubleFree:Memory pointed to by 'c' is freed twice.\n"
        "x.c:2:0:style:unusedFunction:The function 'f' is never used.\n"
    )
    # WHEN parsed
    c = parse_clang(completed(stderr=clang))
    k = parse_cppcheck(completed(stderr=cppcheck))
    # THEN kinds and lines come through and unrelated checks are ignored
    assert [(f.line, f.kind) for f in c.findings] == [
        (15, "leak"), (20, "use-after-free"), (30, "resource-leak"),
    ]
    assert c.ignored == 1
    assert [(f.line, f.kind) for f in k.findings] == [(13, "leak"), (20, "double-free")]
    assert k.ignored == 1


def test_incident_tui_parser_maps_leak_in_loop_and_reports_crashes() -> None:
    # GIVEN a JSON report and a crash
    ok = completed(
        stdout='{"findings": [{"file": "x.c", "line": 4, "function": "f", '
        '"kind": "leak-in-loop", "message": "m"}], "diagnostics": []}',
        rc=1,
    )
    crash = completed(stderr="Traceback...\nImportError: boom", rc=1 + 2)
    # WHEN parsed
    findings = parse_incident_tui(ok).findings
    # THEN leak-in-loop is a leak in f, and the crash is an error, not "no findings"
    assert [(f.line, f.kind, f.function) for f in findings] == [(4, "leak", "f")]
    assert parse_incident_tui(crash).error == "crashed: ImportError: boom"
