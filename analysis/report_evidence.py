"""Facts the report derives from its data: key moments, memory statistics, wording helpers.

Kept apart from the Markdown so that the JSON report and the tests use the same numbers the
prose shows. Pure functions over :class:`analysis.report.ReportData`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from analysis.memory import growth_rate
from analysis.model import FindingKind, LeakFinding, MemorySample, OomKill, TimelineKind
from analysis.report import ReportData

LIMIT_FRACTION = 0.95
"""A sample at or above this fraction of the limit counts as having reached it (the last sample
before a kill rarely lands exactly on the limit)."""

MIB = 1 << 20
"""Bytes in a mebibyte."""

_KIND_ORDER = {
    FindingKind.LEAK_IN_LOOP: 0,
    FindingKind.LEAK: 1,
    FindingKind.RESOURCE_LEAK: 2,
    FindingKind.USE_AFTER_FREE: 3,
    FindingKind.DOUBLE_FREE: 4,
}
"""Which finding explains an OOM kill best: unbounded growth first."""

_LANGUAGES = {
    ".c": "C",
    ".h": "C",
    ".cc": "C++",
    ".cpp": "C++",
    ".go": "Go",
    ".py": "Python",
    ".rs": "Rust",
    ".java": "Java",
    ".js": "JavaScript",
    ".ts": "TypeScript",
}


@dataclass(frozen=True)
class Moment:
    """One line of the report's timeline block."""

    at: datetime | None
    """When, or ``None`` when it could not be determined."""
    text: str
    """What happened (with the reason when ``at`` is unknown)."""


@dataclass(frozen=True)
class MemoryEvidence:
    """Memory statistics of the first OOM-killed run."""

    peak_bytes: int | None
    """Highest usage seen in the first killed run (all samples when no kill is known)."""
    limit_bytes: int | None
    """The memory limit."""
    growth_bytes_per_second: float | None
    """Least-squares slope over the first killed run."""
    r_squared: float | None
    """How straight that line is (1.0 = perfectly linear)."""
    samples_in_run: int
    """Samples the statistics are based on."""
    restart_count: int | None
    """Restarts so far."""
    reached_limit_at: datetime | None
    """First sample at or above :data:`LIMIT_FRACTION` of the limit in that run."""


def first_kill(data: ReportData) -> OomKill | None:
    """The earliest OOM kill, if any."""
    return min(data.oom_kills, key=lambda kill: kill.at, default=None)


def run_samples(data: ReportData) -> list[MemorySample]:
    """Samples of the first killed run, or every sample when no kill is known."""
    kill = first_kill(data)
    samples = sorted(data.memory, key=lambda sample: sample.at)
    if kill is None:
        return samples
    return [s for s in samples if kill.started_at <= s.at <= kill.at]


def memory_evidence(data: ReportData) -> MemoryEvidence:
    """Peak, limit, growth rate and restart count, from the first killed run.

    Args:
        data: The report data.

    Returns:
        The statistics; fields are ``None`` where the data does not allow them.
    """
    kill = first_kill(data)
    samples = run_samples(data)
    limit = data.workload.limit_bytes
    peaks = [s.bytes for s in samples] + ([kill.peak_bytes] if kill and kill.peak_bytes else [])
    slope = growth_rate(samples)
    r_squared = None
    if slope is not None:
        t0 = samples[0].at
        xs = [(s.at - t0).total_seconds() for s in samples]
        ys = [float(s.bytes) for s in samples]
        mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
        total = sum((y - mean_y) ** 2 for y in ys)
        residual = sum(
            (y - (mean_y + slope * (x - mean_x))) ** 2 for x, y in zip(xs, ys, strict=True)
        )
        r_squared = 1 - residual / total if total else None
    reached = None
    if limit:
        reached = next((s.at for s in samples if s.bytes >= LIMIT_FRACTION * limit), None)
    restarts = data.container.restart_count if data.container else None
    if restarts is None and data.oom_kills:
        restarts = max(kill.restart_count for kill in data.oom_kills)
    return MemoryEvidence(
        max(peaks, default=None), limit, slope, r_squared, len(samples), restarts, reached
    )


