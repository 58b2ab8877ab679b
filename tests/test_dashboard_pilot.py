"""Pilot tests of the dashboard on the real demo sources: every key, waiting on state, never sleeping."""

from __future__ import annotations

import dataclasses
import subprocess

from analysis.model import IncidentStatus
from tests.conftest import DemoRun, culprit_sha, wait_until
from tui.app import IncidentApp
from tui.screens.dashboard import PANES, DashboardScreen, Pane
from tui.screens.modals import ConfirmScreen, HelpScreen
from tui.screens.pull_request import PrPreviewScreen, PrViewScreen
from tui.screens.report import ReportScreen
from widgets.diff_view import render_diff
from widgets.memory_graph import MemoryGraph
from widgets.timeline import TimelineTable


def make_app(demo: DemoRun, **changes) -> IncidentApp:
    sources = dataclasses.replace(demo.sources, **changes) if changes else demo.sources
    return IncidentApp(sources, workload_interval=0.2, incident_interval=0.3)


def git(repo, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


async def investigated(pilot) -> DashboardScreen:
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.investigation is not None, what="the investigation")
    return screen


async def test_dashboard_ranks_the_culprit_first_and_annotates_its_diff(demo: DemoRun) -> None:
    # GIVEN the demo after its first OOM kill
    async with make_app(demo).run_test(size=(160, 50)) as pilot:
        # WHEN the dashboard has investigated
        screen = await investigated(pilot)
        # THEN the commit that removed free(buffer) (found by git's pickaxe) is ranked first
        top = screen.investigation.suspects[0]
        assert top.commit.sha == culprit_sha(demo.scenario.repo_path)
        assert any("free(buffer)" in reason.label for reason in top.reasons)
        # AND README-only commits rank below it with lower scores
        assert all(s.score < top.score for s in screen.investigation.suspects[1:])
        # AND the diff pane shows the allocation marked and the proposed fix line
        diff_text = render_diff(screen.query_one("#diff").diff).plain
        assert "^ ALLOC buffer (leak-in-loop)" in diff_text
        assert " F         free(buffer);" in diff_text
        # AND the timeline merges incident, OOM, deployment and commit entries
        kinds = {entry.kind.value for entry in screen.query_one(TimelineTable).entries}
        assert {"incident", "oom-kill", "deploy", "commit"} <= kinds
        # AND the memory pane has real samples and the kill
        view = screen.query_one(MemoryGraph).view
        assert view.samples and view.oom_kills and view.limit_bytes == 64 * 1024 * 1024


async def test_acknowledge_asks_first_then_greys_out(demo: DemoRun) -> None:
    async with make_app(demo).run_test(size=(160, 50)) as pilot:
        screen = pilot.app.screen
        await wait_until(pilot, lambda: screen.incident is not None, what="the incident")
        # WHEN a is pressed, a confirmation appears and nothing is written yet
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), what="the confirm modal")
        assert demo.scenario.incidents.incident(demo.incident.id).status is IncidentStatus.TRIGGERED
        # WHEN it is confirmed
        await pilot.press("y")
        # THEN the store records the acknowledgement
        await wait_until(
            pilot,
            lambda: demo.scenario.incidents.incident(demo.incident.id).status is IncidentStatus.ACKNOWLEDGED,
            what="the acknowledgement in the store",
        )
        await wait_until(pilot, lambda: screen.incident.status is IncidentStatus.ACKNOWLEDGED, what="the header")
        # AND the key is greyed out, so pressing it again opens nothing
        assert screen.check_action("acknowledge", ()) is None
        await pilot.press("a")
        await pilot.pause()
        assert pilot.app.screen is screen
        acks = [e for e in demo.scenario.incidents.log_entries(demo.incident.id) if "cknowledged" in e.summary]
        assert len(acks) == 1


