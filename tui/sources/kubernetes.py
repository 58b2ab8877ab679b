"""The live workload source: a Deployment's pod on a Kubernetes cluster, via the official client.

:class:`KubernetesWorkloadSource` implements :class:`~tui.sources.base.WorkloadSource`. It blocks
(the ``kubernetes`` client is synchronous), so the dashboard calls it from thread workers.

Pods come from a background watch (``list`` then ``watch`` from the list's resourceVersion, like an
informer); until the watch has listed once, or when it fails, reads list the pods directly, no more
often than ``refresh_interval``. Every pod version seen is *observed*: OOM terminations are
remembered (``lastState`` is overwritten on the next crash and cleared from view once the pod runs
again, so the evidence would otherwise vanish), ``restartCount`` deltas become restarts and
``CrashLoopBackOff`` becomes back-off entries. Pod events are kept after the API server expires them.

Memory comes from metrics-server, else the kubelet summary through the node proxy, sampled when
:meth:`memory_since` is called but at most every ``sample_interval`` seconds.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from analysis.model import (
    ContainerState,
    Deployment,
    MemorySample,
    OomKill,
    TimelineEntry,
    WorkloadInfo,
)
from tui.config import ServiceMapping
from tui.sources import kubernetes_parse as parse
from tui.sources.base import NotFoundError, SourceError
from tui.sources.kubernetes_client import build_api_client, call_api, readable_answers
from tui.sources.kubernetes_requests import KubernetesRequests
from tui.sources.kubernetes_watch import PodWatch

log = logging.getLogger(__name__)

T = TypeVar("T")
MIB = 1024 * 1024
NO_METRICS_NOTE = "no metrics: metrics-server and the kubelet summary are unavailable"
"""``describe().notes`` entry when neither memory source answers."""
REQUEST_TIMEOUT = (5.0, 30.0)
"""(connect, read) seconds for ordinary requests."""
WATCH_READ_TIMEOUT = 60.0
"""Seconds a quiet watch may sit idle before it is reconnected."""


class KubernetesWorkloadSource:
    """One container of the newest pod matching a service's selector, read through the Kubernetes API."""

    def __init__(
        self,
        service: ServiceMapping,
        *,
        context: str | None = None,
        api_client: Any | None = None,
        sample_interval: float = 5.0,
        refresh_interval: float = 10.0,
        rollout_interval: float = 300.0,
        max_samples: int = 5_000,
        watch: bool = True,
        request_timeout: tuple[float, float] = REQUEST_TIMEOUT,
    ) -> None:
        """Create the source; no request is made until the first read.

        Args:
            service: Namespace, label selector and container to watch.
            context: kubeconfig context (the current one when ``None``); ignored with ``api_client``.
            api_client: A ready ``kubernetes.client.ApiClient`` (tests); otherwise one is built from
                the kubeconfig, or the in-cluster service account, as kubectl does.
            sample_interval: Minimum seconds between memory samples (metrics-server resolves 10-60 s).
            refresh_interval: Minimum seconds between direct pod lists and event lists.
            rollout_interval: Seconds between ReplicaSet lists while the pod's own ReplicaSet stays
                the same; a rollout (a pod of another ReplicaSet) is listed at once.
            max_samples: Memory samples kept (oldest dropped first).
            watch: Keep pods current with a background watch instead of repeated lists.
            request_timeout: (connect, read) seconds per request, watches excepted.

        Raises:
            SourceError: No usable kubeconfig or in-cluster configuration.
        """
        self.service = service
        self.sample_interval = sample_interval
        self.refresh_interval = refresh_interval
        self.rollout_interval = rollout_interval
        self.request_timeout = request_timeout
        self._owns_client = api_client is None
        self._api = api_client if api_client is not None else build_api_client(context)
        self._context = context
        self._host = str(self._api.configuration.host)
        # Not CoreV1Api/AppsV1Api: importing those generated classes costs a second before the
        # first frame (see kubernetes_requests); the requests go through the same ApiClient.
        self._requests = KubernetesRequests(self._api)
        self._lock = threading.RLock()
        self._closed = threading.Event()
        self._watch_enabled, self._watch_synced = watch, False
        self._watch_thread: threading.Thread | None = None
        self._watch: Any | None = None
        self._pods: dict[str, Any] = {}  # name -> latest V1Pod matching the selector
        self._restarts: dict[str, int] = {}  # pod name -> last restartCount seen
        self._oom: dict[tuple[str, str, datetime], OomKill] = {}  # (pod, container, finishedAt)
        self._entries: dict[tuple[str, ...], TimelineEntry] = {}  # state-derived entries, deduplicated
        self._event_records: dict[str, parse.EventRecord] = {}  # event uid -> record (outlives expiry)
        self._deployments: list[Deployment] = []
        self._deployments_owner: str | None = None  # the pod's ReplicaSet when they were listed
        self._owners: dict[str, tuple[str | None, str | None]] = {}  # ReplicaSet -> (Deployment, selector)
        self._samples: deque[MemorySample] = deque(maxlen=max_samples)
        self._metrics_note: str | None = None
        self._metrics_failing_since: datetime | None = None
        self._metrics_retry_at = -float("inf")  # monotonic; set by a throttling metrics API
        # monotonic times of the last pod list, event list, ReplicaSet list and memory sample
        self._pods_at = self._events_at = self._deployments_at = self._sampled_at = -float("inf")

    # -- WorkloadSource ----------------------------------------------------------------------

    @readable_answers
    def describe(self) -> WorkloadInfo:
        """Names, the memory limit (enforced by the kubelet/cgroup) and caveats."""
        pod = self._pod()
        limit, cpu = parse.container_limits(pod, self.service.container)
        notes = [f"memory limit enforced by Kubernetes (cgroup of pod {pod.metadata.name})"]
        with self._lock:
            notes += [self._metrics_note] if self._metrics_note else []
        return WorkloadInfo(
            service=self.service.pagerduty_service, namespace=self.service.namespace, pod=pod.metadata.name,
            container=self.service.container, limit_bytes=limit, limit_mechanism="kubernetes",
            environment=f"Kubernetes ({self._context or self._host})", notes=tuple(notes), cpu_limit=cpu,
        )

    @readable_answers
    def memory_since(self, after: datetime | None) -> list[MemorySample]:
        """Samples taken strictly after ``after`` (all when ``None``), oldest first; may take one first."""
        if time.monotonic() >= max(self._sampled_at + self.sample_interval, self._metrics_retry_at):
            self._sampled_at = time.monotonic()
            self._take_sample()
        with self._lock:
            samples = list(self._samples)
        return samples if after is None else [s for s in samples if s.at > after]

    @readable_answers
    def container_state(self) -> ContainerState:
        """The watched container's state in the newest matching pod."""
        return parse.container_state(self._pod(), self.service.container)

    @readable_answers
    def events(self) -> list[TimelineEntry]:
        """OOM kills, restarts, back-offs, rollouts and pod events, oldest first."""
        self._pod()
        self._refresh_events()
        self.deployments()
        with self._lock:
            entries = list(self._entries.values()) + [record.entry() for record in self._event_records.values()]
        return sorted(entries, key=lambda entry: entry.at)

    @readable_answers
    def oom_kills(self) -> list[OomKill]:
        """Every OOM kill of the container seen since the source started, oldest first, with peaks."""
        self._pod()
        with self._lock:
            kills = sorted(self._oom.values(), key=lambda kill: kill.at)
            samples = list(self._samples)
        return [parse.with_peak(kill, samples) for kill in kills]

    @readable_answers
    def deployments(self) -> list[Deployment]:
        """Revisions of the Deployment that owns the pod (its ReplicaSets), oldest first."""
        pod = self._pod()
        ns, container = self.service.namespace, self.service.container
        replica_set_name = parse.controller_of(pod, "ReplicaSet")
        # The rollouts change only with a new ReplicaSet, and a new ReplicaSet means new pods: while
        # the pod's own stays the same, listing every refresh would only cost the API server.
        with self._lock:
            if (replica_set_name == self._deployments_owner
                    and time.monotonic() - self._deployments_at < self.rollout_interval):
                return list(self._deployments)
        found: list[Deployment] = []
        if replica_set_name is not None:
            deployment_name, selector = self._owner_deployment(replica_set_name)
            if deployment_name is not None:
                # Only the Deployment's own ReplicaSets (they share its selector): listing the whole
                # namespace every refresh would cost the API server (and a slow link) far more.
                listed = self._call(lambda: self._requests.list_namespaced_replica_set(
                    ns, label_selector=selector, _request_timeout=self.request_timeout), "list", "replicasets")
                found = parse.deployments(listed.items or [], deployment_name, container)
        with self._lock:
            self._deployments, self._deployments_at = found, time.monotonic()
            self._deployments_owner = replica_set_name
            for rollout in found:
                self._entries[("deploy", rollout.revision, rollout.at.isoformat())] = parse.deployment_entry(rollout)
        return list(found)

    def _owner_deployment(self, replica_set_name: str) -> tuple[str | None, str | None]:
        """The Deployment owning a ReplicaSet and its label selector, read once per ReplicaSet."""
        if replica_set_name not in self._owners:
            owner = self._call(lambda: self._requests.read_namespaced_replica_set(
                replica_set_name, self.service.namespace, _request_timeout=self.request_timeout),
                "get", "replicasets")
            self._owners[replica_set_name] = (parse.controller_of(owner, "Deployment"),
                                              parse.deployment_selector(owner))
        return self._owners[replica_set_name]

    # -- extras for the report -----------------------------------------------------------------

    @readable_answers
    def previous_logs(self, lines: int = 200) -> str:
        """The last ``lines`` lines of the previous (killed) run of the container."""
        pod = self._pod()
        return str(self._call(lambda: self._requests.read_namespaced_pod_log(
            pod.metadata.name, self.service.namespace, container=self.service.container,
            previous=True, tail_lines=lines, _request_timeout=self.request_timeout), "get", "pods/log"))

    @readable_answers
    def events_snapshot(self) -> list[dict[str, str | int]]:
        """Every pod event seen (including ones the API server has since expired), oldest first."""
        self._pod()
        self._refresh_events(force=True)
        with self._lock:
            records = sorted(self._event_records.values(), key=lambda record: record.at)
        return [record.as_dict() for record in records]

    def close(self) -> None:
        """Stop the watch and, when this source built it, close the API client. Safe to call twice."""
        self._closed.set()
        with self._lock:
            watcher, thread = self._watch, self._watch_thread
        if watcher is not None:
            watcher.stop()  # shuts the socket down, so the blocked read returns at once
        if thread is not None:
            thread.join(timeout=5)
        if self._owns_client:
            self._api.close()

    # -- pods ------------------------------------------------------------------------------

    def _pod(self) -> Any:
        """The newest pod that matches the selector and has the container (observing fresh data)."""
        self._ensure_watch()
        with self._lock:
            stale = not self._watch_synced and time.monotonic() - self._pods_at >= self.refresh_interval
        if stale:
            self._replace_pods(self._list_pods())
        with self._lock:
            candidates = [pod for pod in self._pods.values()
                          if parse.find_container_spec(pod, self.service.container) is not None]
        if not candidates:
            raise NotFoundError(f"no pod with container {self.service.container!r} matches "
                                f"{self.service.selector} in namespace {self.service.namespace}")
        return max(candidates, key=lambda pod: (parse.utc(pod.metadata.creation_timestamp)
                                                or datetime.min.replace(tzinfo=UTC), pod.metadata.name))

    def _list_pods(self) -> Any:
        return self._call(lambda: self._requests.list_namespaced_pod(
            self.service.namespace, label_selector=self.service.selector,
            _request_timeout=self.request_timeout), "list", "pods")

    def _replace_pods(self, listed: Any) -> None:
        """Take a full list as the truth: observe each pod, forget pods that are gone."""
        pods = {pod.metadata.name: pod for pod in listed.items or []
                if parse.matches_selector(pod.metadata.labels, self.service.selector)}
        with self._lock:
            self._pods, self._pods_at = pods, time.monotonic()
            for pod in pods.values():
                self._observe(pod)

    def _ensure_watch(self) -> None:
        with self._lock:
            if not self._watch_enabled or self._watch_thread is not None or self._closed.is_set():
                return
            self._watch_thread = threading.Thread(target=self._run_watch, name="k8s-pod-watch", daemon=True)
            self._watch_thread.start()

    def _run_watch(self) -> None:
        """List, then watch from the list's resourceVersion; on any error, list again."""
        failures, server_wait = 0, 0.0
        while not self._closed.is_set():
            try:
                listed = self._list_pods()
                self._replace_pods(listed)
                with self._lock:
                    self._watch_synced = True
                    self._watch = watcher = PodWatch(self._requests)
                version = listed.metadata.resource_version if listed.metadata else None
                # A stream the server ends (its watch timeout) is resumed from the last version seen;
                # one ended at once is not retried at once (a server that ends every watch).
                while version is not None and not self._closed.is_set():
                    began = time.monotonic()
                    for kind, pod in watcher.stream(self.service.namespace, self.service.selector, version,
                                                    (self.request_timeout[0], WATCH_READ_TIMEOUT)):
                        self._on_watch_event(kind, pod)
                        failures = 0
                    version = watcher.resource_version
                    if time.monotonic() - began < 1.0:
                        self._closed.wait(1.0)
            except Exception as error:  # noqa: BLE001  # reads fall back to listing while the watch is down
                if self._closed.is_set():
                    break
                failures += 1
                server_wait = getattr(error, "retry_after", None) or 0.0  # a 429's Retry-After
                log.debug("pod watch failed (%s); reads list directly", type(error).__name__)
            with self._lock:
                self._watch_synced = False
            backoff = min(30.0, 0.2 * 2 ** min(failures, 8)) if failures else 0.05
            self._closed.wait(max(backoff, server_wait if failures else 0.0))

    def _on_watch_event(self, kind: str, pod: Any) -> None:
        if pod.metadata is None:
            return
        name = pod.metadata.name
        with self._lock:
            if kind == "DELETED":
                self._pods.pop(name, None)
            elif parse.matches_selector(pod.metadata.labels, self.service.selector):
                self._pods[name] = pod
                self._observe(pod)

    def _observe(self, pod: Any) -> None:
        """Record OOM kills, restarts and back-offs visible in one version of a pod (lock held)."""
        container, name = self.service.container, pod.metadata.name
        state = parse.container_state(pod, container)
        for ended in parse.oom_terminations(pod, container):
            if (key := (name, container, ended.finished_at)) not in self._oom:
                self._oom[key] = OomKill(at=ended.finished_at, started_at=ended.started_at, exit_code=ended.exit_code,
                                         peak_bytes=None, restart_count=state.restart_count)
                self._entries[("oom", *map(str, key))] = parse.oom_entry(state, ended)
        previous, self._restarts[name] = self._restarts.get(name), state.restart_count
        if previous is not None and state.restart_count > previous:
            self._entries[("restart", name, str(state.restart_count))] = parse.restart_entry(state, previous)
        reason, message = parse.waiting_message(pod, container)
        if reason == "CrashLoopBackOff" and (key := ("backoff", name, str(state.restart_count))) not in self._entries:
            self._entries[key] = parse.backoff_entry(state, message)

    # -- events, memory --------------------------------------------------------------------

    def _refresh_events(self, *, force: bool = False) -> None:
        if not force and time.monotonic() - self._events_at < self.refresh_interval:
            return
        pod = self._pod()
        name = pod.metadata.name
        listed = self._call(lambda: self._requests.list_namespaced_event(
            self.service.namespace, field_selector=f"involvedObject.name={name}",
            _request_timeout=self.request_timeout), "list", "events")
        with self._lock:
            self._events_at = time.monotonic()
            for event in listed.items or []:
                if (record := parse.event_record(event, pod=name)) is not None:
                    self._event_records[record.uid] = record

    def _take_sample(self) -> None:
        """Append one sample from metrics-server, else the kubelet summary, else note that neither works."""
        from kubernetes.client.exceptions import ApiException

        pod = self._pod()
        name, ns, container = pod.metadata.name, self.service.namespace, self.service.container
        sample: MemorySample | None = None
        failures: list[str] = []
        try:
            metrics = self._call(lambda: self._requests.get_namespaced_custom_object(
                "metrics.k8s.io", "v1beta1", ns, "pods", name, _request_timeout=self.request_timeout),
                "get", "pods.metrics.k8s.io", passthrough=(404, 503, 403))
            sample = parse.metrics_sample(metrics.to_dict(), container)
        except ApiException as error:
            failures.append(f"metrics-server: HTTP {error.status}")
        except SourceError as error:  # any other failure of metrics-server: fall back, say why
            failures.append(f"metrics-server: {error}")
            if error.retry_after:  # throttled: do not ask again before the server said
                self._metrics_retry_at = time.monotonic() + error.retry_after
        except (AttributeError, KeyError, TypeError, ValueError):
            failures.append("metrics-server: unreadable answer")
        node = pod.spec.node_name if pod.spec else None
        if sample is None and node:
            try:
                response = self._call(lambda: self._requests.connect_get_node_proxy_with_path(
                    node, "stats/summary", _preload_content=False, _request_timeout=self.request_timeout),
                    "get", "nodes/proxy", passthrough=(404, 503, 403))
                sample = parse.summary_sample(json.loads(response.data), ns, name, container)
            except ApiException as error:
                failures.append(f"kubelet summary: HTTP {error.status}")
            except SourceError as error:
                failures.append(f"kubelet summary: {error}")
            except (AttributeError, KeyError, TypeError, ValueError):
                failures.append("kubelet summary: unreadable answer")
        with self._lock:
            if sample is None:
                if self._metrics_failing_since is None:
                    self._metrics_failing_since = datetime.now(UTC)
                self._metrics_note = (f"{NO_METRICS_NOTE} since {self._metrics_failing_since:%H:%M:%S} UTC, "
                                      f"retrying in {max(self.sample_interval, self._metrics_retry_at - time.monotonic()):.0f}s"
                                      + (f" ({'; '.join(failures)})" if failures else ""))
                return
            self._metrics_note = self._metrics_failing_since = None
            if not self._samples or sample.at > self._samples[-1].at:
                self._samples.append(sample)

    # -- errors ----------------------------------------------------------------------------

    def _call(self, request: Callable[[], T], verb: str, resource: str, *,
              passthrough: tuple[int, ...] = ()) -> T:
        """Run one API request through :func:`~tui.sources.kubernetes_client.call_api`."""
        return call_api(request, verb=verb, resource=resource, namespace=self.service.namespace,
                        host=self._host, passthrough=passthrough)
