"""The demo repository is a real git history shaped like ads-demo-service's."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from tui.sources.demo.repo_builder import build_demo_repository


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` the plain way, independently of the code under test."""
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def controller_body(source: str) -> str:
    """The text of ``controller()``'s body, found by brace matching."""
    start = source.index("void controller() {") + len("void controller() {")
    depth, end = 1, start
    while depth:
        depth += {"{": 1, "}": -1}.get(source[end], 0)
        end += 1
    return source[start:end]


@pytest.fixture
def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def test_culprit_is_head_and_deletes_free_from_the_controller_loop(tmp_path: Path, now: datetime) -> None:
    # GIVEN a freshly built demo repository
    repo = build_demo_repository(tmp_path / "repo", now)

    # WHEN we look at the tip of main and its parent
    head = git(repo.path, "rev-parse", "refs/heads/main")
    diff = git(repo.path, "show", "--format=", "--unified=0", head)
    before = git(repo.path, "show", f"{head}~1:worker.c")
    after = git(repo.path, "show", f"{head}:worker.c")

    # THEN the deployed commit is main's tip, it only touches worker.c and deletes one line:
    # the free(buffer); inside controller()
    assert repo.deployed_sha == head
    assert repo.default_branch == "main"
    assert git(repo.path, "show", "--name-only", "--format=", head).splitlines() == ["worker.c"]
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert [line.strip() for line in changed] == ["-        free(buffer);".strip()]
    assert "free(buffer);" in controller_body(before)
    assert "free(buffer);" not in controller_body(after)
    assert "buffer[i] = 1;" in after  # pages are written, so the leak is resident


def test_history_has_two_readme_commits_and_the_culprit_in_the_last_day(tmp_path: Path, now: datetime) -> None:
    # GIVEN a freshly built demo repository
    repo = build_demo_repository(tmp_path / "repo", now)

    # WHEN we list commits with their author, committer date and files
    log = git(repo.path, "log", "--format=%x00%H|%an|%ae|%ct|%s", "--name-only", "main")
    commits = []
    for chunk in filter(None, log.split("\x00")):
        header, *files = chunk.strip().splitlines()
        sha, author, email, ct, subject = header.split("|", 4)
        at = datetime.fromtimestamp(int(ct), timezone.utc)
        commits.append((sha, author, email, at, subject, [f for f in files if f]))

    # THEN three commits are from the last 24 h: two README-only ones by two different authors,
    # and the culprit 40-90 minutes ago by a third author with an unhelpful message
    recent = [c for c in commits if now - c[3] <= timedelta(hours=24)]
    older = [c for c in commits if now - c[3] > timedelta(hours=24)]
    assert len(recent) == 3
    culprit, *readmes = recent
    assert timedelta(minutes=40) <= now - culprit[3] <= timedelta(minutes=90)
    assert culprit[4] == "tidy up controller loop"
    assert all(c[5] == ["README.md"] for c in readmes)
    assert len({culprit[1], readmes[0][1], readmes[1][1]}) == 3
    assert all("@" in c[2] for c in commits)
    # AND the older history spans days and builds the service up file by file
    assert len(older) >= 4
    assert all(now - c[3] >= timedelta(days=2) for c in older)
    touched = {f for c in older for f in c[5]}
    assert {"worker.c", "Dockerfile", "infra/kubernetes/deployment.yaml", "README.md"} <= touched


def test_manifest_and_dockerfile_match_the_reference_service(tmp_path: Path, now: datetime) -> None:
    # GIVEN a freshly built demo repository
    repo = build_demo_repository(tmp_path / "repo", now)

    # WHEN we read the manifest and the Dockerfile at main
    manifest = yaml.safe_load(git(repo.path, "show", "main:infra/kubernetes/deployment.yaml"))
    dockerfile = git(repo.path, "show", "main:Dockerfile")

    # THEN names, labels, image and limits are those of ads-demo-service
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    assert manifest["kind"] == "Deployment"
    assert manifest["metadata"]["name"] == "worker-deployment"
    assert manifest["spec"]["template"]["metadata"]["labels"] == {"app": "worker-app"}
    assert container["name"] == "worker-container"
    assert container["image"] == "worker:latest"
    assert container["resources"]["limits"] == {"memory": "64Mi", "cpu": "250m"}
    assert "gcc" in dockerfile and "worker.c" in dockerfile


def test_second_call_reuses_and_a_moved_main_is_rebuilt(tmp_path: Path, now: datetime) -> None:
    # GIVEN a built repository
    first = build_demo_repository(tmp_path / "repo", now)

    # WHEN it is built again a minute later
    second = build_demo_repository(tmp_path / "repo", now + timedelta(minutes=1))

    # THEN the same history is reused
    assert first.created and not second.created
    assert second.deployed_sha == first.deployed_sha

    # WHEN main is moved (as merging the fix does) and the demo starts again
    git(first.path, "-c", "user.name=T", "-c", "user.email=t@example.com",
        "commit", "--allow-empty", "-q", "-m", "moved")
    third = build_demo_repository(tmp_path / "repo", now + timedelta(minutes=2))

    # THEN the story is rebuilt from scratch so it can be replayed
    assert third.created
    assert git(third.path, "log", "-1", "--format=%s", "main") == "tidy up controller loop"


def test_build_ignores_the_users_git_config(tmp_path: Path, now: datetime,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a user whose global git config names the default branch "trunk" and signs commits
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = trunk\n[commit]\n\tgpgsign = true\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)

    # WHEN the demo repository is built
    repo = build_demo_repository(tmp_path / "repo", now)

    # THEN it still has main, with authors set per commit rather than from any config
    assert git(repo.path, "symbolic-ref", "HEAD") == "refs/heads/main"
    assert len(set(git(repo.path, "log", "--format=%an", "main").splitlines())) >= 4
