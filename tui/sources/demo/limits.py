"""Enforce the demo worker's 64 MiB memory limit the way a container runtime would.

Three mechanisms, tried in this order by :func:`choose_limiter`:

* ``cgroup-v2``: a child cgroup with ``memory.max``; the kernel OOM-kills the worker and counts it
  in ``memory.events`` (``oom_kill``). Usage is ``memory.current`` minus ``inactive_file``.
* ``cgroup-v1``: a child of our own memory cgroup with ``memory.limit_in_bytes``; kills are counted
  in ``memory.oom_control`` (``oom_kill``). Usage is ``memory.usage_in_bytes`` minus
  ``total_inactive_file``, the working set the kubelet reports.
* ``watchdog``: no cgroup available; a thread reads ``VmRSS`` and SIGKILLs at the limit.

A limiter is used in three steps per container run: :meth:`MemoryLimiter.arm` in the parent before
spawning (it returns a ``preexec_fn`` that moves the child into the cgroup before it can allocate),
:meth:`MemoryLimiter.attach` right after spawning, :meth:`MemoryLimiter.oom_killed` once it exited.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

PR_SET_PDEATHSIG = 1
"""``prctl`` option: signal to send the child when the thread that forked it exits."""

_run_counter = itertools.count(1)


def _parent_death_signal() -> Callable[[], None] | None:
    """A preexec step that asks the kernel to SIGKILL the child when its parent dies (Linux only)."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    # Bind the argument types now: the child must not import or resolve anything after fork.
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int

    def set_pdeathsig() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    return set_pdeathsig


_SET_PDEATHSIG = _parent_death_signal()


def _read_int(path: Path) -> int:
    return int(path.read_text().strip())


def _read_keyed(path: Path) -> dict[str, int]:
    """Parse ``key value`` lines (memory.stat, memory.events, memory.oom_control)."""
    values: dict[str, int] = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            values[key] = int(value)
    return values


def _own_cgroup(controller: str | None) -> str | None:
    """Our cgroup path for a v1 ``controller``, or the v2 path when ``controller`` is None."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if controller is None and hierarchy == "0" and controllers == "":
            return path
        if controller is not None and controller in controllers.split(","):
            return path
    return None


def _mount_for(fstype: str, option: str | None) -> tuple[Path, str] | None:
    """``(mount point, mount root)`` of the first ``fstype`` mount carrying ``option``."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        pre, _, post = line.partition(" - ")
        fields, post_fields = pre.split(), post.split()
        if len(fields) < 5 or len(post_fields) < 3 or post_fields[0] != fstype:
            continue
        if option is None or option in post_fields[2].split(","):
            return Path(fields[4]), fields[3]
    return None


def _cgroup_dir(fstype: str, option: str | None, controller: str | None) -> Path | None:
    """The directory of our own cgroup in the given hierarchy, if mounted and visible."""
    mount = _mount_for(fstype, option)
    own = _own_cgroup(controller)
    if mount is None or own is None:
        return None
    mount_point, mount_root = mount
    # In a cgroup namespace or a bind-mounted container the mount root is a prefix of our path.
    if mount_root != "/" and own.startswith(mount_root):
        own = own[len(mount_root):]
    directory = mount_point / own.lstrip("/")
    return directory if directory.is_dir() else None


