"""``analyze --verify``: run a C program under a leak checker, inside a sandbox, to confirm findings.

Nothing here runs unless the user asked for ``--verify``. The file is compiled with the system
compiler and run either under valgrind (memcheck, preferred: it works under an address-space
limit) or, without valgrind, built with ``-fsanitize=address`` (LeakSanitizer). The run is bounded:
wall-clock timeout, CPU time, address space (valgrind only: sanitizers reserve terabytes of
shadow memory, so they get ASan's own RSS limit instead), process count (RLIMIT_NPROC, and a PID
namespace killed with the run), file size, and no network (a network namespace) when ``unshare``
works: as root the program also drops to ``nobody``; otherwise a user namespace needs no privilege.
Every limit that could not be applied is said in the notes.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from xml.etree import ElementTree

from analysis.c_functions import function_spans
from analysis.model import FindingKind, LeakFinding
from tui.sources.c_compile import run_compiler

RUN_TIMEOUT_SECONDS = 10.0
"""Wall-clock limit of one run."""
MEMORY_LIMIT_BYTES = 2 * 1024**3
"""Address-space limit of a valgrind run (RLIMIT_AS)."""
PROCESS_LIMIT = 64
"""RLIMIT_NPROC of the run (counts the user's processes; not enforced for root)."""
FILE_SIZE_LIMIT_BYTES = 64 * 1024**2
"""Largest file the program may write (RLIMIT_FSIZE)."""
NOBODY = 65534
"""The uid and gid a run started by root drops to."""

_VALGRIND_KINDS = {
    "Leak_DefinitelyLost": FindingKind.LEAK, "Leak_IndirectlyLost": FindingKind.LEAK,
    "InvalidFree": FindingKind.DOUBLE_FREE, "InvalidRead": FindingKind.USE_AFTER_FREE,
    "InvalidWrite": FindingKind.USE_AFTER_FREE,
}
_ASAN_HEADER = re.compile(r"^(Direct leak|Indirect leak) of|ERROR: AddressSanitizer: "
                          r"(attempting double-free|heap-use-after-free)", re.MULTILINE)


@dataclass(frozen=True)
class Verification:
    """What running one file under a leak checker showed."""

    file: str
    """The C file."""
    tool: str | None
    """``valgrind`` or ``leak-sanitizer``; None when nothing ran."""
    observed: tuple[tuple[FindingKind, int], ...] = ()
    """(kind, line in the file) of each problem the checker reported."""
    notes: tuple[str, ...] = ()
    """What was done, which limits applied, and why something did not run."""

    def confirms(self, finding: LeakFinding) -> bool:
        """True when the checker saw the same kind of problem at the finding's line.

        Args:
            finding: A static finding for this file.

        Returns:
            Whether the run confirms it.
        """
        kind = {FindingKind.LEAK_IN_LOOP: FindingKind.LEAK}.get(finding.kind, finding.kind)
        lines = {finding.alloc_line, finding.line}
        return any(k == kind and line in lines for k, line in self.observed)


def verify_file(path: str, include_dirs: Iterable[str] = (), defines: Iterable[str] = (),
                timeout: float = RUN_TIMEOUT_SECONDS, memory_limit: int = MEMORY_LIMIT_BYTES) -> Verification:
    """Compile ``path`` and run it under valgrind or LeakSanitizer inside the sandbox.

    Args:
        path: The C file (it must define ``main``).
        include_dirs: ``-I`` directories.
        defines: ``-D`` macros.
        timeout: Wall-clock limit in seconds.
        memory_limit: Address-space limit in bytes of a valgrind run (valgrind's own memory included).

    Returns:
        What was observed, with notes; never raises for a program that fails.
    """
    try:
        source = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        return Verification(path, None, notes=(f"not run: cannot read: {error.strerror}",))
    if "main" not in {name for name, _first, _last in function_spans(source, path)}:
        return Verification(path, None, notes=("not run: the file defines no main()",))
    compiler = next((c for c in ("gcc", "clang", "cc") if shutil.which(c)), None)
    if compiler is None:
        return Verification(path, None, notes=("not run: no C compiler found",))
    valgrind = shutil.which("valgrind")
    flags = ["-g", "-O0", "-fno-omit-frame-pointer", "-w"]
    if not valgrind:
        flags.append("-fsanitize=address")
    for directory in include_dirs:
        flags += ["-I", str(directory)]
    flags += [f"-D{define}" for define in defines]
    with tempfile.TemporaryDirectory(prefix="incident-tui-verify-") as workdir:
        binary = str(Path(workdir) / "program")
        try:
            built = run_compiler([compiler, *flags, "-o", binary, os.path.abspath(path)], workdir)
        except (OSError, subprocess.TimeoutExpired) as error:
            return Verification(path, None, notes=(f"not run: {compiler} failed: {error}",))
        if built.returncode != 0:
            first = next((line for line in built.stderr.splitlines() if "error" in line),
                         built.stderr.strip()[:200])
            return Verification(path, None, notes=(f"not run: does not compile: {first}",))
        if valgrind:
            xml_path = str(Path(workdir) / "memcheck.xml")
            command = [valgrind, "--leak-check=full", "--xml=yes", f"--xml-file={xml_path}",
                       "--child-silent-after-fork=yes", binary]
            tool, address_limit = "valgrind", memory_limit
        else:
            command, tool, address_limit = [binary], "leak-sanitizer", None
        isolation = sandbox()
        prefix, notes = list(isolation.prefix), list(isolation.notes)
        if isolation.run_as is not None:
            # The program runs as nobody: it must be able to run the binary and write the report.
            os.chown(workdir, isolation.run_as, isolation.run_as)
        environment = {"PATH": "/usr/bin:/bin", "ASAN_OPTIONS":
                       "detect_leaks=1:hard_rss_limit_mb=1024:allocator_may_return_null=1",
                       "LSAN_OPTIONS": "exitcode=23"}
        outcome, output = _run([*prefix, *command], workdir, environment, timeout, address_limit)
        notes.append(outcome)
        if address_limit is None:
            notes.append("address-space limit not applied (sanitizer shadow memory); "
                         "ASan hard_rss_limit_mb=1024 instead")
        if tool == "valgrind":
            observed = _parse_valgrind(xml_path, Path(path).name)
            stopped = _valgrind_stopped(output, address_limit)
            if stopped:
                notes.append(stopped)
        else:
            observed = _parse_sanitizer(output, Path(path).name)
            stopped = None
    incomplete = " before it stopped (the leak check at exit never ran)" if stopped else ""
    notes.append(f"{tool} reported {len(observed)} problem(s) in {Path(path).name}{incomplete}")
    return Verification(path, tool, tuple(observed), tuple(notes))


def _limits(address_limit: int | None) -> None:
    """In the child before exec: resource limits (inherited by the sandbox wrappers and the program)."""
    cpu = int(RUN_TIMEOUT_SECONDS) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_NPROC, (PROCESS_LIMIT, PROCESS_LIMIT))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT_BYTES, FILE_SIZE_LIMIT_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if address_limit is not None:
        resource.setrlimit(resource.RLIMIT_AS, (address_limit, address_limit))


