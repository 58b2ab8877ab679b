"""End to end: the live dashboard on PagerDuty and GitHub fakes behind Prism and kmock, all on loopback.

One Pilot run presses every write key and then checks what each server RECEIVED. The three seeds
use different clocks, so the test moves the Kubernetes pod's OOM kill to the GitHub seed's
:data:`~tests.fixtures_github.FIRST_OOM`: the investigation window is the 24 hours before the first
OOM kill the workload reports, and the culprit landed 57 minutes before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from analysis.model import IncidentStatus, TimelineKind
from tui.app import IncidentApp
from tui.config import load_config
from tui.live import build_live_sources, close_sources, pick_incident
from tui.screens.modals import ConfirmScreen
from tui.screens.pull_request import PrPreviewScreen, PrViewScreen
from tui.screens.report import ReportScreen
from widgets.memory_graph import MemoryGraph
from widgets.timeline import TimelineTable

# The plugins below are also imported for their constants: let pytest rewrite their asserts first.
pytest.register_assert_rewrite("tests.fixtures_live", "tests.fixtures_github", "tests.fixtures_kubernetes")

from tests.conftest import wait_until
from tests.fixtures_github import (
    CULPRIT_MESSAGE,
    FIRST_OOM,
    REPOSITORY,
    WORKER_FIXED,
    GitHubStack,
)
from tests.fixtures_github import TOKEN as GITHUB_TOKEN
from tests.fixtures_kubernetes import (
    WORKER_POD,
    KubeCluster,
    oom_last_state,
    worker_pod_statuses,
)
from tests.fixtures_live import ADS_NAME, OPEN_INCIDENT, USER_TOKEN, PagerDutyStack

pytest_plugins = ["tests.fixtures_live", "tests.fixtures_github", "tests.fixtures_kubernetes"]

REPO_PATH = f"/repos/{REPOSITORY}"
"""Prefix of every repository route on the GitHub fake."""
NO_THROTTLE = {"seconds_between_requests": 0, "seconds_between_writes": 0, "retries": 0}
"""PyGithub without pauses or retries: the fake needs neither."""


def write_config(path: Path, pagerduty_url: str, github_url: str) -> Path:
    """A config mapping ads-demo-service to kmock's worker pod and the GitHub fake's repository."""
    path.write_text(
        f'[pagerduty]\napi_url = "{pagerduty_url}"\n\n'
        f'[github]\napi_url = "{github_url}"\n\n'
        '[kubernetes]\ncontext = "kmock"\n\n'
        f'[[service]]\npagerduty_service = "{ADS_NAME}"\nnamespace = "default"\nselector = "app=worker-app"\n'
        f'container = "worker-container"\nrepository = "{REPOSITORY}"\nbranch = "main"\nsources = ["*.c"]\n',
        encoding="utf-8",
    )
    return path


def move_worker_oom_to(kube: KubeCluster, finished: Any) -> None:
    """Patch the worker pod's last termination (as the kubelet would) so it was OOM-killed at ``finished``."""
    from kubernetes import client

    statuses = worker_pod_statuses()
    statuses = [{**statuses[0], "lastState": oom_last_state(finished - timedelta(seconds=6), finished)}]
    api = kube.client()
    try:
        client.CoreV1Api(api).patch_namespaced_pod_status(WORKER_POD, "default", {"status": {"containerStatuses": statuses}})
    finally:
        api.close()


@pytest.fixture
def kube_api(kube: KubeCluster) -> Iterator[Any]:
    """An ApiClient on kmock for the workload source (which does not close a client it was given)."""
    api = kube.client()
    yield api
    api.close()


