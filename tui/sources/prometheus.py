"""Memory history and OOM kills from before the TUI started, read from Prometheus over ``httpx``.

The live workload source only sees memory from the moment it starts polling metrics-server; a
Prometheus that scrapes cAdvisor and kube-state-metrics remembers the hours before the page. This
adapter asks its HTTP API (``GET /api/v1/query_range``) for

* ``container_memory_working_set_bytes`` of one container (cAdvisor, the number the kernel's OOM
  killer compares with the limit), and
* the OOM kills kube-state-metrics recorded for it.

Async throughout (STYLE.md rule 4). Every failure becomes a :class:`~tui.sources.base.SourceError`
whose text names the Prometheus host and is fit to show the user.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from analysis.model import MemorySample, WorkloadInfo
from tui.sources.base import AuthError, RateLimitedError, SourceError
from tui.sources.retry_after import retry_after_seconds
from tui.sources.urls import display_host

MAX_POINTS = 11_000
"""Prometheus rejects a range query with more points per series than this."""
TARGET_POINTS = 2_000
"""Points per series aimed for when the caller gives no step (plenty for a terminal-wide graph)."""
MIN_STEP = timedelta(seconds=1)
"""Finest automatic step."""
SOURCE_LABEL = "prometheus"
"""``MemorySample.source`` of every sample returned."""
WORKING_SET = "container_memory_working_set_bytes"
"""cAdvisor's working-set gauge."""
LAST_TERMINATED_REASON = "kube_pod_container_status_last_terminated_reason"
"""kube-state-metrics: 1 for the reason of the container's last termination."""
LAST_TERMINATED_TIMESTAMP = "kube_pod_container_status_last_terminated_timestamp"
"""kube-state-metrics (recent releases): unix time of the container's last termination."""

Series = tuple[dict[str, str], list[tuple[float, float]]]
"""One result series: its labels and its ``(unix seconds, value)`` points, finite values only."""


def promql_string(value: str) -> str:
    """Quote ``value`` as a PromQL string literal (double quotes, backslash escapes).

    Args:
        value: Any text, e.g. a label value holding quotes or backslashes.

    Returns:
        The literal, quotes included, e.g. ``"a\\"b"`` for ``a"b``.
    """
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def literal_pattern(text: str) -> str:
    """A ``pod_pattern`` (an RE2 regex) matching exactly ``text``, e.g. one pod's name.

    Args:
        text: A literal name.

    Returns:
        The regex, with every metacharacter escaped.
    """
    return re.escape(text)