async def test_cancelled_acknowledge_writes_nothing(demo: DemoRun) -> None:
    async with make_app(demo).run_test(size=(160, 50)) as pilot:
        screen = pilot.app.screen
        await wait_until(pilot, lambda: screen.incident is not None, what="the incident")
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), what="the confirm modal")
        # WHEN the user says no
        await pilot.press("n")
        await wait_until(pilot, lambda: pilot.app.screen is screen, what="the modal to close")
        # THEN the incident is still triggered in the store
        assert demo.scenario.incidents.incident(demo.incident.id).status is IncidentStatus.TRIGGERED


async def test_read_only_refuses_acknowledge_with_a_message(demo: DemoRun) -> None:
    async with make_app(demo, read_only=True).run_test(size=(160, 50)) as pilot:
        screen = pilot.app.screen
        await wait_until(pilot, lambda: screen.incident is not None, what="the incident")
        # WHEN a is pressed in read-only mode
        await pilot.press("a")
        # THEN the user is told, no modal opens and the store is untouched
        await wait_until(pilot, lambda: any("Read-only" in n.message for n in pilot.app._notifications), what="notice")
        assert pilot.app.screen is screen
        assert demo.scenario.incidents.incident(demo.incident.id).status is IncidentStatus.TRIGGERED
        assert "read-only" in str(screen.query_one("#header").render())


async def test_report_key_writes_and_shows_the_report(demo: DemoRun) -> None:
    async with make_app(demo).run_test(size=(160, 50)) as pilot:
        await investigated(pilot)
        # WHEN r is pressed
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ReportScreen), timeout=30, what="the report")
        # THEN a report file exists under reports/ naming the culprit and the fix
        reports = list((demo.state_dir / "reports").glob("incident-*.md"))
        assert len(reports) == 1
        text = reports[0].read_text()
        assert culprit_sha(demo.scenario.repo_path)[:7] in text
        assert "## Root Cause Analysis" in text and "+        free(buffer);" in text
        await pilot.press("escape")


async def test_fix_pr_preview_create_and_idempotent_reopen(demo: DemoRun) -> None:
    repo = demo.scenario.repo_path
    main_before = git(repo, "rev-parse", "main")
    async with make_app(demo).run_test(size=(160, 50)) as pilot:
        screen = await investigated(pilot)
        # WHEN p is pressed, a preview with title and diff appears; nothing is created yet
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, PrPreviewScreen), what="the preview")
        branch = f"incident/{demo.incident.id}-fix"
        assert git(repo, "branch", "--list", branch) == ""
        # WHEN it is confirmed
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, PrViewScreen), what="the PR view")
        # THEN the branch holds the fix, main did not move, and one PR is recorded
        assert git(repo, "rev-parse", "main") == main_before
        assert "free(buffer);" in git(repo, "show", f"{branch}:worker.c")
        first = screen.pr
        assert first is not None and first.branch == branch
        # WHEN p is pressed again after closing the view
        await pilot.press("escape")
        await wait_until(pilot, lambda: pilot.app.screen is screen, what="the dashboard")
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, PrViewScreen), what="the PR view again")
        # THEN the same PR is shown, and no second PR or note was made
        assert screen.pr.number == first.number
        assert len(demo.scenario.store.pull_requests()) == 1
        notes = [e for e in demo.scenario.incidents.log_entries(demo.incident.id) if "Fix PR opened" in e.summary]
        assert len(notes) == 1
        # AND the note links the PR and names the root cause the report concludes
        (note,) = demo.scenario.store.notes(demo.incident.id)
        assert f"PR #{first.number}" in note.content
        assert f"Root cause: {culprit_sha(repo)[:7]}" in note.content


