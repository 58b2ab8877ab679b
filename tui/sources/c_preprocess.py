"""Run the C preprocessor and the leak analysis on C sources (the I/O side of :mod:`analysis`).

System headers come from ``pycparser_fake_libc`` (minimal declarations pycparser can parse) rather
than glibc's, whose GNU extensions pycparser rejects. Line markers are kept so every coordinate in
the parsed tree is a line of the user's file.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence

import pycparser_fake_libc

from analysis.c_leaks import analyze_preprocessed
from analysis.model import AnalysisResult, Diagnostic, LeakFinding

CPP_TIMEOUT_SECONDS = 30.0
"""A preprocessor run taking longer than this is abandoned (include loops, huge inputs)."""

# GNU extensions defined away so pycparser can parse (the fake libc already typedefs
# __builtin_va_list, so it is left alone).
_GNU_DEFINES: tuple[str, ...] = (
    "__attribute__(x)=",
    "__attribute(x)=",
    "__declspec(x)=",
    "__asm__(x)=",
    "__asm(x)=",
    "__extension__=",
    "__restrict=",
    "__restrict__=",
    "__inline=inline",
    "__inline__=inline",
    "__volatile__=volatile",
    "__const=const",
    "__signed__=signed",
    "__thread=",
    "__builtin_expect(e,c)=(e)",
    "__builtin_expect_with_probability(e,c,p)=(e)",
    "__builtin_constant_p(e)=0",
    "__builtin_alloca=alloca",
    "__builtin_unreachable()=abort()",
    "__builtin_trap()=abort()",
    "__typeof__(x)=void *",
    "__typeof(x)=void *",
    "typeof(x)=void *",
    "__auto_type=void *",
    "__int128=long long",
    "__float128=long double",
    "_Float128=long double",
    "__volatile=volatile",
    "__signed=signed",
    "__alignof__(x)=8",
    "__label__=int",
    "__builtin_offsetof(t,m)=((unsigned long)&(((t *)0)->m))",
    "_Noreturn=",
    "__noreturn__=",
)

_CPP_ERROR = re.compile(
    r"^(?P<file>[^:\n]+):(?P<line>\d+):(?:\d+:)?\s*(?:fatal )?error:\s*(?P<message>.+)$",
    re.MULTILINE,
)


class PreprocessError(Exception):
    """The preprocessor failed or could not be run; ``diagnostic`` says where and why."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        """Wrap a diagnostic.

        Args:
            diagnostic: File, line (when known) and message.
        """
        super().__init__(_format(diagnostic))
        self.diagnostic = diagnostic


def preprocess(source: str, filename: str, include_dirs: Iterable[str] = (),
               defines: Iterable[str] = ()) -> str:
    """Preprocess C source text, keeping line markers that name ``filename``.

    Args:
        source: The C source.
        filename: Name to use in line markers and messages; the directory part is also searched
            for ``#include "..."`` files, as the compiler would.
        include_dirs: Extra ``-I`` directories, searched after the file's own directory.
        defines: ``NAME`` or ``NAME=VALUE`` macro definitions (``-D``).

    Returns:
        The preprocessed text.

    Raises:
        PreprocessError: No preprocessor is installed, it timed out, or it reported an error.
    """
    command = list(_cpp_command() or []) or None
    if command is None:
        raise PreprocessError(Diagnostic(filename, None, "no C preprocessor found: install cpp or gcc"))
    args = [*command, "-nostdinc", "-x", "c", "-I", pycparser_fake_libc.directory]
    directory = os.path.dirname(filename)
    if directory:
        args += ["-iquote", directory]
    for include in include_dirs:
        args += ["-I", str(include)]
    for define in (*_GNU_DEFINES, *defines):
        args.append(f"-D{define}")
    args.append("-")
    # A #line directive first makes cpp name the file `filename` in its markers and messages
    # while it reads from stdin, so no temporary file is needed.
    escaped = filename.replace("\\", "\\\\").replace('"', '\\"')
    text = f'#line 1 "{escaped}"\n{source}'
    try:
        completed = subprocess.run(args, input=text, capture_output=True, text=True,
                                   timeout=CPP_TIMEOUT_SECONDS, check=False, errors="replace")
    except subprocess.TimeoutExpired as error:
        raise PreprocessError(Diagnostic(filename, None, "the preprocessor timed out")) from error
    except OSError as error:
        raise PreprocessError(Diagnostic(filename, None, f"cannot run {command[0]}: {error}")) from error
    if completed.returncode != 0:
        raise PreprocessError(_cpp_diagnostic(completed.stderr, filename))
    return completed.stdout


def analyze_text(source: str, filename: str, include_dirs: Iterable[str] = (),
                 defines: Iterable[str] = (), *,
                 only_functions: set[str] | None = None) -> AnalysisResult:
    """Preprocess, parse and analyse one C source text.

    Args:
        source: The C source.
        filename: Name reported in findings and diagnostics.
        include_dirs: Extra ``-I`` directories.
        defines: ``NAME`` or ``NAME=VALUE`` macro definitions.
        only_functions: Analyse only these functions (and summarise what they call); see
            :func:`analysis.c_leaks.analyze_preprocessed`.

    Returns:
        Findings, or a diagnostic naming the file and line when the source cannot be
        preprocessed or parsed. Never raises for bad C.
    """
    try:
        text = preprocess(source, filename, include_dirs, defines)
    except PreprocessError as error:
        return AnalysisResult(diagnostics=(error.diagnostic,))
    try:
        return analyze_preprocessed(text, filename, only_functions=only_functions)
    except Exception as error:  # noqa: BLE001 - bad input must come back as a diagnostic
        return AnalysisResult(diagnostics=(
            Diagnostic(filename, None, f"internal analysis error: {type(error).__name__}: {error}"),))


def analyze_files(paths: Sequence[str], include_dirs: Iterable[str] = (),
                  defines: Iterable[str] = ()) -> AnalysisResult:
    """Analyse C files, each as its own translation unit.

    Args:
        paths: Files to read (UTF-8; undecodable bytes are replaced).
        include_dirs: Extra ``-I`` directories for every file.
        defines: Macro definitions for every file.

    Returns:
        All findings and diagnostics; an unreadable file becomes a diagnostic.
    """
    include_dirs, defines = tuple(include_dirs), tuple(defines)
    findings: list[LeakFinding] = []
    diagnostics: list[Diagnostic] = []
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                source = handle.read()
        except OSError as error:
            diagnostics.append(Diagnostic(path, None, f"cannot read: {error.strerror or error}"))
            continue
        result = analyze_text(source, path, include_dirs, defines)
        findings.extend(result.findings)
        diagnostics.extend(result.diagnostics)
    return AnalysisResult(findings=tuple(findings), diagnostics=tuple(diagnostics))


@functools.lru_cache(maxsize=1)
def _cpp_command() -> list[str] | None:
    """The preprocessor to run: ``cpp``, else ``gcc -E`` / ``cc -E``."""
    if shutil.which("cpp"):
        return ["cpp"]
    for compiler in ("gcc", "cc", "clang"):
        if shutil.which(compiler):
            return [compiler, "-E"]
    return None


def _cpp_diagnostic(stderr: str, filename: str) -> Diagnostic:
    """The first error in cpp's stderr, as a diagnostic."""
    match = _CPP_ERROR.search(stderr)
    if match is not None:
        return Diagnostic(match["file"], int(match["line"]), match["message"].strip())
    first = next((line for line in stderr.splitlines() if line.strip()), "preprocessing failed")
    return Diagnostic(filename, None, first.strip())


def _format(diagnostic: Diagnostic) -> str:
    where = diagnostic.file if diagnostic.line is None else f"{diagnostic.file}:{diagnostic.line}"
    return f"{where}: {diagnostic.message}"