def format_size(value: int | None) -> str:
    """Bytes in Kubernetes units when exact (``64Mi``), else MiB with one decimal."""
    if value is None:
        return "unknown"
    for unit, size in (("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if value >= size and value % size == 0:
            return f"{value // size}{unit}"
    return f"{value / (1 << 20):.1f} MiB"


def _enforcer(mechanism: str) -> str:
    """Who performs the kill, for the timeline's wording."""
    return {
        "kubernetes": "Kubernetes OOMKills",
        "cgroup-v2": "The kernel OOMKills (cgroup v2 limit)",
        "cgroup-v1": "The kernel OOMKills (cgroup v1 limit)",
        "watchdog": "The watchdog OOMKills (RSS at the limit)",
    }.get(mechanism, f"{mechanism} OOMKills")


def key_moments(data: ReportData) -> list[Moment]:
    """The timeline block's moments, oldest first; unknown ones last, with the reason.

    Args:
        data: The report data.

    Returns:
        Run start, limit reached, OOM kill, incident trigger, restart, then acknowledgement,
        further kills, fix PR and resolution when they happened.
    """
    kill = first_kill(data)
    workload = data.workload
    incident = data.incident
    moments: list[Moment] = []
    if kill is None:
        reason = "no OOM kill recorded"
        moments += [
            Moment(None, f"Pod starts consuming memory: unknown ({reason})"),
            Moment(None, f"Memory usage reaches the limit: unknown ({reason})"),
            Moment(None, f"Container is OOMKilled: unknown ({reason})"),
        ]
    else:
        moments.append(
            Moment(
                kill.started_at,
                f"Pod {workload.pod} starts consuming memory (run of {workload.container} starts)",
            )
        )
        limit = format_size(workload.limit_bytes)
        reached = memory_evidence(data).reached_limit_at
        if workload.limit_bytes is None:
            moments.append(Moment(None, "Memory usage reaches the limit: unknown (no limit set)"))
        elif reached is not None:
            moments.append(Moment(reached, f"Memory usage reaches the {limit} limit"))
        else:
            moments.append(
                Moment(
                    kill.at,
                    f"Memory usage reaches the {limit} limit "
                    "(at the kill; no sample that close to it)",
                )
            )
        moments.append(
            Moment(
                kill.at,
                f"{_enforcer(workload.limit_mechanism)} "
                f"{workload.container} (exit {kill.exit_code})",
            )
        )
    if kill is not None:
        rollout = max(
            (d for d in data.deployments if d.at <= kill.at), key=lambda d: d.at, default=None
        )
        if rollout is not None:
            sha = f" ({rollout.sha[:7]})" if rollout.sha else ""
            moments.append(
                Moment(rollout.at, f"Deployment of revision {rollout.revision}{sha} rolled out")
            )
    moments.append(Moment(incident.created_at, f"PagerDuty incident #{incident.number} triggered"))
    moments.append(_restart_moment(data, kill))
    if incident.acknowledged_at:
        moments.append(Moment(incident.acknowledged_at, "Incident acknowledged"))
    later = sorted(k.at for k in data.oom_kills)[1:]
    if later:
        total = len(later) + 1
        moments.append(Moment(later[-1], f"OOM kill #{total}, the latest ({total} kills in all)"))
    if data.pr is not None and data.pr.created_at is not None:
        moments.append(Moment(data.pr.created_at, f"Fix PR #{data.pr.number} opened"))
    if incident.resolved_at:
        moments.append(Moment(incident.resolved_at, "Incident resolved"))
    known = sorted((m for m in moments if m.at is not None), key=lambda m: m.at)  # type: ignore[arg-type, return-value]
    return known + [m for m in moments if m.at is None]


def _restart_moment(data: ReportData, kill: OomKill | None) -> Moment:
    """The first restart after the first kill, from the timeline, the next run or the state."""
    if kill is None:
        return Moment(None, "Pod restart initiated: unknown (no OOM kill recorded)")
    kinds = (TimelineKind.RESTART, TimelineKind.BACKOFF)
    entry = min(
        (e for e in data.timeline if e.kind in kinds and e.at >= kill.at),
        key=lambda e: e.at,
        default=None,
    )
    backoff = (
        "CrashLoopBackOff"
        if any(e.kind is TimelineKind.BACKOFF for e in data.timeline)
        or (data.container is not None and data.container.reason == "CrashLoopBackOff")
        else None
    )
    suffix = f" ({backoff})" if backoff else ""
    if entry is not None:
        return Moment(entry.at, f"Pod restart initiated{suffix}: {entry.summary}")
    next_runs = sorted(k.started_at for k in data.oom_kills if k.started_at >= kill.at)
    if next_runs:
        return Moment(next_runs[0], f"Pod restart initiated{suffix}: next run starts")
    if data.container and data.container.started_at and data.container.started_at >= kill.at:
        return Moment(
            data.container.started_at, f"Pod restart initiated{suffix}: container running"
        )
    return Moment(None, "Pod restart initiated: unknown (no restart seen after the kill)")


def all_findings(data: ReportData) -> list[LeakFinding]:
    """Findings of the suspects, then the report's own, without duplicates."""
    seen = dict.fromkeys(f for s in data.suspects for f in s.findings)
    seen.update(dict.fromkeys(data.findings))
    return list(seen)


def primary_finding(data: ReportData) -> LeakFinding | None:
    """The finding that best explains the incident: the fixed one, else the most OOM-like."""
    findings = all_findings(data)
    if data.fix is not None:
        fixed = [f for f in findings if f.function == data.fix.function]
        findings = fixed or findings
    return min(findings, key=lambda f: _KIND_ORDER.get(f.kind, 9), default=None)


def same_file(a: str, b: str) -> bool:
    """Whether two paths name the same repository file (one may be absolute or prefixed)."""
    a, b = a.replace("\\", "/"), b.replace("\\", "/")
    return a == b or a.endswith("/" + b) or b.endswith("/" + a)


def source_for(data: ReportData, path: str) -> str | None:
    """The text of ``path``: from ``data.sources``, else the fix's original."""
    for source_path, text in data.sources:
        if same_file(source_path, path):
            return text
    if data.fix is not None and same_file(data.fix.file, path):
        return data.fix.original
    return None


def language(data: ReportData) -> str | None:
    """The primary language: given, or the commonest among changed and analysed files."""
    if data.primary_language:
        return data.primary_language
    paths = [c.path for s in data.suspects for c in s.commit.files]
    paths += [f.file for f in all_findings(data)] + ([data.fix.file] if data.fix else [])
    counts: dict[str, int] = {}
    for path in paths:
        suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
        if suffix in _LANGUAGES:
            counts[_LANGUAGES[suffix]] = counts.get(_LANGUAGES[suffix], 0) + 1
    return max(counts, key=lambda name: counts[name], default=None)


def unknown(reason: str) -> str:
    """The report's wording for a missing value."""
    return f"unknown ({reason})"


def code(text: str) -> str:
    """``text`` as a Markdown code span, whatever backticks it contains."""
    text = " ".join(text.split())
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def stamp(moment: datetime | None, missing: str) -> str:
    """``2024-05-01 10:00:00 UTC``, or ``unknown (missing)``."""
    return unknown(missing) if moment is None else f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def span(delta: timedelta) -> str:
    """A duration in words: ``45 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h``."""
    seconds = max(0, round(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60} min" if minutes % 60 else f"{hours} h"
    return f"{hours // 24} d {hours % 24} h" if hours % 24 else f"{hours // 24} d"


def anchor(data: ReportData) -> datetime:
    """The moment commits are correlated against: the first OOM kill, else the trigger."""
    kill = first_kill(data)
    return kill.at if kill else data.incident.created_at
