"""Load the idle live dashboard puts on Kubernetes, PagerDuty, GitHub and Prometheus.

Usage (from the repository root)::

    .venv/bin/python bench/perf_api.py --json bench/results/perf_api.json            # 3 minutes
    .venv/bin/python bench/perf_api.py --minutes 1 --json /tmp/perf_api.json
    .venv/bin/python -m pytest bench/perf_api.py -p no:cacheprovider -q -s           # the same, 3 minutes

The live dashboard runs in-process (Pilot, 160x48) on the loopback servers the tests use: our
PagerDuty and GitHub fakes behind ``prism proxy --errors``, kmock, a real Prometheus. A
:class:`~tests.fakes.fault_proxy.FaultProxy` (no fault injected) sits in front of each and counts
requests and bytes on the wire: request line, headers and body each way, watch streams included.
The sources are built as :func:`tui.live.build_live_sources` builds them, with default intervals
(workload read every 2 s: metrics at most every 5 s, events every 10 s, ReplicaSets on a rollout or
every 5 minutes, pods by watch; the incident every 2 s). After a warm-up (first data, the investigation done, then 15 s
more) nothing is pressed for ``--minutes``; requests per minute and bytes per second per upstream
are the deltas over that window. This is pytest only for its fixtures: nothing here asserts speed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pytest

from bench.perf_rows import measure  # noqa: E402 - after the path is set

if TYPE_CHECKING:
    from tests.fakes.fault_proxy import FaultProxy

# The fixture modules are imported by pytest_plugins below; let pytest rewrite their asserts first.
pytest.register_assert_rewrite("tests.fixtures_live", "tests.fixtures_github", "tests.fixtures_kubernetes",
                               "tests.fixtures_prometheus")

pytest_plugins = ["tests.fixtures_live", "tests.fixtures_github", "tests.fixtures_kubernetes",
                  "tests.fixtures_prometheus"]

MINUTES_ENV, JSON_ENV = "INCIDENT_TUI_PERF_MINUTES", "INCIDENT_TUI_PERF_JSON"
"""How the script hands ``--minutes`` and ``--json`` to the pytest run."""
KIB = 1024
K8S_TARGET_KIB_S = 10.0
"""Issue 6: all traffic to the API server for one watched workload, idle."""
PAGERDUTY_LIMIT_PER_MIN = 960
"""PagerDuty's REST API limit per API key."""
GITHUB_LIMIT_PER_MIN = 5000 / 60
"""GitHub's primary limit for a token: 5,000 requests an hour."""
REPLICASET_FIX = (
    "; MISSED because KubernetesWorkloadSource.deployments() (tui/sources/kubernetes.py) lists every "
    "ReplicaSet in the namespace, unfiltered, every refresh_interval (10 s), for a revision list that only "
    "changes on a rollout. Fix: list_namespaced_replica_set(ns, label_selector=<the Deployment's selector>), "
    "and list again only when the watched pod's controlling ReplicaSet changes name (a rollout, seen by the pod "
    "watch) or every 5 minutes")
"""Why the Kubernetes target is missed and what fixes it (appended when it is and no selector was sent)."""
KMOCK_IGNORES_SELECTOR = (
    "; no target here: the source lists ReplicaSets with the Deployment's label selector, which kmock ignores "
    "(TESTING.md), so this row is the cost of an unfiltered list, not the app's: a real API server answers the "
    "Deployment's own ReplicaSets, as in the seeded scenario. The list is made again only when the pod's "
    "controlling ReplicaSet changes (a rollout, seen by the watch) or every 5 minutes")
"""The busy-namespace caveat when the ReplicaSet list carries a label selector."""
KINDS = (("watch pods", r"/pods\?.*watch=true"), ("list pods", r"/namespaces/[^/]+/pods\?"),
         ("metrics-server pod", r"/apis/metrics\.k8s\.io/"), ("kubelet summary", r"/proxy/stats/summary"),
         ("list events", r"/events\?"), ("get replicaset", r"/replicasets/[^/?]+"),
         ("list replicasets", r"/replicasets(\?|$)"), ("pod log", r"/log\?"))
