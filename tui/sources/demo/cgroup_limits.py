"""cgroup v2 and v1 memory limiters: the kernel enforces the limit and counts OOM kills."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

from tui.sources.demo.limiter import (
    SET_PDEATHSIG,
    MemoryLimiter,
    cgroup_dir,
    read_int,
    read_keyed,
    run_counter,
)


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
        path = self.parent / f"incident-tui-demo-{os.getpid()}-{next(run_counter)}"
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
            return read_keyed(self.path / self._counter_file).get(self._counter_key, 0)
        except OSError:
            return 0

    def arm(self) -> Callable[[], None] | None:
        """Record the OOM counter and return a preexec step that joins the cgroup."""
        if self.path is None:
            self.prepare()
        assert self.path is not None
        self._baseline = self._oom_count()
        procs = os.fsencode(self.path / "cgroup.procs")
        pdeathsig = SET_PDEATHSIG

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
        super().__init__(limit_bytes, parent or cgroup_dir("cgroup2", None, None))

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
            current = read_int(self.path / "memory.current")
            inactive = read_keyed(self.path / "memory.stat").get("inactive_file", 0)
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
        super().__init__(limit_bytes, parent or cgroup_dir("cgroup", "memory", "memory"))

    def _apply_limit(self, path: Path) -> None:
        (path / "memory.limit_in_bytes").write_text(str(self.limit_bytes))
        if read_int(path / "memory.limit_in_bytes") > self.limit_bytes:
            raise OSError("cgroup-v1: limit was not applied")
        memsw = path / "memory.memsw.limit_in_bytes"
        if memsw.exists():
            try:
                memsw.write_text(str(self.limit_bytes))  # no swapping past the limit
            except OSError:
                pass
        if "oom_kill" not in read_keyed(path / "memory.oom_control"):
            # Kernels before 4.13 do not count kills; fall back to the limit-hit counter.
            self._counter_file, self._counter_key = "memory.failcnt", "failcnt"

    def _oom_count(self) -> int:
        if self._counter_key == "failcnt":
            assert self.path is not None
            try:
                return read_int(self.path / "memory.failcnt")
            except (OSError, ValueError):
                return 0
        return super()._oom_count()

    def usage_bytes(self, pid: int | None) -> int | None:
        """``memory.usage_in_bytes`` minus ``total_inactive_file`` (the kubelet's working set)."""
        if self.path is None:
            return None
        try:
            usage = read_int(self.path / "memory.usage_in_bytes")
            inactive = read_keyed(self.path / "memory.stat").get("total_inactive_file", 0)
        except (OSError, ValueError):
            return None
        return max(usage - inactive, 0)