async def test_live_dashboard_acknowledges_reports_and_opens_the_fix_pr_upstream(
    pagerduty: PagerDutyStack,
    github: GitHubStack,
    kube: KubeCluster,
    kube_api: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the three loopback stacks, the tokens in the environment and a config mapping ads-demo-service
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", USER_TOKEN)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    config = load_config(write_config(tmp_path / "config.toml", pagerduty.url, github.url))
    # AND the worker pod OOM-killed at the GitHub seed's first OOM
    move_worker_oom_to(kube, FIRST_OOM)
    sources = build_live_sources(config, incident_service=ADS_NAME, read_only=False, state_dir=tmp_path / "state",
                                 api_client=kube_api, github_options=NO_THROTTLE)
    try:
        incident = await pick_incident(sources.incidents, OPEN_INCIDENT)
        assert (incident.service, incident.status) == (ADS_NAME, IncidentStatus.TRIGGERED)
        app = IncidentApp(sources, incident_id=incident.id, workload_interval=0.2, incident_interval=0.3)
        async with app.run_test(size=(160, 50)) as pilot:
            screen = pilot.app.screen
            # WHEN the dashboard has read every source and investigated
            await wait_until(pilot, lambda: screen.investigation is not None, timeout=90, what="the investigation")
            # THEN the culprit commit from GitHub ranks first, with a fix
            assert screen.investigation.suspects[0].commit.subject == CULPRIT_MESSAGE
            assert screen.investigation.first_oom == FIRST_OOM and screen.investigation.fix is not None
            # AND the memory pane's limit and OOM evidence came from kmock's seeded pod
            view = screen.query_one(MemoryGraph).view
            assert view.oom_kills == (FIRST_OOM,) and view.limit_bytes == 64 * 1024 * 1024
            assert screen._info.pod == WORKER_POD and screen._info.limit_mechanism == "kubernetes"
            kinds = {entry.kind for entry in screen.query_one(TimelineTable).entries}
            assert {TimelineKind.OOM_KILL, TimelineKind.COMMIT} <= kinds

            # WHEN a is pressed and confirmed
            await pilot.press("a")
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), what="the confirm modal")
            await pilot.press("y")
            await wait_until(pilot, lambda: screen.incident.status is IncidentStatus.ACKNOWLEDGED, what="the ack")
            # THEN PagerDuty received the PUT acknowledging the incident
            (put,) = pagerduty.requests("PUT", f"/incidents/{OPEN_INCIDENT}")
            assert put["body"]["incident"]["status"] == "acknowledged"

            # WHEN r is pressed
            await pilot.press("r")
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, ReportScreen), timeout=60, what="the report")
            # THEN the saved report names the culprit
            report = screen.report_path.read_text(encoding="utf-8")
            assert CULPRIT_MESSAGE in report and screen.investigation.suspects[0].commit.short_sha in report
            assert screen.report_path.parent == tmp_path / "state" / "reports"
            await pilot.press("escape")
            await wait_until(pilot, lambda: pilot.app.screen is screen, what="the dashboard")

            # WHEN p is pressed and the preview confirmed
            await pilot.press("p")
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, PrPreviewScreen), timeout=30, what="the preview")
            assert github.requests("POST") == []
            await pilot.press("y")
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, PrViewScreen), timeout=60, what="the PR view")
            # THEN GitHub received the git data API writes, then the pull request
            writes = [(r["method"], r["path"].removeprefix(REPO_PATH)) for r in github.requests() if r["method"] != "GET"]
            assert writes == [("POST", "/git/blobs"), ("POST", "/git/trees"), ("POST", "/git/commits"),
                              ("POST", "/git/refs"), ("POST", "/pulls")]
            bodies = {r["path"].removeprefix(REPO_PATH): r["body"] for r in github.requests("POST")}
            assert bodies["/git/blobs"]["content"] == WORKER_FIXED
            assert bodies["/pulls"]["head"] == f"incident/{OPEN_INCIDENT}-fix"
            # AND PagerDuty received a note linking the PR
            await wait_until(pilot, lambda: pagerduty.requests("POST", f"/incidents/{OPEN_INCIDENT}/notes"),
                             what="the note")
            (note,) = pagerduty.requests("POST", f"/incidents/{OPEN_INCIDENT}/notes")
            assert screen.pr is not None and screen.pr.url in note["body"]["note"]["content"]
    finally:
        await close_sources(sources)
