"""A real Prometheus on loopback with backfilled memory history, for the live history source.

Register with ``pytest_plugins = ["tests.fixtures_prometheus"]`` in a test module. The session fixture
:func:`prometheus` writes a deterministic history as OpenMetrics text (:func:`history`), turns it into
TSDB blocks with ``promtool tsdb create-blocks-from openmetrics``, starts ``prometheus`` on that
storage with a configuration that scrapes nothing (and logs every query it runs to a query log
file, :meth:`PrometheusServer.queries`), waits until ``/-/ready`` answers and yields a
:class:`PrometheusServer`. The binaries come from Debian's ``prometheus`` package: when they are
missing the tests fail (CI installs them) with a message naming ``.ci/install-prometheus``.

The history ends a few hours before the session starts: backfilled blocks must lie before the head
block's window, and an empty head (nothing is scraped) keeps them all queryable.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.prism import free_port

MIB = 1024 * 1024
"""One mebibyte."""
LIMIT_BYTES = 64 * MIB
"""The leaking container's memory limit (``64Mi``)."""
LEAK_RATE = 10 * MIB
"""Bytes the leaking container adds per second."""
LEAK_BASE = int(3.5 * MIB)
"""Working set of a fresh run of the leaking container."""
RUN_SAMPLES = 7
"""Samples per run at 1 s: 3.5, 13.5, ... 63.5 MiB, then the kernel kills it at 64 MiB."""
KILL_AFTER = timedelta(seconds=6.05)
"""How long after its start a run is OOM-killed."""
BACKOFFS = (10, 20, 40, 80, 160, 300)
"""Kubelet's CrashLoopBackOff delays in seconds (capped at 5 minutes)."""
FLAT_BYTES = 32 * MIB
"""The flat container's working set."""
KSM_INTERVAL = 15
"""kube-state-metrics scrape interval in seconds."""
FLAT_INTERVAL = 15
"""The flat container's scrape interval in seconds."""

NAMESPACE = "demo"
"""Namespace of both workloads."""
LEAK_POD = "worker-deployment-7d9f8c6b5-x2x9q"
"""Pod of the leaking container (container restarts keep the pod)."""
LEAK_CONTAINER = "worker-container"
"""The leaking container."""
FLAT_POD = 'api-gateway-5c7d9-"q8"\\z'
"""Pod of the flat container; its name holds a quote and a backslash to exercise label escaping."""
FLAT_CONTAINER = "log-shipper"
"""The flat container."""
LEGACY_POD = "legacy-worker-0"
"""A pod watched by an older kube-state-metrics: no ``..._last_terminated_timestamp`` series."""
LEGACY_KILL_AFTER = timedelta(minutes=30)
"""When, after the history's start, the legacy pod's container is OOM-killed (once)."""


@dataclass(frozen=True)
class History:
    """What was backfilled: the ground truth the tests compare against."""

    start: datetime
    """First sample (UTC, whole second)."""
    end: datetime
    """Last sample (UTC)."""
    runs: tuple[datetime, ...]
    """Start of every run of the leaking container."""
    kills: tuple[datetime, ...]
    """Every OOM kill of the leaking container."""
    legacy_kill: datetime
    """The one OOM kill of :data:`LEGACY_POD`'s container."""


@dataclass(frozen=True)
class PrometheusServer:
    """A running Prometheus loaded with :class:`History`."""

    url: str
    """Base URL, ``http://127.0.0.1:PORT``."""
    history: History
    """What it holds."""
    log: Path
    """Its log file (look here when queries come back empty)."""
    query_log: Path | None = None
    """Its query log (``global: query_log_file``): one JSON object per query it ran, or ``None``."""

    def query_log_size(self) -> int:
        """The query log's size in bytes now: pass it to :meth:`queries` to see only later queries."""
        return self.query_log.stat().st_size if self.query_log is not None and self.query_log.exists() else 0

    def queries(self, since: int = 0) -> list[dict[str, Any]]:
        """The ``params`` (``query``, ``start``, ``end``, ``step``) of every query logged after byte ``since``.

        Prometheus writes an entry when a query finishes, so a query the caller has its answer to is
        already there. The server is shared by the session: take :meth:`query_log_size` first.
        """
        if self.query_log is None or not self.query_log.exists():
            return []
        with self.query_log.open("rb") as log:
            log.seek(since)
            lines = log.read().decode("utf-8", errors="replace").splitlines()
        return [json.loads(line)["params"] for line in lines if line.strip()]


