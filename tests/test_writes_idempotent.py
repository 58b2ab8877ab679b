"""Writes happen exactly once: a second press, a retry after a timeout whose request succeeded, or a
restart between two steps never makes a second acknowledgement, note, branch or PR.

Live cases run against the PagerDuty and GitHub fakes behind Prism; each assertion counts what the
fakes RECEIVED (``/__requests``) and HOLD (their state, read on the fake's own port), never what the
test did. ``answer_late`` makes a fake carry out a write and then answer after the client's (short)
timeout. Demo cases run on a real demo scenario: its SQLite store and git repository.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from analysis.findings import Fix
from analysis.model import Incident, IncidentStatus
from tui import operations
from tui.audit import AUDIT_FILE, read_audit
from tui.investigation import Investigation, investigate
from tui.session import SourceSet
from tui.sources.base import SourceError
from tui.sources.github import GitHubCodeSource
from tui.sources.pagerduty import PagerDutySource

# The plugins below are also imported for their constants: let pytest rewrite their asserts first.
pytest.register_assert_rewrite("tests.fixtures_live", "tests.fixtures_github")

from tests.conftest import DemoRun, wait_until
from tests.fixtures_github import (
    FIRST_OOM,
    OWNER,
    PREEXISTING_BRANCH_INCIDENT,
    REPOSITORY,
    WORKER_FIXED,
    WORKER_LEAKY,
    GitHubStack,
)
from tests.fixtures_github import TOKEN as GITHUB_TOKEN
from tests.fixtures_live import OPEN_INCIDENT, USER_TOKEN, PagerDutyStack
from tests.static_sources import StaticWorkload

pytest_plugins = ["tests.fixtures_live", "tests.fixtures_github"]

REPO_PATH = f"/repos/{REPOSITORY}"
"""Prefix of every repository route on the GitHub fake."""
BRANCH = f"incident/{OPEN_INCIDENT}-fix"
"""The fix branch of the open PagerDuty incident."""
SHORT_TIMEOUT = 3
"""Client timeout (seconds) in the late-answer cases."""
LATE = 8.0
"""How long the fake holds back its answer: longer than :data:`SHORT_TIMEOUT`."""
FIX = Fix("worker.c", "controller", "insert free(buffer); after its last use in the loop body",
          WORKER_LEAKY, WORKER_FIXED, "--- a/worker.c\n+++ b/worker.c\n", 1, True)
"""The fix for the GitHub seed's culprit: put the free back."""

SourceFactory = Callable[..., SourceSet]


def fix_investigation(fix: Fix = FIX) -> Investigation:
    """An investigation that produced ``fix`` (the write path under test needs nothing else)."""
    return Investigation(suspects=(), diffs={}, fix=fix, fix_suspect=None, diagnostics=(),
                         window_start=FIRST_OOM - timedelta(hours=24), first_oom=FIRST_OOM)


@pytest.fixture
async def live(pagerduty: PagerDutyStack, github: GitHubStack, tmp_path: Path) -> AsyncIterator[SourceFactory]:
    """Build live source sets on the two fakes; each call is a fresh process's worth of clients."""
    made: list[PagerDutySource] = []

    def make(*, timeout: float = 10, read_only: bool = False, from_email: str | None = None) -> SourceSet:
        incidents = PagerDutySource(pagerduty.url, USER_TOKEN, timeout=timeout, from_email=from_email)
        made.append(incidents)
        code = GitHubCodeSource(github.url, GITHUB_TOKEN, REPOSITORY, seconds_between_requests=0,
                                seconds_between_writes=0, retries=0, timeout=timeout)  # type: ignore[arg-type]
        return SourceSet(incidents, StaticWorkload("0" * 40), code, tmp_path / "state", mode="live",  # type: ignore[arg-type]
                         read_only=read_only)

    yield make
    for source in made:
        await source.aclose()


# -- what the fakes hold, read on their own ports (not through Prism, not through our client) ------

def pd_held(pagerduty: PagerDutyStack, path: str) -> Any:
    """A JSON document the PagerDuty fake serves now."""
    response = httpx.get(f"{pagerduty.fake_url}{path}", headers={"Authorization": f"Token token={USER_TOKEN}"},
                         timeout=10)
    response.raise_for_status()
    return response.json()


def pd_notes(pagerduty: PagerDutyStack, incident_id: str = OPEN_INCIDENT) -> list[str]:
    """The contents of the notes the fake holds for the incident."""
    return [note["content"] for note in pd_held(pagerduty, f"/incidents/{incident_id}/notes")["notes"]]


