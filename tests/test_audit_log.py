"""The audit log (one JSON line per write, reuse, refusal or failure), read-only mode, and reports that
never overwrite each other.

Live writes go to the PagerDuty and GitHub fakes behind Prism; demo writes to a real demo scenario;
read-only mode is checked on the real screen through Pilot at 80x24.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from analysis.model import IncidentStatus, PullRequest
from tui import operations
from tui.audit import AUDIT_FILE, REFUSED, AuditLog, os_user, read_audit
from tui.sources.base import ReadOnlyError, SourceError

# The plugins below are also imported for their constants: let pytest rewrite their asserts first.
pytest.register_assert_rewrite("tests.fixtures_live", "tests.fixtures_github", "tests.test_writes_idempotent")

from tests.conftest import DemoRun, wait_until
from tests.fixtures_github import TOKEN as GITHUB_TOKEN
from tests.fixtures_github import GitHubStack
from tests.fixtures_live import OPEN_INCIDENT, SAM_EMAIL, USER_TOKEN, PagerDutyStack
from tests.test_writes_idempotent import (
    BRANCH,
    REPO_PATH,
    SourceFactory,
    demo_investigation,
    fix_branches,
    fix_investigation,
    gh_pulls,
    live,  # noqa: F401  (the fixture)
    open_incident,
    pd_acknowledgements,
)

pytest_plugins = ["tests.fixtures_live", "tests.fixtures_github"]


def audit_of(state_dir: Path) -> list[dict]:
    """The records in ``<state_dir>/audit.jsonl``."""
    return read_audit(state_dir / AUDIT_FILE)


# -- live writes ---------------------------------------------------------------------------------

async def test_every_live_write_is_one_audit_line_naming_user_target_and_result_without_tokens(
        live: SourceFactory, pagerduty: PagerDutyStack, github: GitHubStack,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN live sources with the tokens in the environment (as in production) and a From e-mail
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", USER_TOKEN)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    sources = live(from_email=SAM_EMAIL)
    incident = await open_incident(sources)
    # WHEN the incident is acknowledged and the fix PR opened, then both again
    await operations.acknowledge(sources, incident)
    pr = await operations.open_fix_pr(sources, incident, fix_investigation())
    await operations.acknowledge(sources, incident)
    await operations.open_fix_pr(sources, incident, fix_investigation())
    # THEN each write and each reuse is one line, in order, with its target
    records = audit_of(sources.state_dir)
    assert [(r["action"], r["result"]) for r in records] == [
        ("acknowledge", "ok"), ("branch", "ok"), ("commit", "ok"), ("pull_request", "ok"), ("note", "ok"),
        ("acknowledge", "reused"), ("pull_request", "reused"), ("note", "reused")]
    assert records[0]["target"] == f"incident {OPEN_INCIDENT} (#3001)"
    assert records[1]["target"] == f"PagerDuty/ads-demo-service@{BRANCH}"
    assert records[3]["target"] == f"PagerDuty/ads-demo-service#{pr.number}"
    assert pr.number == gh_pulls(github)[0]["number"]  # the number GitHub holds
    assert pr.head_sha and pr.head_sha[:12] in records[2]["request"]
    # AND each names when (UTC) and who: the OS user and the PagerDuty identity, never a token
    for record in records:
        assert datetime.fromisoformat(record["time"]).utcoffset() == timezone.utc.utcoffset(None)
        assert record["user"] == {"os_user": os_user(), "pagerduty": SAM_EMAIL}
    text = (sources.state_dir / AUDIT_FILE).read_text(encoding="utf-8")
    assert USER_TOKEN not in text and GITHUB_TOKEN not in text and "DO-NOT-LEAK" not in text
    # AND the upstreams received exactly the writes the log says were "ok"
    assert len(pagerduty.requests("PUT", f"/incidents/{OPEN_INCIDENT}")) == 1
    assert len(pagerduty.requests("POST", f"/incidents/{OPEN_INCIDENT}/notes")) == 1
    assert len(github.requests("POST", f"{REPO_PATH}/pulls")) == 1


async def test_a_failed_write_is_audited_with_the_upstream_message(
        live: SourceFactory, pagerduty: PagerDutyStack) -> None:  # noqa: F811
    # GIVEN PagerDuty failing the next request
    sources = live()
    incident = await open_incident(sources)
    pagerduty.control(fail={"status": 500, "count": 1})
    # WHEN acknowledging
    with pytest.raises(SourceError) as raised:
        await operations.acknowledge(sources, incident)
    # THEN the line says it failed, with the message the user saw, and nothing was acknowledged
    (record,) = audit_of(sources.state_dir)
    assert record["action"] == "acknowledge" and record["result"] == f"failed: {raised.value}"
    assert pd_acknowledgements(pagerduty) == []


async def test_an_unwritable_audit_log_is_reported_and_never_loses_the_write(
        live: SourceFactory, pagerduty: PagerDutyStack) -> None:  # noqa: F811
    # GIVEN an audit log path that cannot be written (a directory is in the way)
    sources = live()
    (sources.state_dir / AUDIT_FILE).mkdir(parents=True)
    incident = await open_incident(sources)
    audit = operations.audit_log(sources)
    # WHEN acknowledging
    result = await operations.acknowledge(sources, incident, audit=audit)
    # THEN the acknowledgement happened and was returned, and the audit failure is reported
    assert result.status is IncidentStatus.ACKNOWLEDGED and len(pd_acknowledgements(pagerduty)) == 1
    (failure,) = audit.failures
    assert AUDIT_FILE in failure and "acknowledge ok" in failure


def test_concurrent_writers_never_interleave_lines(tmp_path: Path) -> None:
    # GIVEN eight writers sharing one audit log, each with a long request summary
    path = tmp_path / AUDIT_FILE
    summary = "x" * 3000

    def write(worker: int) -> None:
        log = AuditLog(path, {"os_user": f"writer-{worker}"})
        for n in range(50):
            log.record("report", f"{worker}/{n}", summary, "ok")

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(8)]
    # WHEN they all append at once
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN every line is one whole JSON record
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 400
    assert {json.loads(line)["target"] for line in lines} == {f"{w}/{n}" for w in range(8) for n in range(50)}


# -- read-only mode ------------------------------------------------------------------------------

async def test_read_only_refuses_every_upstream_write_with_a_message_and_audits_it(demo: DemoRun) -> None:
    # GIVEN the demo in read-only mode, with a fix ready
    investigation = await demo_investigation(demo)
    sources = dataclasses.replace(demo.sources, read_only=True)
    incident = demo.incident
    # WHEN acknowledging, opening the fix PR and merging are attempted
    with pytest.raises(ReadOnlyError, match="read-only mode: acknowledge refused"):
        await operations.acknowledge(sources, incident)
    with pytest.raises(ReadOnlyError, match="read-only mode: opening the fix PR refused"):
        await operations.open_fix_pr(sources, incident, investigation)
    fake_pr = PullRequest(1, "t", "b", BRANCH, "main")
    with pytest.raises(ReadOnlyError, match="read-only mode: merging the PR refused"):
        await operations.merge_demo_pr(sources, fake_pr)
    # THEN the store and the repository are untouched
    store = demo.scenario.store
    assert store.incident(incident.id).status is IncidentStatus.TRIGGERED
    assert store.notes(incident.id) == [] and store.pull_requests() == []
    assert fix_branches(demo.scenario.repo_path) == []
    # AND each refusal is one audit line
    assert [(r["action"], r["result"]) for r in audit_of(demo.state_dir)] == [
        ("acknowledge", REFUSED), ("pull_request", REFUSED), ("merge", REFUSED)]
    # WHEN the report is generated (a local file, allowed in read-only mode as the report command does)
    _markdown, _summary, path = await operations.generate_report(sources, incident, investigation, None)
    # THEN it is written and audited
    assert path.is_file() and path.parent == demo.state_dir / "reports"
    last = audit_of(demo.state_dir)[-1]
    assert (last["action"], last["target"], last["result"]) == ("report", str(path), "ok")


async def test_read_only_shows_in_the_footer_area_at_80x24_and_refuses_keys(demo: DemoRun) -> None:
    from tui.app import IncidentApp
    from tui.screens.report import ReportScreen

    sources = dataclasses.replace(demo.sources, read_only=True)
    async with IncidentApp(sources, workload_interval=0.2, incident_interval=0.3).run_test(size=(80, 24)) as pilot:
        screen = pilot.app.screen
        await wait_until(pilot, lambda: screen.incident is not None and screen.investigation is not None,
                         what="the incident and the investigation")
        await pilot.pause()
        # THEN the bottom two rows of the real screen say READ-ONLY (the bar above the footer)
        rows = [strip.text for strip in pilot.app.screen._compositor.render_strips()]
        assert len(rows) == 24
        assert "READ-ONLY" in rows[22] and "READ-ONLY" not in "".join(rows[1:22])
        # AND the header leads with it too
        assert rows[0].lstrip().startswith("READ-ONLY")
        # WHEN a and p are pressed
        await pilot.press("a")
        await pilot.press("p")
        # THEN both are refused with a message, no modal opens and the audit log has both refusals
        await wait_until(pilot, lambda: len([r for r in audit_of(demo.state_dir) if r["result"] == REFUSED]) == 2,
                         what="two refusals")
        messages = [n.message for n in pilot.app._notifications]
        assert any("Read-only mode: acknowledge refused" in m for m in messages)
        assert any("Read-only mode: opening the fix PR refused" in m for m in messages)
        assert pilot.app.screen is screen
        # WHEN r is pressed
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ReportScreen), timeout=30, what="the report")
        # THEN the report is saved (a local file) and the store untouched
        assert len(list((demo.state_dir / "reports").glob("incident-*.md"))) == 1
        assert demo.scenario.store.incident(demo.incident.id).status is IncidentStatus.TRIGGERED
        assert demo.scenario.store.pull_requests() == []


async def test_without_read_only_there_is_no_read_only_bar(demo: DemoRun) -> None:
    from tui.app import IncidentApp

    async with IncidentApp(demo.sources, workload_interval=0.2, incident_interval=0.3).run_test(size=(80, 24)) as pilot:
        screen = pilot.app.screen
        await wait_until(pilot, lambda: screen.incident is not None, what="the incident")
        await pilot.pause()
        rows = [strip.text for strip in pilot.app.screen._compositor.render_strips()]
        assert not any("READ-ONLY" in row for row in rows)


# -- reports -------------------------------------------------------------------------------------

def test_two_reports_in_the_same_second_never_overwrite(tmp_path: Path) -> None:
    from tests.static_sources import StaticIncidents

    # GIVEN no report yet, and one incident
    incident = StaticIncidents()._incident
    second = datetime(2026, 12, 1, 9, 30, 0, 250_000, tzinfo=timezone.utc)
    # WHEN two reports are written within the same second
    first = operations.write_report(tmp_path, incident, "# first\n", now=second)
    again = operations.write_report(tmp_path, incident, "# second\n", now=second.replace(microsecond=900_000))
    # THEN both exist under distinct names, each with its own text, and no temporary file is left
    assert first.name == "incident-1001-20261201T093000Z.md"
    assert again.name == "incident-1001-20261201T093000Z-2.md"
    assert first.read_text() == "# first\n" and again.read_text() == "# second\n"
    assert {p.name for p in (tmp_path / "reports").iterdir()} == {first.name, again.name}
