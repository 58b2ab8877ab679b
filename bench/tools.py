"""The four analyzers the benchmark runs, how each is invoked and how its output maps to our kinds.

Every tool is run once per corpus file, as a separate process, and timed with a wall clock around
that one invocation. Each parser turns the tool's own output into :class:`RawFinding` rows that
carry one of :data:`bench.labels.KINDS`; diagnostics about anything else (null dereferences,
style, unused functions...) are counted as ``ignored`` and otherwise dropped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository root: incident-tui is run from here with the current interpreter."""

TIMEOUT_SECONDS = 300
"""An invocation that takes longer than this counts as an error for that file."""

C_LOCALE = {**os.environ, "LC_ALL": "C", "LANG": "C"}
"""Plain ASCII quotes in gcc's messages, whatever the caller's locale."""


@dataclass(frozen=True)
class RawFinding:
    """One diagnostic of a tool, already mapped to a benchmark kind."""

    line: int
    """1-based line the tool points at."""
    kind: str
    """One of ``bench.labels.KINDS``."""
    function: str | None
    """The enclosing function as the tool names it, when it does."""
    detail: str
    """The tool's own id or option and message, for the verbose report."""


@dataclass(frozen=True)
class Parsed:
    """What a parser extracts from one invocation's output."""

    findings: tuple[RawFinding, ...]
    """Diagnostics mapped to benchmark kinds."""
    ignored: int = 0
    """Diagnostics of kinds the benchmark does not score."""
    error: str | None = None
    """Why the invocation failed, when it did."""


@dataclass(frozen=True)
class ToolRun:
    """One timed invocation of one tool on one file."""

    tool: str
    """The tool's name."""
    file: str
    """The corpus file's name."""
    seconds: float
    """Wall-clock time of the invocation."""
    parsed: Parsed
    """What the tool reported."""


@dataclass(frozen=True)
class Tool:
    """An analyzer: its executable, its command line and its output parser."""

    name: str
    """Short name used in ``--tools`` and tables."""
    executable: str
    """The program that must be on PATH (or an absolute path)."""
    command: Callable[[Path], list[str]]
    """The argv to analyse one file."""
    parse: Callable[[subprocess.CompletedProcess[str]], Parsed]
    """Turns the finished process into findings."""
    version_argv: list[str] = field(default_factory=list)
    """How to ask the tool its version (empty: handled by :func:`tool_version`)."""
    batch_command: Callable[[list[Path]], list[str]] | None = None
    """The argv to analyse many files in one invocation, when the tool can."""

    def available(self) -> bool:
        """True when the executable can be found."""
        return shutil.which(self.executable) is not None

    def run(self, path: Path) -> ToolRun:
        """Analyse one file, timing the invocation with a wall clock."""
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                self.command(path), capture_output=True, text=True, cwd=ROOT,
                env=C_LOCALE, timeout=TIMEOUT_SECONDS, check=False,
            )
            parsed = self.parse(proc)
        except subprocess.TimeoutExpired:
            parsed = Parsed((), error=f"timed out after {TIMEOUT_SECONDS}s")
        return ToolRun(self.name, path.name, time.perf_counter() - start, parsed)

    def time_batch(self, paths: list[Path]) -> float | None:
        """Wall-clock seconds per file of ONE invocation over all ``paths``, or None if unsupported.

        This separates the cost of analysing a file from the cost of starting the tool, which
        dominates for small files (an interpreter start for incident-tui, a driver and cc1 for
        gcc). Outputs go to a scratch directory; only the time is kept.
        """
        if self.batch_command is None or not paths:
            return None
        with tempfile.TemporaryDirectory() as scratch:
            start = time.perf_counter()
            subprocess.run(
                self.batch_command(paths), capture_output=True, text=True, cwd=scratch,
                env={**C_LOCALE, "PYTHONPATH": str(ROOT)}, timeout=TIMEOUT_SECONDS * len(paths), check=False,
            )
            return (time.perf_counter() - start) / len(paths)


# --- incident-tui -------------------------------------------------------------------------------

INCIDENT_KINDS = {
    "leak": "leak", "leak-in-loop": "leak", "double-free": "double-free",
    "use-after-free": "use-after-free", "resource-leak": "resource-leak",
}
"""incident-tui's JSON kinds to benchmark kinds."""


