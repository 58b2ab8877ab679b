"""The set of sources one dashboard session reads from, and the session's settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from analysis.model import PullRequest
from tui.sources.base import CodeSource, IncidentSource, MemoryHistorySource, WorkloadSource


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

    @property
    def mode_label(self) -> str:
        """Mode as shown to the user, e.g. ``demo, read-only``."""
        return f"{self.mode}, read-only" if self.read_only else self.mode
