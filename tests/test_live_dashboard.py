"""End to end: the live dashboard on all four upstreams, on loopback.

PagerDuty and GitHub are our fakes behind Prism, Kubernetes is kmock and Prometheus is a real server
with backfilled history. One Pilot run presses every write key and then checks what each server
RECEIVED. The seeds use different clocks, so the test moves the Kubernetes pod's OOM kill to the
GitHub seed's :data:`~tests.fixtures_github.FIRST_OOM`: the investigation window is the 24 hours
before the first OOM kill the workload reports, and the culprit landed 57 minutes before it. The
watched pod lives in the Prometheus fixture's namespace and belongs to the Deployment of its
:data:`~tests.fixtures_prometheus.LEAK_POD`, so the history the dashboard asks for is the fixture's
(hours before the session, so only the 12-hour graph span shows it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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
from tui.sources.prometheus import WorkloadMemoryHistory, deployment_pod_pattern
from widgets.memory_graph import MemoryGraph
from widgets.timeline import TimelineTable

# The plugins below are also imported for their constants: let pytest rewrite their asserts first.
pytest.register_assert_rewrite("tests.fixtures_live", "tests.fixtures_github", "tests.fixtures_kubernetes",
                               "tests.fixtures_prometheus")

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
    build_kubernetes_seed,
    copy_worker_into,
    oom_last_state,
    worker_pod_statuses,
)
from tests.fixtures_live import ADS_NAME, OPEN_INCIDENT, USER_TOKEN, PagerDutyStack
from tests.fixtures_prometheus import (
    LEAK_CONTAINER,
    LEAK_POD,
    NAMESPACE,
    PrometheusServer,
)

pytest_plugins = ["tests.fixtures_live", "tests.fixtures_github", "tests.fixtures_kubernetes",
                  "tests.fixtures_prometheus"]

REPO_PATH = f"/repos/{REPOSITORY}"
"""Prefix of every repository route on the GitHub fake."""
NO_THROTTLE = {"seconds_between_requests": 0, "seconds_between_writes": 0, "retries": 0}
"""PyGithub without pauses or retries: the fake needs neither."""


def write_config(path: Path, pagerduty_url: str, github_url: str, *, prometheus_url: str | None = None,
                 namespace: str = "default") -> Path:
    """A config mapping ads-demo-service to kmock's worker pod in ``namespace``, the GitHub fake's
    repository and, when ``prometheus_url`` is given, Prometheus."""
    prometheus = f'[prometheus]\nurl = "{prometheus_url}"\n\n' if prometheus_url else ""
    path.write_text(
        f'[pagerduty]\napi_url = "{pagerduty_url}"\n\n'
        f'[github]\napi_url = "{github_url}"\n\n'
        '[kubernetes]\ncontext = "kmock"\n\n'
        f'{prometheus}'
        f'[[service]]\npagerduty_service = "{ADS_NAME}"\nnamespace = "{namespace}"\nselector = "app=worker-app"\n'
        f'container = "{LEAK_CONTAINER}"\nrepository = "{REPOSITORY}"\nbranch = "main"\nsources = ["*.c"]\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def kube_seed() -> dict[str, Any]:
    """kmock's standard seed plus the worker pod (its ReplicaSets, events and log) in namespace ``demo``,
    measured by metrics-server now, after all of the Prometheus fixture's history."""
    return copy_worker_into(build_kubernetes_seed(), NAMESPACE, metrics_at=datetime.now(UTC))


def move_worker_oom_to(kube: KubeCluster, finished: Any, *, namespace: str = "default") -> None:
    """Patch the worker pod's last termination (as the kubelet would) so it was OOM-killed at ``finished``."""
    from kubernetes import client

    statuses = worker_pod_statuses()
    statuses = [{**statuses[0], "lastState": oom_last_state(finished - timedelta(seconds=6), finished)}]
    api = kube.client()
    try:
        client.CoreV1Api(api).patch_namespaced_pod_status(WORKER_POD, namespace, {"status": {"containerStatuses": statuses}})
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
    prometheus: PrometheusServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the four loopback upstreams, the tokens in the environment and a config mapping ads-demo-service
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", USER_TOKEN)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    config = load_config(write_config(tmp_path / "config.toml", pagerduty.url, github.url,
                                      prometheus_url=prometheus.url, namespace=NAMESPACE))
    # AND the watched pod belongs to the Deployment whose history Prometheus holds
    assert re.fullmatch(deployment_pod_pattern(WORKER_POD), LEAK_POD)
    queried_from = prometheus.query_log_size()  # the server is shared by the session
    # AND the worker pod OOM-killed at the GitHub seed's first OOM
    move_worker_oom_to(kube, FIRST_OOM, namespace=NAMESPACE)
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

            # AND Prometheus's history of the container reached the screen, hours before the session
            assert isinstance(screen.sources.history, WorkloadMemoryHistory)  # built from [prometheus] url
            await wait_until(pilot, lambda: any(s.source == "prometheus" for s in screen._history),
                             timeout=30, what="the Prometheus history")
            loaded = [s for s in screen._history if s.source == "prometheus"]
            truth = prometheus.history
            assert truth.start <= loaded[0].at and loaded[-1].at <= truth.end + timedelta(minutes=1)
            assert 60 * 1024 * 1024 < max(s.bytes for s in loaded) < 64 * 1024 * 1024
            # THEN Prometheus received the working-set range query for the Deployment's pods over 12 hours
            (query,) = [q for q in prometheus.queries(queried_from) if "container_memory_working_set_bytes" in q["query"]]
            # (the pod regex is re.escape'd, so its hyphen arrives as \- inside a PromQL string: \\-)
            assert re.fullmatch(
                r'max_over_time\(container_memory_working_set_bytes\{namespace="demo",pod=~"worker\\\\-deployment-\.\*",'
                r'container="worker-container",image!=""\}\[\d+ms\]\)', query["query"]), query
            span = datetime.fromisoformat(query["end"]) - datetime.fromisoformat(query["start"])
            assert abs(span - timedelta(hours=12)) <= timedelta(milliseconds=1)  # both sent to the millisecond
            # AND the 5-minute graph leaves the history out; w twice widens it to 12 hours, which shows it
            graph = screen.query_one(MemoryGraph)
            assert not any(s.source == "prometheus" for s in graph.view.samples)
            await pilot.press("w", "w")
            await wait_until(pilot, lambda: any(s.source == "prometheus" for s in graph.view.samples),
                             what="the widened graph")
            assert graph.view.window > timedelta(hours=4)
            assert any(s.source == "metrics-server" for s in graph.view.samples)  # and the live sample from kmock

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
