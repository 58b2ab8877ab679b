"""The Kubernetes reader process: the workload source in a child interpreter, against kmock.

Real processes throughout: kmock in its own process, the reader started by
:class:`KubernetesProcessSource` as the app starts it, reading the kubeconfig from ``KUBECONFIG``.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.fixtures_kubernetes")

from tests.fakes.fault_proxy import FaultProxy
from tests.fixtures_kubernetes import (
    LOCKED,
    MULTI,
    OOM_FINISHED,
    TOKEN,
    WORKER,
    KubeCluster,
    write_kubeconfig,
)
from tui.sources.base import AuthError, RateLimitedError, SourceError
from tui.sources.kubernetes import KubernetesWorkloadSource
from tui.sources.kubernetes_process import KubernetesProcessSource

pytest_plugins = ["tests.fixtures_kubernetes"]


def child_pids() -> set[int]:
    """PIDs of this test process's children running the reader."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        state = stat.rsplit(")", 1)[1].split()[0]
        if ppid == os.getpid() and b"tui.sources.kubernetes_worker" in cmdline and state != "Z":
            found.add(int(entry.name))
    return found


def wait_until(probe, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    """Poll ``probe`` until truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        assert time.monotonic() < deadline, "condition not met within the timeout"
        time.sleep(0.05)
    return value


@pytest.fixture
def reader(kube: KubeCluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[KubernetesProcessSource]:
    """A reader process for (a) on kmock, found through ``KUBECONFIG`` as a user's would be."""
    monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig))
    source = KubernetesProcessSource()
    source.bind(WORKER, context="kmock")
    yield source
    source.close()


def test_the_reader_answers_as_the_in_process_source_does(reader: KubernetesProcessSource, kube: KubeCluster) -> None:
    # GIVEN the same service read in this process, on the same cluster
    local = KubernetesWorkloadSource(WORKER, api_client=kube.client(), context="kmock", sample_interval=0,
                                     watch=False)
    try:
        # WHEN both are asked everything the dashboard and the report ask
        # THEN the answers are the same (samples aside: each source takes its own)
        # (memory first: a kill's peak comes from the samples each source has taken)
        assert [s.bytes for s in reader.memory_since(None)] == [s.bytes for s in local.memory_since(None)]
        assert reader.describe() == local.describe()
        assert reader.container_state() == local.container_state()
        assert reader.oom_kills() == local.oom_kills() and reader.oom_kills()[0].at == OOM_FINISHED
        assert reader.deployments() == local.deployments()
        assert [(e.kind, e.summary) for e in reader.events()] == [(e.kind, e.summary) for e in local.events()]
        assert reader.previous_logs(50) == local.previous_logs(50)
        assert reader.events_snapshot() == local.events_snapshot()
    finally:
        local.close()
        local._api.close()


def test_errors_cross_with_their_kind_and_words(kube: KubeCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a reader for (d), whose pods RBAC forbids
    monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig))
    source = KubernetesProcessSource()
    source.bind(LOCKED, context="kmock")
    try:
        # WHEN its state is read THEN the error is an AuthError, worded as in process, without the token
        with pytest.raises(AuthError, match="forbidden: cannot list pods in namespace locked") as raised:
            source.container_state()
        assert TOKEN not in str(raised.value) and raised.value.permanent
    finally:
        source.close()