class MemoryLimiter:
    """Base class: how the worker's memory limit is enforced and measured."""

    mechanism: str = "none"
    """``cgroup-v2``, ``cgroup-v1`` or ``watchdog``; shown as ``WorkloadInfo.limit_mechanism``."""
    sample_source: str = "none"
    """The ``MemorySample.source`` of this limiter's readings."""

    def __init__(self, limit_bytes: int) -> None:
        """Create an unprepared limiter.

        Args:
            limit_bytes: The memory limit to enforce.
        """
        self.limit_bytes = limit_bytes

    def prepare(self) -> None:
        """Set the mechanism up (create the cgroup). Idempotent.

        Raises:
            OSError: When the mechanism is not usable here.
        """

    def arm(self) -> Callable[[], None] | None:
        """Get ready for a new run; call in the parent just before spawning.

        Returns:
            A ``preexec_fn`` for :class:`subprocess.Popen`, or None when nothing must run in the child.
        """
        return _SET_PDEATHSIG

    def attach(self, pid: int) -> None:
        """Start enforcing on the freshly spawned process ``pid``."""

    def usage_bytes(self, pid: int | None) -> int | None:
        """Current working-set bytes of the run, or None when it cannot be read."""
        raise NotImplementedError

    def oom_killed(self) -> bool:
        """True when the mechanism killed the process for memory since the last :meth:`arm`."""
        raise NotImplementedError

    def cleanup(self) -> None:
        """Remove what :meth:`prepare` created; call after the process has been reaped."""


class _CgroupLimiter(MemoryLimiter):
    """Shared code of the two cgroup versions: a uniquely named child cgroup per limiter."""

    _counter_file: str = ""
    _counter_key: str = "oom_kill"

    def __init__(self, limit_bytes: int, parent: Path | None) -> None:
        super().__init__(limit_bytes)
        self.parent = parent
        self.path: Path | None = None
        self._baseline = 0

    def _apply_limit(self, path: Path) -> None:
        raise NotImplementedError

    def prepare(self) -> None:
        """Create ``incident-tui-demo-<pid>-<n>`` under our own cgroup and set the limit.

        Raises:
            OSError: When the hierarchy is missing or read-only, or the limit cannot be set.
        """
        if self.path is not None:
            return
        if self.parent is None:
            raise OSError(f"{self.mechanism}: no writable memory cgroup hierarchy")
        self._remove_stale()
        path = self.parent / f"incident-tui-demo-{os.getpid()}-{next(_run_counter)}"
        path.mkdir()
        try:
            self._apply_limit(path)
        except OSError:
            path.rmdir()
            raise
        self.path = path

    def _remove_stale(self) -> None:
        """Remove empty cgroups left by demo processes that died without cleaning up."""
        assert self.parent is not None
        for child in self.parent.glob("incident-tui-demo-*-*"):
            pid = child.name.split("-")[3]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                try:
                    child.rmdir()
                except OSError:
                    pass

    def _oom_count(self) -> int:
        assert self.path is not None
        try:
            return _read_keyed(self.path / self._counter_file).get(self._counter_key, 0)
        except OSError:
            return 0

    def arm(self) -> Callable[[], None] | None:
        """Record the OOM counter and return a preexec step that joins the cgroup."""
        if self.path is None:
            self.prepare()
        assert self.path is not None
        self._baseline = self._oom_count()
        procs = os.fsencode(self.path / "cgroup.procs")
        pdeathsig = _SET_PDEATHSIG

        def join_cgroup() -> None:
            # Runs in the child between fork and exec: raw syscalls only, no Python-level locks.
            if pdeathsig is not None:
                pdeathsig()
            fd = os.open(procs, os.O_WRONLY)
            try:
                os.write(fd, b"0")  # "0" means the writing process itself
            finally:
                os.close(fd)

        return join_cgroup

    def oom_killed(self) -> bool:
        """True when the cgroup's ``oom_kill`` counter went up since :meth:`arm`."""
        return self.path is not None and self._oom_count() > self._baseline

    def cleanup(self) -> None:
        """Remove the cgroup (kill stragglers first; the kernel refuses to remove a busy one)."""
        if self.path is None:
            return
        path, self.path = self.path, None
        deadline_tries = 50
        for _ in range(deadline_tries):
            try:
                for pid in (path / "cgroup.procs").read_text().split():
                    os.kill(int(pid), signal.SIGKILL)
                path.rmdir()
                return
            except FileNotFoundError:
                return
            except (OSError, ValueError):
                # The kernel needs a moment after the last task exits; wait without spinning.
                threading.Event().wait(0.02)


