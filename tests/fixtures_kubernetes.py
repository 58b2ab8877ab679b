"""pytest fixtures for the live Kubernetes source against kmock (a Kubernetes API emulator) on loopback.

Register with ``pytest_plugins = ["tests.fixtures_kubernetes"]`` at the top of a test module.

``kube`` (per test: tests patch pods) starts ``tests/fakes/kmock_server.py`` in its own process with
the ``kube_seed`` fixture's seed (:func:`build_kubernetes_seed`; a module overrides ``kube_seed`` to
serve more, e.g. with :func:`copy_worker_into`), writes a kubeconfig pointing at it into ``tmp_path`` and builds an
``ApiClient`` from that kubeconfig, as a user's ``~/.kube/config`` would be read.

The seed holds four situations:

(a) ``default``: the reference service's pod, OOMKilled and now in CrashLoopBackOff, owned by a
    ReplicaSet (revision 2) of Deployment ``worker-deployment``, beside an older ReplicaSet
    (revision 1); with metrics-server metrics, pod events, and previous logs.
(b) ``default``: a two-container pod where only the second container (``leaky``) was OOMKilled;
    metrics-server has nothing for it, the kubelet summary on its node has both containers.
(c) ``nometrics``: a running pod with neither metrics-server metrics nor a kubelet summary.
(d) RBAC: listing pods in ``locked`` and listing events in ``secretive`` answer 403.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.prism import start_fake, stop
from tui.config import ServiceMapping

SERVER_SCRIPT = Path(__file__).resolve().parent / "fakes" / "kmock_server.py"
"""The kmock server script."""
TOKEN = "k8stok-BEARER-5e4d3c2b1a-DO-NOT-LEAK"
"""The kubeconfig user's bearer token (recognisable, so tests can scan messages for it)."""
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
"""When the reference pod's latest killed run started."""
MIB = 1024 * 1024

WORKER_POD = "worker-deployment-7d9f8c6b5-x2v7q"
"""(a) The reference service's pod."""
CURRENT_RS, OLD_RS = "worker-deployment-7d9f8c6b5", "worker-deployment-5c8d7b9f4"
"""(a) Its ReplicaSet (revision 2) and the previous one (revision 1)."""
OOM_STARTED, OOM_FINISHED = T0, T0 + timedelta(seconds=6)
"""(a) The killed run: 6 s from start to the OOM kill."""
WORKER_LOG = "allocating 10 MiB\n" * 6 + "allocated 60 MiB so far\n"
"""(a) The previous run's log."""
MULTI_POD, NOMETRICS_POD, SECRETIVE_POD = "multi-6b7c8d9e0f-k3j4h", "quiet-5f6e7d8c9b-p0o9i", "hidden-1a2b3c4d5e-z9y8x"
"""(b), (c) and the pod of (d) whose events are forbidden."""

WORKER = ServiceMapping(pagerduty_service="ads-demo-service", namespace="default", selector="app=worker-app",
                        container="worker-container", repository="PagerDuty/ads-demo-service")
"""(a)."""
MULTI = ServiceMapping(pagerduty_service="multi-service", namespace="default", selector="app=multi-app",
                       container="leaky", repository="example/multi")
"""(b): watches the second container."""
NOMETRICS = ServiceMapping(pagerduty_service="quiet-service", namespace="nometrics", selector="app=quiet",
                           container="quiet", repository="example/quiet")
"""(c)."""
LOCKED = ServiceMapping(pagerduty_service="locked-service", namespace="locked", selector="app=locked",
                        container="locked", repository="example/locked")
"""(d): pods are forbidden."""
SECRETIVE = ServiceMapping(pagerduty_service="hidden-service", namespace="secretive", selector="app=hidden",
                           container="hidden", repository="example/hidden")
"""(d): the pod is readable, its events are forbidden."""


