"""The memory limiter interface and the small helpers the mechanisms share.

See :mod:`tui.sources.demo.limits` for the mechanisms and how one is chosen.
"""

from __future__ import annotations

import ctypes
import itertools
import signal
from collections.abc import Callable
from pathlib import Path

PR_SET_PDEATHSIG = 1
"""``prctl`` option: signal to send the child when the thread that forked it exits."""

run_counter = itertools.count(1)


def parent_death_signal() -> Callable[[], None] | None:
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


SET_PDEATHSIG = parent_death_signal()


def read_int(path: Path) -> int:
    return int(path.read_text().strip())


def read_keyed(path: Path) -> dict[str, int]:
    """Parse ``key value`` lines (memory.stat, memory.events, memory.oom_control)."""
    values: dict[str, int] = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            values[key] = int(value)
    return values


def own_cgroup(controller: str | None) -> str | None:
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


def mount_for(fstype: str, option: str | None) -> tuple[Path, str] | None:
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


def cgroup_dir(fstype: str, option: str | None, controller: str | None) -> Path | None:
    """The directory of our own cgroup in the given hierarchy, if mounted and visible."""
    mount = mount_for(fstype, option)
    own = own_cgroup(controller)
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
    fallback_reasons: tuple[str, ...] = ()
    """Why each better mechanism was not used (set by :func:`~tui.sources.demo.limits.choose_limiter`)."""

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
        return SET_PDEATHSIG

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