def test_a_throttled_read_keeps_the_servers_retry_after(kube: KubeCluster, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the cluster behind a proxy that answers 429 with a 7 s reset
    proxy = FaultProxy(kube.url, name="kmock")
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kc", proxy.url)))
    proxy.inject("429", reset_seconds=7)
    source = KubernetesProcessSource()
    source.bind(WORKER, context="kmock")
    try:
        # WHEN it has made its first reads THEN the throttle is its answer, with the server's 7 s
        # (not swallowed, to be met again by the app's read at once, inside the reset window)
        with pytest.raises(RateLimitedError) as raised:
            source.ready()
        assert raised.value.retry_after == pytest.approx(7, abs=1)
        # AND a read after it is answered the same way
        with pytest.raises(RateLimitedError) as raised:
            source.container_state()
        assert raised.value.retry_after == pytest.approx(7, abs=1)
    finally:
        source.close()
        proxy.close()


def test_a_reader_that_dies_is_said_and_started_again(reader: KubernetesProcessSource) -> None:
    # GIVEN a reader that has answered once
    assert reader.container_state().pod
    (pid,) = child_pids()
    # WHEN it is killed (the kernel's OOM killer, an operator)
    os.kill(pid, signal.SIGKILL)
    # THEN the next read says it stopped, with how
    with pytest.raises(SourceError, match=r"reader process stopped \(exit status -9\)"):
        reader.container_state()
    # AND the read after that is answered by a new one
    assert reader.container_state().pod
    assert child_pids() and child_pids() != {pid}


def test_closing_ends_the_reader(kube: KubeCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a reader with a pod watch running
    monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig))
    source = KubernetesProcessSource()
    source.bind(WORKER, context="kmock")
    assert source.container_state().pod
    assert child_pids()
    # WHEN closed THEN the process is gone, and a read after it is refused in words
    source.close()
    assert child_pids() == set()
    with pytest.raises(SourceError, match="closed"):
        source.describe()


def test_the_reader_has_the_kubeconfig_but_not_the_other_tokens(kube: KubeCluster,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN PagerDuty and GitHub tokens in the app's environment when a reader starts
    monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig))
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", "pd-token-for-this-test")
    monkeypatch.setenv("GITHUB_TOKEN", "gh-token-for-this-test")
    source = KubernetesProcessSource()
    source.bind(WORKER, context="kmock")
    try:
        assert source.container_state().pod
        # THEN its environment holds KUBECONFIG and neither token
        environs = [Path(f"/proc/{pid}/environ").read_bytes() for pid in child_pids()]
        assert environs and all(b"KUBECONFIG=" in env for env in environs)
        assert not any(b"for-this-test" in env for env in environs)
    finally:
        source.close()


def test_no_credentials_is_a_worded_error_and_the_next_read_tries_again(tmp_path: Path, kube: KubeCluster,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN KUBECONFIG names a file that is not there yet
    kubeconfig = tmp_path / "later" / "kubeconfig"
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    source = KubernetesProcessSource()
    source.bind(WORKER, context="kmock")
    try:
        # WHEN read THEN the error says the context is unusable
        with pytest.raises(SourceError, match="kubeconfig context 'kmock' is missing or unusable"):
            source.ready()
        # WHEN the user then writes the kubeconfig THEN the next read works, same process
        kubeconfig.parent.mkdir()
        write_kubeconfig(kubeconfig, kube.url)
        assert source.container_state().pod
    finally:
        source.close()


def test_the_reader_ends_when_the_app_goes(kube: KubeCluster, tmp_path: Path) -> None:
    # GIVEN an app process (a Python child here) that started a reader, then is killed outright
    import subprocess
    import sys

    script = (f"import os, sys\nos.environ['KUBECONFIG'] = {str(kube.kubeconfig)!r}\n"
              "from tests.fixtures_kubernetes import WORKER\n"
              "from tui.sources.kubernetes_process import KubernetesProcessSource\n"
              "s = KubernetesProcessSource(); s.bind(WORKER, context='kmock'); s.ready()\n"
              "print(s._process.pid, flush=True)\nimport time; time.sleep(60)\n")
    app = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                           cwd=Path(__file__).resolve().parents[1])
    try:
        reader_pid = int(app.stdout.readline())
        app.kill()
        app.wait()
        # THEN the reader notices the closed connection and exits
        def gone() -> bool:
            try:
                state = Path(f"/proc/{reader_pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                return True
            return state == "Z"
        wait_until(gone)
    finally:
        app.kill()
        app.wait()
        app.stdout.close()



def test_a_reader_bound_early_to_one_service_is_bound_again_to_another(reader: KubernetesProcessSource) -> None:
    # GIVEN a reader bound (as at start-up, before PagerDuty answers) to (a), and read once
    assert reader.container_state().container == WORKER.container
    # WHEN the incident turns out to be (b)'s, and it is bound again
    reader.bind(MULTI, context="kmock")
    # THEN it reads (b)'s container from then on
    assert reader.container_state().container == MULTI.container
