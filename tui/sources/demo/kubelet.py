"""The demo's kubelet: one thread that runs the worker, samples it and restarts it after kills.

:class:`DemoKubelet` owns the worker process. It spawns each run under the memory limiter,
samples its working set, notices the kill, records an :class:`~analysis.model.OomKill` and
restarts it with CrashLoopBackOff delays (10 s doubling to 300 s, reset after 10 minutes of
running; all divided by ``speed``). It writes what happens to a
:class:`~tui.sources.demo.workload_record.WorkloadRecord`; other threads only read that record or
queue a rollout with :meth:`DemoKubelet.roll_out`.

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
from collections.abc import Callable
from pathlib import Path

from analysis.model import MemorySample, OomKill, Termination, TimelineKind
from tui.sources.demo.limits import MemoryLimiter, WatchdogLimiter
from tui.sources.demo.names import WorkloadNames, pod_name
from tui.sources.demo.worker import WorkerBuild
from tui.sources.demo.workload_record import WorkloadRecord, utcnow

log = logging.getLogger(__name__)

MIB = 1024 * 1024
BACKOFF_INITIAL = 10.0
"""Seconds before the first restart after a crash (at speed 1)."""
BACKOFF_MAX = 300.0
"""Back-off cap, as in the kubelet."""
BACKOFF_RESET_AFTER = 600.0
"""A run this long (seconds at speed 1) clears the crash streak, as in the kubelet."""
SAMPLE_INTERVAL = 0.25
"""Seconds between memory samples at speed 1 (shortened with speed, never below 0.05)."""


class DemoKubelet:
    """Runs, samples and restarts the demo worker on its own thread."""

    def __init__(
        self,
        record: WorkloadRecord,
        limiter: MemoryLimiter,
        *,
        names: WorkloadNames,
        out_dir: Path,
        limit_bytes: int,
        speed: float,
    ) -> None:
        """Create the kubelet; nothing runs until :meth:`start`.

        Args:
            record: Where states, samples, events and kills are written.
            limiter: How the limit is enforced; replaced by the watchdog if it fails at spawn time.
            names: Names to report.
            out_dir: Directory for the worker's log.
            limit_bytes: The memory limit (for event text).
            speed: Time compression of back-offs, the worker's pause and the sample interval.
        """
        self.record = record
        self.limiter = limiter
        """The limiter in force (it can change once, to the watchdog)."""
        self.names = names
        self.out_dir = out_dir
        self.limit_bytes = limit_bytes
        self.speed = speed
        self.sample_interval = max(0.05, SAMPLE_INTERVAL / speed)
        self._cond = record.cond
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[OomKill], None]] = []
        self._pending: WorkerBuild | None = None
        self.build: WorkerBuild | None = None
        """The build being run (None until the first rollout reaches the thread)."""

    # -- called from other threads -----------------------------------------------------------

    def start(self) -> None:
        """Start the thread (idempotent)."""
        with self._cond:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="demo-supervisor", daemon=True)
            self._thread.start()

    def stop(self, timeout: float) -> None:
        """Kill the worker, stop the thread and remove the cgroup. Safe to call twice."""
        self._stopping.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        else:
            self.limiter.cleanup()

    def roll_out(self, build: WorkerBuild) -> None:
        """Queue ``build`` to replace the running worker; the thread picks it up at once.

        From then on no sample is recorded for the old run (see :meth:`_sample`), so a caller that
        stamps its deployment under ``record.cond`` before calling this keeps samples and pods apart.
        """
        with self._cond:
            self._pending = build
        self._wake.set()

    @property
    def wanted(self) -> WorkerBuild | None:
        """The build that runs or is about to run."""
        with self._cond:
            return self._pending or self.build

    def add_oom_listener(self, listener: Callable[[OomKill], None]) -> None:
        """Call ``listener(kill)`` on the kubelet thread after every OOM kill."""
        with self._cond:
            self._listeners.append(listener)

    # -- the thread --------------------------------------------------------------------------

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
                        self.build = pending
                        self.record.pod = pod_name(self.names.deployment, pending.sha)
                        self.record.set_state("waiting", "ContainerCreating", restart_count=0,
                                              last_termination=None)
                if self.build is None:
                    self._wake.wait()
                    continue
                if proc is None:
                    remaining = restart_at - time.monotonic()
                    if remaining > 0:
                        self._wake.wait(remaining)  # a deploy or stop cuts the back-off short
                        continue
                    proc = self._spawn(self.build, is_restart=crashes > 0)
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
            self.record.add_event(utcnow(), TimelineKind.EVENT, "demo supervisor stopped after an error")
        finally:
            if proc is not None:
                self._terminate(proc)
            self.record.set_state("terminated", "Stopped", started_at=None)
            self.limiter.cleanup()

    def _backoff(self, crashes: int) -> float:
        return min(BACKOFF_INITIAL * 2 ** (crashes - 1), BACKOFF_MAX) / self.speed

    def _spawn(self, build: WorkerBuild, *, is_restart: bool) -> subprocess.Popen[bytes] | None:
        """Start a run, falling back to the watchdog once if the cgroup refuses the worker."""
        proc, error = self._popen(build)
        if proc is None and self.limiter.mechanism != "watchdog":
            # The cgroup exists but refused the worker (permission, a removed or frozen group):
            # hand over to the watchdog rather than crash-loop on a limiter that cannot work.
            self._fall_back_to_watchdog(error)
            proc, error = self._popen(build)
        if proc is None:
            return None
        now = utcnow()
        with self._cond:
            count = self.record.restart_count
            if is_restart:
                count += 1
                self.record.add_event(now, TimelineKind.RESTART,
                                      f"Restarted container {self.names.container} in pod "
                                      f"{self.record.pod} (restart #{count})")
            self.record.set_state("running", None, started_at=now, restart_count=count)
        return proc

    def _popen(self, build: WorkerBuild) -> tuple[subprocess.Popen[bytes] | None, str | None]:
        """Start one run of ``build`` under the limiter.

        Returns:
            ``(process, None)``, or ``(None, why)`` after recording the failure.
        """
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
            self.record.set_state("waiting", "CreateContainerError")
            self.record.add_event(utcnow(), TimelineKind.EVENT,
                                  f"Error: failed to start container {self.names.container} "
                                  f"under {self.limiter.mechanism}: {error}")
            return None, str(error)
        return proc, None

    def _fall_back_to_watchdog(self, error: str | None) -> None:
        """Replace a cgroup limiter that failed at spawn time with the VmRSS watchdog."""
        failed = self.limiter
        cgroup = getattr(failed, "path", None)
        if cgroup is not None:
            # The child's error does not cross exec ("Exception occurred in preexec_fn"): repeat
            # the join's open here to name the real reason.
            try:
                os.close(os.open(cgroup / "cgroup.procs", os.O_WRONLY))
            except OSError as probe:
                error = f"{probe.strerror}: {probe.filename}"
        failed.cleanup()
        reason = f"{failed.mechanism} not used: the worker could not join its cgroup ({error})"
        watchdog = WatchdogLimiter(self.limit_bytes)
        watchdog.fallback_reasons = (*failed.fallback_reasons, reason)
        self.limiter = watchdog
        self.record.add_event(utcnow(), TimelineKind.EVENT,
                              f"Memory limit now enforced by the watchdog: {reason}")

    def _sample(self, pid: int) -> int:
        with self._cond:
            if self._pending is not None:
                return 0  # a rollout is replacing this run: do not stamp old memory as new
            usage = self.limiter.usage_bytes(pid)  # a sysfs/procfs read: microseconds
            if usage is None:
                return 0
            self.record.add_sample(MemorySample(at=utcnow(), bytes=usage, source=self.limiter.sample_source))
        return usage

    def _on_exit(self, returncode: int, peak: int, crashes: int, delay: float) -> None:
        finished = utcnow()
        oom = returncode == -signal.SIGKILL and self.limiter.oom_killed()
        exit_code = 128 - returncode if returncode < 0 else returncode
        reason = "OOMKilled" if oom else ("Completed" if returncode == 0 else "Error")
        kill: OomKill | None = None
        record = self.record
        with self._cond:
            pod, started = record.pod, record.started_at or finished
            # The kubelet shows the first crash as terminated; repeated ones as CrashLoopBackOff.
            state, why = ("terminated", reason) if crashes == 1 else ("waiting", "CrashLoopBackOff")
            record.set_state(state, why, started_at=None,
                             last_termination=Termination(reason, exit_code, started, finished))
            if oom:
                kill = OomKill(at=finished, started_at=started, exit_code=exit_code,
                               peak_bytes=peak or None, restart_count=record.restart_count + 1)
                record.add_kill(kill)
                peak_text = f", peak {peak / MIB:.1f} MiB" if peak else ""
                record.add_event(finished, TimelineKind.OOM_KILL,
                                 f"{self.names.container} in {pod} OOMKilled (exit code {exit_code}"
                                 f"{peak_text}, limit {self.limit_bytes / MIB:.0f} MiB, "
                                 f"{self.limiter.mechanism})")
            else:
                record.add_event(finished, TimelineKind.EVENT,
                                 f"{self.names.container} in {pod} exited: {reason} (exit code {exit_code})")
            speed_note = f" (demo speed {self.speed:g}x)" if self.speed != 1 else ""
            record.add_event(finished, TimelineKind.BACKOFF,
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
            self.record.started_at = None
            self._cond.notify_all()
