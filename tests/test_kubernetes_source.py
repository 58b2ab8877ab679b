"""The live Kubernetes workload source against kmock, a Kubernetes API emulator in its own process."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from analysis.model import TimelineKind

pytest.register_assert_rewrite("tests.fixtures_kubernetes")

from tests.fixtures_kubernetes import (
    CURRENT_RS,
    LOCKED,
    MIB,
    MULTI,
    MULTI_POD,
    OLD_RS,
    NOMETRICS,
    OOM_FINISHED,
    OOM_STARTED,
    SECRETIVE,
    TOKEN,
    WORKER,
    WORKER_LOG,
    WORKER_POD,
    KubeCluster,
    api_client_for,
    worker_pod_statuses,
    write_kubeconfig,
)
from tui.config import ServiceMapping
from tui.sources.base import SourceError
from tui.sources.kubernetes import NO_METRICS_NOTE, KubernetesWorkloadSource
from tui.sources.kubernetes_parse import parse_quantity

pytest_plugins = ["tests.fixtures_kubernetes"]
ROOT = Path(__file__).resolve().parents[1]

T = TypeVar("T")
SourceFactory = Callable[..., KubernetesWorkloadSource]


def wait_for(probe: Callable[[], T], timeout: float = 10.0) -> T:
    """Poll ``probe`` until it returns something truthy (the watch thread delivers asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            assert value, "condition not met within the timeout"
            return value
        time.sleep(0.05)


@pytest.fixture
def make_source(kube: KubeCluster) -> Iterator[SourceFactory]:
    """Build sources on kmock with no throttling; closes them after the test."""
    made: list[KubernetesWorkloadSource] = []

    def make(service: ServiceMapping = WORKER, **kwargs: Any) -> KubernetesWorkloadSource:
        kwargs.setdefault("sample_interval", 0)
        kwargs.setdefault("refresh_interval", 0)
        source = KubernetesWorkloadSource(service, api_client=kube.client(), **kwargs)
        made.append(source)
        return source

    yield make
    for source in made:
        source.close()


def patch_worker_status(kube: KubeCluster, *, last: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """Change (a)'s container status through the API, as the kubelet would (``last`` replaces lastState)."""
    from kubernetes import client

    statuses = worker_pod_statuses(**kwargs)
    if last is not None:
        statuses = [{**statuses[0], "lastState": last}]
    api = kube.client()
    try:
        client.CoreV1Api(api).patch_namespaced_pod_status(
            WORKER_POD, "default", {"status": {"containerStatuses": statuses}})
    finally:
        api.close()


@pytest.mark.parametrize(("text", "expected"), [
    ("64Mi", 67_108_864), ("128M", 128_000_000), ("1Gi", 1_073_741_824), ("500000Ki", 512_000_000),
    ("67108864", 67_108_864), (1024, 1024), ("1k", 1000), ("1.5Gi", 1_610_612_736), ("1e3", 1000),
    ("100m", 1), ("2T", 2 * 10**12),
])
def test_parse_quantity_reads_kubernetes_quantities(text: str | int, expected: int) -> None:
    # GIVEN a quantity as written in a manifest WHEN parsed THEN it is that many bytes (fractions round up)
    assert parse_quantity(text) == expected


@pytest.mark.parametrize("text", ["", "Mi", "64 MB", "sixty"])
def test_parse_quantity_rejects_garbage(text: str) -> None:
    # GIVEN something that is not a quantity WHEN parsed THEN ValueError
    with pytest.raises(ValueError):
        parse_quantity(text)


def test_oom_killed_pod_in_crash_loop_shows_state_and_evidence(make_source: SourceFactory) -> None:
    # GIVEN (a): OOMKilled, now CrashLoopBackOff, restartCount 3, limit 64Mi
    source = make_source()

    # WHEN the state and the OOM evidence are read
    state = source.container_state()
    kills = source.oom_kills()

    # THEN the state is as kubectl shows it, with the previous run's termination
    assert (state.pod, state.container, state.state, state.reason) == (
        WORKER_POD, "worker-container", "waiting", "CrashLoopBackOff")
    assert state.restart_count == 3 and state.limit_bytes == 64 * MIB
    assert state.last_termination is not None
    assert (state.last_termination.reason, state.last_termination.exit_code) == ("OOMKilled", 137)
    # AND one OOM kill, dated by finishedAt
    assert [(k.at, k.started_at, k.exit_code, k.restart_count) for k in kills] == [
        (OOM_FINISHED, OOM_STARTED, 137, 3)]
    info = source.describe()
    assert (info.pod, info.limit_bytes, info.limit_mechanism, info.cpu_limit) == (
        WORKER_POD, 64 * MIB, "kubernetes", "250m")


def test_oom_evidence_stays_after_the_pod_runs_again(make_source: SourceFactory, kube: KubeCluster) -> None:
    # GIVEN (a) has been seen OOMKilled
    source = make_source()
    assert len(source.oom_kills()) == 1

    # WHEN the kubelet restarts it (restartCount 4) and the pod runs, lastState no longer OOMKilled
    patch_worker_status(kube, restarts=4, running=True, last={})
    state = wait_for(lambda: (s := source.container_state()).state == "running" and s)

    # THEN the state is running, yet the OOM kill is still on record and the restart is a delta
    assert state.restart_count == 4 and state.last_termination is None
    assert [k.at for k in source.oom_kills()] == [OOM_FINISHED]
    restarts = [e for e in source.events() if e.kind is TimelineKind.RESTART]
    assert len(restarts) == 1 and "restart #4" in restarts[0].summary


def test_events_merge_oom_backoff_pod_events_and_rollouts(make_source: SourceFactory) -> None:
    # GIVEN (a) with kubelet events for its pod (and one for another pod)
    source = make_source()

    # WHEN the timeline is read
    entries = source.events()

    # THEN the OOM kill comes from the termination state, the back-off from the waiting state
    kinds = {e.kind for e in entries}
    assert {TimelineKind.OOM_KILL, TimelineKind.BACKOFF, TimelineKind.EVENT, TimelineKind.DEPLOYMENT} <= kinds
    oom = next(e for e in entries if e.kind is TimelineKind.OOM_KILL)
    assert oom.at == OOM_FINISHED and "exit code 137" in oom.summary and "64 MiB" in oom.summary
    # AND the pod's own events only, with their counts
    events = [e.summary for e in entries if e.kind is TimelineKind.EVENT]
    assert len(events) == 4 and any(s.startswith("BackOff:") and "(x5)" in s for s in events)
    assert not any("unrelated" in s for s in events)
    assert entries == sorted(entries, key=lambda e: e.at)
    snapshot = source.events_snapshot()
    assert [e["reason"] for e in snapshot] == ["Pulled", "Created", "Started", "BackOff"]


def test_deployments_come_from_the_deployments_replica_sets(make_source: SourceFactory) -> None:
    # GIVEN (a)'s pod owned by revision 2 of worker-deployment, beside revision 1
    source = make_source()

    # WHEN rollouts are read
    rollouts = source.deployments()

    # THEN both revisions, oldest first; the SHA only where the image tag looks like one
    assert [(d.revision, d.sha) for d in rollouts] == [("1", None), ("2", "3f9c2ab")]
    assert CURRENT_RS in rollouts[1].description and rollouts[0].at < rollouts[1].at


def test_rollouts_list_only_the_deployments_replica_sets_again_only_after_a_rollout(
    kube: KubeCluster, tmp_path: Path
) -> None:
    from tests.fakes.fault_proxy import FaultProxy
    from tests.fixtures_kubernetes import api_client_for, write_kubeconfig

    # GIVEN the source talks to kmock through a proxy that records what it is asked
    proxy = FaultProxy(kube.url, name="kmock")
    source = KubernetesWorkloadSource(WORKER, api_client=api_client_for(write_kubeconfig(tmp_path / "kc", proxy.url)),
                                      sample_interval=0, refresh_interval=0)
    try:
        def lists() -> list[str]:
            return [r.path for r in proxy.requests() if r.path.split("?")[0].endswith("/replicasets")]

        # WHEN rollouts are read three times (no refresh interval)
        for _ in range(3):
            rollouts = source.deployments()
        # THEN the ReplicaSets were listed once, with the Deployment's selector, not the whole namespace
        assert len(lists()) == 1 and "labelSelector=app%3Dworker-app" in lists()[0], lists()
        # AND the pod's own ReplicaSet (to find its Deployment) was read once
        reads = [r.path for r in proxy.requests() if f"/replicasets/{CURRENT_RS}" in r.path]
        assert len(reads) == 1, reads
        assert [d.revision for d in rollouts] == ["1", "2"]
        # WHEN the pod turns out to belong to another ReplicaSet (a rollout or a rollback)
        from kubernetes import client

        api = kube.client()
        try:
            client.CoreV1Api(api).patch_namespaced_pod(WORKER_POD, "default", {"metadata": {"ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": OLD_RS, "uid": "old-rs", "controller": True}]}})
        finally:
            api.close()
        # THEN the ReplicaSets are listed again as soon as the source sees it
        wait_for(lambda: source.deployments() is not None and len(lists()) == 2)
    finally:
        source.close()
        source._api.close()
        proxy.close()


