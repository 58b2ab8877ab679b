"""Fix synthesis: the inserted line, the diff applied by real git, re-analysis and compilation."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from analysis.fix import synthesize_fix, unified_diff
from analysis.model import AnalysisResult, FindingKind, Fix, LeakFinding
from tui.sources.c_compile import compile_check, verify_fix
from tui.sources.c_preprocess import analyze_text

FIXTURES = Path(__file__).parent / "c_fixtures"
pytestmark = pytest.mark.skipif(not shutil.which("cpp"), reason="no C preprocessor installed")
needs_git = pytest.mark.skipif(not shutil.which("git"), reason="git not installed")
needs_cc = pytest.mark.skipif(
    not any(shutil.which(c) for c in ("cc", "gcc", "clang")), reason="no C compiler installed")


def fix_for(source: str, path: str) -> Fix | None:
    """Analyse ``source`` and synthesise the fix for its first finding."""
    result = analyze_text(source, path)
    assert result.findings, result
    return synthesize_fix(source, path, result.findings[0], lambda text: analyze_text(text, path))


def git_apply(tmp_path: Path, path: str, original: str, diff: str) -> str:
    """Write ``original`` at ``path`` in a fresh repository, ``git apply`` the diff, read back."""
    repo = tmp_path / "repo"
    target = repo / path
    target.parent.mkdir(parents=True)
    target.write_text(original, newline="")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (tmp_path / "fix.diff").write_text(diff, newline="")
    subprocess.run(["git", "apply", "--check", str(tmp_path / "fix.diff")], cwd=repo, check=True)
    subprocess.run(["git", "apply", str(tmp_path / "fix.diff")], cwd=repo, check=True)
    return target.read_bytes().decode()


def test_worker_fix_inserts_free_right_after_process_work() -> None:
    # GIVEN the leaking worker
    source = (FIXTURES / "worker.c").read_text()
    # WHEN a fix is synthesised
    fix = fix_for(source, "worker/worker.c")
    # THEN free(buffer); is the line right after process_work(buffer);, same indentation
    assert fix is not None
    patched = fix.patched.splitlines()
    at = patched.index("        process_work(buffer);")
    assert patched[at + 1] == "        free(buffer);"
    assert len(patched) == len(source.splitlines()) + 1
    assert fix.patched == (FIXTURES / "worker_fixed.c").read_text()
    assert (fix.function, fix.lines_added, fix.compiled) == ("controller", 1, None)
    # AND re-analysis of the patched file finds nothing left
    assert fix.verified_by_analysis is True
    assert fix.diff.startswith("--- a/worker/worker.c\n+++ b/worker/worker.c\n")
    assert "+        free(buffer);\n" in fix.diff


@needs_git
def test_worker_fix_diff_applies_with_git(tmp_path: Path) -> None:
    # GIVEN the worker fix
    source = (FIXTURES / "worker.c").read_text()
    fix = fix_for(source, "worker/worker.c")
    assert fix is not None
    # WHEN git applies the diff to the original in a real repository
    applied = git_apply(tmp_path, "worker/worker.c", source, fix.diff)
    # THEN the file equals the patched text
    assert applied == fix.patched


@needs_cc
def test_worker_fix_compiles() -> None:
    # GIVEN the worker fix
    fix = fix_for((FIXTURES / "worker.c").read_text(), "worker.c")
    assert fix is not None
    # WHEN compile-checked
    verified = verify_fix(fix)
    # THEN it compiles, and the note says so after the analysis note
    assert verified.compiled is True
    assert verified.verification_notes[: len(fix.verification_notes)] == fix.verification_notes
    assert "compiles" in verified.verification_notes[-1]
    assert fix.compiled is None  # the original is untouched (frozen copy)


@needs_git
def test_early_return_fix_goes_inside_the_error_block(tmp_path: Path) -> None:
    # GIVEN a leak at `return -2;`
    source = (FIXTURES / "early_return.c").read_text()
    # WHEN fixed
    fix = fix_for(source, "early_return.c")
    # THEN free(copy); is inserted just before that return, with the block's indentation
    assert fix is not None
    lines = fix.patched.splitlines()
    assert lines[9:11] == ["        free(copy);", "        return -2;"]
    assert fix.verified_by_analysis is True
    assert git_apply(tmp_path, "early_return.c", source, fix.diff) == fix.patched


@needs_git
def test_file_without_final_newline_and_crlf_still_applies(tmp_path: Path) -> None:
    # GIVEN a CRLF file, without a final newline, whose last use is its last statement line
    source = ("#include <stdlib.h>\r\n#include <string.h>\r\nvoid f(void) {\r\n"
              "    while (1) {\r\n        char *p = malloc(8);\r\n        memset(p, 0, 8); }\r\n}")
    # WHEN fixed
    fix = fix_for(source, "crlf.c")
    # THEN the inserted line uses CRLF and the diff applies with git
    assert fix is not None
    assert "        memset(p, 0, 8); }\r\n        free(p);\r\n" in fix.patched
    assert git_apply(tmp_path, "crlf.c", source, fix.diff) == fix.patched


def test_fix_in_one_branch_only_is_not_verified() -> None:
    # GIVEN a leak at the end of f whose proposed fix line sits inside one branch
    source = ("#include <stdlib.h>\n#include <stdio.h>\nvoid f(int x) {\n    char *p = malloc(4);\n"
              "    if (x) {\n        puts(p);\n    }\n}\n")
    finding = analyze_text(source, "branch.c").findings[0]
    inside_branch = LeakFinding(**{**finding.__dict__, "fix_line": 6})
    # WHEN a fix is synthesised there
    fix = synthesize_fix(source, "branch.c", inside_branch, lambda t: analyze_text(t, "branch.c"))
    # THEN it is produced but re-analysis still sees the leak on the x == 0 path
    assert fix is not None
    assert fix.verified_by_analysis is False
    assert any("still reports leak" in note for note in fix.verification_notes)


def test_fix_that_double_frees_is_not_verified() -> None:
    # GIVEN p freed on one branch and leaked on the other; a free after the if would double-free
    source = ("#include <stdlib.h>\nvoid f(int x) {\n    char *p = malloc(4);\n    if (x) {\n"
              "        free(p);\n    }\n    x++;\n}\n")
    finding = analyze_text(source, "df.c").findings[0]
    after_if = LeakFinding(**{**finding.__dict__, "fix_line": 6})
    # WHEN the fix is forced after the if
    fix = synthesize_fix(source, "df.c", after_if, lambda t: analyze_text(t, "df.c"))
    # THEN re-analysis rejects it (double free on the x != 0 path)
    assert fix is not None and fix.verified_by_analysis is False


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("void f(int x) {\n    if (x)\n        g(p);\n}\n", 3),  # brace-less if body
        ("int f(void) {\n    return g(p);\n}\n", 2),  # after a return: dead code
        ("void f(void) {\n    g(p,\n      1);\n}\n", 2),  # middle of a statement
        ("void f(void) {\n#if X\n    g(p);\n#endif\n}\n", 2),  # a preprocessor line
        ("void f(void) {\n    g(p);\n}\n", 9),  # beyond the file
    ],
)
def test_unsafe_insertion_points_give_no_fix(source: str, line: int) -> None:
    # GIVEN a finding whose fix line is unsafe to insert after
    finding = LeakFinding(file="u.c", line=1, function="f", kind=FindingKind.LEAK,
                          message="m", variable="p", alloc_line=1, fix_line=line)
    # WHEN a fix is requested
    fix = synthesize_fix(source, "u.c", finding, lambda _text: AnalysisResult())
    # THEN there is none
    assert fix is None


def test_findings_without_fix_line_or_not_leaks_give_no_fix() -> None:
    # GIVEN a real finding with no safe fix line (freed on one branch only) and a double free
    source = ("#include <stdlib.h>\nvoid f(int x) {\n    char *p = malloc(4);\n    if (x) {\n"
              "        free(p);\n    }\n}\nvoid g(void) {\n    char *q = malloc(1);\n    free(q);\n"
              "    free(q);\n}\n")
    findings = analyze_text(source, "n.c").findings
    assert {f.kind for f in findings} == {FindingKind.LEAK, FindingKind.DOUBLE_FREE}
    # WHEN fixes are requested THEN none is produced
    for finding in findings:
        assert synthesize_fix(source, "n.c", finding, lambda t: analyze_text(t, "n.c")) is None


def test_unified_diff_of_equal_texts_is_empty() -> None:
    # GIVEN identical texts WHEN diffed THEN the diff is empty
    assert unified_diff("a\n", "a\n", "x.c") == ""


@needs_cc
def test_compile_check_reports_errors_with_the_given_name() -> None:
    # GIVEN a source with a type error
    ok, note = compile_check("int f(void) { return undeclared_name; }\n", "src/bad.c")
    # THEN it does not compile and the note names the file as given, not the temporary copy
    assert ok is False
    assert "src/bad.c" in note or "bad.c" in note
    assert "/tmp" not in note