def history(end: datetime) -> History:
    """The leaking container's run/kill schedule over the two hours before ``end``.

    Args:
        end: Where the history stops (truncated to the second).

    Returns:
        The schedule: a run starts, leaks 10 MiB/s, is killed after about 6 s, then waits out an
        exponential back-off before the next run.
    """
    end = end.replace(microsecond=0)
    start = end - timedelta(hours=2)
    runs: list[datetime] = []
    at, attempt = start, 0
    while at + KILL_AFTER < end:
        runs.append(at)
        at = at + timedelta(seconds=7 + BACKOFFS[min(attempt, len(BACKOFFS) - 1)])
        attempt += 1
    return History(start=start, end=end, runs=tuple(runs), kills=tuple(run + KILL_AFTER for run in runs),
                   legacy_kill=start + LEGACY_KILL_AFTER)


def _label(value: str) -> str:
    """Escape a label value for the exposition format."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _series(name: str, labels: dict[str, str], points: list[tuple[float, float]]) -> list[str]:
    """One series' sample lines, ``name{labels} value timestamp``."""
    rendered = ",".join(f'{key}="{_label(value)}"' for key, value in labels.items())
    return [f"{name}{{{rendered}}} {value:.17g} {at:.3f}" for at, value in points]


def openmetrics(truth: History) -> str:
    """The history as OpenMetrics text, families contiguous, each series in time order.

    Series written: cAdvisor's ``container_memory_working_set_bytes`` (one series per run of the
    leaking container, as a restart brings a new container ID; one for the flat container; the
    pod-level cgroup with ``image=""`` that queries must exclude) and kube-state-metrics'
    ``kube_pod_container_status_last_terminated_reason``, ``..._last_terminated_timestamp`` and
    ``..._restarts_total`` for the leaking container, and only the reason series (an older
    kube-state-metrics) for :data:`LEGACY_POD`.
    """
    start, end = truth.start.timestamp(), truth.end.timestamp()
    leak = {"namespace": NAMESPACE, "pod": LEAK_POD, "container": LEAK_CONTAINER}
    lines = ["# HELP container_memory_working_set_bytes Current working set in bytes.",
             "# TYPE container_memory_working_set_bytes gauge"]
    for number, run in enumerate(truth.runs):
        points = [(run.timestamp() + second, LEAK_BASE + second * LEAK_RATE) for second in range(RUN_SAMPLES)]
        lines += _series("container_memory_working_set_bytes",
                         {**leak, "image": "worker:latest", "id": f"/kubepods/burstable/pod-leak/cri-{number:04d}"},
                         points)
    pod_level = [(start + second, 300 * MIB) for second in range(0, int(end - start), FLAT_INTERVAL)]
    lines += _series("container_memory_working_set_bytes",
                     {"namespace": NAMESPACE, "pod": LEAK_POD, "container": LEAK_CONTAINER, "image": "",
                      "id": "/kubepods/burstable/pod-leak"}, pod_level)
    flat = [(start + second, FLAT_BYTES + (second % 4) * 4096) for second in range(0, int(end - start), FLAT_INTERVAL)]
    lines += _series("container_memory_working_set_bytes",
                     {"namespace": NAMESPACE, "pod": FLAT_POD, "container": FLAT_CONTAINER,
                      "image": "fluent-bit:3", "id": "/kubepods/burstable/pod-flat/cri-flat"}, flat)

    ticks = [start + second for second in range(0, int(end - start) + 1, KSM_INTERVAL)]
    kills = [kill.timestamp() for kill in truth.kills]
    runs = [run.timestamp() for run in truth.runs]

    def last_kill(at: float) -> float | None:
        earlier = [kill for kill in kills if kill <= at]
        return earlier[-1] if earlier else None

    # kube-state-metrics only emits the terminated series once there is a last terminated state.
    terminated = [at for at in ticks if last_kill(at) is not None]
    ksm = {**leak, "uid": "0f6c2f9e-leak"}
    lines += ["# HELP kube_pod_container_status_last_terminated_reason Last reason the container terminated.",
              "# TYPE kube_pod_container_status_last_terminated_reason gauge"]
    lines += _series("kube_pod_container_status_last_terminated_reason", {**ksm, "reason": "OOMKilled"},
                     [(at, 1.0) for at in terminated])
    legacy = truth.legacy_kill.timestamp()
    lines += _series("kube_pod_container_status_last_terminated_reason",
                     {"namespace": NAMESPACE, "pod": LEGACY_POD, "container": LEAK_CONTAINER,
                      "uid": "5e1d-legacy", "reason": "OOMKilled"},
                     [(at, 1.0) for at in ticks if at >= legacy])
    lines += ["# HELP kube_pod_container_status_last_terminated_timestamp Last time the container terminated.",
              "# TYPE kube_pod_container_status_last_terminated_timestamp gauge"]
    lines += _series("kube_pod_container_status_last_terminated_timestamp", ksm,
                     [(at, float(int(last_kill(at) or 0))) for at in terminated])
    lines += ["# HELP kube_pod_container_status_restarts The number of container restarts.",
              "# TYPE kube_pod_container_status_restarts counter"]
    lines += _series("kube_pod_container_status_restarts_total", ksm,
                     [(at, float(sum(1 for run in runs[1:] if run <= at))) for at in ticks])
    return "\n".join([*lines, "# EOF", ""])


