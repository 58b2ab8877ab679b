"""Fixed-data sources for snapshot tests, where every timestamp must be the same on every run.

The incident and the workload are frozen values (a live worker's samples differ run to run);
the code source is the real local git source over a demo repository built at a fixed "now",
so the ranking and the diff still come from the real pipeline.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

from analysis.model import (
    ContainerState,
    Deployment,
    Incident,
    IncidentStatus,
    MemorySample,
    OnCallTeam,
    OomKill,
    Responder,
    Termination,
    TimelineEntry,
    TimelineKind,
    WorkloadInfo,
)
from tui.session import SourceSet
from tui.sources.demo.repo_builder import build_demo_repository
from tui.sources.git_local import InMemoryPullRequestRegistry, LocalGitCodeSource

FROZEN_NOW = datetime(2026, 12, 1, 9, 30, 0, tzinfo=timezone.utc)
MIB = 1024 * 1024
KILL = FROZEN_NOW - timedelta(seconds=40)


class StaticIncidents:
    """One triggered incident; acknowledging flips it in memory."""

    def __init__(self) -> None:
        self._incident = Incident(
            "Q0SNAPSHOT00001", 1001, "OOMKilled: worker-container in worker-deployment-7d9f8-abcde (exit 137, limit 64Mi)",
            "ads-demo-service", "high", IncidentStatus.TRIGGERED, KILL + timedelta(seconds=1), assignee="Sam Okafor",
        )
        self._notes: list[str] = []

    async def open_incidents(self) -> list[Incident]:
        return [self._incident]

    async def incident(self, incident_id: str) -> Incident:
        return self._incident

    async def log_entries(self, incident_id: str) -> list[TimelineEntry]:
        at = self._incident.created_at
        return [
            TimelineEntry(at, TimelineKind.INCIDENT, "Triggered: OOMKilled: worker-container", "pagerduty"),
            TimelineEntry(at, TimelineKind.INCIDENT, "Notified Sam Okafor (@sokafor) by push", "pagerduty"),
        ]

    async def acknowledge(self, incident_id: str) -> Incident:
        return self._incident

    async def add_note(self, incident_id: str, content: str) -> None:
        self._notes.append(content)

    async def notes(self, incident_id: str) -> list[object]:
        return [SimpleNamespace(content=content) for content in self._notes]

    async def change_events(self, incident_id: str) -> list[TimelineEntry]:
        return [TimelineEntry(KILL - timedelta(minutes=20), TimelineKind.CHANGE, "Deploy worker 1.4.2 from ci (most_recent)", "pagerduty")]

    async def on_call(self, incident_id: str) -> OnCallTeam:
        return OnCallTeam("Ads Platform", "Ads Platform - Default", (Responder("Sam Okafor", "sokafor", 1),))


class StaticWorkload:
    """A worker that leaked 10 MiB/s to the limit, was killed once and is in back-off."""

    def __init__(self, deployed_sha: str) -> None:
        self._deployed = Deployment(KILL - timedelta(seconds=8), deployed_sha[:7], deployed_sha, "rolled out")

    def describe(self) -> WorkloadInfo:
        return WorkloadInfo("ads-demo-service", "demo", "worker-deployment-7d9f8-abcde", "worker-container",
                            64 * MIB, "cgroup-v1", "local demo process (no cluster)")

    def memory_since(self, after: datetime | None) -> list[MemorySample]:
        start = KILL - timedelta(seconds=7)
        samples = [MemorySample(start + timedelta(seconds=i / 2), int(i / 2 * 10 * MIB), "cgroup-v1") for i in range(13)]
        return [s for s in samples if after is None or s.at > after]

    def container_state(self) -> ContainerState:
        run = Termination("OOMKilled", 137, KILL - timedelta(seconds=7), KILL)
        return ContainerState("worker-deployment-7d9f8-abcde", "worker-container", "waiting", "CrashLoopBackOff",
                              1, 64 * MIB, last_termination=run)

    def events(self) -> list[TimelineEntry]:
        return [
            TimelineEntry(self._deployed.at, TimelineKind.DEPLOYMENT, f"Rolled out {self._deployed.revision}", "demo"),
            TimelineEntry(KILL, TimelineKind.OOM_KILL, "worker-container OOMKilled (exit 137)", "demo"),
            TimelineEntry(KILL, TimelineKind.BACKOFF, "Back-off 10s restarting failed container", "demo"),
        ]

    def oom_kills(self) -> list[OomKill]:
        return [OomKill(KILL, KILL - timedelta(seconds=7), 137, 63 * MIB, 1)]

    def deployments(self) -> list[Deployment]:
        return [self._deployed]

    def previous_logs(self, lines: int = 200) -> str:
        return "processed item at 0x7f00\nprocessed item at 0x7f01"


def static_sources(tmp_path: Path) -> SourceSet:
    """A source set whose every value is fixed, over a real demo repository built at FROZEN_NOW."""
    repo = build_demo_repository(tmp_path / "ads-demo-service", FROZEN_NOW - timedelta(minutes=1))
    code = LocalGitCodeSource(repo.path, default_branch=repo.default_branch, pr_registry=InMemoryPullRequestRegistry())
    return SourceSet(StaticIncidents(), StaticWorkload(repo.deployed_sha), code, tmp_path / "state")