def _run(command: list[str], workdir: str, environment: dict[str, str], timeout: float,
         address_limit: int | None) -> tuple[str, str]:
    """Run the sandboxed command in its own session; kill its whole process group when it ends.

    The group kill on the way out also ends anything the program left running (a fork bomb's
    children), whether the run finished or hit the time limit.
    """
    try:
        process = subprocess.Popen(command, cwd=workdir, env=environment, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   errors="replace", start_new_session=True,
                                   preexec_fn=lambda: _limits(address_limit))  # noqa: PLW1509
    except OSError as error:
        return f"could not start: {error}", ""
    try:
        output, _ = process.communicate(timeout=timeout)
        outcome = f"ran with exit status {process.returncode} (limit {timeout:.0f}s)"
    except subprocess.TimeoutExpired:
        _kill_group(process.pid)
        output, _ = process.communicate()
        outcome = f"stopped after the {timeout:.0f}s time limit"
    _kill_group(process.pid)
    return outcome, output or ""


def _valgrind_stopped(output: str, address_limit: int) -> str | None:
    """Why valgrind gave up on the run itself, or None when it did not.

    Memcheck keeps shadow memory for what the program touches inside the same address-space
    limit, so a program allocating without bound can make valgrind's own allocation fail before
    the program's ``malloc`` does; valgrind then stops with status 1 and no leak report.
    """
    if "Valgrind's memory management: out of memory" in output:
        return (f"valgrind ran out of memory under the {address_limit / 1024**3:.1f} GiB address-space limit "
                "(its shadow of what the program touched); the program was stopped there")
    if "Valgrind cannot continue" in output or "VALGRIND INTERNAL ERROR" in output:
        last = next((line.split("==", 2)[-1].strip() for line in output.splitlines()
                     if "Valgrind cannot continue" in line or "INTERNAL ERROR" in line), "")
        return f"valgrind stopped the run itself: {last}"
    return None


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # the group is already gone