async def test_merging_the_fix_flattens_memory(demo: DemoRun) -> None:
    repo = demo.scenario.repo_path
    async with make_app(demo).run_test(size=(160, 50)) as pilot:
        screen = await investigated(pilot)
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, PrPreviewScreen), what="the preview")
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, PrViewScreen), what="the PR view")
        # WHEN m merges it
        await pilot.press("m")
        await wait_until(pilot, lambda: screen.pr is not None and screen.pr.merged_at is not None, what="the merge")
        # THEN main contains the fix and the worker is redeployed from it
        assert "free(buffer);" in git(repo, "show", "main:worker.c")
        workload = demo.scenario.workload
        main_tip = git(repo, "rev-parse", "main")
        assert workload.wait_until(lambda: workload.deployed_sha == main_tip, timeout=30)
        kills_after_merge = len(workload.oom_kills())
        deployed_at = workload.deployments()[-1].at
        # AND twenty samples after the redeploy all stay far below the limit, with no new kill
        assert workload.wait_until(
            lambda: len([s for s in workload.memory_since(deployed_at)]) >= 20, timeout=30
        )
        samples = workload.memory_since(deployed_at)
        assert max(s.bytes for s in samples) < 32 * 1024 * 1024
        assert len(workload.oom_kills()) == kills_after_merge


async def test_zoom_help_and_time_toggle(demo: DemoRun) -> None:
    async with make_app(demo).run_test(size=(160, 50)) as pilot:
        screen = pilot.app.screen
        await wait_until(pilot, lambda: screen.incident is not None, what="the incident")
        # Tab in the full layout moves focus to the next pane's view
        await pilot.press("1")
        before = pilot.app.focused
        await pilot.press("tab")
        assert pilot.app.focused is not before and screen.active_pane == 1
        # zoom: z maximizes the active pane, z again restores
        await pilot.press("2", "z")
        assert screen.maximized is screen.query_one("#pane-timeline", Pane)
        await pilot.press("z")
        assert screen.maximized is None
        # time: t switches the timeline to local time and back
        table = screen.query_one(TimelineTable)
        await pilot.press("t")
        assert table.show_local and str(table.columns["time"].label).startswith("local")
        await pilot.press("t")
        assert not table.show_local and str(table.columns["time"].label) == "time UTC"
        # help: ? opens it, escape closes it
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), what="help")
        await pilot.press("escape")
        await wait_until(pilot, lambda: pilot.app.screen is screen, what="help to close")


async def test_80x24_shows_one_pane_at_a_time(demo: DemoRun) -> None:
    async with make_app(demo).run_test(size=(80, 24)) as pilot:
        screen = pilot.app.screen
        await pilot.pause()
        # THEN the layout is compact and only the memory pane is displayed
        assert screen.has_class("-compact")
        shown = [pane_id for pane_id, _ in PANES if screen.query_one(f"#{pane_id}").display]
        assert shown == ["pane-memory"]
        # WHEN 3 is pressed THEN the suspects pane replaces it, and the tab line says so
        await pilot.press("3")
        shown = [pane_id for pane_id, _ in PANES if screen.query_one(f"#{pane_id}").display]
        assert shown == ["pane-suspects"]
        assert "[3 Suspects]" in str(screen.query_one("#pane-tabs").render())
        # WHEN Tab moves focus on THEN the pane holding the focus comes to the front
        await pilot.press("tab")
        await pilot.pause()
        shown = [pane_id for pane_id, _ in PANES if screen.query_one(f"#{pane_id}").display]
        assert shown == ["pane-diff"]


async def test_l_shows_the_killed_runs_output(demo: DemoRun) -> None:
    from tui.screens.modals import LogsScreen

    # GIVEN the demo after at least one OOM kill and restart, so a previous run exists
    workload = demo.scenario.workload
    assert workload.wait_until(lambda: workload.container_state().restart_count >= 1, timeout=30)
    async with make_app(demo).run_test(size=(160, 50)) as pilot:
        await wait_until(pilot, lambda: pilot.app.screen._info is not None, what="workload facts")
        # WHEN l is pressed
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, LogsScreen), what="the logs")
        # THEN the killed worker's own output is shown
        text = str(pilot.app.screen.query_one("#logs").render())
        assert "processed item at" in text
