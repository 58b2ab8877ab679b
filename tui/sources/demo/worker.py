"""Build the demo worker from the repository at a given commit.

The real path compiles ``worker.c`` exactly as committed with the system C compiler (``-O0 -w``:
the optimiser may drop the page-touching loop, and the published source triggers warnings). When
no compiler exists, a Python stand-in with the same allocation pattern is used instead; whether it
frees its buffer is decided by a plain textual check of ``controller()`` in the source at that
commit, and the stand-in is flagged in the workload notes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tui.sources.base import SourceError
from tui.sources.demo.repo_builder import run_git

WORKER_SOURCE = "worker.c"
"""Path of the worker's source in the demo repository."""

_STANDIN = '''"""Python stand-in for worker.c (no C compiler was found). Generated; do not edit."""
import os
import sys
import time

PAYLOAD = 10 * 1024 * 1024
PAGE = 4096
FREE_BUFFER = {free_buffer!r}


def main() -> None:
    interval = int(os.environ.get("WORKER_INTERVAL_MS", "1000") or "1000") / 1000.0
    kept = []
    while True:
        buffer = bytearray(PAYLOAD)
        for i in range(0, PAYLOAD, PAGE):  # touch every page so it becomes resident
            buffer[i] = 1
        print(f"processed item at {{id(buffer):#x}}", flush=True)
        if not FREE_BUFFER:
            kept.append(buffer)  # the leak: the reference outlives the iteration
        del buffer
        time.sleep(interval)


if __name__ == "__main__":
    sys.exit(main())
'''


@dataclass(frozen=True)
class WorkerBuild:
    """A runnable worker built from one commit."""

    sha: str
    """Commit the worker was built from."""
    argv: tuple[str, ...]
    """Command line that runs it."""
    compiled: bool
    """True for the compiled C worker, False for the Python stand-in."""
    notes: tuple[str, ...] = ()
    """Caveats for ``WorkloadInfo.notes``."""


def find_compiler() -> str | None:
    """Path of ``cc`` or ``gcc``, or None when neither is installed."""
    return shutil.which("cc") or shutil.which("gcc")


def controller_frees_buffer(source: str) -> bool:
    """Whether ``controller()`` in ``source`` contains ``free(buffer)`` (a textual check only).

    Args:
        source: C source text.

    Returns:
        True when the body of ``controller`` calls ``free(buffer)``.
    """
    match = re.search(r"\bcontroller\s*\([^)]*\)\s*\{", source)
    if match is None:
        return False
    depth, end = 1, match.end()
    while end < len(source) and depth:
        depth += {"{": 1, "}": -1}.get(source[end], 0)
        end += 1
    return re.search(r"\bfree\s*\(\s*buffer\s*\)", source[match.end():end]) is not None


def first_error(output: str) -> str:
    """The first ``error:`` line of a compiler's output (else its first line), trimmed to 200 chars."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if re.search(r"\berror:", line)]
    return (errors or lines or ["no output"])[0][:200]


def build_worker(repo: Path, sha: str, out_dir: Path) -> WorkerBuild:
    """Build the worker from ``worker.c`` at ``sha``; reuse an earlier build of the same commit.

    Args:
        repo: The demo repository.
        sha: Commit to build (any revision git accepts; resolved to a full SHA).
        out_dir: Directory for build outputs (``<out_dir>/<sha>/``).

    Returns:
        The build.

    Raises:
        SourceError: When the commit or its ``worker.c`` is missing, or compilation fails.
    """
    full = run_git(repo, ["rev-parse", "--verify", f"{sha}^{{commit}}"])
    source = run_git(repo, ["show", f"{full}:{WORKER_SOURCE}"])
    target = Path(out_dir) / full
    target.mkdir(parents=True, exist_ok=True)
    (target / WORKER_SOURCE).write_text(source + "\n", encoding="utf-8")

    compiler = find_compiler()
    if compiler is not None:
        binary = target / "worker"
        if not binary.exists():
            tmp = target / "worker.tmp"
            try:
                proc = subprocess.run(
                    [compiler, "-O0", "-w", "-o", str(tmp), str(target / WORKER_SOURCE)],
                    capture_output=True, text=True, check=False,
                )
            except OSError as error:  # a compiler that cannot be executed is a failed build too
                raise SourceError(f"worker.c at {full[:7]} was not built: cannot run {compiler}: {error}") from error
            if proc.returncode != 0:
                # The whole compiler output goes to a file; the message carries its first error.
                build_log = (target / "build.log").absolute()
                build_log.write_text(proc.stderr, encoding="utf-8")
                raise SourceError(f"worker.c at {full[:7]} does not compile with {compiler}: "
                                  f"{first_error(proc.stderr)} (full output in {build_log})")
            tmp.replace(binary)  # atomic: a half-written binary is never reused
        return WorkerBuild(sha=full, argv=(str(binary),), compiled=True)

    script = target / "worker_standin.py"
    script.write_text(_STANDIN.format(free_buffer=controller_frees_buffer(source)), encoding="utf-8")
    return WorkerBuild(
        sha=full,
        argv=(sys.executable, "-u", str(script)),
        compiled=False,
        notes=("Python stand-in worker: no C compiler found (install gcc to run the real C worker)",),
    )


def __getattr__(name: str) -> object:
    """Lazily re-export ``WorkerSupervisor`` (it lives in :mod:`.supervisor`, which imports this)."""
    if name == "WorkerSupervisor":
        from tui.sources.demo.supervisor import WorkerSupervisor

        return WorkerSupervisor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