def pd_acknowledgements(pagerduty: PagerDutyStack, incident_id: str = OPEN_INCIDENT) -> list[Any]:
    """The acknowledgements the fake holds on the incident."""
    return pd_held(pagerduty, f"/incidents/{incident_id}")["incident"]["acknowledgements"]


def gh_pulls(github: GitHubStack, branch: str = BRANCH) -> list[Any]:
    """The pull requests (any state) the GitHub fake holds with head ``branch``."""
    response = httpx.get(f"{github.fake_url}{REPO_PATH}/pulls", params={"state": "all", "head": f"{OWNER}:{branch}"},
                         headers={"Authorization": f"token {GITHUB_TOKEN}"}, timeout=10)
    response.raise_for_status()
    return response.json()


def gh_fix_branches(github: GitHubStack) -> list[str]:
    """The fix branches (``refs/heads/incident/...``) the GitHub fake holds, but the seed's own."""
    seeded = f"refs/heads/incident/{PREEXISTING_BRANCH_INCIDENT}-fix"
    return [name for name in github.refs() if name.startswith("refs/heads/incident/") and name != seeded]


def received(stack: PagerDutyStack | GitHubStack, method: str, path: str) -> int:
    """How many ``method path`` requests the fake received."""
    return len(stack.requests(method, path))


def audit_results(sources: SourceSet, action: str) -> list[str]:
    """The results the audit log holds for ``action``, oldest first."""
    return [entry["result"] for entry in read_audit(Path(sources.state_dir) / AUDIT_FILE) if entry["action"] == action]


async def open_incident(sources: SourceSet) -> Incident:
    """The triggered incident, as the dashboard would hold it."""
    incident = await sources.incidents.incident(OPEN_INCIDENT)
    assert incident.status is IncidentStatus.TRIGGERED
    return incident


# -- acknowledge ---------------------------------------------------------------------------------

async def test_a_second_acknowledge_with_a_stale_incident_writes_nothing(
        live: SourceFactory, pagerduty: PagerDutyStack) -> None:
    # GIVEN a triggered incident, held (and never refreshed) by the caller
    sources = live()
    stale = await open_incident(sources)
    # WHEN it is acknowledged twice with that same stale copy (a second key press)
    first = await operations.acknowledge(sources, stale)
    second = await operations.acknowledge(sources, stale)
    # THEN PagerDuty received one PUT and holds one acknowledgement; both calls report it acknowledged
    assert received(pagerduty, "PUT", f"/incidents/{OPEN_INCIDENT}") == 1
    assert len(pd_acknowledgements(pagerduty)) == 1
    assert first.status is second.status is IncidentStatus.ACKNOWLEDGED
    assert audit_results(sources, "acknowledge") == ["ok", "reused"]


async def test_acknowledge_retried_after_a_timeout_that_succeeded_acknowledges_once(
        live: SourceFactory, pagerduty: PagerDutyStack) -> None:
    # GIVEN PagerDuty will carry out the acknowledgement but answer after the client's timeout
    sources = live(timeout=SHORT_TIMEOUT)
    stale = await open_incident(sources)
    pagerduty.control(answer_late={"method": "PUT", "path": f"/incidents/{OPEN_INCIDENT}", "seconds": LATE})
    # WHEN the acknowledgement times out
    with pytest.raises(SourceError, match="did not answer"):
        await operations.acknowledge(sources, stale)
    # THEN it did happen upstream
    assert len(pd_acknowledgements(pagerduty)) == 1
    # WHEN the user retries with the incident as the screen still shows it (triggered)
    result = await operations.acknowledge(sources, stale)
    # THEN no second PUT was sent and PagerDuty still holds one acknowledgement
    assert result.status is IncidentStatus.ACKNOWLEDGED
    assert received(pagerduty, "PUT", f"/incidents/{OPEN_INCIDENT}") == 1
    assert len(pd_acknowledgements(pagerduty)) == 1
    assert audit_results(sources, "acknowledge")[0].startswith("failed: PagerDuty")
    assert audit_results(sources, "acknowledge")[1] == "reused"


# -- the fix PR and its note ---------------------------------------------------------------------

