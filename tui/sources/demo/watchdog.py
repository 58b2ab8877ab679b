"""The fallback limiter: a thread that reads VmRSS and SIGKILLs the worker at the limit."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable

from tui.sources.demo.limiter import SET_PDEATHSIG, MemoryLimiter


def read_vmrss(pid: int) -> int | None:
    """Resident set size of ``pid`` in bytes from ``/proc/<pid>/status``, None if it is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None  # a zombie has no VmRSS line


class WatchdogLimiter(MemoryLimiter):
    """No cgroup: poll ``VmRSS`` and SIGKILL the process when it reaches the limit."""

    mechanism = "watchdog"
    sample_source = "proc"

    def __init__(self, limit_bytes: int, poll_interval: float = 0.02) -> None:
        """Create the watchdog.

        Args:
            limit_bytes: RSS at which the process is killed.
            poll_interval: Seconds between reads; short, because the leak grows in 10 MiB steps.
        """
        super().__init__(limit_bytes)
        self.poll_interval = poll_interval
        self._killed = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def arm(self) -> Callable[[], None] | None:
        """Reset the kill flag and stop watching the previous run."""
        self._stop_thread()
        self._killed.clear()
        return SET_PDEATHSIG

    def attach(self, pid: int) -> None:
        """Start a watchdog thread for ``pid``."""
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._watch, args=(pid, self._stop), name=f"demo-watchdog-{pid}", daemon=True
        )
        self._thread.start()

    def _watch(self, pid: int, stop: threading.Event) -> None:
        pidfd: int | None = None
        try:
            # A pidfd pins the process: the kill can never hit a recycled pid.
            pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            pidfd = None
        try:
            while not stop.wait(self.poll_interval):
                rss = read_vmrss(pid)
                if rss is None:
                    return
                if rss >= self.limit_bytes:
                    self._killed.set()
                    if pidfd is not None:
                        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                    else:
                        os.kill(pid, signal.SIGKILL)
                    return
        except ProcessLookupError:
            return
        finally:
            if pidfd is not None:
                os.close(pidfd)

    def usage_bytes(self, pid: int | None) -> int | None:
        """``VmRSS`` of ``pid``."""
        return None if pid is None else read_vmrss(pid)

    def oom_killed(self) -> bool:
        """True when the watchdog killed the current run."""
        return self._killed.is_set()

    def _stop_thread(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=1)
        self._thread = None

    def cleanup(self) -> None:
        """Stop the watchdog thread."""
        self._stop_thread()


