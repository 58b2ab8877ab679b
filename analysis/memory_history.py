"""The dashboard's memory history: bounded in count and resolution, cheap to slice by time.

A source may deliver samples faster than anyone can see (the demo at speed 10 gives 20 a second;
Prometheus backfills hours at once). The history keeps at most one sample per ``resolution``
seconds, the highest of each slot, so a peak that touched the limit is never averaged away, and
at most ``capacity`` samples, dropping the oldest. Slicing a window finds its start by bisection,
so drawing the last five minutes does not scan twelve hours.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from datetime import datetime

from analysis.model import MemorySample

TRIM_SLACK = 1024
"""Extra samples allowed before the oldest are dropped in one go (so each add stays cheap)."""


class MemoryHistory:
    """Samples oldest first, at most one per ``resolution`` seconds and about ``capacity`` in all
    (up to :data:`TRIM_SLACK` more between trims)."""

    def __init__(self, capacity: int, resolution: float = 0.5) -> None:
        """Create an empty history.

        Args:
            capacity: Samples kept; the oldest go first.
            resolution: Seconds per slot; a newer sample in a full slot replaces a lower one.
        """
        self.capacity = capacity
        self.resolution = resolution
        self._samples: list[MemorySample] = []
        self._times: list[float] = []  # POSIX seconds of _samples, for bisection
        self._bytes: list[int] = []  # bytes of _samples, so a bucket's peak is max() of a slice (C speed)

    def __len__(self) -> int:
        """Samples held."""
        return len(self._samples)

    def __bool__(self) -> bool:
        """Whether any sample is held."""
        return bool(self._samples)

    def __iter__(self) -> Iterator[MemorySample]:
        """Samples, oldest first."""
        return iter(self._samples)

    @property
    def first(self) -> MemorySample | None:
        """The oldest sample."""
        return self._samples[0] if self._samples else None

    @property
    def last(self) -> MemorySample | None:
        """The newest sample."""
        return self._samples[-1] if self._samples else None

    def extend(self, samples: Iterable[MemorySample]) -> None:
        """Add samples newer than the newest held (older ones are ignored: use :meth:`prepend`)."""
        for sample in samples:
            at = sample.at.timestamp()
            if self._times and at <= self._times[-1]:
                continue
            if self._times and at // self.resolution == self._times[-1] // self.resolution:
                if sample.bytes >= self._samples[-1].bytes:
                    self._samples[-1] = sample  # the higher one stands for the slot (keep its time too)
                    self._times[-1] = at
                    self._bytes[-1] = sample.bytes
                continue
            self._samples.append(sample)
            self._times.append(at)
            self._bytes.append(sample.bytes)
        self._trim()

    def prepend(self, older: Iterable[MemorySample]) -> int:
        """Put samples from before the oldest held in front (history loaded late); returns how many."""
        first = self._times[0] if self._times else float("inf")
        before = MemoryHistory(self.capacity, self.resolution)
        before.extend(s for s in sorted(older, key=lambda s: s.at) if s.at.timestamp() < first)
        self._samples[:0] = before._samples
        self._times[:0] = before._times
        self._bytes[:0] = before._bytes
        self._trim()
        return len(before)

    def since(self, start: datetime) -> tuple[MemorySample, ...]:
        """Samples at or after ``start``, oldest first."""
        return tuple(self._samples[bisect_left(self._times, start.timestamp()):])

    def peaks(self, start: datetime, end: datetime, buckets: int) -> tuple[MemorySample, ...]:
        """The highest sample of each of ``buckets`` equal stretches of ``[start, end]``, oldest
        first, and the newest sample in the window last (the graph's "current" value).

        What the graph draws never needs more points than it has columns, so the screen hands it
        these instead of twelve hours of samples: buckets are found by bisection and each peak by
        ``max()`` of a slice, so the cost is about the number of buckets, not of samples. The peak of
        the window is exact (it is the peak of its bucket).
        """
        first, last = start.timestamp(), end.timestamp()
        lo, hi = bisect_left(self._times, first), bisect_right(self._times, last)
        if lo >= hi or buckets <= 0:
            return ()
        picked: list[MemorySample] = []
        step = (last - first) / buckets
        for k in range(1, buckets + 1):
            cut = hi if k == buckets else bisect_left(self._times, first + step * k, lo, hi)
            if cut > lo:
                chunk = self._bytes[lo:cut]
                picked.append(self._samples[lo + chunk.index(max(chunk))])
                lo = cut
        if picked[-1] is not self._samples[hi - 1]:
            picked.append(self._samples[hi - 1])
        return tuple(picked)

    def _trim(self) -> None:
        excess = len(self._samples) - self.capacity
        if excess > TRIM_SLACK or (excess > 0 and self.capacity < TRIM_SLACK):
            del self._samples[:excess]
            del self._times[:excess]
            del self._bytes[:excess]
