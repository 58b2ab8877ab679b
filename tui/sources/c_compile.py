"""Compile-checking C sources with the system compiler, to verify synthesized fixes."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

from analysis.model import Fix

COMPILE_TIMEOUT_SECONDS = 60.0
"""A compiler run taking longer than this counts as a failure."""
COMPILER_MEMORY_BYTES = 4 * 1024**3
"""Address-space limit of the compiler (a hostile source can make cc1 allocate without end)."""
COMPILER_OUTPUT_BYTES = 256 * 1024**2
"""Largest file the compiler may write (RLIMIT_FSIZE)."""


def run_compiler(command: list[str], cwd: str, timeout: float = COMPILE_TIMEOUT_SECONDS) -> subprocess.CompletedProcess[str]:
    """Run a compiler on repository source under limits; the source is compiled, never run.

    The compiler gets CPU, memory and output-size limits and a session of its own, so a timeout
    kills the driver and every pass it started (``cc1``, ``as``, ``ld``), not just the driver.

    Args:
        command: The compiler command line.
        cwd: Its working directory (a temporary one).
        timeout: Wall-clock seconds.

    Returns:
        The finished process, with text stdout and stderr.

    Raises:
        subprocess.TimeoutExpired: It ran longer than ``timeout`` (and was killed).
        OSError: It could not be started.
    """
    process = subprocess.Popen(command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, errors="replace", start_new_session=True,
                               preexec_fn=lambda: _compiler_limits(timeout))  # noqa: PLW1509
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _compiler_limits(timeout: float) -> None:
    """In the compiler's process before exec: CPU, address space, output size, no core files."""
    cpu = int(timeout) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_AS, (COMPILER_MEMORY_BYTES, COMPILER_MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_FSIZE, (COMPILER_OUTPUT_BYTES, COMPILER_OUTPUT_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def compile_check(source: str, filename: str) -> tuple[bool | None, str]:
    """Compile C source to an object file in a temporary directory, discarding the output.

    Args:
        source: The C source.
        filename: Its (repository) path; its directory, when it exists, is searched for
            ``#include "..."`` headers, and its name appears in compiler messages.

    Returns:
        ``(True, note)`` when it compiles, ``(False, first errors)`` when it does not, and
        ``(None, reason)`` when no compiler is installed or it could not be run.
    """
    compiler = next((c for c in ("cc", "gcc", "clang") if shutil.which(c)), None)
    if compiler is None:
        return None, "not compiled: no C compiler (cc, gcc or clang) found"
    name = Path(filename).name or "source.c"
    if not name.endswith(".c"):
        name += ".c"
    with tempfile.TemporaryDirectory(prefix="incident-tui-cc-") as workdir:
        source_path = Path(workdir) / name
        source_path.write_text(source, encoding="utf-8")
        command = [compiler, "-O0", "-c", "-w", "-o", str(Path(workdir) / "out.o")]
        directory = os.path.dirname(filename)
        if directory and os.path.isdir(directory):
            command += ["-iquote", directory]
        command.append(str(source_path))
        try:
            completed = run_compiler(command, workdir)
        except subprocess.TimeoutExpired:
            return False, f"{compiler} timed out after {COMPILE_TIMEOUT_SECONDS:.0f}s"
        except OSError as error:
            return None, f"not compiled: cannot run {compiler}: {error}"
    if completed.returncode == 0:
        return True, f"compiles with {compiler} -O0 -c"
    errors = [line for line in completed.stderr.splitlines() if "error" in line]
    detail = "; ".join(errors[:3]) or completed.stderr.strip()[:300]
    # Show the repository path, not the temporary one.
    detail = detail.replace(str(source_path), filename)
    return False, f"does not compile with {compiler}: {detail}"


def verify_fix(fix: Fix) -> Fix:
    """Compile the patched source of a fix.

    Args:
        fix: A fix from :func:`analysis.fix.synthesize_fix`.

    Returns:
        A copy with ``compiled`` set (None when no compiler) and the outcome added to the notes.
    """
    compiled, note = compile_check(fix.patched, fix.file)
    return replace(fix, compiled=compiled, verification_notes=(*fix.verification_notes, note))
