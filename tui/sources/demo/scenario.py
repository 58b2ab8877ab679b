"""The whole demo story on this machine: repository, supervised worker, incident store.

``DemoScenario.start()`` builds (or reuses) the ads-demo-service repository, deploys the tip of
``main`` and lets the supervisor run it under a real memory limit. The first OOM kill while no
incident is open triggers one in the store; later kills only appear as workload events. Merging
the fix PR writes a GitHub-style merge commit on ``main`` and deploys it; memory then stays flat.

The scenario survives its own faults and says so in :attr:`DemoScenario.notices` (and on the
timeline): a corrupt store is set aside and rebuilt, and a worker that cannot be built leaves the
incident, timeline and analysis working from the repository (the incident is then triggered at
start, since no OOM kill will come).

The code source is not built here: the lead constructs
``LocalGitCodeSource(scenario.repo_path, default_branch=scenario.default_branch,
pr_registry=scenario.store)`` (or passes ``code_source_factory``, called with the scenario).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from analysis.model import Incident, OomKill, PullRequest, TimelineEntry, TimelineKind
from tui.sources.base import SourceError
from tui.sources.demo.repo_builder import DemoRepository, build_demo_repository, run_git
from tui.sources.demo.limits import MemoryLimiter
from tui.sources.demo.store import IncidentStore
from tui.sources.demo.supervisor import MIB, WorkerSupervisor, utcnow

log = logging.getLogger(__name__)

REPO_DIR = "ads-demo-service"
"""Repository directory inside the state dir."""
RUN_DIR = "run"
"""Builds and the worker log inside the state dir."""


class DemoScenario:
    """Wires the demo's repository, worker supervisor and incident store together."""

    def __init__(
        self,
        state_dir: Path,
        *,
        speed: float = 1.0,
        now: datetime | None = None,
        code_source_factory: Callable[[DemoScenario], Any] | None = None,
        limiter: MemoryLimiter | None = None,
    ) -> None:
        """Prepare the scenario; nothing runs until :meth:`start`.

        Args:
            state_dir: Where the repository, builds and ``incidents.sqlite3`` live.
            speed: Time compression for the worker, back-offs and sampling (1 = real time).
            now: The story's "now" for commit dates (default: the current time).
            code_source_factory: Builds ``.code`` from the started scenario, if given.
            limiter: How the worker's memory limit is enforced (default: the best one available,
                see :func:`~tui.sources.demo.limits.choose_limiter`).
        """
        self.state_dir = Path(state_dir)
        self.speed = speed
        self._now = now
        self._code_source_factory = code_source_factory
        self._limiter = limiter
        self.store = IncidentStore(self.state_dir)
        self.notices: list[str] = []
        """Faults the demo survived, one line each, for the CLI and the timeline."""
        if self.store.recovery_note:
            self.notices.append(self.store.recovery_note)
        self.repository: DemoRepository | None = None
        self.supervisor: WorkerSupervisor | None = None
        self.code: Any = None
        self._incident: Incident | None = None
        self._incident_ready = threading.Event()
        self._trigger_lock = threading.Lock()
        self._merge_lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Build or reuse the repository and deploy the tip of ``main`` (idempotent).

        A worker that cannot be built does not stop the demo: :attr:`notices` says why, and the
        incident is triggered at once from the repository's story.

        Raises:
            SourceError: When git fails.
        """
        if self.supervisor is not None:
            return
        now = self._now or datetime.now(timezone.utc)
        self.repository = build_demo_repository(self.state_dir / REPO_DIR, now)
        if self.repository.created:
            # Incidents from an earlier story point at a repository that no longer exists.
            for stale in self.store.open_incidents():
                self.store.resolve(stale.id, reason="superseded: demo repository rebuilt")
        else:
            self._adopt_open_incident()
        self.supervisor = WorkerSupervisor(self.repository.path, self.state_dir / RUN_DIR,
                                           speed=self.speed, limiter=self._limiter)
        self.supervisor.add_oom_listener(self._on_oom_kill)
        limiter = self.supervisor.limiter
        if limiter.mechanism == "watchdog":  # the degraded case: say why no cgroup could be used
            self.notices.append("memory limit enforced by a VmRSS watchdog, not the kernel: "
                                + "; ".join(limiter.fallback_reasons or ("no cgroup hierarchy",)))
        for notice in self.notices:
            self.supervisor.add_event(TimelineEntry(utcnow(), TimelineKind.EVENT, notice, "demo"))
        self.supervisor.start()
        try:
            self.supervisor.deploy(self.repository.deployed_sha)
        except SourceError as error:
            # No worker, but the repository holds the whole story: keep going without one.
            log.info("demo worker not built: %s", error)  # the notice below tells the user
            self.notices.append(self.supervisor.record.problem or f"no worker: {error}")
            self._trigger_without_worker(str(error))
        else:
            build = self.supervisor.build
            if build is not None:
                self.notices.extend(build.notes)  # e.g. the Python stand-in when there is no compiler
        if self._code_source_factory is not None:
            self.code = self._code_source_factory(self)

    def stop(self) -> None:
        """Kill the worker, remove its cgroup and close the store. Safe to call twice."""
        if self.supervisor is not None:
            self.supervisor.stop()
        self.store.close()

    def __enter__(self) -> DemoScenario:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- sources ---------------------------------------------------------------------------------

    @property
    def incidents(self) -> IncidentStore:
        """The IncidentSource (the store; ``on_call`` returns the demo rota)."""
        return self.store

    @property
    def workload(self) -> WorkerSupervisor:
        """The WorkloadSource (the supervisor).

        Raises:
            RuntimeError: Before :meth:`start`.
        """
        if self.supervisor is None:
            raise RuntimeError("DemoScenario.start() has not been called")
        return self.supervisor

    @property
    def repo_path(self) -> Path:
        """Working tree of the demo repository (after :meth:`start`)."""
        if self.repository is None:
            raise RuntimeError("DemoScenario.start() has not been called")
        return self.repository.path

    @property
    def default_branch(self) -> str:
        """The branch that is deployed."""
        return self.repository.default_branch if self.repository else "main"

    # -- the incident ------------------------------------------------------------------------------

    def _adopt_open_incident(self) -> None:
        """On a reused repository, an incident left open by the last run is still the incident."""
        open_now = self.store.open_incidents()
        if open_now:
            self._incident = open_now[0]
            self._incident_ready.set()

    def _on_oom_kill(self, kill: OomKill) -> None:
        """Supervisor-thread hook: the first kill with no open incident pages the on-call."""
        with self._trigger_lock:
            if self.store.open_incidents():
                return
            workload = self.workload.describe()
            limit_mib = (workload.limit_bytes or 0) / MIB
            title = (f"OOMKilled: {workload.container} in {workload.pod} "
                     f"(exit {kill.exit_code}, limit {limit_mib:.0f}Mi)")
            details = (f"exit code {kill.exit_code}, memory limit "
                       f"{(workload.limit_bytes or 0) / MIB:.0f}Mi, namespace {workload.namespace}")
            self._incident = self.store.trigger(title, at=kill.at, details=details)
        self._incident_ready.set()

    def _trigger_without_worker(self, why: str) -> None:
        """Open the demo's incident now, since a worker that never runs is never OOM-killed."""
        with self._trigger_lock:
            if self._incident is None and not self.store.open_incidents():
                workload = self.workload.describe()
                self._incident = self.store.trigger(
                    f"{workload.container} in {workload.pod} is not running: the worker was not built "
                    "(demo: investigate the deployed change from the repository)",
                    details=why,
                )
        self._incident_ready.set()

    def wait_for_incident(self, timeout: float) -> Incident:
        """Block until the demo's incident exists.

        Args:
            timeout: Seconds to wait.

        Returns:
            The incident as stored now.

        Raises:
            TimeoutError: When no incident was triggered in time.
        """
        if not self._incident_ready.wait(timeout) or self._incident is None:
            raise TimeoutError(f"no incident within {timeout:g}s")
        return self.store.incident(self._incident.id)

    # -- the fix -------------------------------------------------------------------------------------

    def merge_pr(self, pr: PullRequest) -> PullRequest:
        """Merge the fix PR into ``main`` as GitHub's merge button does, then deploy the new tip.

        The fix branch is cut from ``main``'s tip, so the merge result is exactly the branch's tree:
        the merge commit (``Merge pull request #N from ads-demo/<branch>``, parents main and the
        branch) is written with ``git commit-tree`` and ``main`` moved with ``git update-ref``
        guarded by its old value, so a concurrent move of ``main`` is detected, not overwritten.

        Args:
            pr: The fix PR (from the registry or the code source).

        Returns:
            The PR with ``merged_at`` set.

        Raises:
            SourceError: When the branch is missing, or ``main`` moved and a real merge is needed.
        """
        repo, branch = self.repo_path, self.default_branch
        merger = self.store.primary
        with self._merge_lock:
            head = pr.head_sha or run_git(repo, ["rev-parse", "--verify", f"refs/heads/{pr.branch}"])
            head = run_git(repo, ["rev-parse", "--verify", f"{head}^{{commit}}"])
            old = run_git(repo, ["rev-parse", "--verify", f"refs/heads/{branch}"])
            # main is an ancestor of head exactly when no commit of main is missing from head.
            if run_git(repo, ["rev-list", "--count", f"{head}..{old}"]) != "0":
                raise SourceError(f"{branch} has moved since {pr.branch} was cut; rebase the fix branch")
            at = utcnow()
            stamp = at.strftime("%Y-%m-%dT%H:%M:%S+0000")
            identity = {"GIT_AUTHOR_NAME": merger.name, "GIT_COMMITTER_NAME": merger.name,
                        "GIT_AUTHOR_EMAIL": f"{merger.handle}@ads-demo.example.com",
                        "GIT_COMMITTER_EMAIL": f"{merger.handle}@ads-demo.example.com",
                        "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
            message = f"Merge pull request #{pr.number} from ads-demo/{pr.branch}\n\n{pr.title}\n"
            merge = run_git(repo, ["commit-tree", f"{head}^{{tree}}", "-p", old, "-p", head,
                                   "-m", message], env=identity)
            run_git(repo, ["update-ref", "-m", f"merge PR #{pr.number}",
                           f"refs/heads/{branch}", merge, old])
            # Keep the checked-out tree in step with main (a two-tree fast-forward of the index).
            run_git(repo, ["read-tree", "-m", "-u", old, merge], check=False)
            merged = self._record_merge(pr, at)
        self.workload.add_event(TimelineEntry(
            at=at, kind=TimelineKind.PR_MERGED,
            summary=f"PR #{pr.number} merged into {branch} by {merger.name}: {pr.title}", source="git"))
        self.workload.deploy(merge, description=f"Rolled out {merge[:7]} (merge of PR #{pr.number}: {pr.title})")
        return merged

    def _record_merge(self, pr: PullRequest, at: datetime) -> PullRequest:
        try:
            return self.store.mark_pr_merged(pr.number, at)
        except SourceError:
            log.warning("PR #%s is not in the demo store; merged without a record", pr.number)
            return replace(pr, merged_at=at)
