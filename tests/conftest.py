"""Shared fixtures: a real demo scenario (real worker, real limit, real git, real store)."""

from __future__ import annotations

import asyncio
import subprocess
from dataclasses import dataclass
from typing import Any
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


def culprit_sha(repo: Path) -> str:
    """The newest commit on main that changed the number of ``free(buffer);`` in worker.c.

    Found with git's own pickaxe, independently of the ranking under test.
    """
    out = subprocess.run(
        ["git", "-C", str(repo), "log", "--format=%H", "-S", "free(buffer);", "main", "--", "worker.c"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    return out[0]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoRun]:
    """A demo scenario of its own, started and past its first incident.

    Each test gets a fresh one (about a second at speed 20: build, then a real OOM kill) so
    tests that write (acknowledge, PR, merge) never see each other's state.
    """
    from tui.commands.demo import demo_sources
    from tui.sources.demo import DemoScenario

    state_dir = tmp_path / "state"
    scenario = DemoScenario(state_dir, speed=20.0)
    scenario.start()
    try:
        incident = scenario.wait_for_incident(60)
        yield DemoRun(scenario, state_dir, incident, demo_sources(scenario, state_dir, read_only=False))
    finally:
        scenario.stop()


@dataclass
class DemoRun:
    """A started demo and what tests need from it."""

    scenario: Any
    """The :class:`tui.sources.demo.DemoScenario`."""
    state_dir: Path
    """Its state directory."""
    incident: Any
    """The incident its first OOM kill triggered."""
    sources: Any
    """The demo's :class:`tui.session.SourceSet`."""
