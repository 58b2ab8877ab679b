"""Pure helpers over memory samples: summaries, growth rate and downsampling for display."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from analysis.model import MemorySample

MIB = 1024 * 1024
"""Bytes in a mebibyte; Kubernetes' ``Mi``."""


@dataclass(frozen=True)
class MemorySummary:
    """What the memory pane's header line says."""

    current_bytes: int | None
    """Latest sample, ``None`` without samples."""
    peak_bytes: int | None
    """Highest sample retained."""
    limit_bytes: int | None
    """The memory limit."""
    percent_of_limit: float | None
    """Latest sample as a percentage of the limit."""


def summarize(samples: Sequence[MemorySample], limit_bytes: int | None) -> MemorySummary:
    """Summarize samples against a limit.

    Args:
        samples: Samples oldest first.
        limit_bytes: The limit, or ``None`` when unlimited.

    Returns:
        Current value, peak and percentage of the limit.
    """
    if not samples:
        return MemorySummary(None, None, limit_bytes, None)
    current = samples[-1].bytes
    percent = 100.0 * current / limit_bytes if limit_bytes else None
    return MemorySummary(current, max(s.bytes for s in samples), limit_bytes, percent)


def growth_rate(samples: Sequence[MemorySample]) -> float | None:
    """Least-squares slope of usage over time, in bytes per second.

    Args:
        samples: Samples of one run of the container, oldest first.

    Returns:
        The slope, or ``None`` with fewer than two samples or no time spread.
    """
    if len(samples) < 2:
        return None
    t0 = samples[0].at
    xs = [(s.at - t0).total_seconds() for s in samples]
    ys = [float(s.bytes) for s in samples]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / spread


def downsample_max(
    samples: Sequence[MemorySample], start: datetime, end: datetime, buckets: int
) -> list[tuple[float, float]]:
    """Reduce samples in ``[start, end]`` to at most ``buckets`` points, keeping each bucket's peak.

    The peak (not the mean) is kept because the question the graph answers is "how close to the
    limit did it get"; averaging would hide the spike right before an OOM kill.

    Args:
        samples: Samples oldest first.
        start: Left edge of the window.
        end: Right edge of the window.
        buckets: Maximum number of points (the plot's width in cells).

    Returns:
        ``(seconds relative to end, MiB)`` pairs, oldest first.
    """
    span = (end - start).total_seconds()
    if span <= 0 or buckets <= 0:
        return []
    peaks: dict[int, tuple[float, int]] = {}
    for sample in samples:
        offset = (sample.at - start).total_seconds()
        if offset < 0 or offset > span:
            continue
        bucket = min(buckets - 1, int(offset / span * buckets))
        if bucket not in peaks or sample.bytes > peaks[bucket][1]:
            peaks[bucket] = (offset - span, sample.bytes)
    return [(seconds, value / MIB) for seconds, value in (peaks[k] for k in sorted(peaks))]


def format_bytes(value: int | None) -> str:
    """Format bytes as MiB with one decimal, or ``n/a``."""
    return "n/a" if value is None else f"{value / MIB:.1f} MiB"
