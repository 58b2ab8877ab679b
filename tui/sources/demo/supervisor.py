"""The demo workload as a WorkloadSource: build the worker per rollout and report what it does.

:class:`WorkerSupervisor` is the facade the dashboard reads. It builds ``worker.c`` at the deployed
commit, hands the build to :class:`~tui.sources.demo.kubelet.DemoKubelet` (the thread that runs,
samples and restarts the worker) and answers reads from the bounded
:class:`~tui.sources.demo.workload_record.WorkloadRecord` that thread writes.

It survives its own faults: a worker that cannot be built leaves the pod waiting with
``BuildFailed`` and a note saying why and what to do (the repository, incident and analysis do not
need a worker), and a cgroup that refuses the worker at spawn time hands over to the watchdog.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from analysis.model import (
    ContainerState,
    Deployment,
    MemorySample,
    OomKill,
    TimelineEntry,
    TimelineKind,
    WorkloadInfo,
)
from tui.sources.base import SourceError
from tui.sources.demo.kubelet import MIB, DemoKubelet
from tui.sources.demo.limits import MemoryLimiter, choose_limiter
from tui.sources.demo.names import WorkloadNames, pod_name
from tui.sources.demo.repo_builder import run_git
from tui.sources.demo.worker import WorkerBuild, build_worker
from tui.sources.demo.workload_record import EVENT_SOURCE, MAX_SAMPLES, WorkloadRecord, utcnow

__all__ = ["BUILD_FAILED", "DEFAULT_LIMIT_BYTES", "EVENT_SOURCE", "MIB", "WorkerSupervisor", "utcnow"]

DEFAULT_LIMIT_BYTES = 64 * MIB
"""The manifest's ``limits.memory: 64Mi``."""
BUILD_FAILED = "BuildFailed"
"""Container ``reason`` while the deployed commit cannot be built (no worker runs)."""


