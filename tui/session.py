"""The set of sources one dashboard session reads from, and the session's settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from analysis.model import PullRequest
from tui.sources.base import CodeSource, IncidentSource, MemoryHistorySource, WorkloadSource

NORMAL_INTERVALS = (1.0, 2.0)
"""Seconds between workload reads and between incident reads, normally. The demo samples its
worker's cgroup twice a second, and a read returns every sample since the last one, so reading
once a second loses none; the memory pane is drawn at most once a second anyway."""
LIVE_INTERVALS = (2.0, 2.0)
"""The same in live mode: metrics-server resolves memory every 10-60 s and the Kubernetes source
samples it every 5 s, so reading the workload every 2 s loses nothing and keeps the app under 2%
of a core while it watches (bench/perf_app.py: 5.9% at 0.5 s)."""
LOW_BANDWIDTH_INTERVALS = (5.0, 15.0)
"""The same with ``--low-bandwidth``: memory every 5 s still shows a 10 MiB/s leak climbing (and
catches each OOM kill within one read), while the incident's status and log move at human speed,
so 15 s is enough; both cut the redraws they cause by ten and by seven and a half."""


class DemoControl(Protocol):
    """What only the demo can do: merge the fix PR itself and redeploy."""

    def merge_pr(self, pr: PullRequest) -> PullRequest:
        """Merge the PR into the default branch and deploy the result; returns the merged PR."""
        ...


@dataclass(frozen=True)
class SourceSet:
    """Sources plus the settings that say how to use them.

    Built by the ``demo`` command (or, later, the live command) and handed to the app factory,
    so nothing in the app reaches for a global client.
    """

    incidents: IncidentSource
    """PagerDuty or the demo store."""
    workload: WorkloadSource
    """Kubernetes or the demo worker."""
    code: CodeSource
    """GitHub or the demo repository."""
    state_dir: Path
    """Where reports (``reports/``) and other state are written."""
    mode: str = "demo"
    """``demo`` or ``live``; shown in the header."""
    read_only: bool = False
    """Refuse every write (acknowledge, PR, notes)."""
    build_globs: tuple[str, ...] = ("*.c",)
    """Which repository paths are built into the workload (what the analyzer reads)."""
    window: timedelta = timedelta(hours=24)
    """How far before the first OOM kill to look for changes."""
    demo: DemoControl | None = field(default=None)
    """Demo-only controls (merging the PR); ``None`` in live mode."""
    history: MemoryHistorySource | None = field(default=None)
    """Where memory from before the session comes from (Prometheus), when configured."""
    notices: tuple[str, ...] = ()
    """What went wrong while setting up and was worked around (a corrupt store kept aside, no
    worker built); the dashboard shows each once when it opens."""
    low_bandwidth: bool = False
    """Slow link (``--low-bandwidth``): poll less often, no animations, ASCII graph, redraw only on
    change, ``ctrl+r`` to poll now (see :mod:`tui.screens.dashboard_polling`)."""

    @property
    def mode_label(self) -> str:
        """Mode as shown to the user, e.g. ``demo, read-only`` or ``live, low-bandwidth``."""
        parts = [self.mode]
        if self.read_only:
            parts.append("read-only")
        if self.low_bandwidth:
            parts.append("low-bandwidth")
        return ", ".join(parts)
