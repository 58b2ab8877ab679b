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

from tui.sources.demo.cgroup_limits import CgroupV1Limiter, CgroupV2Limiter
from tui.sources.demo.limiter import MemoryLimiter
from tui.sources.demo.watchdog import WatchdogLimiter, read_vmrss

__all__ = ["CgroupV1Limiter", "CgroupV2Limiter", "MemoryLimiter", "WatchdogLimiter", "choose_limiter", "read_vmrss"]


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