def choose_step(start: datetime, end: datetime, step: timedelta | None = None) -> timedelta:
    """The resolution of a range query over ``[start, end]``, in whole milliseconds.

    Args:
        start: Window start.
        end: Window end.
        step: What the caller asked for; ``None`` picks ``max(1 s, span / 2000)``.

    Returns:
        ``step`` (or the automatic one), raised when needed so the query stays within
        :data:`MAX_POINTS` points per series.
    """
    span_ms = max(0, math.ceil((end - start) / timedelta(milliseconds=1)))
    if step is None:
        step_ms = max(MIN_STEP // timedelta(milliseconds=1), math.ceil(span_ms / TARGET_POINTS))
    else:
        step_ms = max(1, math.ceil(step / timedelta(milliseconds=1)))
    # Prometheus refuses when span / step > 11,000; one point fewer keeps clear of rounding.
    step_ms = max(step_ms, math.ceil(span_ms / (MAX_POINTS - 1)))
    return timedelta(milliseconds=step_ms)


def _selector(metric: str, labels: Mapping[str, tuple[str, str]]) -> str:
    """``metric{name op "value",...}`` with every value quoted by :func:`promql_string`."""
    matchers = ",".join(f"{name}{op}{promql_string(value)}" for name, (op, value) in labels.items())
    return f"{metric}{{{matchers}}}"


@dataclass(frozen=True)
class _Window:
    """Query parameters shared by a method's queries."""

    start: datetime
    """Window start, aware UTC."""
    end: datetime
    """Window end, aware UTC."""
    step: timedelta
    """Resolution, from :func:`choose_step`."""


class PrometheusHistory:
    """Reads a container's memory history and OOM kills from a Prometheus server."""

    def __init__(self, url: str, *, client: httpx.AsyncClient | None = None, timeout: float = 10.0) -> None:
        """Create the source; no request is made until a method is awaited.

        Args:
            url: Prometheus base URL, e.g. ``http://prometheus.monitoring:9090`` (a path prefix such
                as ``https://host/prometheus`` is kept).
            client: An ``httpx.AsyncClient`` to use (tests, proxies, auth); owned by the caller.
                When ``None`` the source makes its own and closes it in :meth:`aclose`.
            timeout: Seconds per request for the client it makes.
        """
        self._url = url.rstrip("/")
        self._host = display_host(self._url)
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient(timeout=timeout)
        self._timeout = timeout

    async def aclose(self) -> None:
        """Close the HTTP client if this source created it."""
        if self._owns_client:
            await self._client.aclose()

    async def memory_history(
        self,
        namespace: str,
        pod_pattern: str,
        container: str,
        start: datetime,
        end: datetime,
        *,
        step: timedelta | None = None,
    ) -> list[MemorySample]:
        """Working-set bytes of a container over ``[start, end]``, oldest first.

        The query is ``max_over_time(container_memory_working_set_bytes{namespace=..,pod=~..,
        container=..,image!=""}[step - 1ms])`` at ``step``: the range function keeps the peak of each
        step (an OOM kill is a peak that plain sampling at a coarse step would miss) and stops a
        killed run's series at its last sample, where a bare selector would repeat that value for
        Prometheus' five-minute lookback over the next run. ``image!=""`` drops the pod-level
        cgroup series. Each container restart (and each pod) is its own series; they are merged
        by time, keeping the highest value when two share a timestamp.

        Args:
            namespace: Kubernetes namespace.
            pod_pattern: RE2 regex over pod names, anchored by Prometheus (``worker-deployment-.*``;
                :func:`literal_pattern` for one exact name).
            container: Container name.
            start: Window start (aware; naive is taken as UTC).
            end: Window end.
            step: Resolution; by default ``max(1 s, span / 2000)``. Raised when needed to stay
                under Prometheus' 11,000 points per series.

        Returns:
            Samples with UTC times and ``source="prometheus"``; empty when nothing matched.

        Raises:
            SourceError: Prometheus is unreachable, timed out, rejected the query or answered
                something that is not its API's JSON.
        """
        window = self._window(start, end, step)
        selector = _selector(WORKING_SET, {
            "namespace": ("=", namespace), "pod": ("=~", pod_pattern),
            "container": ("=", container), "image": ("!=", ""),
        })
        range_ms = max(1, window.step // timedelta(milliseconds=1) - 1)
        series = await self._query_range(f"max_over_time({selector}[{range_ms}ms])", window)
        merged: dict[float, float] = {}
        for _labels, points in series:
            for at, value in points:
                merged[at] = max(value, merged.get(at, value))
        return [MemorySample(at=datetime.fromtimestamp(at, UTC), bytes=int(value), source=SOURCE_LABEL)
                for at, value in sorted(merged.items())]

    async def oom_kills(
        self,
        namespace: str,
        pod_pattern: str,
        container: str,
        start: datetime,
        end: datetime,
    ) -> list[datetime]:
        """When kube-state-metrics saw the container OOM-killed in ``[start, end]``, oldest first.

        Best effort, from what kube-state-metrics exports:

        * With ``kube_pod_container_status_last_terminated_timestamp`` (recent releases): every
          distinct termination time seen while ``..._last_terminated_reason{reason="OOMKilled"}``
          is 1. Exact to the second, but two kills closer together than the scrape interval (or the
          query step, ``max(1 s, span / 2000)``) show up as one.
        * Without it: the times the reason series turns 1 (appears, or rises from 0), to the query
          step. The series stays 1 across consecutive OOM kills, so only the first kill after
          another kind of termination (or after the pod starts) is found.

        Args:
            namespace: Kubernetes namespace.
            pod_pattern: RE2 regex over pod names (see :meth:`memory_history`).
            container: Container name.
            start: Window start.
            end: Window end.

        Returns:
            UTC times of the kills found; empty when kube-state-metrics is not scraped.

        Raises:
            SourceError: As :meth:`memory_history`.
        """
        window = self._window(start, end, None)
        where = {"namespace": ("=", namespace), "pod": ("=~", pod_pattern), "container": ("=", container)}
        reason = _selector(LAST_TERMINATED_REASON, {**where, "reason": ("=", "OOMKilled")})
        stamped = (f"{_selector(LAST_TERMINATED_TIMESTAMP, where)} "
                   f"and on(namespace, pod, container) ({reason} == 1)")
        begin, finish = window.start.timestamp(), window.end.timestamp()
        kills: set[float] = set()
        for _labels, points in await self._query_range(stamped, window):
            kills.update(value for _at, value in points if begin <= value <= finish)
        if not kills:
            for _labels, points in await self._query_range(reason, window):
                previous: float | None = None
                for index, (at, value) in enumerate(points):
                    gap = index > 0 and at - points[index - 1][0] > 1.5 * window.step.total_seconds()
                    if value >= 1 and (previous is None or previous < 1 or gap):
                        kills.add(at)
                    previous = value
        return [datetime.fromtimestamp(at, UTC) for at in sorted(kills)]

    def _window(self, start: datetime, end: datetime, step: timedelta | None) -> _Window:
        """Normalise the window to aware UTC and pick its step."""
        start, end = _utc(start), _utc(end)
        if end < start:
            raise ValueError(f"window ends ({end.isoformat()}) before it starts ({start.isoformat()})")
        return _Window(start=start, end=end, step=choose_step(start, end, step))

    async def _query_range(self, query: str, window: _Window) -> list[Series]:
        """Run a range query and return its matrix; every failure becomes a :class:`SourceError`."""
        params = {
            "query": query,
            "start": f"{window.start.timestamp():.3f}",
            "end": f"{window.end.timestamp():.3f}",
            "step": f"{window.step.total_seconds():.3f}",
        }
        try:
            response = await self._client.get(f"{self._url}/api/v1/query_range", params=params)
        except httpx.TimeoutException:
            raise SourceError(f"Prometheus at {self._host} did not answer within {self._timeout:g} s") from None
        except httpx.ConnectError as error:
            raise SourceError(f"cannot connect to Prometheus at {self._host}: {error or 'connection failed'}") from None
        except httpx.HTTPError as error:
            raise SourceError(f"request to Prometheus at {self._host} failed: {error or type(error).__name__}") from None
        if response.status_code == 429 or (response.status_code == 503 and "retry-after" in response.headers):
            raise RateLimitedError(f"Prometheus at {self._host} asked us to slow down (HTTP {response.status_code})",
                                   retry_after=retry_after_seconds(response.headers))
        if response.status_code in (401, 403):
            raise AuthError(f"Prometheus at {self._host} refused the query (HTTP {response.status_code}): "
                            "check [prometheus] url and any proxy's credentials")
        body = _json(response)
        if isinstance(body, dict) and body.get("status") == "error":
            kind = body.get("errorType") or "error"
            raise SourceError(f"Prometheus at {self._host} rejected the query ({kind}): {body.get('error', '')}")
        if response.status_code != 200:
            raise SourceError(f"Prometheus at {self._host} answered HTTP {response.status_code} "
                              f"to {response.request.url.path}")
        if not isinstance(body, dict) or body.get("status") != "success":
            raise SourceError(f"Prometheus at {self._host} sent an answer that is not its API's JSON")
        return _matrix(body.get("data"), self._host)


def _utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (naive is taken as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _json(response: httpx.Response) -> Any:
    """The body as JSON, or ``None`` when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def _matrix(data: Any, host: str) -> list[Series]:
    """Check and convert ``data`` of a range query (``resultType`` ``matrix``)."""
    if not isinstance(data, dict) or data.get("resultType") != "matrix" or not isinstance(data.get("result"), list):
        raise SourceError(f"Prometheus at {host} sent a range-query answer without a matrix result")
    series: list[Series] = []
    for item in data["result"]:
        try:
            labels = {str(key): str(value) for key, value in item.get("metric", {}).items()}
            points = [(float(at), float(value)) for at, value in item.get("values", [])]
        except (AttributeError, TypeError, ValueError):
            raise SourceError(f"Prometheus at {host} sent a malformed series in its answer") from None
        # NaN (a stale or failed scrape) and infinities carry no usable reading.
        series.append((labels, [(at, value) for at, value in points if math.isfinite(value)]))
    return series


def deployment_pod_pattern(pod: str) -> str:
    """A regex for every pod of ``pod``'s Deployment: its name without the ReplicaSet hash and suffix.

    ``worker-deployment-7d9f8c6b5-x2x9q`` gives ``worker-deployment-.*``, so history from pods that
    were replaced by restarts and rollouts is found too. A name without both parts is matched exactly.
    """
    parts = pod.rsplit("-", 2)
    return f"{re.escape(parts[0])}-.*" if len(parts) == 3 else re.escape(pod)


class WorkloadMemoryHistory:
    """:class:`~tui.sources.base.MemoryHistorySource` over Prometheus for the watched container."""

    def __init__(self, prometheus: PrometheusHistory) -> None:
        """Wrap a Prometheus client.

        Args:
            prometheus: The client; closed by :meth:`aclose`.
        """
        self.prometheus = prometheus

    async def memory_history(self, workload: WorkloadInfo, start: datetime, end: datetime) -> list[MemorySample]:
        """The container's working set across all pods of its Deployment."""
        pattern = deployment_pod_pattern(workload.pod)
        return await self.prometheus.memory_history(workload.namespace, pattern, workload.container, start, end)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.prometheus.aclose()
