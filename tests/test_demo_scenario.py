"""The whole demo story: culprit deployed, first OOM kill pages once, merging the fix flattens memory."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from analysis.model import Fix, IncidentStatus, PullRequest, TimelineKind
from tui.sources.base import SourceError
from tui.sources.demo import DemoScenario

MIB = 1024 * 1024


def git(repo: Path, *args: str) -> str:
    """Plain git, independent of the code under test."""
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=Sam Okafor",
                           "-c", "user.email=sam@example.com", *args],
                          capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def scenario(tmp_path: Path) -> Iterator[DemoScenario]:
    scenario = DemoScenario(tmp_path / "state", speed=10.0)
    try:
        scenario.start()
        yield scenario
    finally:
        scenario.stop()


def open_fix_branch(repo: Path, branch: str) -> str:
    """Commit worker.c as it was before the culprit on ``branch``, cut from main; return its tip."""
    main = git(repo, "rev-parse", "main")
    git(repo, "checkout", "-q", "-b", branch, main)
    (repo / "worker.c").write_text(git(repo, "show", f"{main}~1:worker.c") + "\n")
    git(repo, "commit", "-q", "-am", "Free buffer at the end of each controller iteration")
    tip = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    return tip


def test_first_oom_kill_triggers_exactly_one_incident(scenario: DemoScenario) -> None:
    # GIVEN the demo started at speed 10 with main's tip deployed
    main = git(scenario.repo_path, "rev-parse", "main")

    # WHEN the incident fires and the worker has been killed at least twice
    incident = scenario.wait_for_incident(timeout=20)
    workload = scenario.workload
    assert workload.wait_until(lambda: len(workload.oom_kills()) >= 2, timeout=20)

    # THEN only one incident was opened, naming the container and pod, and paging the primary
    assert [i.id for i in scenario.incidents.open_incidents()] == [incident.id]
    assert incident.status is IncidentStatus.TRIGGERED
    info = workload.describe()
    assert incident.title == f"OOMKilled: {info.container} in {info.pod} (exit 137, limit 64Mi)"
    entries = scenario.incidents.log_entries(incident.id)
    assert "Sam Okafor" in entries[-1].summary
    assert scenario.incidents.on_call(incident.id).team == "Ads Platform"
    # AND the workload reports the termination like Kubernetes, and the culprit as deployed
    state = workload.container_state()
    assert state.last_termination is not None
    assert (state.last_termination.reason, state.last_termination.exit_code) == ("OOMKilled", 137)
    assert state.pod == info.pod and state.container == "worker-container"
    assert state.limit_bytes == 64 * MIB
    assert [d.sha for d in workload.deployments()] == [main]
    assert (info.namespace, info.environment) == ("demo", "local demo process (no cluster)")
    kinds = {e.kind for e in workload.events()}
    assert {TimelineKind.DEPLOYMENT, TimelineKind.OOM_KILL, TimelineKind.BACKOFF, TimelineKind.RESTART} <= kinds


def test_merging_the_fix_lands_a_merge_commit_and_memory_flattens(scenario: DemoScenario) -> None:
    # GIVEN the incident and a fix PR recorded in the store for it
    incident = scenario.wait_for_incident(timeout=20)
    repo = scenario.repo_path
    culprit = git(repo, "rev-parse", "main")
    tip = open_fix_branch(repo, f"incident/{incident.id}-fix")
    pr = scenario.store.record_pr(incident.id, PullRequest(
        number=0, title="Free buffer in controller loop", body="", branch=f"incident/{incident.id}-fix",
        base="main", head_sha=tip))

    # WHEN the PR is merged
    merged = scenario.merge_pr(pr)

    # THEN main is a merge commit of the culprit and the fix, named like GitHub's, with the fix's tree
    main = git(repo, "rev-parse", "main")
    assert git(repo, "rev-parse", "main^1", "main^2").splitlines() == [culprit, tip]
    assert git(repo, "log", "-1", "--format=%s", "main") == \
        f"Merge pull request #{pr.number} from ads-demo/incident/{incident.id}-fix"
    assert git(repo, "rev-parse", "main^{tree}") == git(repo, "rev-parse", f"{tip}^{{tree}}")
    assert git(repo, "status", "--porcelain") == ""  # the checkout followed main
    # AND the merge is recorded in the store and on the timeline, and main's new tip is deployed
    assert merged.merged_at is not None
    assert scenario.store.find_pr(incident.id).merged_at == merged.merged_at
    workload = scenario.workload
    assert any(e.kind is TimelineKind.PR_MERGED and f"#{pr.number}" in e.summary for e in workload.events())
    deployment = workload.deployments()[-1]
    assert deployment.sha == main
    # AND after 40 samples of the new pod memory is flat, well below the limit, with no new kill
    kills_before = len(workload.oom_kills())
    assert workload.wait_until(lambda: len(workload.memory_since(deployment.at)) >= 40, timeout=20)
    assert max(s.bytes for s in workload.memory_since(deployment.at)) < 32 * MIB
    assert len(workload.oom_kills()) == kills_before
    assert workload.container_state().state == "running"


def test_code_source_sees_the_demo_fix_pr_as_merged(scenario: DemoScenario) -> None:
    # GIVEN the local git code source over the demo repo, numbering PRs in the demo store
    git_local = pytest.importorskip("tui.sources.git_local")
    code = git_local.LocalGitCodeSource(scenario.repo_path, default_branch=scenario.default_branch,
                                        pr_registry=scenario.store)
    incident = scenario.wait_for_incident(timeout=20)
    culprit = git(scenario.repo_path, "rev-parse", "main")
    before = code.file_at(culprit, "worker.c")
    fixed = code.file_at(code.parent_of(culprit), "worker.c")
    fix = Fix(file="worker.c", function="controller", description="insert free(buffer);",
              original=before, patched=fixed, diff="", lines_added=1, verified_by_analysis=True)

    # WHEN the code source opens the fix PR and the demo merges it
    pr = code.open_fix_pr(incident, fix, "Free buffer in controller loop", "Fixes the OOM kills")
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    scenario.merge_pr(pr)

    # THEN the store numbered the PR, and the code source lists it as merged in the window
    assert scenario.store.find_pr(incident.id).number == pr.number >= 42
    merged = code.merged_pull_requests(start, datetime.now(timezone.utc) + timedelta(minutes=1))
    assert [(m.number, m.branch) for m in merged] == [(pr.number, pr.branch)]


def test_merge_refuses_when_main_has_moved(scenario: DemoScenario) -> None:
    # GIVEN a fix branch, after which someone else lands a commit on main
    incident = scenario.wait_for_incident(timeout=20)
    repo = scenario.repo_path
    tip = open_fix_branch(repo, "incident/late-fix")
    git(repo, "commit", "-q", "--allow-empty", "-m", "someone else's change")
    moved = git(repo, "rev-parse", "main")
    pr = scenario.store.record_pr(incident.id, PullRequest(
        number=0, title="fix", body="", branch="incident/late-fix", base="main", head_sha=tip))

    # WHEN merging THEN it is refused and main is untouched
    with pytest.raises(SourceError, match="rebase"):
        scenario.merge_pr(pr)
    assert git(repo, "rev-parse", "main") == moved
