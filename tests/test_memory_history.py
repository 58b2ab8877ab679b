"""The dashboard's memory history: bounded, one sample per slot (the highest), sliced by bisection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from analysis.memory_history import TRIM_SLACK, MemoryHistory
from analysis.model import MemorySample

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def sample(seconds: float, used: int) -> MemorySample:
    return MemorySample(T0 + timedelta(seconds=seconds), used, "test")


def test_faster_samples_keep_the_highest_of_each_half_second() -> None:
    history = MemoryHistory(capacity=100, resolution=0.5)
    history.extend([sample(0.0, 10), sample(0.1, 50), sample(0.2, 20), sample(0.5, 5), sample(0.9, 7)])
    assert [(s.at - T0).total_seconds() for s in history] == [0.1, 0.9]
    assert [s.bytes for s in history] == [50, 7]


def test_older_and_repeated_samples_are_ignored_by_extend() -> None:
    history = MemoryHistory(capacity=100)
    history.extend([sample(10, 1), sample(5, 2), sample(10, 3)])
    assert [s.bytes for s in history] == [1]


def test_capacity_drops_the_oldest() -> None:
    history = MemoryHistory(capacity=10, resolution=1)
    history.extend(sample(n, n) for n in range(50))
    assert [s.bytes for s in history] == list(range(40, 50))


def test_large_histories_stay_within_capacity_plus_slack() -> None:
    history = MemoryHistory(capacity=5_000, resolution=1)
    history.extend(sample(n, n) for n in range(20_000))
    assert 5_000 <= len(history) <= 5_000 + TRIM_SLACK
    assert history.last.bytes == 19_999


def test_prepend_puts_only_older_samples_in_front() -> None:
    history = MemoryHistory(capacity=100, resolution=1)
    history.extend([sample(100, 1), sample(101, 2)])
    added = history.prepend([sample(99, 9), sample(50, 5), sample(100, 7), sample(150, 8)])
    assert added == 2
    assert [s.bytes for s in history] == [5, 9, 1, 2]


@given(st.lists(st.floats(0, 10_000), max_size=200), st.floats(0, 10_000))
def test_since_is_the_same_as_a_scan(offsets: list[float], start: float) -> None:
    history = MemoryHistory(capacity=1_000, resolution=0.5)
    history.extend(sample(x, int(x)) for x in sorted(offsets))
    cut = T0 + timedelta(seconds=start)
    assert history.since(cut) == tuple(s for s in history if s.at >= cut)


@given(st.lists(st.tuples(st.floats(0, 3_600), st.integers(0, 10**9)), max_size=300),
       st.floats(0, 3_600), st.floats(1, 3_600), st.integers(1, 50))
def test_peaks_keep_each_buckets_highest_sample_and_the_newest(points, start, length, buckets) -> None:
    history = MemoryHistory(capacity=10_000, resolution=0.5)
    history.extend(sample(at, used) for at, used in sorted(points))
    begin, end = T0 + timedelta(seconds=start), T0 + timedelta(seconds=start + length)
    inside = [s for s in history if begin <= s.at <= end]
    peaks = history.peaks(begin, end, buckets)
    if not inside:
        assert peaks == ()
        return
    # the window's peak and its newest sample are there, nothing outside it, oldest first
    assert max(s.bytes for s in peaks) == max(s.bytes for s in inside)
    assert peaks[-1] == inside[-1]
    assert all(begin <= s.at <= end for s in peaks) and list(peaks) == sorted(peaks, key=lambda s: s.at)
    assert len(peaks) <= buckets + 1
    # every sample is at most its bucket's chosen peak (so no spike is hidden)
    step = length / buckets
    for s in inside:
        k = min(buckets - 1, int((s.at - begin).total_seconds() / step))
        in_bucket = [p for p in peaks if min(buckets - 1, int((p.at - begin).total_seconds() / step)) == k]
        assert in_bucket and s.bytes <= max(p.bytes for p in in_bucket)