async def test_two_concurrent_presses_open_one_branch_one_pr_and_one_note(
        live: SourceFactory, pagerduty: PagerDutyStack, github: GitHubStack) -> None:
    # GIVEN a triggered incident and an investigation with a fix
    sources = live()
    incident = await open_incident(sources)
    # WHEN two callers open the fix PR at the same time (a double press)
    first, second = await asyncio.gather(operations.open_fix_pr(sources, incident, fix_investigation()),
                                         operations.open_fix_pr(sources, incident, fix_investigation()))
    # THEN GitHub received one branch and one PR creation, and holds one of each
    assert first.number == second.number and {first.reused, second.reused} == {False, True}
    assert received(github, "POST", f"{REPO_PATH}/git/refs") == 1
    assert received(github, "POST", f"{REPO_PATH}/pulls") == 1
    assert gh_fix_branches(github) == [f"refs/heads/{BRANCH}"] and len(gh_pulls(github)) == 1
    # AND PagerDuty received and holds one note, linking the PR
    assert received(pagerduty, "POST", f"/incidents/{OPEN_INCIDENT}/notes") == 1
    (note,) = pd_notes(pagerduty)
    assert first.url and first.url in note


async def test_pr_retried_after_a_late_answer_to_its_creation_reuses_it_and_notes_it_once(
        live: SourceFactory, pagerduty: PagerDutyStack, github: GitHubStack) -> None:
    # GIVEN GitHub will open the PR but answer after the client's timeout
    sources = live(timeout=SHORT_TIMEOUT)
    incident = await open_incident(sources)
    github.control(answer_late={"method": "POST", "path": f"{REPO_PATH}/pulls", "seconds": LATE})
    # WHEN opening the PR times out
    with pytest.raises(SourceError):
        await operations.open_fix_pr(sources, incident, fix_investigation())
    # THEN the PR exists upstream but no note was added yet
    assert len(gh_pulls(github)) == 1 and pd_notes(pagerduty) == []
    # WHEN the user retries
    pr = await operations.open_fix_pr(sources, incident, fix_investigation())
    # THEN the PR is reused, never created twice, and the note is added once
    assert pr.reused and pr.number == gh_pulls(github)[0]["number"]
    assert received(github, "POST", f"{REPO_PATH}/pulls") == 1 and len(gh_pulls(github)) == 1
    assert received(github, "POST", f"{REPO_PATH}/git/refs") == 1 and len(gh_fix_branches(github)) == 1
    (note,) = pd_notes(pagerduty)
    assert pr.url and pr.url in note


async def test_pr_retried_after_a_late_answer_to_the_branch_reuses_the_branch(
        live: SourceFactory, pagerduty: PagerDutyStack, github: GitHubStack) -> None:
    # GIVEN GitHub will create the branch but answer after the client's timeout
    sources = live(timeout=SHORT_TIMEOUT)
    incident = await open_incident(sources)
    github.control(answer_late={"method": "POST", "path": f"{REPO_PATH}/git/refs", "seconds": LATE})
    with pytest.raises(SourceError):
        await operations.open_fix_pr(sources, incident, fix_investigation())
    assert gh_fix_branches(github) == [f"refs/heads/{BRANCH}"] and gh_pulls(github) == []
    # WHEN the user retries
    pr = await operations.open_fix_pr(sources, incident, fix_investigation())
    # THEN the branch is not created again; one PR is opened on it and noted once
    assert received(github, "POST", f"{REPO_PATH}/git/refs") == 1 and len(gh_fix_branches(github)) == 1
    assert received(github, "POST", f"{REPO_PATH}/pulls") == 1 and len(gh_pulls(github)) == 1
    assert not pr.reused and pr.branch == BRANCH
    assert received(pagerduty, "POST", f"/incidents/{OPEN_INCIDENT}/notes") == 1 and len(pd_notes(pagerduty)) == 1
    assert audit_results(sources, "branch") == ["reused"]  # the retry found the branch already there


async def test_note_retried_after_a_late_answer_is_not_added_twice(
        live: SourceFactory, pagerduty: PagerDutyStack, github: GitHubStack) -> None:
    # GIVEN PagerDuty will add the note but answer after the client's timeout
    sources = live(timeout=SHORT_TIMEOUT)
    incident = await open_incident(sources)
    pagerduty.control(answer_late={"method": "POST", "path": f"/incidents/{OPEN_INCIDENT}/notes", "seconds": LATE})
    with pytest.raises(SourceError, match="did not answer"):
        await operations.open_fix_pr(sources, incident, fix_investigation())
    assert len(pd_notes(pagerduty)) == 1 and len(gh_pulls(github)) == 1
    # WHEN the user retries
    pr = await operations.open_fix_pr(sources, incident, fix_investigation())
    # THEN neither a second PR nor a second note is made
    assert pr.reused
    assert received(pagerduty, "POST", f"/incidents/{OPEN_INCIDENT}/notes") == 1 and len(pd_notes(pagerduty)) == 1
    assert received(github, "POST", f"{REPO_PATH}/pulls") == 1 and len(gh_pulls(github)) == 1
    assert audit_results(sources, "note") == [audit_results(sources, "note")[0], "reused"]
    assert audit_results(sources, "note")[0].startswith("failed: PagerDuty")