@dataclass(frozen=True)
class Sandbox:
    """How a verify run is isolated beyond its resource limits."""

    prefix: tuple[str, ...]
    """Wrapper command put before the program (``unshare ... --``, ``setpriv ... --``)."""
    notes: tuple[str, ...]
    """What is in force, or why not, for the run's notes."""
    run_as: int | None = None
    """The unprivileged uid the program runs as (when started by root), else ``None``."""


def sandbox() -> Sandbox:
    """The strongest isolation this machine allows, probed once per process.

    - network: a new, empty network namespace (only a loopback interface, down), so no connection
      leaves the program, not even to 127.0.0.1;
    - processes: a new PID namespace whose init is killed with the run (``--kill-child``), so no
      process outlives it; RLIMIT_NPROC bounds forks;
    - privileges: root drops to ``nobody`` (RLIMIT_NPROC does not apply to root) with ``setpriv``;
      anyone else maps itself to root in a user namespace (``unshare -r``), which needs no privilege.

    Returns:
        The wrapper and its notes; an empty prefix with a note saying why when nothing works.
    """
    return _probe_sandbox()


@lru_cache(maxsize=1)
def _probe_sandbox() -> Sandbox:
    unshare, setpriv = shutil.which("unshare"), shutil.which("setpriv")
    namespaces = ["--net", "--pid", "--fork", "--kill-child"]
    candidates: list[tuple[list[str], list[str], int | None]] = []
    if os.geteuid() == 0 and unshare and setpriv:
        drop = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
        candidates.append(([unshare, *namespaces, "--", *drop],
                           ["network: none (unshare --net)", "processes: own PID namespace, killed with the run",
                            f"runs as uid {NOBODY} (nobody), so the process limit applies"], NOBODY))
    if unshare:
        candidates.append(([unshare, "--map-root-user", *namespaces, "--"],
                           ["network: none (unshare --net in a user namespace)",
                            "processes: own PID namespace, killed with the run"], None))
    failures = []
    for prefix, notes, run_as in candidates:
        reason = _probe(prefix)
        if reason is None:
            if os.geteuid() == 0 and run_as is None:
                notes.append("process limit not enforced (running as root); the process group is killed")
            return Sandbox(tuple(prefix), tuple(notes), run_as)
        failures.append(f"{Path(prefix[0]).name} {' '.join(prefix[1:3])}: {reason}")
    why = "; ".join(failures) or "unshare is not installed (util-linux)"
    notes = [f"network NOT isolated: {why}"]
    if os.geteuid() == 0:
        notes.append("process limit not enforced (running as root); the process group is killed")
    return Sandbox((), tuple(notes))


def _probe(prefix: list[str]) -> str | None:
    """None when ``prefix true`` works, else why it does not (its error output)."""
    try:
        done = subprocess.run([*prefix, "true"], capture_output=True, text=True, timeout=10, check=False,
                              errors="replace")
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    if done.returncode == 0:
        return None
    return (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]


def _parse_valgrind(xml_path: str, name: str) -> list[tuple[FindingKind, int]]:
    try:
        root = ElementTree.parse(xml_path).getroot()
    except (OSError, ElementTree.ParseError):
        return []
    observed = []
    for error in root.iter("error"):
        kind = _VALGRIND_KINDS.get(error.findtext("kind") or "")
        if kind is None:
            continue
        stack = error.find("stack")
        for frame in stack.iter("frame") if stack is not None else ():
            if frame.findtext("file") == name and (line := frame.findtext("line")):
                observed.append((kind, int(line)))
                break
    return observed


def _parse_sanitizer(output: str, name: str) -> list[tuple[FindingKind, int]]:
    observed = []
    frame = re.compile(rf"#\d+ .* (?:\S*/)?{re.escape(name)}:(\d+)")
    for header in _ASAN_HEADER.finditer(output):
        kind = (FindingKind.LEAK if header.group(1) else FindingKind.DOUBLE_FREE
                if "double" in (header.group(2) or "") else FindingKind.USE_AFTER_FREE)
        rest = output[header.end():]
        if kind is not FindingKind.LEAK:
            # For a use after free the first stack is the use; for a double free the second free.
            rest = rest.split("freed by thread")[0]
        found = frame.search(rest)
        if found:
            observed.append((kind, int(found[1])))
    return observed
