"""Kubernetes objects -> :mod:`analysis.model` values, with no I/O and no ``kubernetes`` import.

The functions read the official client's typed models by attribute (``pod.status.container_statuses``)
and metrics payloads as the JSON dicts the API returns, so they also work on stand-ins in tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from analysis.model import (
    ContainerState,
    Deployment,
    MemorySample,
    OomKill,
    Termination,
    TimelineEntry,
    TimelineKind,
)
from tui.sources.base import SourceError

EVENT_SOURCE = "kubernetes"
"""``TimelineEntry.source`` of everything this module builds."""
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
"""The Deployment controller's revision number on each ReplicaSet."""
SHA_KEYS = ("app.kubernetes.io/version", "git-sha", "git.sha", "commit", "vcs-ref",
            "org.opencontainers.image.revision")
"""Labels and annotations that may carry the deployed commit."""
_SHA = re.compile(r"^(?:sha-|g)?([0-9a-f]{7,40})$")
_SUFFIXES = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"),
    "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
}
_QUANTITY = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z]{0,2})\s*$")
_MAX_QUANTITY = 2**63 - 1
"""Kubernetes keeps quantities in int64; anything larger is not a real limit or usage."""


class PayloadError(SourceError, ValueError):
    """A Kubernetes object holds a value the dashboard cannot read (a quantity, a timestamp).

    A :class:`ValueError` too, so callers that caught the quantity parser's ``ValueError`` still do.
    """


def parse_quantity(text: str | float) -> int:
    """A Kubernetes resource quantity in bytes (or units), rounded up to an integer.

    Args:
        text: ``"64Mi"``, ``"128M"``, ``"1Gi"``, ``"500000Ki"``, ``"1e3"``, ``"67108864"`` or a number.

    Returns:
        The value as an integer; fractions round up, as the API server does for bytes.

    Raises:
        PayloadError: The text is not a quantity, or one beyond int64 (a ``ValueError`` too).
    """
    if isinstance(text, bool):
        raise PayloadError(f"not a quantity: {text!r}")  # one error type for callers
    if isinstance(text, int):
        return text
    match = _QUANTITY.match(str(text))
    if not match or (match.group(2) and match.group(2) not in _SUFFIXES):
        raise PayloadError(f"not a Kubernetes quantity: {text!r}")
    number, suffix = match.groups()
    try:
        value = Decimal(number) * Decimal(_SUFFIXES.get(suffix, 1))
    except ArithmeticError:  # InvalidOperation, or Overflow past Decimal's exponent range
        raise PayloadError(f"not a Kubernetes quantity: {text!r}") from None
    # Checked before int(): "1e999999999" would otherwise build a billion-digit integer.
    if abs(value) > _MAX_QUANTITY:
        raise PayloadError(f"Kubernetes quantity out of range: {text!r}")
    integral = int(value)
    return integral + 1 if value > integral else integral


def matches_selector(labels: dict[str, str] | None, selector: str) -> bool:
    """Whether ``labels`` satisfy a label selector (``a=b,c!=d,e in (x,y),f notin (z),g,!h``).

    Servers honour selectors, but fakes and caches may not, so sources filter again client-side.
    """
    labels = labels or {}
    for requirement in _split_selector(selector):
        if match := re.fullmatch(r"\s*([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*", requirement):
            key, op, values = match.group(1), match.group(2), {v.strip() for v in match.group(3).split(",")}
            if (op == "in") != (key in labels and labels[key] in values):
                return False
        elif match := re.fullmatch(r"\s*([\w./-]+)\s*(==|!=|=)\s*([\w./-]*)\s*", requirement):
            key, op, value = match.groups()
            if (op == "!=") == (labels.get(key) == value):
                return False
        elif match := re.fullmatch(r"\s*(!?)([\w./-]+)\s*", requirement):
            if bool(match.group(1)) == (match.group(2) in labels):
                return False
        elif requirement.strip():
            raise ValueError(f"cannot parse label selector {selector!r} at {requirement!r}")
    return True