def parse_incident_tui(proc: subprocess.CompletedProcess[str]) -> Parsed:
    """Read ``analyze --format json`` (exit 0 none, 1 findings, 2 input error)."""
    if proc.returncode not in (0, 1, 2):
        tail = proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        return Parsed((), error=f"crashed: {tail[0]}")
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return Parsed((), error=f"unreadable JSON (exit {proc.returncode})")
    findings, ignored = [], 0
    for item in data.get("findings", []):
        kind = INCIDENT_KINDS.get(item.get("kind", ""))
        if kind is None:
            ignored += 1
            continue
        findings.append(RawFinding(
            int(item.get("line", 0)), kind, item.get("function"),
            f"{item.get('kind')}: {item.get('message', '')}",
        ))
    error = None
    if proc.returncode == 2:
        messages = [str(d.get("message", d)) if isinstance(d, dict) else str(d)
                    for d in data.get("diagnostics", [])]
        error = "input error: " + ("; ".join(messages)[:200] or "exit 2")
    return Parsed(tuple(findings), ignored, error)


# --- gcc -fanalyzer -----------------------------------------------------------------------------

GCC_KINDS = {
    "analyzer-malloc-leak": "leak",
    "analyzer-double-free": "double-free",
    "analyzer-use-after-free": "use-after-free",
    "analyzer-file-leak": "resource-leak",
    "analyzer-fd-leak": "resource-leak",
    "analyzer-double-fclose": "double-free",
}
"""gcc ``-W`` options (without the ``-W``) to benchmark kinds; gcc 12 has no fd checker."""

GCC_WARNING_RE = re.compile(r"^(.+?):(\d+):(\d+): (?:warning|error): (.*?) \[-W([\w-]+)\]$")
GCC_FUNCTION_RE = re.compile(r"^.+?: In function '([^']+)':$")


def parse_gcc(proc: subprocess.CompletedProcess[str]) -> Parsed:
    """Read gcc's plain-text diagnostics, tracking the "In function 'x':" headers.

    glibc declares ``fopen`` with ``__attribute__((malloc(fclose)))``, so gcc 12 reports every
    leaked ``FILE *`` twice: as ``-Wanalyzer-file-leak`` and as ``-Wanalyzer-malloc-leak`` at the
    same line and column. The malloc-leak twin is dropped: it is one bug, a resource leak.
    """
    if proc.returncode != 0:
        return Parsed((), error=f"gcc exit {proc.returncode}: {proc.stderr.strip()[:200]}")
    function: str | None = None
    rows: list[tuple[int, int, str, str, str | None]] = []
    ignored = 0
    for line in proc.stderr.splitlines():
        header = GCC_FUNCTION_RE.match(line)
        if header:
            function = header.group(1)
            continue
        if line.endswith("At top level:"):
            function = None
            continue
        warning = GCC_WARNING_RE.match(line)
        if not warning:
            continue
        option = warning.group(5)
        kind = GCC_KINDS.get(option)
        if kind is None:
            ignored += option.startswith("analyzer-")
            continue
        rows.append((int(warning.group(2)), int(warning.group(3)), kind,
                     f"-W{option}: {warning.group(4)}", function))
    resource_at = {(r[0], r[1]) for r in rows if r[2] == "resource-leak"}
    findings = tuple(
        RawFinding(line, kind, fn, detail)
        for line, col, kind, detail, fn in rows
        if not (kind == "leak" and (line, col) in resource_at)
    )
    return Parsed(findings, ignored)


# --- clang static analyzer ----------------------------------------------------------------------

CLANG_WARNING_RE = re.compile(r"^(.+?):(\d+):(\d+): warning: (.*) \[([\w.]+)\]$")
CLANG_MESSAGES = (
    (re.compile(r"^Potential (leak of memory|memory leak)"), "leak"),
    (re.compile(r"^Attempt to free released memory"), "double-free"),
    (re.compile(r"^Use of memory after it is freed"), "use-after-free"),
    (re.compile(r"^Opened (stream|File) never closed"), "resource-leak"),
)
"""clang messages (of unix.Malloc and alpha.unix.Stream/SimpleStream) to benchmark kinds."""


def parse_clang(proc: subprocess.CompletedProcess[str]) -> Parsed:
    """Read ``clang --analyze -analyzer-output=text`` warnings (notes are path steps, skipped)."""
    if proc.returncode != 0:
        return Parsed((), error=f"clang exit {proc.returncode}: {proc.stderr.strip()[:200]}")
    findings, ignored = [], 0
    for line in proc.stderr.splitlines():
        warning = CLANG_WARNING_RE.match(line)
        if not warning:
            continue
        message, checker = warning.group(4), warning.group(5)
        kind = next((k for pattern, k in CLANG_MESSAGES if pattern.match(message)), None)
        if kind is None:
            ignored += 1
            continue
        findings.append(RawFinding(int(warning.group(2)), kind, None, f"{checker}: {message}"))
    return Parsed(tuple(findings), ignored)


# --- cppcheck -----------------------------------------------------------------------------------

