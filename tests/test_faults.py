"""Fault injection: every upstream, every fault; the dashboard keeps working, says what is stale, recovers.

For each of PagerDuty, the Kubernetes API, metrics-server (and the kubelet summary behind it),
GitHub and Prometheus, and each fault in :data:`tests.fakes.fault_proxy.FAULTS`, the live dashboard
runs on the loopback servers with a :class:`~tests.fakes.fault_proxy.FaultProxy` in front of every
upstream. The fault is switched on (after the first healthy frame for the upstreams polled all the
time; from the start for GitHub and Prometheus, which are read once), and the case checks:

- the app does not crash or freeze: a key pressed during the fault takes effect;
- the affected pane says "stale since HH:MM:SS, retrying in Ns", or a permanent error that says
  what to do (401/403), or keeps working where the fault is one it must absorb (optional fields
  missing, a watch stream cut);
- the other upstreams keep being read;
- after the fault is cleared, the pane recovers with no key pressed;
- after a 429, the server's reset time is honoured.

``make reliability`` runs this module with ``INCIDENT_TUI_RELIABILITY_DOC=docs/RELIABILITY.md``
and :mod:`tests.reliability_report` writes the table.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.register_assert_rewrite("tests.fixtures_live", "tests.fixtures_github", "tests.fixtures_kubernetes",
                               "tests.fixtures_prometheus")

from tests.conftest import wait_until
from tests.fakes.fault_proxy import FAULTS, FaultProxy
from tests.fixtures_github import FIRST_OOM, GitHubStack
from tests.fixtures_github import TOKEN as GITHUB_TOKEN
from tests.fixtures_kubernetes import KubeCluster, api_client_for, write_kubeconfig
from tests.fixtures_live import ADS_NAME, OPEN_INCIDENT, USER_TOKEN, PagerDutyStack
from tests.fixtures_prometheus import NAMESPACE, PrometheusServer
from tests.reliability_report import Outcome, write_if_asked
from tests.test_live_dashboard import NO_THROTTLE, kube_seed, move_worker_oom_to, write_config  # noqa: F401
from tui.app import IncidentApp
from tui.config import load_config
from tui.live import build_live_sources, close_sources
from tui.sources.kubernetes import NO_METRICS_NOTE, KubernetesWorkloadSource
from tui.sources.pagerduty import PagerDutySource
from tui.sources.prometheus import PrometheusHistory, WorkloadMemoryHistory
from widgets.incident_header import IncidentHeader
from widgets.memory_graph import MemoryGraph
from widgets.suspects import SuspectPane
from widgets.timeline import TimelineTable

pytest_plugins = ["tests.fixtures_live", "tests.fixtures_github", "tests.fixtures_kubernetes",
                  "tests.fixtures_prometheus"]

UPSTREAMS = ("pagerduty", "kubernetes", "metrics-server", "github", "prometheus")
"""The upstreams, in the order the reliability table lists them."""
RESET_SECONDS = 3
"""What the injected 429 asks for."""
RETRY_CAP = 2.0
"""The dashboard's backoff cap in the suite (60 s in use), so recovery is quick."""
CLIENT_TIMEOUT = 1.0
"""Every client's request timeout in the suite, so a held request fails fast."""
WAIT = 25.0
"""Longest wait for any one expectation."""
RESULTS: list[Outcome] = []
"""Every case's outcome, for the document."""


def _metrics_path(method: str, path: str) -> bool:
    return path.startswith("/apis/metrics.k8s.io/") or "/proxy/stats/summary" in path


def _watch_path(method: str, path: str) -> bool:
    return "watch=true" in path.lower()


@dataclass(frozen=True)
class Target:
    """How one upstream's faults are aimed and how its pane is read."""

    proxy: str
    """Key of its proxy in the case's proxies."""
    polled: bool
    """Read continuously (fault injected after a healthy frame) rather than once (from the start)."""
    note: Callable[[Any], str | None]
    """What its pane says about it being stale or failing, or ``None``."""
    healthy: Callable[[Any], bool]
    """Its pane shows fresh data and no failure."""
    matches: Callable[[str, str], bool] | None = None
    """Which of the proxy's requests the faults hit (all when ``None``)."""
    optional_keys: frozenset[str] = frozenset()
    """Keys ``missing-optional`` removes: optional in the upstream's API."""


def _header_note(screen: Any) -> str | None:
    view = screen.query_one(IncidentHeader).view
    return view.stale_note if view is not None else None


def _graph(screen: Any) -> Any:
    return screen.query_one(MemoryGraph).view


def _graph_note(screen: Any, prefix: str) -> str | None:
    view = _graph(screen)
    return next((n for n in view.notes if n.startswith(prefix)), None) if view is not None else None