def _split_selector(selector: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def utc(value: datetime | str | None) -> datetime | None:
    """A timezone-aware UTC datetime from a model datetime or an RFC 3339 string.

    Raises:
        PayloadError: The string is not a timestamp, or its UTC instant is outside years 1-9999.
    """
    if value is None or value == "":
        return None
    try:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise PayloadError(f"Kubernetes returned a malformed timestamp {value!r}") from None


def find_container_spec(pod: Any, container: str) -> Any | None:
    """The ``spec.containers[]`` entry named ``container``."""
    for spec in (pod.spec.containers if pod.spec else None) or []:
        if spec.name == container:
            return spec
    return None


def find_container_status(pod: Any, container: str) -> Any | None:
    """The ``status.containerStatuses[]`` entry named ``container``."""
    for status in (pod.status.container_statuses if pod.status else None) or []:
        if status.name == container:
            return status
    return None


def container_limits(pod: Any, container: str) -> tuple[int | None, str | None]:
    """``(memory limit in bytes, CPU limit as written)`` of a container, ``None`` when unset."""
    spec = find_container_spec(pod, container)
    limits = (spec.resources.limits if spec is not None and spec.resources else None) or {}
    memory = limits.get("memory")
    return (parse_quantity(memory) if memory is not None else None), limits.get("cpu")


def termination(terminated: Any) -> Termination | None:
    """A ``V1ContainerStateTerminated`` as a :class:`Termination` (``None`` when absent)."""
    if terminated is None:
        return None
    finished = utc(terminated.finished_at)
    started = utc(terminated.started_at) or finished
    if finished is None or started is None:
        return None
    return Termination(reason=terminated.reason or "Unknown", exit_code=int(terminated.exit_code or 0),
                       started_at=started, finished_at=finished)


def container_state(pod: Any, container: str) -> ContainerState:
    """The container's state as ``kubectl get pod -o yaml`` shows it.

    A container without a status yet (the pod is being scheduled) is ``waiting``/``ContainerCreating``.
    """
    limit, _ = container_limits(pod, container)
    status = find_container_status(pod, container)
    name = pod.metadata.name
    if status is None:
        return ContainerState(pod=name, container=container, state="waiting",
                              reason=(pod.status.reason if pod.status else None) or "ContainerCreating",
                              restart_count=0, limit_bytes=limit)
    state, reason, started = "waiting", None, None
    if status.state is not None and status.state.running is not None:
        state, started = "running", utc(status.state.running.started_at)
    elif status.state is not None and status.state.terminated is not None:
        state, reason = "terminated", status.state.terminated.reason
    elif status.state is not None and status.state.waiting is not None:
        reason = status.state.waiting.reason
    last = termination(status.last_state.terminated) if status.last_state is not None else None
    return ContainerState(pod=name, container=container, state=state, reason=reason,
                          restart_count=int(status.restart_count or 0), limit_bytes=limit,
                          last_termination=last, started_at=started)


def oom_terminations(pod: Any, container: str) -> list[Termination]:
    """OOM terminations visible in the container's status: ``lastState`` and, until the restart, ``state``."""
    status = find_container_status(pod, container)
    found: list[Termination] = []
    for holder in (status.last_state, status.state) if status is not None else ():
        ended = termination(holder.terminated) if holder is not None else None
        if ended is not None and ended.reason == "OOMKilled":
            found.append(ended)
    return found


def waiting_message(pod: Any, container: str) -> tuple[str | None, str | None]:
    """``(reason, message)`` of the container's waiting state, if it is waiting."""
    status = find_container_status(pod, container)
    waiting = status.state.waiting if status is not None and status.state is not None else None
    return (waiting.reason, waiting.message) if waiting is not None else (None, None)


@dataclass(frozen=True)
class EventRecord:
    """A pod event, kept after the API server expires it (the report snapshots these)."""

    uid: str
    """Event UID (or name when the UID is missing)."""
    at: datetime
    """Last time it was seen."""
    type: str
    """``Normal`` or ``Warning``."""
    reason: str
    """``BackOff``, ``Killing``, ``Pulled``, ``Created``, ``Started`` ..."""
    message: str
    """The kubelet's message."""
    count: int
    """How many times it happened."""
    involved: str
    """``Pod/<name>`` (or ``Pod/<name>/<container>`` when the field path names one)."""

    def entry(self) -> TimelineEntry:
        """The event as a timeline entry."""
        times = f" (x{self.count})" if self.count > 1 else ""
        return TimelineEntry(at=self.at, kind=TimelineKind.EVENT,
                             summary=f"{self.reason}: {self.message}{times} [{self.involved}]", source=EVENT_SOURCE)

    def as_dict(self) -> dict[str, str | int]:
        """A JSON-friendly form for the incident report."""
        return {"at": self.at.isoformat(), "type": self.type, "reason": self.reason,
                "message": self.message, "count": self.count, "object": self.involved}


def event_record(event: Any, *, pod: str) -> EventRecord | None:
    """A ``CoreV1Event`` about ``pod`` as an :class:`EventRecord`.

    Returns ``None`` for events about other objects (servers and fakes may ignore the field
    selector) and for events without any timestamp.
    """
    obj = event.involved_object
    if obj is None or obj.name != pod or (obj.kind or "Pod") != "Pod":
        return None
    # Fakes and caches may hand over an event without metadata: it still has its own times.
    meta = event.metadata
    at = (utc(event.last_timestamp) or utc(getattr(event, "event_time", None))
          or utc(event.first_timestamp) or utc(meta.creation_timestamp if meta is not None else None))
    if at is None:
        return None
    involved = f"{obj.kind or 'Pod'}/{obj.name}"
    if obj.field_path and (match := re.search(r"\{(.+)\}", obj.field_path)):
        involved += f"/{match.group(1)}"
    uid = (meta.uid or meta.name if meta is not None else None) or f"{involved}/{event.reason}/{at.isoformat()}"
    return EventRecord(uid=uid, at=at, type=event.type or "Normal",
                       reason=event.reason or "", message=(event.message or "").strip(),
                       count=int(event.count or 1), involved=involved)


def controller_of(obj: Any, kind: str) -> str | None:
    """The name of the owner of ``kind`` (preferring the controller reference)."""
    owners = (obj.metadata.owner_references if obj.metadata else None) or []
    matching = [owner for owner in owners if owner.kind == kind]
    matching.sort(key=lambda owner: not owner.controller)
    return matching[0].name if matching else None


def find_sha(replica_set: Any, container: str) -> str | None:
    """A git SHA from labels/annotations or the container's image tag, when one looks like a SHA."""
    meta = replica_set.metadata
    template = replica_set.spec.template if replica_set.spec else None
    places = [meta.annotations, meta.labels]
    if template is not None and template.metadata is not None:
        places += [template.metadata.annotations, template.metadata.labels]
    for place in places:
        for key in SHA_KEYS:
            if (value := (place or {}).get(key)) and (match := _SHA.match(value.lower())):
                return match.group(1)
    for spec in (template.spec.containers if template is not None and template.spec else None) or []:
        if spec.name == container and spec.image and ":" in spec.image.rsplit("/", 1)[-1]:
            tag = spec.image.rsplit(":", 1)[-1].lower()
            if match := _SHA.match(tag):
                return match.group(1)
    return None


def deployment(replica_set: Any, deployment_name: str, container: str) -> Deployment | None:
    """A ReplicaSet of a Deployment as a :class:`Deployment` (``None`` without a creation time)."""
    meta = replica_set.metadata
    at = utc(meta.creation_timestamp)
    if at is None:
        return None
    revision = (meta.annotations or {}).get(REVISION_ANNOTATION) or "?"
    image = next((spec.image for spec in (replica_set.spec.template.spec.containers
                                          if replica_set.spec and replica_set.spec.template
                                          and replica_set.spec.template.spec else None) or []
                  if spec.name == container), None)
    image_text = f", image {image}" if image else ""
    return Deployment(at=at, revision=revision, sha=find_sha(replica_set, container),
                      description=f"{deployment_name} revision {revision}: ReplicaSet {meta.name}{image_text}")


def deployments(replica_sets: list[Any], deployment_name: str, container: str) -> list[Deployment]:
    """The rollouts of ``deployment_name``: its ReplicaSets among ``replica_sets``, by revision."""
    found = [rollout for item in replica_sets if controller_of(item, "Deployment") == deployment_name
             if (rollout := deployment(item, deployment_name, container)) is not None]
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    return sorted(found, key=lambda item: (int(item.revision) if item.revision.isdecimal() else -1, item.at))


def deployment_entry(rollout: Deployment) -> TimelineEntry:
    """A rollout as a timeline entry."""
    return TimelineEntry(at=rollout.at, kind=TimelineKind.DEPLOYMENT, summary=rollout.description,
                         source=EVENT_SOURCE)


def oom_entry(state: ContainerState, ended: Termination) -> TimelineEntry:
    """An OOM kill, dated by ``finishedAt``, as a timeline entry."""
    limit = f", limit {state.limit_bytes / 2**20:.0f} MiB" if state.limit_bytes else ""
    return TimelineEntry(at=ended.finished_at, kind=TimelineKind.OOM_KILL, source=EVENT_SOURCE,
                         summary=f"{state.container} in {state.pod} OOMKilled (exit code {ended.exit_code}{limit})")


def restart_entry(state: ContainerState, previous: int) -> TimelineEntry:
    """A ``restartCount`` increase from ``previous``, dated by the new run's start (else now)."""
    numbers = (f"#{state.restart_count}" if state.restart_count == previous + 1
               else f"#{previous + 1}-#{state.restart_count}")
    return TimelineEntry(at=state.started_at or datetime.now(UTC), kind=TimelineKind.RESTART, source=EVENT_SOURCE,
                         summary=f"Restarted container {state.container} in pod {state.pod} (restart {numbers})")


def backoff_entry(state: ContainerState, message: str | None) -> TimelineEntry:
    """A CrashLoopBackOff seen now, with the kubelet's message when it gave one."""
    text = message or f"Back-off restarting failed container {state.container} in pod {state.pod}"
    return TimelineEntry(at=datetime.now(UTC), kind=TimelineKind.BACKOFF, summary=text, source=EVENT_SOURCE)


def with_peak(kill: OomKill, samples: list[MemorySample]) -> OomKill:
    """``kill`` with ``peak_bytes`` set to the highest sample taken during that run, when any was."""
    peak = max((s.bytes for s in samples if kill.started_at <= s.at <= kill.at), default=None)
    if peak is None:
        return kill
    return OomKill(at=kill.at, started_at=kill.started_at, exit_code=kill.exit_code,
                   peak_bytes=peak, restart_count=kill.restart_count)


def metrics_sample(pod_metrics: dict[str, Any], container: str) -> MemorySample | None:
    """The container's working set from a metrics-server ``PodMetrics`` (``None`` when absent)."""
    for entry in pod_metrics.get("containers") or []:
        memory = (entry.get("usage") or {}).get("memory")
        if entry.get("name") == container and memory is not None:
            at = utc(pod_metrics.get("timestamp")) or datetime.now(UTC)
            return MemorySample(at=at, bytes=parse_quantity(memory), source="metrics-server")
    return None


def summary_sample(summary: dict[str, Any], namespace: str, pod: str, container: str) -> MemorySample | None:
    """The container's ``workingSetBytes`` from a kubelet ``/stats/summary`` (``None`` when absent)."""
    for entry in summary.get("pods") or []:
        ref = entry.get("podRef") or {}
        if ref.get("name") != pod or ref.get("namespace") != namespace:
            continue
        for stats in entry.get("containers") or []:
            memory = stats.get("memory") or {}
            if stats.get("name") == container and memory.get("workingSetBytes") is not None:
                at = utc(memory.get("time")) or datetime.now(UTC)
                return MemorySample(at=at, bytes=int(memory["workingSetBytes"]), source="kubelet-summary")
    return None


def deployment_selector(replica_set: Any) -> str | None:
    """The label selector its Deployment's ReplicaSets share: the ReplicaSet's ``matchLabels``
    without ``pod-template-hash`` (which differs per revision); ``None`` when there is none."""
    selector = getattr(getattr(replica_set, "spec", None), "selector", None)
    labels = dict(getattr(selector, "match_labels", None) or {})
    labels.pop("pod-template-hash", None)
    if not labels:
        return None
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
