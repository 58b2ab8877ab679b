"""Backoff: exponential with jitter, capped, never sooner than the server asked; the stale notes count down."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from tui.backoff import RetryPolicy
from tui.sources.retry_after import MAX_WAIT, retry_after_seconds
from tui.staleness import StaleTracker


@given(base=st.floats(0.1, 10), cap=st.floats(10, 120), failures=st.integers(1, 30), pick=st.floats(0, 0.999))
def test_delay_stays_within_the_upper_half_of_the_capped_exponential(base, cap, failures, pick) -> None:
    ceiling = min(cap, base * 2 ** (failures - 1))
    delay = RetryPolicy(base, cap).delay(failures, rng=lambda: pick)
    assert ceiling / 2 <= delay <= ceiling


def test_delay_doubles_per_failure_until_the_cap() -> None:
    policy = RetryPolicy(base=1.0, cap=30.0)
    top = [policy.delay(n, rng=lambda: 0.999999) for n in range(1, 8)]
    assert [round(d) for d in top] == [1, 2, 4, 8, 16, 30, 30]


def test_jitter_spreads_clients_that_failed_together() -> None:
    policy = RetryPolicy(base=2.0, cap=60.0)
    delays = {policy.delay(4, rng=lambda v=v: v) for v in (0.0, 0.25, 0.5, 0.75)}
    assert len(delays) == 4 and min(delays) >= 8.0 and max(delays) <= 16.0


@given(retry_after=st.floats(0, 600), failures=st.integers(1, 10), pick=st.floats(0, 0.999))
def test_server_reset_time_always_wins(retry_after, failures, pick) -> None:
    assert RetryPolicy(0.5, 5.0).delay(failures, retry_after=retry_after, rng=lambda: pick) >= retry_after


def test_permanent_failures_wait_the_cap_from_the_first() -> None:
    assert RetryPolicy(base=1.0, cap=60.0).delay(1, permanent=True, rng=lambda: 0.999999) > 59


def test_retry_after_headers_of_each_upstream_are_read() -> None:
    now = 1_700_000_000.0
    assert retry_after_seconds({"ratelimit-reset": "12"}, now=now) == 12  # PagerDuty
    assert retry_after_seconds({"Retry-After": "7"}, now=now) == 7  # Kubernetes APF, proxies
    assert retry_after_seconds({"Retry-After": "Tue, 14 Nov 2023 22:13:40 GMT"}, now=now) == 20  # HTTP date
    assert retry_after_seconds({"X-RateLimit-Reset": str(int(now) + 90)}, now=now) == 90  # GitHub epoch
    assert retry_after_seconds({"Retry-After": "soon"}, now=now) is None
    assert retry_after_seconds({"ratelimit-reset": "1e9"}, now=now) == MAX_WAIT  # bogus: bounded
    assert retry_after_seconds({"ratelimit-reset": "-5"}, now=now) == 0


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_stale_note_counts_down_and_gates_the_next_attempt() -> None:
    clock = Clock()
    tracker = StaleTracker(cap=60, clock=clock, rng=lambda: 0.999999)
    tracker.failed("incidents", "PagerDuty answered 502", interval=2.0)
    tracker.failed("incidents", "PagerDuty answered 502", interval=2.0)  # second in a row: up to 4 s
    assert re.fullmatch(r"stale since \d\d:\d\d:\d\d UTC, retrying in 4s: PagerDuty answered 502",
                        tracker.note("incidents"))
    assert not tracker.due("incidents")
    clock.now += 3
    assert tracker.note("incidents").startswith("stale since") and "retrying in 1s" in tracker.note("incidents")
    clock.now += 1.1
    assert tracker.due("incidents")
    assert tracker.recovered("incidents") and tracker.note("incidents") is None and tracker.due("incidents")


def test_permanent_failure_says_what_to_do_and_keeps_its_first_time() -> None:
    clock = Clock()
    tracker = StaleTracker(cap=60, clock=clock, rng=lambda: 0.0)
    first = tracker.failed("code", "GitHub rejected the token (401): check GITHUB_TOKEN", interval=2, permanent=True)
    clock.now += 40
    again = tracker.failed("code", "GitHub rejected the token (401): check GITHUB_TOKEN", interval=2, permanent=True)
    assert again.since == first.since and again.failures == 2
    assert re.fullmatch(r"GitHub rejected the token \(401\): check GITHUB_TOKEN "
                        r"\(since \d\d:\d\d:\d\d UTC, checking again in 30s\)", tracker.note("code"))


def test_absolute_notes_name_the_retry_time_and_retry_now_makes_it_due() -> None:
    clock = Clock()
    tracker = StaleTracker(cap=60, clock=clock, rng=lambda: 0.999999, absolute_times=True)
    tracker.failed("workload", "metrics API unreachable", interval=5.0)
    assert re.fullmatch(r"stale since \d\d:\d\d:\d\d UTC, retrying at \d\d:\d\d:\d\d UTC: metrics API unreachable",
                        tracker.note("workload"))
    assert not tracker.due("workload")
    tracker.retry_now("workload")
    assert tracker.due("workload") and tracker.state("workload").failures == 1