def iso(at: datetime) -> str:
    """RFC 3339 as the API server writes it."""
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def container_status(name: str, *, restarts: int = 0, state: dict[str, Any] | None = None,
                     last: dict[str, Any] | None = None, image: str = "worker:latest") -> dict[str, Any]:
    """A complete ``containerStatuses[]`` entry (the client validates required fields)."""
    status: dict[str, Any] = {
        "name": name, "image": image, "imageID": f"docker.io/library/{image}@sha256:{'a' * 64}",
        "containerID": f"containerd://{'c' * 64}", "ready": bool(state and "running" in state),
        "restartCount": restarts, "started": bool(state and "running" in state),
        "state": state or {"running": {"startedAt": iso(T0)}}, "lastState": last or {},
    }
    return status


def oom_last_state(started: datetime, finished: datetime) -> dict[str, Any]:
    """``lastState`` of a container the kernel OOM-killed."""
    return {"terminated": {"reason": "OOMKilled", "exitCode": 137, "startedAt": iso(started),
                           "finishedAt": iso(finished), "containerID": f"containerd://{'d' * 64}"}}


def pod(name: str, namespace: str, labels: dict[str, str], containers: list[dict[str, Any]],
        statuses: list[dict[str, Any]], *, node: str, owner: str | None = None,
        created: datetime = T0 - timedelta(minutes=10)) -> dict[str, Any]:
    """A complete Pod."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "labels": labels, "uid": f"uid-{name}",
                            "creationTimestamp": iso(created), "resourceVersion": "1"}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner,
                                    "uid": f"uid-{owner}", "controller": True, "blockOwnerDeletion": True}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"nodeName": node, "restartPolicy": "Always", "containers": containers},
            "status": {"phase": "Running", "podIP": "10.1.0.7", "startTime": iso(created),
                       "containerStatuses": statuses}}


def container(name: str, memory: str, cpu: str = "250m", image: str = "worker:latest") -> dict[str, Any]:
    """A ``spec.containers[]`` entry with limits."""
    return {"name": name, "image": image, "resources": {"limits": {"memory": memory, "cpu": cpu},
                                                        "requests": {"memory": memory, "cpu": cpu}}}


def worker_pod_statuses(*, restarts: int = 3, running: bool = False) -> list[dict[str, Any]]:
    """(a)'s container status: CrashLoopBackOff after an OOM kill, or running again."""
    state = ({"running": {"startedAt": iso(OOM_FINISHED + timedelta(seconds=80))}} if running else
             {"waiting": {"reason": "CrashLoopBackOff",
                          "message": f"back-off 40s restarting failed container=worker-container pod={WORKER_POD}"}})
    return [container_status("worker-container", restarts=restarts, state=state,
                             last=oom_last_state(OOM_STARTED, OOM_FINISHED))]


def replica_set(name: str, revision: int, created: datetime, image: str, replicas: int) -> dict[str, Any]:
    """A complete ReplicaSet owned by ``worker-deployment``."""
    labels = {"app": "worker-app", "pod-template-hash": name.rsplit("-", 1)[-1]}
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "labels": labels,
                     "creationTimestamp": iso(created),
                     "annotations": {"deployment.kubernetes.io/revision": str(revision),
                                     "deployment.kubernetes.io/desired-replicas": "1"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "worker-deployment",
                                          "uid": "uid-worker-deployment", "controller": True}]},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [container("worker-container", "64Mi", image=image)]}}},
        "status": {"replicas": replicas},
    }


def event(name: str, namespace: str, pod_name: str, reason: str, message: str, at: datetime,
          *, kind: str = "Normal", count: int = 1) -> dict[str, Any]:
    """A complete core/v1 Event about a pod's container."""
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}", "creationTimestamp": iso(at)},
            "involvedObject": {"kind": "Pod", "namespace": namespace, "name": pod_name, "apiVersion": "v1",
                               "fieldPath": "spec.containers{worker-container}"},
            "reason": reason, "message": message, "type": kind, "count": count,
            "firstTimestamp": iso(at), "lastTimestamp": iso(at), "source": {"component": "kubelet", "host": "node-1"}}