"""Kubernetes requests by what they are for, first match wins."""


def kind_of(path: str) -> str:
    """What a Kubernetes API request is for (see :data:`KINDS`)."""
    return next((name for name, pattern in KINDS if re.search(pattern, path)), path.split("?", 1)[0])


def snapshot(proxy: FaultProxy) -> dict[int, tuple[str, int, int]]:
    """Every request's (kind, request bytes, response bytes so far), by position in ``seen``."""
    with proxy._lock:  # the proxy's own lock: handler threads append and count under it
        return {i: (kind_of(r.path), r.request_bytes, r.response_bytes) for i, r in enumerate(proxy.seen)}


def window(before: dict[int, tuple[str, int, int]], after: dict[int, tuple[str, int, int]]
           ) -> dict[str, list[int]]:
    """Per kind: [requests begun, bytes sent, bytes received] between two snapshots.

    Bytes are deltas, so a watch opened before the window counts what it streamed during it.
    """
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for index, (kind, sent, received) in after.items():
        old = before.get(index)
        row = rows[kind]
        row[0] += old is None
        row[1] += sent - (old[1] if old else 0)
        row[2] += received - (old[2] if old else 0)
    return dict(rows)




def results(per_upstream: dict[str, dict[str, list[int]]], seconds: float, *, busy_filtered: bool = False,
            ) -> list[dict[str, object]]:
    """The rows for ``bench/results/perf_api.json`` from each upstream's window.

    Args:
        per_upstream: Per upstream, per kind: requests, bytes sent, bytes received.
        seconds: The window's length.
        busy_filtered: The busy namespace was listed with a label selector kmock ignored.
    """
    rows = []
    total_bytes = 0
    for name, kinds in per_upstream.items():
        count = sum(k[0] for k in kinds.values())
        moved = sum(k[1] + k[2] for k in kinds.values())
        total_bytes += moved
        per_min, rate = count / seconds * 60, moved / seconds / KIB
        detail = "; ".join(f"{kind}: {k[0] / seconds * 60:.1f}/min, {(k[1] + k[2]) / seconds / KIB:.2f} KiB/s"
                           f" ({(k[1] + k[2]) / max(k[0], 1) / KIB:.1f} KiB each)"
                           for kind, k in sorted(kinds.items(), key=lambda item: -(item[1][1] + item[1][2])) if k[0] or k[1] + k[2])
        target = K8S_TARGET_KIB_S if name == "kubernetes" and not busy_filtered else None
        fix = REPLICASET_FIX if target is not None and rate >= target and "list replicasets" in kinds else ""
        fix += KMOCK_IGNORES_SELECTOR if name == "kubernetes" and busy_filtered else ""
        rows.append(measure(f"{name}: bytes per second, idle", rate, "KiB/s", target,
                            f"sent + received over {seconds:.0f} s; {detail or 'no requests'}{fix}"))
        if name == "pagerduty":
            limit_note = (f"{100 * per_min / PAGERDUTY_LIMIT_PER_MIN:.1f}% of PagerDuty's {PAGERDUTY_LIMIT_PER_MIN}/min "
                          f"per API key: {PAGERDUTY_LIMIT_PER_MIN / max(per_min, 1e-9):.0f} dashboards sharing one "
                          "account key would reach it (the incident and its log are read every 2 s)")
            rows.append(measure(f"{name}: requests per minute, idle", per_min, "requests/min",
                                PAGERDUTY_LIMIT_PER_MIN, limit_note))
        elif name == "github":
            limit_note = f"{100 * per_min / GITHUB_LIMIT_PER_MIN:.1f}% of GitHub's 5,000/hour for a token"
            rows.append(measure(f"{name}: requests per minute, idle", per_min, "requests/min",
                                round(GITHUB_LIMIT_PER_MIN, 1), limit_note))
        else:
            rows.append(measure(f"{name}: requests per minute, idle", per_min, "requests/min", None,
                                "no published limit at this level"))
    rows.append(measure("all upstreams: bytes per second, idle", total_bytes / seconds / KIB, "KiB/s", None,
                        "sum of the rows above"))
    return rows