def _binaries() -> tuple[str, str]:
    """Paths of ``prometheus`` and ``promtool``; fails the test when either is missing."""
    found = {name: shutil.which(name) or (f"/usr/bin/{name}" if os.access(f"/usr/bin/{name}", os.X_OK) else None)
             for name in ("prometheus", "promtool")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not found: run .ci/install-prometheus (installs Debian's "
                    "prometheus package) before the Prometheus history tests", pytrace=False)
    return found["prometheus"] or "", found["promtool"] or ""


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    """Poll ``/-/ready`` until Prometheus has loaded its blocks; fail with its log if it exits or stalls."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"prometheus exited with {process.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
            try:
                if client.get(f"{url}/-/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            # A readiness endpoint is the condition; this only paces the polling.
            time.sleep(0.05)
    pytest.fail(f"prometheus not ready after {timeout:.0f} s:\n{log.read_text(errors='replace')[-4000:]}")


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """A Prometheus on 127.0.0.1 holding :func:`history` ending three hours ago."""
    server, promtool = _binaries()
    root = tmp_path_factory.mktemp("prometheus")
    truth = history(datetime.now(UTC) - timedelta(hours=3))
    source = root / "history.om"
    source.write_text(openmetrics(truth), encoding="utf-8")
    data = root / "data"
    created = subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
                             capture_output=True, text=True, check=False)
    if created.returncode != 0:
        pytest.fail(f"promtool could not backfill:\n{created.stdout}\n{created.stderr}")
    config = root / "prometheus.yml"
    query_log = root / "queries.jsonl"
    config.write_text(f"global:\n  scrape_interval: 15s\n  query_log_file: {json.dumps(str(query_log))}\n"
                      "scrape_configs: []\n", encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = root / "prometheus.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [server, f"--config.file={config}", f"--storage.tsdb.path={data}",
             f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=100y"],
            stdout=output, stderr=subprocess.STDOUT, cwd=root,
        )
    try:
        _wait_ready(url, process, log)
        yield PrometheusServer(url=url, history=truth, log=log, query_log=query_log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