CPPCHECK_TEMPLATE = "{file}:{line}:{column}:{severity}:{id}:{message}"
CPPCHECK_LINE_RE = re.compile(r"^(.+?):(\d+):(\d+):(\w+):(\w+):(.*)$")
CPPCHECK_KINDS = {
    "memleak": "leak",
    "memleakOnRealloc": "leak",
    "leakReturnValNotUsed": "leak",
    "leakNoVarFunctionCall": "leak",
    "leakUnsafeArgAlloc": "leak",
    "doubleFree": "double-free",
    "deallocDealloc": "double-free",
    "deallocuse": "use-after-free",
    "deallocret": "use-after-free",
    "resourceLeak": "resource-leak",
}
"""cppcheck message ids to benchmark kinds."""


def parse_cppcheck(proc: subprocess.CompletedProcess[str]) -> Parsed:
    """Read cppcheck's ``--template`` lines from stderr."""
    if proc.returncode != 0:
        return Parsed((), error=f"cppcheck exit {proc.returncode}: {proc.stderr.strip()[:200]}")
    findings, ignored = [], 0
    for line in proc.stderr.splitlines():
        match = CPPCHECK_LINE_RE.match(line)
        if not match:
            continue
        kind = CPPCHECK_KINDS.get(match.group(5))
        if kind is None:
            ignored += 1
            continue
        findings.append(RawFinding(
            int(match.group(2)), kind, None, f"{match.group(5)}: {match.group(6)}"
        ))
    return Parsed(tuple(findings), ignored)


# --- the registry -------------------------------------------------------------------------------

TOOLS: dict[str, Tool] = {
    "incident-tui": Tool(
        "incident-tui", sys.executable,
        lambda p: [sys.executable, "-m", "tui", "analyze", str(p), "--format", "json"],
        parse_incident_tui,
        batch_command=lambda ps: [sys.executable, "-m", "tui", "analyze", *map(str, ps), "--format", "json"],
    ),
    "gcc": Tool(
        "gcc", "gcc",
        lambda p: ["gcc", "-std=gnu11", "-fanalyzer", "-c", "-o", os.devnull,
                   "-fdiagnostics-plain-output", "-fdiagnostics-path-format=none", str(p)],
        parse_gcc, ["gcc", "--version"],
        batch_command=lambda ps: ["gcc", "-std=gnu11", "-fanalyzer", "-c", "-fdiagnostics-plain-output",
                                  "-fdiagnostics-path-format=none", *map(str, ps)],
    ),
    "clang": Tool(
        "clang", "clang",
        lambda p: ["clang", "--analyze", "-std=gnu11", "-o", os.devnull,
                   "-Xclang", "-analyzer-output=text",
                   "-Xclang", "-analyzer-checker=alpha.unix.Stream", str(p)],
        parse_clang, ["clang", "--version"],
        batch_command=lambda ps: ["clang", "--analyze", "-std=gnu11", "-Xclang", "-analyzer-output=text",
                                  "-Xclang", "-analyzer-checker=alpha.unix.Stream", *map(str, ps)],
    ),
    "cppcheck": Tool(
        "cppcheck", "cppcheck",
        lambda p: ["cppcheck", "--enable=all", "--inconclusive", "--library=posix", "--std=c11",
                   "--suppress=missingIncludeSystem", "--quiet",
                   f"--template={CPPCHECK_TEMPLATE}", str(p)],
        parse_cppcheck, ["cppcheck", "--version"],
        batch_command=lambda ps: ["cppcheck", "--enable=all", "--inconclusive", "--library=posix",
                                  "--std=c11", "--suppress=missingIncludeSystem", "--quiet",
                                  f"--template={CPPCHECK_TEMPLATE}", *map(str, ps)],
    ),
}
"""Every tool the benchmark knows, by ``--tools`` name, in table order."""


def describe_command(tool: Tool) -> str:
    """The tool's command line for a placeholder ``FILE.c``, for the report."""
    argv = tool.command(Path("FILE.c"))
    if tool.name == "incident-tui":
        argv = ["python", *argv[1:]]
    return " ".join(argv)


def tool_version(tool: Tool) -> str:
    """A one-line version string, or "unknown"."""
    if tool.name == "incident-tui":
        try:
            rev = subprocess.run(
                ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                capture_output=True, text=True, check=False, timeout=30,
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            rev = ""
        from importlib.metadata import PackageNotFoundError, version

        try:
            release = version("incident-tui")
        except PackageNotFoundError:
            release = "?"
        return f"incident-tui {release} (git {rev or '?'} + working tree)"
    try:
        out = subprocess.run(tool.version_argv, capture_output=True, text=True,
                             check=False, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (out.strip().splitlines() or ["unknown"])[0]