def build_kubernetes_seed() -> dict[str, Any]:
    """Everything kmock serves (see the module docstring)."""
    objects: list[tuple[str, dict[str, Any]]] = [
        ("v1/pods", pod(WORKER_POD, "default", {"app": "worker-app", "pod-template-hash": "7d9f8c6b5"},
                        [container("worker-container", "64Mi")], worker_pod_statuses(),
                        node="node-1", owner=CURRENT_RS)),
        ("apps/v1/replicasets", replica_set(OLD_RS, 1, T0 - timedelta(days=2), "worker:latest", 0)),
        ("apps/v1/replicasets", replica_set(CURRENT_RS, 2, T0 - timedelta(minutes=10),
                                            "worker:3f9c2ab", 1)),
        ("metrics.k8s.io/v1beta1/pods", {
            "apiVersion": "metrics.k8s.io/v1beta1", "kind": "PodMetrics",
            "metadata": {"name": WORKER_POD, "namespace": "default", "creationTimestamp": iso(T0)},
            "timestamp": iso(T0 + timedelta(seconds=5)), "window": "15s",
            "containers": [{"name": "worker-container", "usage": {"cpu": "120m", "memory": "48Mi"}}]}),
        ("v1/pods", pod(MULTI_POD, "default", {"app": "multi-app"},
                        [container("sidecar", "32Mi"), container("leaky", "128Mi")],
                        [container_status("sidecar"),
                         container_status("leaky", restarts=2, last=oom_last_state(T0, T0 + timedelta(seconds=30)))],
                        node="node-2")),
        ("v1/pods", pod(NOMETRICS_POD, "nometrics", {"app": "quiet"}, [container("quiet", "256Mi")],
                        [container_status("quiet")], node="node-3")),
        ("v1/pods", pod(SECRETIVE_POD, "secretive", {"app": "hidden"}, [container("hidden", "64Mi")],
                        [container_status("hidden")], node="node-3")),
        ("v1/pods", pod("unrelated-0", "default", {"app": "other"}, [container("worker-container", "1Gi")],
                        [container_status("worker-container", restarts=9)], node="node-1",
                        created=T0 + timedelta(hours=1))),
    ]
    worker_events = [("Pulled", 'Container image "worker:3f9c2ab" already present on machine'),
                     ("Created", "Created container worker-container"),
                     ("Started", "Started container worker-container")]
    for index, (reason, message) in enumerate(worker_events):
        objects.append(("v1/events", event(f"{WORKER_POD}.{index}", "default", WORKER_POD, reason, message,
                                           T0 + timedelta(seconds=index))))
    objects.append(("v1/events", event(f"{WORKER_POD}.backoff", "default", WORKER_POD, "BackOff",
                                       "Back-off restarting failed container worker-container",
                                       OOM_FINISHED + timedelta(seconds=1), kind="Warning", count=5)))
    objects.append(("v1/events", event("unrelated-0.1", "default", "unrelated-0", "Killing",
                                       "Stopping container worker-container", T0)))
    return {
        "objects": [{"resource": resource, "object": obj} for resource, obj in objects],
        "logs": [{"namespace": "default", "pod": WORKER_POD, "text": WORKER_LOG}],
        "summaries": [{"node": "node-2", "summary": {
            "node": {"nodeName": "node-2"},
            "pods": [{"podRef": {"name": MULTI_POD, "namespace": "default", "uid": f"uid-{MULTI_POD}"},
                      "containers": [
                          {"name": "sidecar", "memory": {"time": iso(T0 + timedelta(seconds=40)),
                                                         "workingSetBytes": 5 * MIB}},
                          {"name": "leaky", "memory": {"time": iso(T0 + timedelta(seconds=40)),
                                                       "workingSetBytes": 100 * MIB}}]}]}}],
        "forbidden": [
            {"path": "/api/v1/namespaces/locked/pods", "verb": "list", "resource": "pods", "namespace": "locked"},
            {"path": "/api/v1/namespaces/secretive/events", "verb": "list", "resource": "events",
             "namespace": "secretive"},
        ],
    }