TARGETS: dict[str, Target] = {
    "pagerduty": Target(
        "pagerduty", True, _header_note, lambda s: s.incident is not None and _header_note(s) is None,
        optional_keys=frozenset({"priority", "assignments", "acknowledgements", "last_status_change_by",
                                 "html_url", "self", "teams", "conference_bridge", "description", "channel"})),
    "kubernetes": Target(
        "kubernetes", True, lambda s: _graph(s).stale_note if _graph(s) is not None else None,
        lambda s: _graph(s) is not None and _graph(s).stale_note is None,
        optional_keys=frozenset({"managedFields", "annotations", "ownerReferences", "lastState", "nodeName",
                                 "startTime", "podIP", "hostIP", "message"})),
    "metrics-server": Target(
        "kubernetes", True, lambda s: _graph_note(s, NO_METRICS_NOTE),
        lambda s: _graph(s) is not None and _graph_note(s, NO_METRICS_NOTE) is None and bool(s._history),
        matches=_metrics_path, optional_keys=frozenset({"window", "annotations", "labels"})),
    "github": Target(
        "github", False, lambda s: (n if (n := s.query_one(SuspectPane).status_note).startswith("analysis:") else None),
        lambda s: s.investigation is not None and bool(s.investigation.suspects),
        # Optional in GitHub's description: a commit's stats and verification, a file's patch (left
        # out for big and binary diffs) and previous name.
        optional_keys=frozenset({"stats", "verification", "patch", "previous_filename"})),
    "prometheus": Target(
        "prometheus", False, lambda s: _graph_note(s, "history "), lambda s: s._history_loaded,
        optional_keys=frozenset({"warnings", "infos", "stats"})),
}

ABSORBED = {("kubernetes", "cut"), *((name, "missing-optional") for name in UPSTREAMS)}
"""Cases the app must absorb without going stale: a watch stream cut (it re-watches, and lists
meanwhile) and answers without optional fields."""
WHAT_TO_DO = {"pagerduty": "PAGERDUTY_API_TOKEN|permission", "kubernetes": "RBAC|kubeconfig",
              "github": "GITHUB_TOKEN|access", "prometheus": r"\[prometheus\] url",
              "metrics-server": "metrics-server: (unauthorized|forbidden|HTTP 40[13])"}
"""What a permanent (401/403) error must tell the user, per upstream."""


@pytest.fixture(scope="module", autouse=True)
def reliability_document() -> Iterator[None]:
    """Write docs/RELIABILITY.md from the outcomes once the module has run (when asked to)."""
    yield
    write_if_asked(RESULTS, FAULTS, UPSTREAMS)


@pytest.fixture
def proxies(pagerduty: PagerDutyStack, github: GitHubStack, kube: KubeCluster,
            prometheus: PrometheusServer) -> Iterator[dict[str, FaultProxy]]:
    """A fault proxy in front of each of the four servers."""
    made = {name: FaultProxy(url, name=name) for name, url in (
        ("pagerduty", pagerduty.url), ("github", github.url), ("kubernetes", kube.url), ("prometheus", prometheus.url))}
    yield made
    for proxy in made.values():
        proxy.close()


def _live_sources(proxies: dict[str, FaultProxy], tmp_path: Path) -> Any:
    """The live sources, every one through its proxy, with short timeouts."""
    config = load_config(write_config(tmp_path / "config.toml", proxies["pagerduty"].url, proxies["github"].url,
                                      prometheus_url=proxies["prometheus"].url, namespace=NAMESPACE))
    api = api_client_for(write_kubeconfig(tmp_path / "kubeconfig", proxies["kubernetes"].url))
    pagerduty = PagerDutySource(proxies["pagerduty"].url, USER_TOKEN, service_ids_or_names=[ADS_NAME],
                                timeout=CLIENT_TIMEOUT)
    sources = build_live_sources(config, incident_service=ADS_NAME, read_only=True, state_dir=tmp_path / "state",
                                 api_client=api, pagerduty=pagerduty,
                                 github_options={**NO_THROTTLE, "timeout": int(CLIENT_TIMEOUT)})
    workload = KubernetesWorkloadSource(config.services[0], api_client=api, sample_interval=0.3,
                                        refresh_interval=0.3, request_timeout=(CLIENT_TIMEOUT, CLIENT_TIMEOUT))
    history = WorkloadMemoryHistory(PrometheusHistory(proxies["prometheus"].url, timeout=CLIENT_TIMEOUT))
    return dataclasses.replace(sources, workload=workload, history=history), api


