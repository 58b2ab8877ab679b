"""The root-cause pipeline on real git repositories: ranking, fix, and the fallback for unparsable C."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.test_git_local import BASE, GitRepo
from tui.investigation import investigate
from tui.sources.git_local import LocalGitCodeSource


POOL_V1 = """\
#include <stdlib.h>
#include <string.h>

static void consume(char *slot) {
    memset(slot, 1, 16);
}

void pump(void) {
    while (1) {
        char *slot = malloc(1 << 20);
        consume(slot);
        free(slot);
    }
}
"""
POOL_V2 = POOL_V1.replace("        free(slot);\n", "")


def test_other_repository_other_names_culprit_ranked_and_fixed(tmp_path: Path) -> None:
    # GIVEN a repository unlike the demo: pool.c in src/, the free removed from pump()
    repo = GitRepo(tmp_path / "svc")
    repo.commit("import", BASE - timedelta(days=3), {"src/pool.c": POOL_V1, "README.md": "svc\n"})
    culprit = repo.commit("refactor pump", BASE - timedelta(hours=2), {"src/pool.c": POOL_V2})
    repo.commit("docs", BASE - timedelta(hours=1), {"README.md": "svc\nmore\n"})
    code = LocalGitCodeSource(repo.path)
    # WHEN the pipeline runs for an OOM at BASE
    result = investigate(code, first_oom=BASE, deployments=[], build_globs=("src/**/*.c",))
    # THEN the commit that removed the free ranks first and carries the finding
    assert result.suspects[0].commit.sha == culprit
    assert result.suspects[0].findings[0].function == "pump"
    # AND the fix frees slot in src/pool.c, verified and compiled, and the diff is annotated
    assert result.fix is not None and result.fix.file == "src/pool.c"
    assert "+        free(slot);" in result.fix.diff and result.fix.verified_by_analysis
    assert result.top_diff is not None and result.top_diff.annotated_count >= 2
    assert result.diagnostics == ()


def test_unparsable_c_falls_back_to_the_diff_heuristic_and_says_so(tmp_path: Path) -> None:
    # GIVEN a culprit whose C file pycparser cannot parse (a syntax error on line 6)
    broken = POOL_V2.replace("consume(slot);", "consume(slot)  /* missing semicolon */")
    repo = GitRepo(tmp_path / "svc")
    repo.commit("import", BASE - timedelta(days=3), {"pool.c": POOL_V1})
    culprit = repo.commit("refactor pump", BASE - timedelta(hours=2), {"pool.c": broken})
    repo.commit("docs", BASE - timedelta(hours=1), {"README.md": "x\n"})
    # WHEN the pipeline runs
    result = investigate(LocalGitCodeSource(repo.path), first_oom=BASE, deployments=[], build_globs=("*.c",))
    # THEN nothing raises, the culprit still ranks first on the removed free
    assert result.suspects[0].commit.sha == culprit
    assert any("free(slot)" in reason.label for reason in result.suspects[0].reasons)
    # AND the diagnostic names the file and line, and the note says the heuristic was used
    assert result.diagnostics and result.diagnostics[0].file == "pool.c" and result.diagnostics[0].line
    assert "diff-only heuristic" in result.notes[0]
    assert result.fix is None


def test_only_the_functions_a_commit_touches_are_analysed(tmp_path: Path) -> None:
    # GIVEN a file with an old leak in legacy(), and a recent commit that only edits its header comment
    legacy = "\nvoid legacy(void) {\n    char *kept = malloc(8);\n    kept[0] = 1;\n}\n"
    repo = GitRepo(tmp_path / "svc")
    repo.commit("import", BASE - timedelta(days=3), {"pool.c": POOL_V1 + legacy})
    touched = repo.commit("reword header", BASE - timedelta(hours=2), {"pool.c": "/* pool */\n" + POOL_V1 + legacy})
    # WHEN the pipeline runs
    result = investigate(LocalGitCodeSource(repo.path), first_oom=BASE, deployments=[], build_globs=("*.c",))
    # THEN the comment-only commit carries no finding, and its diff shows none of legacy()'s leak,
    # because no function it touched was analysed
    suspect = next(s for s in result.suspects if s.commit.sha == touched)
    assert suspect.findings == ()
    assert result.diffs[touched].findings == ()


def test_a_hunk_header_claiming_a_billion_lines_costs_nothing() -> None:
    from tui.investigation import _touched_functions

    text = "int f(void)\n{\n    return 0;\n}\n"
    patch = "@@ -1 +1,999999999 @@\n+int f(void)\n+{\n+    return 0;\n+}\n"
    assert _touched_functions(text, "a.c", patch) == {"f"}


def test_a_busy_window_skips_only_analyses_that_could_not_change_the_top_suspect(tmp_path) -> None:
    from datetime import UTC, datetime, timedelta

    from analysis.correlation import finding_points
    from bench.perf_corpus import busy_repository
    from tui.investigation import NOT_ANALYSED, investigate
    from tui.sources.git_local import LocalGitCodeSource

    # GIVEN a repository with 600 commits in the window, 24 of them C changes, the culprit among them
    first_oom = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    culprit = busy_repository(tmp_path / "busy", first_oom, commits=600)
    code = LocalGitCodeSource(tmp_path / "busy", default_branch="main")
    # WHEN it is investigated with and without skipping
    quick = investigate(code, first_oom=first_oom, deployments=[], build_globs=("*.c",), window=timedelta(hours=24))
    full = investigate(code, first_oom=first_oom, deployments=[], build_globs=("*.c",), window=timedelta(hours=24),
                       exhaustive=True)
    # THEN both put the culprit first, with the same score and reasons
    assert quick.suspects[0].commit.sha == full.suspects[0].commit.sha == culprit
    assert quick.suspects[0] == full.suspects[0]
    # AND some analyses were skipped, each saying so, and none of those could have reached the top
    skipped = [s for s in quick.suspects if any(r.label == NOT_ANALYSED for r in s.reasons)]
    assert skipped
    scores = {s.commit.sha: s.score for s in full.suspects}
    assert all(scores[s.commit.sha] < full.suspects[0].score for s in skipped)
    assert all(finding_points(s.findings) == 0 for s in skipped)