class CgroupV2Limiter(_CgroupLimiter):
    """``memory.max`` in a child of our cgroup-v2 cgroup."""

    mechanism = "cgroup-v2"
    sample_source = "cgroup-v2"
    _counter_file = "memory.events"

    def __init__(self, limit_bytes: int, parent: Path | None = None) -> None:
        """Create the limiter.

        Args:
            limit_bytes: Limit for ``memory.max``.
            parent: Cgroup to create the child in; defaults to our own v2 cgroup.
        """
        super().__init__(limit_bytes, parent or _cgroup_dir("cgroup2", None, None))

    def _apply_limit(self, path: Path) -> None:
        if not (path / "memory.max").exists():
            # Our cgroup does not delegate the memory controller (it is bound to v1, or we hold
            # processes so it cannot be enabled for children): v2 cannot limit memory here.
            raise OSError("cgroup-v2: memory controller not enabled for child cgroups")
        (path / "memory.max").write_text(str(self.limit_bytes))
        swap = path / "memory.swap.max"
        if swap.exists():
            swap.write_text("0")  # a container limit with swap would page instead of OOM-killing

    def usage_bytes(self, pid: int | None) -> int | None:
        """``memory.current`` minus ``inactive_file`` (the kubelet's working set)."""
        if self.path is None:
            return None
        try:
            current = _read_int(self.path / "memory.current")
            inactive = _read_keyed(self.path / "memory.stat").get("inactive_file", 0)
        except (OSError, ValueError):
            return None
        return max(current - inactive, 0)


class CgroupV1Limiter(_CgroupLimiter):
    """``memory.limit_in_bytes`` in a child of our cgroup-v1 memory cgroup."""

    mechanism = "cgroup-v1"
    sample_source = "cgroup-v1"
    _counter_file = "memory.oom_control"

    def __init__(self, limit_bytes: int, parent: Path | None = None) -> None:
        """Create the limiter.

        Args:
            limit_bytes: Limit for ``memory.limit_in_bytes``.
            parent: Cgroup to create the child in; defaults to our own v1 memory cgroup.
        """
        super().__init__(limit_bytes, parent or _cgroup_dir("cgroup", "memory", "memory"))

    def _apply_limit(self, path: Path) -> None:
        (path / "memory.limit_in_bytes").write_text(str(self.limit_bytes))
        if _read_int(path / "memory.limit_in_bytes") > self.limit_bytes:
            raise OSError("cgroup-v1: limit was not applied")
        memsw = path / "memory.memsw.limit_in_bytes"
        if memsw.exists():
            try:
                memsw.write_text(str(self.limit_bytes))  # no swapping past the limit
            except OSError:
                pass
        if "oom_kill" not in _read_keyed(path / "memory.oom_control"):
            # Kernels before 4.13 do not count kills; fall back to the limit-hit counter.
            self._counter_file, self._counter_key = "memory.failcnt", "failcnt"

    def _oom_count(self) -> int:
        if self._counter_key == "failcnt":
            assert self.path is not None
            try:
                return _read_int(self.path / "memory.failcnt")
            except (OSError, ValueError):
                return 0
        return super()._oom_count()

    def usage_bytes(self, pid: int | None) -> int | None:
        """``memory.usage_in_bytes`` minus ``total_inactive_file`` (the kubelet's working set)."""
        if self.path is None:
            return None
        try:
            usage = _read_int(self.path / "memory.usage_in_bytes")
            inactive = _read_keyed(self.path / "memory.stat").get("total_inactive_file", 0)
        except (OSError, ValueError):
            return None
        return max(usage - inactive, 0)


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
        return _SET_PDEATHSIG

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


def choose_limiter(limit_bytes: int) -> MemoryLimiter:
    """The best mechanism that works here, already prepared: cgroup v2, then v1, then watchdog.

    Args:
        limit_bytes: The memory limit to enforce.

    Returns:
        A prepared limiter; call :meth:`MemoryLimiter.cleanup` when done.
    """
    for candidate in (CgroupV2Limiter(limit_bytes), CgroupV1Limiter(limit_bytes)):
        try:
            candidate.prepare()
        except OSError:
            continue
        return candidate
    return WatchdogLimiter(limit_bytes)
