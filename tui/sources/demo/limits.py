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

from pathlib import Path

from tui.sources.demo.cgroup_limits import CgroupV1Limiter, CgroupV2Limiter
from tui.sources.demo.limiter import MemoryLimiter
from tui.sources.demo.watchdog import WatchdogLimiter, read_vmrss

__all__ = ["CgroupV1Limiter", "CgroupV2Limiter", "MemoryLimiter", "WatchdogLimiter", "choose_limiter", "read_vmrss"]


def choose_limiter(
    limit_bytes: int,
    *,
    cgroup_v2_parent: Path | None = None,
    cgroup_v1_parent: Path | None = None,
) -> MemoryLimiter:
    """The best mechanism that works here, already prepared: cgroup v2, then v1, then watchdog.

    The chosen limiter's ``fallback_reasons`` say why each better one was not used (no
    hierarchy, no permission, controller not delegated), so the memory pane can tell the user.

    Args:
        limit_bytes: The memory limit to enforce.
        cgroup_v2_parent: Cgroup-v2 directory to create the worker's cgroup in (default: our own).
        cgroup_v1_parent: Cgroup-v1 memory directory to create it in (default: our own).

    Returns:
        A prepared limiter; call :meth:`MemoryLimiter.cleanup` when done.
    """
    reasons: list[str] = []
    candidates: tuple[MemoryLimiter, ...] = (
        CgroupV2Limiter(limit_bytes, cgroup_v2_parent),
        CgroupV1Limiter(limit_bytes, cgroup_v1_parent),
    )
    for candidate in candidates:
        try:
            candidate.prepare()
        except OSError as error:
            reasons.append(_not_used(candidate, error))
            continue
        candidate.fallback_reasons = tuple(reasons)
        return candidate
    watchdog = WatchdogLimiter(limit_bytes)
    watchdog.fallback_reasons = tuple(reasons)
    return watchdog


def _not_used(limiter: MemoryLimiter, error: OSError) -> str:
    """One line for the memory pane: which mechanism was skipped, where, and why."""
    where = getattr(limiter, "parent", None)
    text = error.strerror if error.strerror else str(error).removeprefix(f"{limiter.mechanism}: ")
    if error.filename:
        text = f"{text}: {error.filename}"
    elif where is not None:
        text = f"{text} (in {where})"
    return f"{limiter.mechanism} not used: {text}"