async def test_restart_between_pr_and_note_adds_the_missing_note_once(
        live: SourceFactory, pagerduty: PagerDutyStack, github: GitHubStack) -> None:
    # GIVEN a process that opened the PR and died before adding the note
    crashed = live()
    incident = await open_incident(crashed)
    opened = await asyncio.to_thread(crashed.code.open_fix_pr, incident, FIX, "Fix", "body")
    assert pd_notes(pagerduty) == []
    # WHEN a new process opens the fix PR, twice
    restarted = live()
    again = await operations.open_fix_pr(restarted, incident, fix_investigation())
    await operations.open_fix_pr(live(), incident, fix_investigation())
    # THEN it reuses the PR and adds the missing note exactly once
    assert again.reused and again.number == opened.number
    assert received(github, "POST", f"{REPO_PATH}/pulls") == 1 and len(gh_pulls(github)) == 1
    assert received(pagerduty, "POST", f"/incidents/{OPEN_INCIDENT}/notes") == 1
    (note,) = pd_notes(pagerduty)
    assert opened.url and opened.url in note


async def test_restart_between_branch_and_pr_reuses_the_branch(
        live: SourceFactory, pagerduty: PagerDutyStack, github: GitHubStack) -> None:
    # GIVEN a process that pushed the fix branch and failed before the PR was opened
    sources = live()
    incident = await open_incident(sources)
    github.control(fail={"status": 500, "count": 1, "method": "POST", "path": f"{REPO_PATH}/pulls"})
    with pytest.raises(SourceError):
        await operations.open_fix_pr(sources, incident, fix_investigation())
    assert gh_fix_branches(github) == [f"refs/heads/{BRANCH}"] and gh_pulls(github) == []
    # WHEN a new process opens the fix PR
    pr = await operations.open_fix_pr(live(), incident, fix_investigation())
    # THEN the branch is reused (one creation), one PR is opened on it and one note links it
    assert received(github, "POST", f"{REPO_PATH}/git/refs") == 1 and len(gh_fix_branches(github)) == 1
    assert len(gh_pulls(github)) == 1 and gh_pulls(github)[0]["number"] == pr.number
    assert received(pagerduty, "POST", f"/incidents/{OPEN_INCIDENT}/notes") == 1 and len(pd_notes(pagerduty)) == 1


# -- the demo: SQLite store and local git --------------------------------------------------------

def fix_branches(repo: Path) -> list[str]:
    """The ``incident/*`` branches of the demo repository."""
    out = subprocess.run(["git", "-C", str(repo), "branch", "--list", "incident/*", "--format=%(refname:short)"],
                         capture_output=True, text=True, check=True).stdout
    return out.split()


def restarted_demo_sources(demo: DemoRun) -> SourceSet:
    """A new process's sources on the demo's state: a fresh store connection and git source."""
    from tui.sources.demo.store import IncidentStore
    from tui.sources.git_local import LocalGitCodeSource
    from tui.sources.threaded import ThreadedIncidentSource

    store = IncidentStore(demo.state_dir)
    code = LocalGitCodeSource(demo.scenario.repo_path, default_branch=demo.scenario.default_branch, pr_registry=store)
    return SourceSet(ThreadedIncidentSource(store), demo.sources.workload, code, demo.state_dir)


async def demo_investigation(demo: DemoRun) -> Investigation:
    """The real investigation of the demo's incident (it proposes the fix)."""
    sources = demo.sources
    kills = sources.workload.oom_kills()
    result = await asyncio.to_thread(investigate, sources.code, first_oom=kills[0].at,
                                     deployments=sources.workload.deployments(), build_globs=sources.build_globs)
    assert result.fix is not None
    return result


async def test_demo_restart_between_pr_and_note_adds_the_note_once(demo: DemoRun) -> None:
    # GIVEN a demo process that recorded the fix PR and died before adding the note
    investigation = await demo_investigation(demo)
    title, body = operations.fix_pr_preview(demo.incident, investigation, None)
    opened = await asyncio.to_thread(demo.sources.code.open_fix_pr, demo.incident, investigation.fix, title, body)
    assert demo.scenario.store.notes(demo.incident.id) == []
    # WHEN a restarted process opens the fix PR, twice
    for _ in range(2):
        pr = await operations.open_fix_pr(restarted_demo_sources(demo), demo.incident, investigation)
        assert pr.reused and pr.number == opened.number
    # THEN the store holds one PR and one note naming it, and the repository one fix branch
    assert len(demo.scenario.store.pull_requests()) == 1
    (note,) = demo.scenario.store.notes(demo.incident.id)
    assert f"Fix PR opened: PR #{opened.number} (" in note.content
    assert fix_branches(demo.scenario.repo_path) == [f"incident/{demo.incident.id}-fix"]