class WorkerSupervisor:
    """Supervises the demo worker and implements :class:`~tui.sources.base.WorkloadSource`."""

    def __init__(
        self,
        repo: Path,
        out_dir: Path,
        *,
        limit_bytes: int = DEFAULT_LIMIT_BYTES,
        speed: float = 1.0,
        limiter: MemoryLimiter | None = None,
        names: WorkloadNames | None = None,
        max_samples: int = MAX_SAMPLES,
    ) -> None:
        """Create a supervisor; nothing runs until :meth:`start` and :meth:`deploy`.

        Args:
            repo: Demo git repository the worker is built from.
            out_dir: Directory for builds and the worker's log.
            limit_bytes: Memory limit.
            speed: Time compression: divides the worker's pause, back-offs and the sample interval.
            limiter: Limit mechanism; by default the best available (:func:`choose_limiter`).
            names: Names to report; defaults match the reference service.
            max_samples: Memory samples kept (oldest dropped first).
        """
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.repo = Path(repo)
        self.out_dir = Path(out_dir)
        self.limit_bytes = limit_bytes
        self.speed = speed
        self.names = names or WorkloadNames()
        self.record = WorkloadRecord(f"{self.names.deployment}-pending", max_samples=max_samples)
        """Everything the workload did so far; shared with the reading threads."""
        self._cond = self.record.cond
        self.kubelet = DemoKubelet(
            self.record, limiter or choose_limiter(limit_bytes), names=self.names,
            out_dir=self.out_dir, limit_bytes=limit_bytes, speed=speed,
        )
        """The thread that runs the worker."""

    @property
    def limiter(self) -> MemoryLimiter:
        """The memory limiter in force (the watchdog after a cgroup failed at spawn time)."""
        return self.kubelet.limiter

    @property
    def sample_interval(self) -> float:
        """Seconds between memory samples."""
        return self.kubelet.sample_interval

    # -- control ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the supervisor thread (idempotent)."""
        self.kubelet.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Kill the worker, stop the thread and remove the cgroup. Safe to call twice."""
        self.kubelet.stop(timeout)

    def deploy(self, sha: str, description: str | None = None) -> Deployment:
        """Build ``sha`` and roll it out: the running worker is replaced by a new pod.

        A commit that cannot be built is still recorded as a rollout, as Kubernetes records one
        whose image never starts: the pod waits with reason ``BuildFailed`` (or, when a worker
        is already running, that worker is kept) and the workload notes say why and what to do.

        Args:
            sha: Commit to deploy.
            description: One line for the timeline; defaults to the commit's subject.

        Returns:
            The recorded deployment.

        Raises:
            SourceError: When the commit cannot be built (after recording the failure).
        """
        try:
            build = build_worker(self.repo, sha, self.out_dir / "builds")
        except SourceError as error:
            self._record_build_failure(sha, description, error)
            raise
        subject = run_git(self.repo, ["log", "-1", "--format=%s", build.sha])
        with self._cond:
            # Stamped under the lock: every sample after ``at`` belongs to the new pod (see _sample).
            deployment = Deployment(
                at=utcnow(), revision=build.sha[:7], sha=build.sha,
                description=description or f"Rolled out {build.sha[:7]}: {subject}",
            )
            self.kubelet.roll_out(build)
            self.record.problem = None
            self.record.add_deployment(deployment)
            self.record.add_event(deployment.at, TimelineKind.DEPLOYMENT,
                                  f"{self.names.deployment}: {deployment.description}")
        return deployment

    def _record_build_failure(self, sha: str, description: str | None, error: SourceError) -> None:
        """Put a failed build on the timeline and, when nothing runs, in the pod's state."""
        short = sha[:7]
        deployment = Deployment(at=utcnow(), revision=short, sha=sha,
                                description=description or f"Rolled out {short} (build failed)")
        with self._cond:
            running = self.kubelet.wanted
            self.record.add_deployment(deployment)
            self.record.add_event(deployment.at, TimelineKind.DEPLOYMENT,
                                  f"{self.names.deployment}: {deployment.description}")
            if running is None:
                self.record.problem = (
                    f"no worker: {error}. Incident, timeline and analysis still work from the "
                    "repository. To run the worker, install a C compiler that accepts worker.c "
                    "(gcc 12 or clang; apt-get install gcc) or fix worker.c, then restart the demo"
                )
                self.record.pod = pod_name(self.names.deployment, sha)
                self.record.set_state("waiting", BUILD_FAILED)
                summary = f"Error: {self.names.container} cannot start: {error}"
            else:
                summary = (f"Rollout of {short} failed, {running.sha[:7]} keeps running: {error}")
            self.record.add_event(deployment.at, TimelineKind.EVENT, summary)

    def add_oom_listener(self, listener: Callable[[OomKill], None]) -> None:
        """Call ``listener(kill)`` on the supervisor thread after every OOM kill."""
        self.kubelet.add_oom_listener(listener)

    def add_event(self, entry: TimelineEntry) -> None:
        """Append an outside event (e.g. a PR merge) to the workload's timeline."""
        self.record.add_entry(entry)

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until ``predicate()`` is true (re-checked on every state change) or timeout.

        Returns:
            The predicate's last value.
        """
        return self.record.wait_until(predicate, timeout)

    # -- WorkloadSource ----------------------------------------------------------------------

    def previous_logs(self, lines: int = 200) -> str:
        """The last ``lines`` lines of the previous run's output, like ``kubectl logs --previous``."""
        path = self.out_dir / "worker.previous.log"
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def describe(self) -> WorkloadInfo:
        """Names, the limit and how it is enforced, with caveats in ``notes``.

        The notes say why there is no worker when it could not be built, and which limiter is in
        force and why the better ones were not usable.
        """
        limiter = self.limiter
        notes: list[str] = []
        with self._cond:
            build, pod, problem = self.kubelet.build, self.record.pod, self.record.problem
        if problem is not None:
            notes.append(problem)
        if limiter.mechanism == "watchdog":
            notes.append("memory limit enforced by a watchdog that SIGKILLs at the limit (no usable cgroup)")
        else:
            notes.append(f"memory limit enforced by the kernel OOM killer ({limiter.mechanism} cgroup)")
        notes.extend(limiter.fallback_reasons)
        notes.append(f"CPU limit {self.names.cpu_limit} is shown from the manifest, not enforced")
        if build is not None:
            notes.extend(build.notes)
        return WorkloadInfo(
            service=self.names.service, namespace=self.names.namespace, pod=pod,
            container=self.names.container, limit_bytes=self.limit_bytes,
            limit_mechanism=limiter.mechanism, environment=self.names.environment,
            notes=tuple(notes), cpu_limit=self.names.cpu_limit,
        )

    def memory_since(self, after: datetime | None) -> list[MemorySample]:
        """Samples taken strictly after ``after`` (all retained when None), oldest first."""
        return self.record.memory_since(after)

    def container_state(self) -> ContainerState:
        """The container's state as ``kubectl get pod -o yaml`` would show it."""
        return self.record.container_state(self.names.container, self.limit_bytes)

    def events(self) -> list[TimelineEntry]:
        """Deployments, OOM kills, back-offs, restarts and added events, oldest first (bounded)."""
        return self.record.events()

    def oom_kills(self) -> list[OomKill]:
        """The first OOM kill and the most recent ones, oldest first (bounded)."""
        return self.record.oom_kills()

    def deployments(self) -> list[Deployment]:
        """Rollouts, oldest first (bounded)."""
        return self.record.deployments()

    @property
    def build(self) -> WorkerBuild | None:
        """The build that runs or is about to run (None before the first good rollout)."""
        return self.kubelet.wanted

    @property
    def deployed_sha(self) -> str | None:
        """The commit of the running (or about to run) worker."""
        build = self.kubelet.wanted
        return build.sha if build else None
