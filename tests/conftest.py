"""Shared fixtures: a real demo scenario (real worker, real limit, real git, real store)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


async def wait_until(pilot, predicate: Callable[[], object], *, timeout: float = 30.0, what: str = "condition"):
    """Let the app run until ``predicate()`` is truthy; fail with ``what`` after ``timeout`` seconds.

    Returns:
        The predicate's truthy value.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await pilot.pause(0.05)


@pytest.fixture(scope="session")
def started_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, Path]]:
    """One demo scenario for the session, started and past its first incident.

    Session-scoped because each start costs a build and an OOM kill (~6 s); tests that write
    (ack, PR) assert on what they changed, not on a pristine store.
    """
    from tui.sources.demo import DemoScenario

    state_dir = tmp_path_factory.mktemp("demo-state")
    scenario = DemoScenario(state_dir, speed=20.0)
    scenario.start()
    try:
        scenario.wait_for_incident(60)
        yield scenario, state_dir
    finally:
        scenario.stop()
