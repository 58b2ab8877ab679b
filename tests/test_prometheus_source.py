"""The Prometheus history source against a real Prometheus on loopback, loaded with backfilled blocks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

pytest.register_assert_rewrite("tests.fixtures_prometheus")

from tests.fixtures_prometheus import (
    FLAT_BYTES,
    FLAT_CONTAINER,
    FLAT_POD,
    KSM_INTERVAL,
    LEAK_BASE,
    LEAK_CONTAINER,
    LEAK_POD,
    LEAK_RATE,
    LEGACY_POD,
    LIMIT_BYTES,
    MIB,
    NAMESPACE,
    RUN_SAMPLES,
    PrometheusServer,
)
from tests.prism import free_port
from tui.sources.base import SourceError
from tui.sources.prometheus import (
    MAX_POINTS,
    PrometheusHistory,
    choose_step,
    literal_pattern,
)

pytest_plugins = ["tests.fixtures_prometheus"]

WORKER_PODS = "worker-deployment-.*"
"""How a service mapping selects the leaking pods."""


@pytest.fixture
async def source(prometheus: PrometheusServer) -> AsyncIterator[PrometheusHistory]:
    """A history source on the test Prometheus, closed after the test."""
    history = PrometheusHistory(prometheus.url)
    yield history
    await history.aclose()


async def test_a_run_of_the_leaking_container_rises_10_mib_per_second(
        prometheus: PrometheusServer, source: PrometheusHistory) -> None:
    # GIVEN the fourth run of the leaking container (after three OOM kills and back-offs)
    run = prometheus.history.runs[3]

    # WHEN its memory is read at 1 s around that run
    samples = await source.memory_history(NAMESPACE, WORKER_PODS, LEAK_CONTAINER,
                                          run - timedelta(seconds=2), run + timedelta(seconds=10),
                                          step=timedelta(seconds=1))

    # THEN each second of the run is there once, 10 MiB above the one before, up to just under 64 MiB
    assert [sample.at for sample in samples] == [run + timedelta(seconds=s) for s in range(RUN_SAMPLES)]
    assert [sample.bytes for sample in samples] == [LEAK_BASE + s * LEAK_RATE for s in range(RUN_SAMPLES)]
    assert LIMIT_BYTES - MIB < samples[-1].bytes < LIMIT_BYTES
    assert {sample.source for sample in samples} == {"prometheus"}
    assert all(sample.at.tzinfo is not None and sample.at.utcoffset() == timedelta(0) for sample in samples)


async def test_the_whole_history_merges_every_restart_and_keeps_each_peak(
        prometheus: PrometheusServer, source: PrometheusHistory) -> None:
    # GIVEN two hours with many container restarts, each run its own series
    truth = prometheus.history

    # WHEN the whole window is read at the automatic step
    samples = await source.memory_history(NAMESPACE, WORKER_PODS, LEAK_CONTAINER, truth.start, truth.end)

    # THEN one sorted series comes back, peaking near the limit in every run and never above it
    times = [sample.at for sample in samples]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert max(sample.bytes for sample in samples) == LEAK_BASE + (RUN_SAMPLES - 1) * LEAK_RATE
    for run in truth.runs:
        in_run = [s.bytes for s in samples if run <= s.at <= run + timedelta(seconds=RUN_SAMPLES + 4)]
        assert in_run and max(in_run) > LIMIT_BYTES - 2 * MIB, f"no peak found for the run at {run}"
    # AND nothing is drawn between runs (no five-minute lookback smear of a killed run's last value),
    # nor the pod-level cgroup series (image="") at 300 MiB
    between = [s for s in samples
               if truth.runs[-2] + timedelta(seconds=RUN_SAMPLES + 4) < s.at < truth.runs[-1]]
    assert between == []
    assert {sample.source for sample in samples} == {"prometheus"}


async def test_the_flat_container_stays_flat_and_its_quoted_pod_name_is_escaped(
        prometheus: PrometheusServer, source: PrometheusHistory) -> None:
    # GIVEN a flat container whose pod name holds a double quote and a backslash
    truth = prometheus.history

    # WHEN its history is read by that exact name
    samples = await source.memory_history(NAMESPACE, literal_pattern(FLAT_POD), FLAT_CONTAINER,
                                          truth.start, truth.end)

    # THEN the query works and the line is flat around 32 MiB for the whole two hours
    assert len(samples) > 400
    assert all(abs(sample.bytes - FLAT_BYTES) < MIB for sample in samples)
    assert samples[0].at - truth.start < timedelta(minutes=1)
    assert truth.end - samples[-1].at < timedelta(minutes=1)


async def test_a_label_value_that_tries_to_break_out_of_the_query_matches_nothing(
        prometheus: PrometheusServer, source: PrometheusHistory) -> None:
    # GIVEN a container name that would end the selector and add a clause if pasted in raw
    hostile = f'{LEAK_CONTAINER}"}} or vector(1) # \\'

    # WHEN its history is asked for
    samples = await source.memory_history(NAMESPACE, WORKER_PODS, hostile,
                                          prometheus.history.start, prometheus.history.end)

    # THEN Prometheus reads it as one label value, which no series has
    assert samples == []


async def test_a_12_hour_window_stays_under_the_points_limit(
        prometheus: PrometheusServer, source: PrometheusHistory) -> None:
    # GIVEN a 12-hour window ending with the history
    end = prometheus.history.end
    start = end - timedelta(hours=12)

    # WHEN it is read at the automatic step, and at a 1 s step that would need 43,201 points
    automatic = await source.memory_history(NAMESPACE, WORKER_PODS, LEAK_CONTAINER, start, end)
    too_fine = await source.memory_history(NAMESPACE, WORKER_PODS, LEAK_CONTAINER, start, end,
                                           step=timedelta(seconds=1))

    # THEN Prometheus accepts both: the step is span / 2000 (21.6 s), or raised to fit 11,000 points
    assert choose_step(start, end) == timedelta(seconds=21.6)
    assert (end - start) / choose_step(start, end, timedelta(seconds=1)) < MAX_POINTS
    assert 0 < len(automatic) <= 2001
    assert 0 < len(too_fine) < MAX_POINTS
    # AND short windows never go below one second
    assert choose_step(end - timedelta(minutes=5), end) == timedelta(seconds=1)


async def test_oom_kills_come_from_the_last_termination_timestamp(
        prometheus: PrometheusServer, source: PrometheusHistory) -> None:
    # GIVEN kube-state-metrics' termination reason and timestamp for the leaking container
    truth = prometheus.history

    # WHEN the OOM kills of the window are asked for
    kills = await source.oom_kills(NAMESPACE, WORKER_PODS, LEAK_CONTAINER, truth.start, truth.end)

    # THEN every kill is found, to the second, oldest first, in UTC
    assert kills == [kill.replace(microsecond=0) for kill in truth.kills]
    assert all(kill.tzinfo is UTC for kill in kills)


async def test_oom_kills_without_the_timestamp_series_fall_back_to_the_reason_turning_1(
        prometheus: PrometheusServer, source: PrometheusHistory) -> None:
    # GIVEN a pod watched by an older kube-state-metrics (reason series only), killed once
    truth = prometheus.history

    # WHEN its OOM kills are asked for
    kills = await source.oom_kills(NAMESPACE, literal_pattern(LEGACY_POD), LEAK_CONTAINER, truth.start, truth.end)

    # THEN the moment the reason series appears is reported, within a scrape interval and a step
    step = choose_step(truth.start, truth.end)
    assert len(kills) == 1
    assert truth.legacy_kill <= kills[0] <= truth.legacy_kill + timedelta(seconds=KSM_INTERVAL) + step


async def test_a_window_with_no_data_gives_nothing(source: PrometheusHistory) -> None:
    # GIVEN a window long before any backfilled sample
    start = datetime(2001, 1, 1, tzinfo=UTC)

    # WHEN memory and kills are asked for
    samples = await source.memory_history(NAMESPACE, LEAK_POD, LEAK_CONTAINER, start, start + timedelta(hours=1))
    kills = await source.oom_kills(NAMESPACE, LEAK_POD, LEAK_CONTAINER, start, start + timedelta(hours=1))

    # THEN both are empty, not errors
    assert samples == [] and kills == []


async def test_a_dead_server_is_a_source_error_naming_the_host() -> None:
    # GIVEN a loopback port nobody listens on
    port = free_port()
    history = PrometheusHistory(f"http://127.0.0.1:{port}")
    now = datetime.now(UTC)

    # WHEN history is asked for
    with pytest.raises(SourceError) as raised:
        await history.memory_history(NAMESPACE, WORKER_PODS, LEAK_CONTAINER, now - timedelta(hours=1), now)
    await history.aclose()

    # THEN the error names the host and port
    assert f"127.0.0.1:{port}" in str(raised.value)


async def test_prometheus_error_payload_becomes_a_source_error_with_its_text(source: PrometheusHistory) -> None:
    # GIVEN a pod pattern that is not a valid regular expression
    now = datetime.now(UTC)

    # WHEN it is used
    with pytest.raises(SourceError) as raised:
        await source.memory_history(NAMESPACE, "worker-(", LEAK_CONTAINER, now - timedelta(hours=1), now)

    # THEN Prometheus' own error type and text reach the user
    message = str(raised.value)
    assert "bad_data" in message and "missing closing )" in message


@pytest.mark.parametrize(("status", "body", "expected"), [
    (200, b"<html>proxy login</html>", "not its API's JSON"),
    (502, b"Bad Gateway", "HTTP 502"),
    (200, b'{"status":"success","data":{"resultType":"vector","result":[]}}', "without a matrix"),
    (200, b'{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[["x","1"]]}]}}',
     "malformed series"),
    (422, b'{"status":"error","errorType":"execution","error":"query processing would load too many samples"}',
     "(execution): query processing would load too many samples"),
])
async def test_answers_that_are_not_a_range_result_become_source_errors(status: int, body: bytes, expected: str) -> None:
    # GIVEN a server (a proxy, a broken deployment) that answers something unexpected
    transport = httpx.MockTransport(lambda request: httpx.Response(status, content=body))
    async with httpx.AsyncClient(transport=transport) as client:
        history = PrometheusHistory("http://prometheus.example:9090", client=client)
        now = datetime.now(UTC)

        # WHEN history is asked for
        with pytest.raises(SourceError) as raised:
            await history.memory_history(NAMESPACE, WORKER_PODS, LEAK_CONTAINER, now - timedelta(hours=1), now)

    # THEN the error says what was wrong and where
    assert expected in str(raised.value)
    assert "prometheus.example:9090" in str(raised.value)


async def test_a_timeout_is_a_source_error_naming_the_host() -> None:
    # GIVEN a server that never answers in time
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(hang)) as client:
        history = PrometheusHistory("http://prometheus.example:9090", client=client, timeout=3)
        now = datetime.now(UTC)

        # WHEN history is asked for
        with pytest.raises(SourceError) as raised:
            await history.oom_kills(NAMESPACE, WORKER_PODS, LEAK_CONTAINER, now - timedelta(hours=1), now)

    # THEN the error says who did not answer
    assert "prometheus.example:9090 did not answer within 3 s" in str(raised.value)