def test_previous_logs_are_the_killed_runs_tail(make_source: SourceFactory) -> None:
    # GIVEN (a) WHEN the previous run's log is read THEN it is the text the kubelet kept
    assert make_source().previous_logs() == WORKER_LOG


def test_memory_comes_from_metrics_server(make_source: SourceFactory) -> None:
    # GIVEN metrics-server has (a)'s PodMetrics
    source = make_source()

    # WHEN memory is polled THEN one working-set sample, labelled metrics-server
    samples = source.memory_since(None)
    assert [(s.bytes, s.source) for s in samples] == [(48 * MIB, "metrics-server")]
    # AND polling again without a newer metrics window adds nothing
    assert source.memory_since(samples[-1].at) == []
    assert NO_METRICS_NOTE not in " ".join(source.describe().notes)


def test_multi_container_pod_watches_the_configured_container(make_source: SourceFactory) -> None:
    # GIVEN (b): only the second container, leaky, was OOMKilled; metrics-server has nothing for the pod
    source = make_source(MULTI)

    # WHEN state, evidence and memory are read
    state = source.container_state()
    samples = source.memory_since(None)

    # THEN they are leaky's, memory from the kubelet summary fallback
    assert (state.pod, state.container, state.restart_count, state.limit_bytes) == (MULTI_POD, "leaky", 2, 128 * MIB)
    assert len(source.oom_kills()) == 1
    assert [(s.bytes, s.source) for s in samples] == [(100 * MIB, "kubelet-summary")]


