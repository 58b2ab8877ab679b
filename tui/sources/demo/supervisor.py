"""Run the demo worker like a kubelet runs a container, and expose it as a WorkloadSource.

One background thread owns the worker process: it spawns it under the memory limiter, samples its
working set, notices the kill, records an :class:`~analysis.model.OomKill` and restarts it with
CrashLoopBackOff delays (10 s doubling to 300 s, reset after 10 minutes of running; all divided by
``speed``). Other threads only read snapshots or queue a deployment; every shared field is guarded by
one condition variable, which also lets callers wait for a state without polling.

All spawns happen on that one thread on purpose: ``PR_SET_PDEATHSIG`` fires when the *thread* that
forked the child exits, so the worker dies with the supervisor, and with the app if it crashes.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from analysis.model import (
    ContainerState,
    Deployment,
    MemorySample,
    OomKill,
    Termination,
    TimelineEntry,
    TimelineKind,
    WorkloadInfo,
)
from tui.sources.demo.limits import MemoryLimiter, choose_limiter
from tui.sources.demo.names import WorkloadNames, pod_name
from tui.sources.demo.repo_builder import run_git
from tui.sources.demo.worker import WorkerBuild, build_worker

log = logging.getLogger(__name__)

MIB = 1024 * 1024
DEFAULT_LIMIT_BYTES = 64 * MIB
"""The manifest's ``limits.memory: 64Mi``."""
BACKOFF_INITIAL = 10.0
"""Seconds before the first restart after a crash (at speed 1)."""
BACKOFF_MAX = 300.0
"""Back-off cap, as in the kubelet."""
BACKOFF_RESET_AFTER = 600.0
"""A run this long (seconds at speed 1) clears the crash streak, as in the kubelet."""
SAMPLE_INTERVAL = 0.25
"""Seconds between memory samples at speed 1 (shortened with speed, never below 0.05)."""
EVENT_SOURCE = "demo"
"""``TimelineEntry.source`` of the supervisor's events."""
def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


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
        max_samples: int = 20_000,
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
        self.limiter = limiter or choose_limiter(limit_bytes)
        self.sample_interval = max(0.05, SAMPLE_INTERVAL / speed)
        self._cond = threading.Condition(threading.RLock())
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[OomKill], None]] = []
        self._pending: WorkerBuild | None = None
        self._build: WorkerBuild | None = None
        self._pod = f"{self.names.deployment}-pending"
        self._state, self._reason = "waiting", "ContainerCreating"
        self._restart_count = 0
        self._started_at: datetime | None = None
        self._last_termination: Termination | None = None
        self._samples: deque[MemorySample] = deque(maxlen=max_samples)
        self._events: deque[TimelineEntry] = deque(maxlen=5_000)
        self._kills: list[OomKill] = []
        self._deployments: list[Deployment] = []

    # -- control ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the supervisor thread (idempotent)."""
        with self._cond:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="demo-supervisor", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Kill the worker, stop the thread and remove the cgroup. Safe to call twice."""
        self._stopping.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        else:
            self.limiter.cleanup()

    def deploy(self, sha: str, description: str | None = None) -> Deployment:
        """Build ``sha`` and roll it out: the running worker is replaced by a new pod.

        Args:
            sha: Commit to deploy.
            description: One line for the timeline; defaults to the commit's subject.

        Returns:
            The recorded deployment.

        Raises:
            SourceError: When the commit cannot be built.
        """
        build = build_worker(self.repo, sha, self.out_dir / "builds")
        subject = run_git(self.repo, ["log", "-1", "--format=%s", build.sha])
        with self._cond:
            # Stamped under the lock: every sample after ``at`` belongs to the new pod (see _sample).
            deployment = Deployment(
                at=utcnow(), revision=build.sha[:7], sha=build.sha,
                description=description or f"Rolled out {build.sha[:7]}: {subject}",
            )
            self._pending = build
            self._deployments.append(deployment)
            self._add_event(deployment.at, TimelineKind.DEPLOYMENT,
                            f"{self.names.deployment}: {deployment.description}")
        self._wake.set()
        return deployment

    def add_oom_listener(self, listener: Callable[[OomKill], None]) -> None:
        """Call ``listener(kill)`` on the supervisor thread after every OOM kill."""
        with self._cond:
            self._listeners.append(listener)

    def add_event(self, entry: TimelineEntry) -> None:
        """Append an outside event (e.g. a PR merge) to the workload's timeline."""
        with self._cond:
            self._events.append(entry)
            self._cond.notify_all()

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until ``predicate()`` is true (re-checked on every state change) or timeout.

        Returns:
            The predicate's last value.
        """
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

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
        """Names, the limit and how it is enforced, with caveats in ``notes``."""
        notes: list[str] = []
        if self.limiter.mechanism == "watchdog":
            notes.append("memory limit enforced by a watchdog that SIGKILLs at the limit (no usable cgroup)")
        else:
            notes.append(f"memory limit enforced by the kernel OOM killer ({self.limiter.mechanism} cgroup)")
        notes.append(f"CPU limit {self.names.cpu_limit} is shown from the manifest, not enforced")
        with self._cond:
            build, pod = self._build, self._pod
        if build is not None:
            notes.extend(build.notes)
        return WorkloadInfo(
            service=self.names.service, namespace=self.names.namespace, pod=pod,
            container=self.names.container, limit_bytes=self.limit_bytes,
            limit_mechanism=self.limiter.mechanism, environment=self.names.environment,
            notes=tuple(notes), cpu_limit=self.names.cpu_limit,
        )

    def memory_since(self, after: datetime | None) -> list[MemorySample]:
        """Samples taken strictly after ``after`` (all when None), oldest first."""
        with self._cond:
            samples = list(self._samples)
        return samples if after is None else [s for s in samples if s.at > after]

    def container_state(self) -> ContainerState:
        """The container's state as ``kubectl get pod -o yaml`` would show it."""
        with self._cond:
            return ContainerState(
                pod=self._pod, container=self.names.container, state=self._state,
                reason=self._reason, restart_count=self._restart_count,
                limit_bytes=self.limit_bytes, last_termination=self._last_termination,
                started_at=self._started_at if self._state == "running" else None,
            )

    def events(self) -> list[TimelineEntry]:
        """Deployments, OOM kills, back-offs, restarts and added events, oldest first."""
        with self._cond:
            return sorted(self._events, key=lambda e: e.at)

    def oom_kills(self) -> list[OomKill]:
        """Every OOM kill seen, oldest first."""
        with self._cond:
            return list(self._kills)

    def deployments(self) -> list[Deployment]:
        """Every rollout, oldest first."""
        with self._cond:
            return list(self._deployments)

    @property
    def deployed_sha(self) -> str | None:
        """The commit of the running (or about to run) worker."""
        with self._cond:
            build = self._pending or self._build
            return build.sha if build else None

    # -- the supervisor thread ---------------------------------------------------------------

    def _add_event(self, at: datetime, kind: TimelineKind, summary: str) -> None:
        self._events.append(TimelineEntry(at=at, kind=kind, summary=summary, source=EVENT_SOURCE))
        self._cond.notify_all()

    def _run(self) -> None:
        proc: subprocess.Popen[bytes] | None = None
        crashes = 0
        restart_at = 0.0
        started_mono = 0.0
        peak = 0
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                with self._cond:
                    pending, self._pending = self._pending, None
                if pending is not None:
                    if proc is not None:
                        self._terminate(proc)
                        proc = None
                    crashes, restart_at = 0, 0.0
                    with self._cond:
                        self._build = pending
                        self._pod = pod_name(self.names.deployment, pending.sha)
                        self._restart_count, self._last_termination = 0, None
                        self._state, self._reason = "waiting", "ContainerCreating"
                        self._cond.notify_all()
                if self._build is None:
                    self._wake.wait()
                    continue
                if proc is None:
                    remaining = restart_at - time.monotonic()
                    if remaining > 0:
                        self._wake.wait(remaining)  # a deploy or stop cuts the back-off short
                        continue
                    proc = self._spawn(self._build, is_restart=crashes > 0)
                    started_mono, peak = time.monotonic(), 0
                    if proc is None:
                        crashes += 1
                        restart_at = time.monotonic() + self._backoff(crashes)
                    continue
                try:
                    returncode = proc.wait(timeout=self.sample_interval)
                except subprocess.TimeoutExpired:
                    peak = max(peak, self._sample(proc.pid))
                    continue
                proc = None
                if time.monotonic() - started_mono >= BACKOFF_RESET_AFTER / self.speed:
                    crashes = 0
                crashes += 1
                delay = self._backoff(crashes)
                restart_at = time.monotonic() + delay
                self._on_exit(returncode, peak, crashes, delay)
        except Exception:  # keep the app alive; the timeline says what happened
            log.exception("demo supervisor crashed")
            with self._cond:
                self._add_event(utcnow(), TimelineKind.EVENT, "demo supervisor stopped after an error")
        finally:
            if proc is not None:
                self._terminate(proc)
            with self._cond:
                self._state, self._reason, self._started_at = "terminated", "Stopped", None
                self._cond.notify_all()
            self.limiter.cleanup()

    def _backoff(self, crashes: int) -> float:
        return min(BACKOFF_INITIAL * 2 ** (crashes - 1), BACKOFF_MAX) / self.speed

    def _spawn(self, build: WorkerBuild, *, is_restart: bool) -> subprocess.Popen[bytes] | None:
        env = dict(os.environ, WORKER_INTERVAL_MS=str(max(1, round(1000 / self.speed))))
        self.out_dir.mkdir(parents=True, exist_ok=True)
        current_log = self.out_dir / "worker.log"
        if current_log.exists():
            # Keep the killed run's output, as the kubelet does for `kubectl logs --previous`.
            current_log.replace(self.out_dir / "worker.previous.log")
        try:
            with open(current_log, "wb") as log_file:
                proc = subprocess.Popen(
                    build.argv, stdin=subprocess.DEVNULL, stdout=log_file,
                    stderr=subprocess.STDOUT, env=env, preexec_fn=self.limiter.arm(),
                    start_new_session=True, close_fds=True,
                )
            self.limiter.attach(proc.pid)
        except (OSError, subprocess.SubprocessError) as error:
            with self._cond:
                self._state, self._reason = "waiting", "CreateContainerError"
                self._add_event(utcnow(), TimelineKind.EVENT,
                                f"Error: failed to start container {self.names.container}: {error}")
            return None
        now = utcnow()
        with self._cond:
            if is_restart:
                self._restart_count += 1
                self._add_event(now, TimelineKind.RESTART,
                                f"Restarted container {self.names.container} in pod {self._pod} "
                                f"(restart #{self._restart_count})")
            self._state, self._reason, self._started_at = "running", None, now
            self._cond.notify_all()
        return proc

    def _sample(self, pid: int) -> int:
        with self._cond:
            if self._pending is not None:
                return 0  # a rollout is replacing this run: do not stamp old memory as new
            usage = self.limiter.usage_bytes(pid)  # a sysfs/procfs read: microseconds
            if usage is None:
                return 0
            self._samples.append(MemorySample(at=utcnow(), bytes=usage, source=self.limiter.sample_source))
            self._cond.notify_all()
        return usage

    def _on_exit(self, returncode: int, peak: int, crashes: int, delay: float) -> None:
        finished = utcnow()
        oom = returncode == -signal.SIGKILL and self.limiter.oom_killed()
        exit_code = 128 - returncode if returncode < 0 else returncode
        reason = "OOMKilled" if oom else ("Completed" if returncode == 0 else "Error")
        kill: OomKill | None = None
        with self._cond:
            pod, started = self._pod, self._started_at or finished
            self._last_termination = Termination(reason, exit_code, started, finished)
            # The kubelet shows the first crash as terminated; repeated ones as CrashLoopBackOff.
            if crashes == 1:
                self._state, self._reason = "terminated", reason
            else:
                self._state, self._reason = "waiting", "CrashLoopBackOff"
            self._started_at = None
            if oom:
                kill = OomKill(at=finished, started_at=started, exit_code=exit_code,
                               peak_bytes=peak or None, restart_count=self._restart_count + 1)
                self._kills.append(kill)
                peak_text = f", peak {peak / MIB:.1f} MiB" if peak else ""
                self._add_event(finished, TimelineKind.OOM_KILL,
                                f"{self.names.container} in {pod} OOMKilled (exit code {exit_code}"
                                f"{peak_text}, limit {self.limit_bytes / MIB:.0f} MiB, "
                                f"{self.limiter.mechanism})")
            else:
                self._add_event(finished, TimelineKind.EVENT,
                                f"{self.names.container} in {pod} exited: {reason} (exit code {exit_code})")
            speed_note = f" (demo speed {self.speed:g}x)" if self.speed != 1 else ""
            self._add_event(finished, TimelineKind.BACKOFF,
                            f"Back-off {delay:.3g}s{speed_note} restarting failed container "
                            f"{self.names.container} in pod {pod}")
            listeners = list(self._listeners)
        if kill is not None:
            for listener in listeners:
                try:
                    listener(kill)
                except Exception:
                    log.exception("OOM listener failed")

    def _terminate(self, proc: subprocess.Popen[bytes]) -> None:
        """Stop a run that is being replaced: SIGTERM, then SIGKILL after a grace period."""
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        with self._cond:
            self._started_at = None
            self._cond.notify_all()

