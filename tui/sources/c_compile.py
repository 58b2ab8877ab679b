"""Compile-checking C sources with the system compiler, to verify synthesized fixes."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

from analysis.model import Fix

COMPILE_TIMEOUT_SECONDS = 60.0
"""A compiler run taking longer than this counts as a failure."""


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
            completed = subprocess.run(command, capture_output=True, text=True, check=False,
                                       timeout=COMPILE_TIMEOUT_SECONDS, cwd=workdir,
                                       errors="replace")
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