def test_no_metrics_is_said_in_the_notes(make_source: SourceFactory) -> None:
    # GIVEN (c): neither metrics-server nor a kubelet summary for the pod
    source = make_source(NOMETRICS)

    # WHEN memory is polled THEN no samples, and describe() says why
    assert source.memory_since(None) == []
    assert any(note.startswith(NO_METRICS_NOTE) for note in source.describe().notes)


def test_forbidden_pods_name_the_verb_and_resource(make_source: SourceFactory) -> None:
    # GIVEN (d): RBAC forbids listing pods in namespace locked
    source = make_source(LOCKED)

    # WHEN the state is read THEN a SourceError says what is forbidden, without the token
    with pytest.raises(SourceError) as raised:
        source.container_state()
    assert "forbidden: cannot list pods in namespace locked" in str(raised.value)
    assert TOKEN not in str(raised.value)


def test_forbidden_events_name_events(make_source: SourceFactory) -> None:
    # GIVEN (d): the pod is readable but its events are forbidden
    source = make_source(SECRETIVE)
    assert source.container_state().state == "running"

    # WHEN the timeline is read THEN the error names events
    with pytest.raises(SourceError, match="forbidden: cannot list events in namespace secretive"):
        source.events()


def test_dead_server_names_the_server(tmp_path: Any) -> None:
    # GIVEN a kubeconfig pointing at a port where nothing listens
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = f"http://127.0.0.1:{port}"
    source = KubernetesWorkloadSource(WORKER, api_client=api_client_for(write_kubeconfig(tmp_path / "kc", server)),
                                      watch=False)

    # WHEN the state is read THEN the error names the server and never the token
    try:
        with pytest.raises(SourceError) as raised:
            source.container_state()
    finally:
        source.close()
    assert server in str(raised.value) and "refused" in str(raised.value)
    assert TOKEN not in str(raised.value)


def test_reads_never_import_the_generated_api_classes(kube: KubeCluster) -> None:
    # GIVEN a fresh interpreter with only the source and the kubeconfig of kmock
    script = f"""
import sys
from tests.fixtures_kubernetes import WORKER, api_client_for
from tui.sources.kubernetes import KubernetesWorkloadSource
source = KubernetesWorkloadSource(WORKER, api_client=api_client_for({str(kube.kubeconfig)!r}), sample_interval=0)
try:
    # WHEN it reads everything the dashboard and the report read
    source.describe(); source.memory_since(None); source.container_state(); source.events()
    source.oom_kills(); source.deployments(); source.previous_logs(); source.events_snapshot()
finally:
    source.close()
print(sorted(name for name in sys.modules if name.startswith(("kubernetes.client.api.", "kubernetes.client.models."))))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    # THEN none of the generated API modules was imported (CoreV1Api alone costs 0.8 s to import),
    # and no model was built (a pod list's 140 pydantic models cost 0.3 s the first time)
    assert done.stdout.strip() == "[]", done.stdout


def test_a_pod_of_the_wrong_shape_is_a_source_error_naming_the_server(make_source: SourceFactory,
                                                                       kube: KubeCluster) -> None:
    # GIVEN the API server holds the worker pod with a string where its container statuses belong
    from kubernetes import client

    api = kube.client()
    try:
        client.CoreV1Api(api).patch_namespaced_pod_status(
            WORKER_POD, "default", {"status": {"containerStatuses": "not a list of statuses"}},
            _preload_content=False)  # the answer is no V1Pod either
    finally:
        api.close()
    source = make_source(watch=False)

    # WHEN its state is read THEN a SourceError says the server sent something unreadable
    with pytest.raises(SourceError, match="sent an answer the dashboard cannot read") as raised:
        source.container_state()
    assert "127.0.0.1" in str(raised.value)