async def test_demo_restart_between_branch_and_pr_adopts_the_branch(demo: DemoRun) -> None:
    # GIVEN a process that created the fix branch but whose PR record died with it (memory only)
    from tui.sources.git_local import InMemoryPullRequestRegistry, LocalGitCodeSource

    investigation = await demo_investigation(demo)
    repo = demo.scenario.repo_path
    crashed = LocalGitCodeSource(repo, default_branch=demo.scenario.default_branch,
                                 pr_registry=InMemoryPullRequestRegistry())
    await asyncio.to_thread(crashed.open_fix_pr, demo.incident, investigation.fix, "Fix", "body")
    assert demo.scenario.store.pull_requests() == [] and len(fix_branches(repo)) == 1
    # WHEN a restarted process opens the fix PR
    pr = await operations.open_fix_pr(restarted_demo_sources(demo), demo.incident, investigation)
    # THEN it adopts the branch: one branch, one recorded PR, one note
    assert pr.reused and fix_branches(repo) == [f"incident/{demo.incident.id}-fix"]
    assert len(demo.scenario.store.pull_requests()) == 1
    assert len(demo.scenario.store.notes(demo.incident.id)) == 1


async def test_double_key_presses_in_the_dashboard_write_once(demo: DemoRun) -> None:
    from tui.app import IncidentApp
    from tui.screens.modals import ConfirmScreen
    from tui.screens.pull_request import PrPreviewScreen, PrViewScreen

    store = demo.scenario.store
    async with IncidentApp(demo.sources, workload_interval=0.2, incident_interval=0.3).run_test(size=(160, 50)) as pilot:
        screen = pilot.app.screen
        await wait_until(pilot, lambda: screen.investigation is not None, what="the investigation")
        # WHEN a is confirmed and pressed again at once
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), what="the confirm modal")
        await pilot.press("y", "a")
        await wait_until(pilot, lambda: screen.incident.status is IncidentStatus.ACKNOWLEDGED, what="the ack")
        if isinstance(pilot.app.screen, ConfirmScreen):  # the second press may have asked again: confirm it too
            await pilot.press("y")
        await wait_until(pilot, lambda: pilot.app.screen is screen and not screen.__dict__.get("_writes_in_progress"),
                         what="the write to finish")
        # THEN the store logged one acknowledgement
        acks = [e for e in store.log_entries(demo.incident.id) if e.summary.startswith("Acknowledged by")]
        assert len(acks) == 1
        # WHEN p is confirmed and pressed again at once
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, PrPreviewScreen), what="the preview")
        await pilot.press("y", "p")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, PrViewScreen), what="the PR view")
        # THEN one PR, one branch and one note exist
        assert len(store.pull_requests()) == 1 and len(store.notes(demo.incident.id)) == 1
        assert fix_branches(demo.scenario.repo_path) == [f"incident/{demo.incident.id}-fix"]


async def test_after_a_restart_p_shows_the_pr_and_adds_its_missing_note_once(demo: DemoRun) -> None:
    from tui.app import IncidentApp
    from tui.screens.pull_request import PrViewScreen

    # GIVEN a process that recorded the fix PR and died before adding the note
    investigation = await demo_investigation(demo)
    title, body = operations.fix_pr_preview(demo.incident, investigation, None)
    opened = await asyncio.to_thread(demo.sources.code.open_fix_pr, demo.incident, investigation.fix, title, body)
    store = demo.scenario.store
    async with IncidentApp(restarted_demo_sources(demo), workload_interval=0.2,
                           incident_interval=0.3).run_test(size=(160, 50)) as pilot:
        screen = pilot.app.screen
        await wait_until(pilot, lambda: screen.investigation is not None, what="the investigation")
        # WHEN the restarted dashboard's p is pressed, twice
        for _ in range(2):
            await pilot.press("p")
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, PrViewScreen), what="the PR view")
            await pilot.press("escape")
            await wait_until(pilot, lambda: pilot.app.screen is screen, what="the dashboard")
        # THEN it shows the existing PR (no preview: nothing new to confirm) and added the note once
        assert screen.pr is not None and screen.pr.number == opened.number
        assert len(store.pull_requests()) == 1
        (note,) = store.notes(demo.incident.id)
        assert f"Fix PR opened: PR #{opened.number} (" in note.content
        assert any("Added the missing note" in n.message for n in pilot.app._notifications)
