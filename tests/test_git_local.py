"""LocalGitCodeSource against real repositories built with ``git`` in a temporary directory."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from analysis.model import Fix, Incident, IncidentStatus
from tui.sources.base import NotFoundError, SourceError
from tui.sources.git_local import InMemoryPullRequestRegistry, LocalGitCodeSource

BASE = datetime(2024, 6, 2, 8, 0, tzinfo=timezone.utc)

POOL_V1 = """\
#include <stdlib.h>

void pump(void) {
    while (1) {
        char *slot = malloc(1 << 20);
        consume(slot);
        free(slot);
    }
}
"""
POOL_V2 = POOL_V1.replace("        free(slot);\n", "")


class GitRepo:
    """A scratch repository whose commits get exactly the dates asked for."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        """Run git here, isolated from the machine's git config, and return stdout."""
        full = {
            **os.environ,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "LC_ALL": "C",
            **(env or {}),
        }
        return subprocess.run(
            ["git", "-C", str(self.path), *args],
            env=full,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def commit(
        self,
        message: str,
        when: datetime,
        files: dict[str, str | None],
        offset: str = "+02:00",
        author: str = "Ana Dev",
    ) -> str:
        """Write (or delete, for ``None``) files and commit them at ``when`` in zone ``offset``."""
        for name, text in files.items():
            target = self.path / name
            if text is None:
                self.git("rm", "-q", "--", name)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            self.git("add", "--", name)
        sign, hours, minutes = offset[0], int(offset[1:3]), int(offset[4:6])
        shift = timedelta(hours=hours, minutes=minutes) * (1 if sign == "+" else -1)
        stamp = (when + shift).strftime("%Y-%m-%dT%H:%M:%S") + offset
        env = {
            "GIT_AUTHOR_NAME": author,
            "GIT_AUTHOR_EMAIL": "ana@example.org",
            "GIT_COMMITTER_NAME": author,
            "GIT_COMMITTER_EMAIL": "ana@example.org",
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
        }
        self.git("commit", "-q", "--allow-empty", "-m", message, env=env)
        return self.git("rev-parse", "HEAD").strip()

    def merge(self, branch: str, message: str, when: datetime) -> str:
        """Merge ``branch`` into the current branch with ``--no-ff`` at ``when`` (UTC)."""
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        env = {
            "GIT_AUTHOR_NAME": "Bot",
            "GIT_AUTHOR_EMAIL": "bot@example.org",
            "GIT_COMMITTER_NAME": "Bot",
            "GIT_COMMITTER_EMAIL": "bot@example.org",
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
        }
        self.git("merge", "-q", "--no-ff", "-m", message, branch, env=env)
        return self.git("rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path) -> tuple[GitRepo, dict[str, str]]:
    """Three commits: a root three days back, the free removal, a README edit."""
    git = GitRepo(tmp_path / "service")
    shas = {
        "root": git.commit(
            "Add pump", BASE - timedelta(days=3), {"src/pool.c": POOL_V1, "README.md": "# Pump\n"}
        ),
        "leak": git.commit(
            "Reuse slots\n\nNo need to free every time.",
            BASE - timedelta(hours=2),
            {"src/pool.c": POOL_V2},
            offset="-05:00",
        ),
        "docs": git.commit(
            "Describe pump",
            BASE - timedelta(minutes=30),
            {"README.md": "# Pump\n\nPumps.\n", "docs/notes ü.md": "ü\n"},
        ),
    }
    return git, shas


def test_commits_in_the_window_come_newest_first_with_utc_dates_and_files(repo) -> None:
    # GIVEN the repository, with commits recorded in +02:00 and -05:00
    git, shas = repo
    source = LocalGitCodeSource(git.path)
    # WHEN the last day is asked for
    commits = source.commits(BASE - timedelta(hours=24), BASE)
    # THEN only the two recent commits come back, newest first, dates converted to UTC
    assert [c.sha for c in commits] == [shas["docs"], shas["leak"]]
    leak = commits[1]
    assert leak.committed_at == BASE - timedelta(hours=2)
    assert leak.committed_at.utcoffset() == timedelta(0)
    assert leak.subject == "Reuse slots" and leak.author == "Ana Dev"
    assert leak.message == "Reuse slots\n\nNo need to free every time."
    # AND the file change has its status, counts and a hunk-only patch with the removed free
    (change,) = leak.files
    assert (change.path, change.status, change.additions, change.deletions) == (
        "src/pool.c",
        "modified",
        0,
        1,
    )
    assert change.patch.startswith("@@ ") and "\n-        free(slot);\n" in change.patch
    # AND a non-ASCII path with a space is not quoted
    assert {f.path for f in commits[0].files} == {"README.md", "docs/notes ü.md"}


def test_root_commit_lists_added_files(repo) -> None:
    # GIVEN the root commit three days back
    git, shas = repo
    (root,) = LocalGitCodeSource(git.path).commits(
        BASE - timedelta(days=4), BASE - timedelta(days=2)
    )
    # THEN its files are added, against the empty tree
    assert root.sha == shas["root"]
    assert {(f.path, f.status, f.additions) for f in root.files} == {
        ("src/pool.c", "added", POOL_V1.count("\n")),
        ("README.md", "added", 1),
    }


def test_file_at_and_parent_of(repo) -> None:
    # GIVEN the repository
    git, shas = repo
    source = LocalGitCodeSource(git.path)
    # THEN a file reads as it was at each commit, and parents follow history
    assert source.file_at(shas["root"], "src/pool.c") == POOL_V1
    assert source.file_at(shas["leak"][:10], "src/pool.c") == POOL_V2
    assert source.parent_of(shas["leak"]) == shas["root"]
    assert source.parent_of(shas["root"]) is None


def test_missing_things_raise_clear_errors(repo, tmp_path: Path) -> None:
    # GIVEN the repository and a plain directory
    git, shas = repo
    source = LocalGitCodeSource(git.path)
    plain = tmp_path / "plain"
    plain.mkdir()
    # THEN each failure names what is missing
    with pytest.raises(NotFoundError, match=r"absent\.c does not exist"):
        source.file_at(shas["leak"], "absent.c")
    with pytest.raises(NotFoundError, match="unknown commit"):
        source.file_at("0" * 40, "src/pool.c")
    with pytest.raises(SourceError, match="not a git repository"):
        LocalGitCodeSource(plain)
    with pytest.raises(NotFoundError, match="branch 'trunk' does not exist"):
        LocalGitCodeSource(git.path, default_branch="trunk").commits(BASE - timedelta(days=9), BASE)


def test_merged_pull_requests_come_from_github_merge_commits(repo) -> None:
    # GIVEN a feature branch merged with GitHub's merge message an hour before BASE
    git, _ = repo
    git.git("checkout", "-q", "-b", "feature/faster")
    head = git.commit("Speed up", BASE - timedelta(hours=1, minutes=10), {"src/fast.c": "int f;\n"})
    git.git("checkout", "-q", "main")
    git.merge(
        "feature/faster",
        "Merge pull request #17 from acme/feature/faster\n\nFaster pump",
        BASE - timedelta(hours=1),
    )
    # WHEN merged PRs of the last day are asked for
    (pr,) = LocalGitCodeSource(git.path).merged_pull_requests(BASE - timedelta(hours=24), BASE)
    # THEN number, head branch, title, merge time and head commit come from the merge
    assert (pr.number, pr.branch, pr.title, pr.base) == (
        17,
        "feature/faster",
        "Faster pump",
        "main",
    )
    assert pr.merged_at == BASE - timedelta(hours=1) and pr.head_sha == head


def _incident() -> Incident:
    return Incident(
        "PQ7X", 88, "OOMKilled pump", "pump-service", "high", IncidentStatus.ACKNOWLEDGED, BASE
    )


def _fix() -> Fix:
    return Fix(
        "src/pool.c", "pump", "insert free(slot);", POOL_V2, POOL_V1, "--- a\n+++ b\n", 1, True
    )


def _snapshot(git: GitRepo) -> dict[str, str]:
    """What a fix PR must never change: HEAD, main, the index and the work tree."""
    return {
        "head": git.git("symbolic-ref", "HEAD").strip(),
        "main": git.git("rev-parse", "refs/heads/main").strip(),
        "status": git.git("status", "--porcelain", "--untracked-files=all"),
        "index": git.git("ls-files", "-s"),
        "worktree": (git.path / "src/pool.c").read_text(encoding="utf-8"),
    }


def test_open_fix_pr_creates_the_branch_without_touching_main_head_or_work_tree(
    repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the repository (no user identity configured anywhere) and a snapshot of its state
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    git, shas = repo
    before = _snapshot(git)
    source = LocalGitCodeSource(git.path, pr_registry=InMemoryPullRequestRegistry(first=40))
    # WHEN a fix PR is opened
    pr = source.open_fix_pr(_incident(), _fix(), "Fix leak in pump", "Frees slot.")
    # THEN the branch holds one new commit on top of main with the patched file
    branch_tip = git.git("rev-parse", "refs/heads/incident/PQ7X-fix").strip()
    assert pr.head_sha == branch_tip and pr.branch == "incident/PQ7X-fix" and pr.base == "main"
    assert git.git("rev-parse", f"{branch_tip}^").strip() == shas["docs"]
    assert git.git("show", f"{branch_tip}:src/pool.c") == POOL_V1
    assert git.git("diff", "--name-only", shas["docs"], branch_tip).split() == ["src/pool.c"]
    assert git.git("log", "-1", "--format=%an <%ae>|%s", branch_tip).strip() == (
        "incident-tui <incident-tui@localhost>|Fix leak in pump"
    )
    # AND the registry numbered it, and nothing else in the repository moved
    assert (pr.number, pr.reused) == (40, False)
    assert _snapshot(git) == before


def test_open_fix_pr_is_idempotent_across_calls_and_processes(repo) -> None:
    # GIVEN a fix PR already opened through one source
    git, _ = repo
    first = LocalGitCodeSource(git.path).open_fix_pr(_incident(), _fix(), "Fix", "Body")
    # WHEN the same source is asked again, and a fresh source (new registry) too
    again = LocalGitCodeSource(git.path, pr_registry=None)
    second = again.open_fix_pr(_incident(), _fix(), "Fix", "Body")
    third = again.open_fix_pr(_incident(), _fix(), "Fix", "Body")
    # THEN the existing branch is reused: same head, flagged reused, one number per registry
    assert second.reused and third.reused
    assert first.head_sha == second.head_sha == third.head_sha
    assert second.number == third.number
    assert git.git("branch", "--list", "incident/*").split() == ["incident/PQ7X-fix"]
    assert again.find_fix_pr(_incident()) == third


def test_a_fix_identical_to_main_is_refused(repo) -> None:
    # GIVEN a "fix" whose patched text is what main already has
    git, _ = repo
    same = Fix("src/pool.c", "pump", "noop", POOL_V2, POOL_V2, "", 0, False)
    # THEN no empty commit is made and the error says why
    with pytest.raises(SourceError, match="already has this version"):
        LocalGitCodeSource(git.path).open_fix_pr(_incident(), same, "t", "b")
    assert git.git("branch", "--list", "incident/*") == ""


def test_one_log_gives_each_commit_its_own_renames_deletions_and_patches(tmp_path: Path) -> None:
    # GIVEN a history with an add, a rename with an edit, a deletion, an empty commit and a merge
    git = GitRepo(tmp_path / "shapes")
    git.commit("root", BASE - timedelta(hours=10), {"a.c": POOL_V1, "odd name.txt": "x\n"})
    renamed = git.commit("rename", BASE - timedelta(hours=9),
                         {"a.c": None, "src/b.c": POOL_V1 + "/* moved */\n"})
    deleted = git.commit("delete", BASE - timedelta(hours=8), {"odd name.txt": None})
    empty = git.commit("nothing", BASE - timedelta(hours=7), {})
    git.git("checkout", "-q", "-b", "topic")
    git.commit("topic work", BASE - timedelta(hours=6), {"src/b.c": POOL_V2 + "/* moved */\n"})
    git.git("checkout", "-q", "main")
    merge = git.merge("topic", "Merge pull request #7 from ana/topic", BASE - timedelta(hours=5))
    source = LocalGitCodeSource(git.path)
    # WHEN the window's commits are read
    commits = {c.sha: c for c in source.commits(BASE - timedelta(hours=9, minutes=30), BASE)}
    # THEN each has exactly its files, diffed against its first parent, as `diff-tree` says
    assert [(f.path, f.status) for f in commits[renamed].files] == [("src/b.c", "renamed")]
    assert [(f.path, f.status) for f in commits[deleted].files] == [("odd name.txt", "removed")]
    assert commits[empty].files == ()
    (merged,) = commits[merge].files
    assert (merged.path, merged.status, merged.deletions) == ("src/b.c", "modified", 1)
    assert "-        free(slot);" in merged.patch
    assert len(commits) == 4  # the topic commit is not on main's first-parent line
    assert source.parent_of(merge) == empty


def test_file_reads_share_one_batch_process_and_survive_its_death(repo) -> None:
    # GIVEN a source that has read a file once
    git, shas = repo
    source = LocalGitCodeSource(git.path)
    assert source.file_at(shas["leak"], "src/pool.c") == POOL_V2
    process = source._git._batch
    assert process is not None
    # WHEN the batch process dies and more files, a directory and a missing path are read
    process.kill()
    process.wait()
    # THEN reads go on (a new process), and what is not a file is NotFoundError
    assert source.file_at(shas["root"], "src/pool.c") == POOL_V1
    with pytest.raises(NotFoundError):
        source.file_at(shas["root"], "src")
    with pytest.raises(NotFoundError):
        source.file_at(shas["root"], "no/such.c")
    with pytest.raises(NotFoundError):
        source.file_at(shas["root"], "bad\nname.c")
    assert source._git._batch is not process