def write_kubeconfig(path: Path, server: str, token: str = TOKEN) -> Path:
    """A kubeconfig with one context ``kmock`` (JSON is valid YAML)."""
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "kmock",
        "clusters": [{"name": "kmock", "cluster": {"server": server}}],
        "users": [{"name": "incident-tui", "user": {"token": token}}],
        "contexts": [{"name": "kmock", "context": {"cluster": "kmock", "user": "incident-tui"}}],
    }), encoding="utf-8")
    return path


def api_client_for(kubeconfig: Path) -> Any:
    """An ``ApiClient`` built from a kubeconfig file, as the app builds one from ``~/.kube/config``."""
    from tui.sources.kubernetes import build_api_client

    return build_api_client("kmock", config_file=str(kubeconfig))


@dataclass
class KubeCluster:
    """A running kmock with its kubeconfig."""

    url: str
    """``http://127.0.0.1:PORT``."""
    kubeconfig: Path
    """kubeconfig pointing at it."""

    def client(self) -> Any:
        """A fresh ``ApiClient`` (the caller closes it, or hands it to a source)."""
        return api_client_for(self.kubeconfig)


def copy_worker_into(seed: dict[str, Any], namespace: str, *, metrics_at: datetime | None = None) -> dict[str, Any]:
    """Add a copy of (a) in ``namespace`` to ``seed``: its pod, ReplicaSets, events and previous log.

    The copy's PodMetrics is stamped ``metrics_at`` (a live sample at that time), or left out when
    ``None``: the seed's own is stamped :data:`T0`, which is older than any history a test serves.

    Args:
        seed: A seed from :func:`build_kubernetes_seed` (changed in place).
        namespace: Where the copy lives.
        metrics_at: When metrics-server measured the copy's container.

    Returns:
        ``seed``.
    """
    worker_names = {WORKER_POD, CURRENT_RS, OLD_RS}
    copies = []
    for item in seed["objects"]:
        obj, meta = item["object"], item["object"]["metadata"]
        name = meta["name"]
        if meta.get("namespace") != "default" or not (name in worker_names or name.startswith(f"{WORKER_POD}.")):
            continue
        if item["resource"].startswith("metrics.k8s.io/") and metrics_at is None:
            continue
        obj = copy.deepcopy(obj)
        obj["metadata"]["namespace"] = namespace
        if "involvedObject" in obj:
            obj["involvedObject"]["namespace"] = namespace
        if item["resource"].startswith("metrics.k8s.io/") and metrics_at is not None:
            obj["metadata"]["creationTimestamp"], obj["timestamp"] = iso(metrics_at), iso(metrics_at)
        copies.append({"resource": item["resource"], "object": obj})
    seed["objects"].extend(copies)
    seed["logs"].append({"namespace": namespace, "pod": WORKER_POD, "text": WORKER_LOG})
    return seed


@pytest.fixture
def kube_seed() -> dict[str, Any]:
    """What ``kube`` serves: :func:`build_kubernetes_seed` (override in a module to serve more)."""
    return build_kubernetes_seed()


@pytest.fixture
def kube(tmp_path: Path, kube_seed: dict[str, Any]) -> Iterator[KubeCluster]:
    """A fresh kmock per test (tests change pods), seeded with ``kube_seed``."""
    seed = tmp_path / "kube-seed.json"
    seed.write_text(json.dumps(kube_seed), encoding="utf-8")
    process, port = start_fake(SERVER_SCRIPT, seed)
    url = f"http://127.0.0.1:{port}"
    try:
        yield KubeCluster(url=url, kubeconfig=write_kubeconfig(tmp_path / "kubeconfig", url))
    finally:
        stop(process)