def _min_gap_after_429(proxy: FaultProxy) -> float | None:
    """Shortest wait, on any path, between a 429 answer and the next request to that path (queries
    aside: a range query's window moves with the clock)."""
    last_429: dict[str, float] = {}
    gaps = []
    for seen in proxy.requests():
        path = seen.path.split("?", 1)[0]
        if path in last_429:
            gaps.append(seen.at - last_429.pop(path))
        if seen.fault == "429":
            last_429[path] = seen.at
    return min(gaps) if gaps else None


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("upstream", UPSTREAMS)
async def test_dashboard_survives_fault(upstream: str, fault: str, proxies: dict[str, FaultProxy], kube: KubeCluster,
                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = TARGETS[upstream]
    proxy = proxies[target.proxy]
    outcome = Outcome(upstream, fault)
    RESULTS.append(outcome)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    move_worker_oom_to(kube, FIRST_OOM, namespace=NAMESPACE)
    sources, api = _live_sources(proxies, tmp_path)
    others = [p for name, p in proxies.items() if name != target.proxy and name in ("pagerduty", "kubernetes")]
    inject = dict(matches=target.matches, reset_seconds=RESET_SECONDS, optional_keys=target.optional_keys)
    if upstream == "kubernetes" and fault == "cut":
        # The Kubernetes form of a cut: the pod watch stream broken mid-event, again and again.
        inject.update(matches=_watch_path, drop_connections=True)
    absorbed = (upstream, fault) in ABSORBED
    app = IncidentApp(sources, incident_id=OPEN_INCIDENT, workload_interval=0.2, incident_interval=0.3,
                      retry_cap=RETRY_CAP)
    try:
        started = time.monotonic()
        if not target.polled:
            proxy.inject(fault, **inject)
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen
            if target.polled:
                await wait_until(pilot, lambda: target.healthy(screen), timeout=WAIT, what=f"{upstream} healthy first")
                proxy.inject(fault, **inject)
                started = time.monotonic()
            if absorbed:
                seen_stale = None
                # It keeps working through the fault: fresh data and no stale note, for a while.
                before = _graph(screen)
                try:
                    await wait_until(pilot, lambda: target.healthy(screen) and (not target.polled or _graph(screen) is not before)
                                     and len(proxy.requests(started, fault=fault)) >= (2 if target.polled else 1),
                                     timeout=WAIT, what=f"{upstream} served through {fault}")
                except AssertionError as error:
                    raise AssertionError(f"{error}; the pane says: {target.note(screen)}") from None
                seen_stale = target.note(screen)
                outcome.pane = "kept working: " + (seen_stale or "no stale note")
                assert seen_stale is None
                hits = len(proxy.requests(started, fault=fault))
                outcome.detail = (f"watch broken {hits} times; pods listed meanwhile" if fault == "cut"
                                  else f"{hits} answers without optional fields")
            else:
                note = await wait_until(pilot, lambda: target.note(screen), timeout=WAIT,
                                        what=f"{upstream} pane to say it is failing ({fault})")
                outcome.detected_s = time.monotonic() - started
                outcome.pane = note
                if fault in ("401", "403"):
                    assert re.search(WHAT_TO_DO[upstream], note), note
                    if upstream != "metrics-server":
                        assert "checking again in" in note, note
                elif upstream == "metrics-server":
                    assert re.search(r"since \d\d:\d\d:\d\d UTC, retrying in \d+s", note), note
                else:
                    assert re.search(r"stale since \d\d:\d\d:\d\d UTC, retrying in \d+s", note), note
            # A key still works during the fault.
            timeline = screen.query_one(TimelineTable)
            was_local = timeline.show_local
            await pilot.press("t")
            await wait_until(pilot, lambda: timeline.show_local != was_local, what="the t key to take effect")
            outcome.keys_answered = True
            # The other upstreams are still read.
            marks = {id(p): len(p.requests()) for p in others}
            await wait_until(pilot, lambda: all(len(p.requests()) > marks[id(p)] for p in others),
                             timeout=WAIT, what="the other upstreams to be read during the fault")
            outcome.others_updated = True
            if fault == "429":
                await wait_until(pilot, lambda: _min_gap_after_429(proxy) is not None, timeout=WAIT,
                                 what="a request after the 429's reset")
                gap = _min_gap_after_429(proxy)
                outcome.detail = f"next request to a throttled path after {gap:.1f}s (reset {RESET_SECONDS}s)"
                assert gap >= RESET_SECONDS * 0.9, outcome.detail
            # The upstream comes back: the pane recovers by itself.
            before = _graph(screen)
            proxy.clear()
            cleared = time.monotonic()
            await wait_until(pilot, lambda: target.healthy(screen) and target.note(screen) is None
                             and (not target.polled or _graph(screen) is not before)
                             # read once and absorbed: there is nothing to read again
                             and (bool(proxy.requests(cleared, fault=None)) or (absorbed and not target.polled)),
                             timeout=WAIT, what=f"{upstream} to recover after {fault}")
            outcome.recovered_s = time.monotonic() - cleared
            outcome.passed = True
    finally:
        proxy.clear()
        await close_sources(sources)
        api.close()
