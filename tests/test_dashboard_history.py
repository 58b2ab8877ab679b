"""Memory history from a real Prometheus fills the graph from before the session started."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.fixtures_prometheus")

from analysis.memory import MIB  # noqa: E402
from analysis.model import MemorySample  # noqa: E402
from tests.conftest import wait_until  # noqa: E402
from tests.fixtures_prometheus import LEAK_CONTAINER, LEAK_POD, NAMESPACE  # noqa: E402
from tests.static_sources import StaticWorkload, static_sources  # noqa: E402
from tui.app import IncidentApp  # noqa: E402
from tui.sources.prometheus import PrometheusHistory, WorkloadMemoryHistory, deployment_pod_pattern  # noqa: E402
from widgets.memory_graph import MemoryGraph  # noqa: E402

pytest_plugins = ["tests.fixtures_prometheus"]


class PrometheusNamedWorkload(StaticWorkload):
    """The static workload, named like the pod whose history the Prometheus fixture holds, its live
    samples taken now (as a session's are: the history ends hours before them, whatever the clock
    says; the static samples sit at a fixed time, which the history would overlap some hours of
    the day)."""

    def describe(self):
        info = super().describe()
        return dataclasses.replace(info, namespace=NAMESPACE, pod=LEAK_POD, container=LEAK_CONTAINER)

    def memory_since(self, after: datetime | None) -> list[MemorySample]:
        now = datetime.now(timezone.utc)
        samples = [MemorySample(now - timedelta(seconds=age), 20 * MIB, "cgroup-v1") for age in (2, 1, 0)]
        return [sample for sample in samples if after is None or sample.at > after]


def test_pod_pattern_covers_the_deployments_other_pods() -> None:
    # GIVEN a pod name of a Deployment THEN the pattern matches any pod of that Deployment
    pattern = deployment_pod_pattern("worker-deployment-7d9f8c6b5-x2x9q")
    assert re.fullmatch(pattern, "worker-deployment-5c4b3a2d1-abcde")
    assert not re.fullmatch(pattern, "worker-deployment2-5c4b3a2d1-abcde")
    assert not re.fullmatch(pattern, "api-7d9f8c6b5-x2x9q")
    # AND a name without ReplicaSet and pod parts is matched exactly
    assert re.fullmatch(deployment_pod_pattern("standalone"), "standalone")
    assert not re.fullmatch(deployment_pod_pattern("standalone"), "standalone-2")


async def test_history_is_loaded_and_shown_when_the_graph_widens(tmp_path: Path, prometheus) -> None:
    # GIVEN a dashboard whose history source is the real Prometheus holding hours-old leak data
    base = static_sources(tmp_path)
    workload = PrometheusNamedWorkload(base.workload.deployments()[0].sha)
    history = WorkloadMemoryHistory(PrometheusHistory(prometheus.url))
    sources = dataclasses.replace(base, workload=workload, history=history)
    app = IncidentApp(sources, workload_interval=0.2, incident_interval=0.5)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen
            # THEN samples labelled prometheus arrive in the screen's history
            await wait_until(pilot, lambda: any(s.source == "prometheus" for s in screen._history), what="history")
            graph = screen.query_one(MemoryGraph)
            assert not any(s.source == "prometheus" for s in graph.view.samples)  # hours old: outside 5 min
            # WHEN w widens the graph to 12 hours
            await pilot.press("w", "w")
            # THEN the graph draws the history, whose peaks approach but stay under the 64 MiB limit
            await wait_until(pilot, lambda: any(s.source == "prometheus" for s in graph.view.samples), what="widened graph")
            peaks = [s.bytes for s in graph.view.samples if s.source == "prometheus"]
            assert 60 * 1024 * 1024 < max(peaks) < 64 * 1024 * 1024
    finally:
        await history.aclose()