OTHER_DEPLOYMENTS, REVISIONS = 19, 10
"""The busy namespace: 19 other Deployments beside the worker, each with Kubernetes' default
``revisionHistoryLimit`` of 10 ReplicaSets."""
RESULTS: list[dict[str, object]] = []
"""Rows of every scenario run so far (the file is rewritten after each)."""


def busy_replica_set(deployment: str, revision: int) -> dict[str, Any]:
    """A ReplicaSet of another Deployment, about the size a real API server returns (managedFields,
    annotations, a container with env, probes and resources): what a namespace-wide list drags in."""
    from tests.fixtures_kubernetes import T0, iso, replica_set

    name = f"{deployment}-{revision:04d}abcd"
    rs = replica_set(name, revision, T0, f"{deployment}:r{revision}", 0)
    labels = {"app": deployment, "pod-template-hash": f"{revision:04d}abcd"}
    rs["metadata"].update(labels=labels, ownerReferences=[{
        "apiVersion": "apps/v1", "kind": "Deployment", "name": deployment, "uid": f"uid-{deployment}",
        "controller": True, "blockOwnerDeletion": True}])
    rs["metadata"]["annotations"]["meta.helm.sh/release-name"] = deployment
    rs["metadata"]["managedFields"] = [{
        "manager": "kube-controller-manager", "operation": "Update", "apiVersion": "apps/v1", "time": iso(T0),
        "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:annotations": {f"f:{k}": {} for k in (
            "deployment.kubernetes.io/desired-replicas", "deployment.kubernetes.io/max-replicas",
            "deployment.kubernetes.io/revision")}, "f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}}},
            "f:spec": {"f:replicas": {}, "f:selector": {}, "f:template": {"f:spec": {"f:containers": {
                f'k:{{"name":"{deployment}"}}': {"f:env": {}, "f:image": {}, "f:resources": {}}}}}}}}]
    rs["spec"]["selector"] = {"matchLabels": labels}
    container = rs["spec"]["template"]["spec"]["containers"][0]
    container.update(name=deployment, env=[{"name": f"SETTING_{i}", "value": f"value-{i}-" + "x" * 24}
                                           for i in range(12)],
                     ports=[{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                     livenessProbe={"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10},
                     readinessProbe={"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5})
    rs["spec"]["template"]["metadata"]["labels"] = labels
    return rs


@pytest.fixture(params=["seeded", "busy-namespace"])
def kube_seed(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The live tests' kmock seed (the worker in namespace ``demo``, measured now); in
    ``busy-namespace`` also the ReplicaSets of :data:`OTHER_DEPLOYMENTS` other Deployments there."""
    from tests.fixtures_kubernetes import build_kubernetes_seed, copy_worker_into
    from tests.fixtures_prometheus import NAMESPACE

    seed = copy_worker_into(build_kubernetes_seed(), NAMESPACE, metrics_at=datetime.now(UTC))
    if request.param == "busy-namespace":
        for d in range(OTHER_DEPLOYMENTS):
            for revision in range(1, REVISIONS + 1):
                rs = busy_replica_set(f"service-{d:02d}", revision)
                rs["metadata"]["namespace"] = NAMESPACE
                seed["objects"].append({"resource": "apps/v1/replicasets", "object": rs})
    return seed


async def test_idle_api_load(pagerduty: Any, github: Any, kube: Any, prometheus: Any, kube_seed: dict[str, Any],
                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Run the idle live dashboard for the window and write the results (no assertion on speed)."""
    from bench.soak import machine_info
    from tests.conftest import wait_until
    from tests.fakes.fault_proxy import FaultProxy
    from tests.fixtures_github import FIRST_OOM
    from tests.fixtures_github import TOKEN as GITHUB_TOKEN
    from tests.fixtures_kubernetes import api_client_for, write_kubeconfig
    from tests.fixtures_live import ADS_NAME, OPEN_INCIDENT, USER_TOKEN
    from tests.fixtures_prometheus import NAMESPACE
    from tests.test_live_dashboard import move_worker_oom_to, write_config
    from tui.app import IncidentApp
    from tui.config import load_config
    from tui.live import build_live_sources, close_sources
    from widgets.incident_header import IncidentHeader
    from widgets.memory_graph import MemoryGraph

    scenario = request.node.callspec.params["kube_seed"]
    minutes = float(os.environ.get(MINUTES_ENV, "3"))
    # GIVEN a proxy in front of each upstream and the sources built as `incident-tui live` builds them
    proxies = {name: FaultProxy(url, name=name) for name, url in (
        ("kubernetes", kube.url), ("pagerduty", pagerduty.url), ("github", github.url),
        ("prometheus", prometheus.url))}
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", USER_TOKEN)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    move_worker_oom_to(kube, FIRST_OOM, namespace=NAMESPACE)  # so the investigation reads GitHub once
    config = load_config(write_config(tmp_path / "config.toml", proxies["pagerduty"].url, proxies["github"].url,
                                      prometheus_url=proxies["prometheus"].url, namespace=NAMESPACE))
    api = api_client_for(write_kubeconfig(tmp_path / "kubeconfig", proxies["kubernetes"].url))
    sources = build_live_sources(config, incident_service=ADS_NAME, read_only=True, state_dir=tmp_path / "state",
                                 api_client=api)
    app = IncidentApp(sources, incident_id=OPEN_INCIDENT)  # default intervals
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen
            # WHEN the dashboard has shown data and finished investigating, then idles
            await wait_until(pilot, lambda: screen.query_one(IncidentHeader).view is not None
                             and screen.query_one(IncidentHeader).view.incident is not None
                             and screen.query_one(MemoryGraph).view is not None and bool(screen._history)
                             and screen.investigation is not None and screen._history_loaded,
                             timeout=120, what="first data, the history and the investigation")
            await pilot.pause(15)
            before, started = {n: snapshot(p) for n, p in proxies.items()}, time.monotonic()
            deadline = started + minutes * 60
            while time.monotonic() < deadline:
                await pilot.pause(min(5.0, deadline - time.monotonic()))
            after, seconds = {n: snapshot(p) for n, p in proxies.items()}, time.monotonic() - started
    finally:
        await close_sources(sources)
        api.close()
        for proxy in proxies.values():
            proxy.close()
    # THEN each upstream's share of the window is written down (and the start-up reads, once)
    filtered = any("/replicasets?" in r.path and "labelSelector=" in r.path for r in proxies["kubernetes"].seen)
    rows = results({name: window(before[name], after[name]) for name in proxies}, seconds,
                   busy_filtered=filtered and scenario != "seeded")
    startup = {name: window({}, before[name]) for name in proxies}
    rows.append(measure("requests before the idle window (start-up, investigation, history)",
                        sum(k[0] for kinds in startup.values() for k in kinds.values()), "requests", None,
                        "; ".join(f"{name}: {sum(k[0] for k in kinds.values())} requests, "
                                  f"{sum(k[1] + k[2] for k in kinds.values()) / KIB:.1f} KiB"
                                  for name, kinds in startup.items())))
    if scenario != "seeded":
        rows = [dict(row, name=f"{row['name']} [{scenario}]") for row in rows if row["name"].startswith("kubernetes")]
    for row in rows:
        print(f"{row['name']}: {row['value']} {row['unit']} (target {row['target']}, met {row['met']})\n  {row['note']}")
    RESULTS.extend(rows)
    out = Path(os.environ.get(JSON_ENV, ROOT / "bench" / "results" / "perf_api.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine_info(), "date": datetime.now(UTC).isoformat(timespec="seconds"),
                               "measures": RESULTS}, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run the measurement through pytest (for its fixtures) with the window and output asked for."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "perf_api.json")
    parser.add_argument("--minutes", type=float, default=3.0, help="the idle window (default 3)")
    args = parser.parse_args(argv)
    os.environ[MINUTES_ENV], os.environ[JSON_ENV] = str(args.minutes), str(args.json.resolve())
    os.chdir(ROOT)
    return int(pytest.main([__file__, "-p", "no:cacheprovider", "-q", "-s"]))


if __name__ == "__main__":
    sys.exit(main())
