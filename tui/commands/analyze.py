"""``incident-tui analyze``: run the C leak analysis on files and print findings.

Exit status: 0 when nothing was found, 1 when there are findings, 2 when an input could not be
read, preprocessed or parsed (the other inputs are still analysed and printed). ``--verify`` also
compiles each file that has a ``main`` and runs it under valgrind or LeakSanitizer in a sandbox
(see :mod:`tui.sources.c_verify`); without it no analysed code is ever executed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from analysis.model import AnalysisResult, Diagnostic, FindingKind, LeakFinding
from tui import __version__

if TYPE_CHECKING:
    from tui.sources.c_verify import Verification

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
"""Schema URI written into SARIF logs."""
INFORMATION_URI = "https://github.com/incident-tui/incident-tui"
"""Where the tool is documented, for SARIF's ``tool.driver.informationUri``."""

_RULE_TEXT: dict[FindingKind, str] = {
    FindingKind.LEAK: "Heap memory becomes unreachable without being freed.",
    FindingKind.LEAK_IN_LOOP: "Heap memory leaks on every loop iteration.",
    FindingKind.DOUBLE_FREE: "The same heap block is freed twice.",
    FindingKind.USE_AFTER_FREE: "A heap block is used after it was freed.",
    FindingKind.RESOURCE_LEAK: "A file or descriptor is never closed.",
}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``analyze`` sub-command.

    Args:
        subparsers: The top-level parser's sub-parsers.
    """
    parser = subparsers.add_parser(
        "analyze",
        help="find memory leaks, double frees, uses after free and unclosed files in C",
        description="Find memory and resource lifetime bugs in C files (exit 0: none, "
                    "1: findings, 2: input errors).",
    )
    parser.add_argument("files", nargs="+", metavar="FILE.c", help="C source files")
    parser.add_argument("-I", dest="include_dirs", action="append", default=[], metavar="DIR",
                        help="add a directory to the header search path (repeatable)")
    parser.add_argument("-D", dest="defines", action="append", default=[],
                        metavar="NAME[=VALUE]", help="define a macro (repeatable)")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text",
                        help="output format (default: text)")
    parser.add_argument("--verify", action="store_true",
                        help="also compile each file that has main() and run it under valgrind "
                             "or LeakSanitizer (10 s, memory and process limits, no network "
                             "when possible) to confirm findings; never done without this flag")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Analyse the files named in ``args`` and print the result.

    Args:
        args: Parsed arguments (``files``, ``include_dirs``, ``defines``, ``format``).
        out: Where findings go (stdout by default).
        err: Where input errors go (stderr by default).

    Returns:
        0 without findings, 1 with findings, 2 when an input could not be analysed.
    """
    # Imported here so `incident-tui --help` does not pay for pycparser.
    from tui.sources.c_preprocess import analyze_files

    out = out or sys.stdout
    err = err or sys.stderr
    result = analyze_files(args.files, include_dirs=args.include_dirs, defines=args.defines)
    for diagnostic in result.diagnostics:
        print(f"incident-tui analyze: {format_diagnostic(diagnostic)}", file=err)
    verifications: list[Verification] | None = None
    if getattr(args, "verify", False):
        from tui.sources.c_verify import verify_file

        failed = {d.file for d in result.diagnostics}
        verifications = [verify_file(path, args.include_dirs, args.defines)
                         for path in args.files if path not in failed]
    if args.format == "json":
        document = to_json(result)
        if verifications is not None:
            document["verification"] = [_verification_json(v, result) for v in verifications]
        json.dump(document, out, indent=2)
        out.write("\n")
    elif args.format == "sarif":
        json.dump(to_sarif(result, verifications), out, indent=2)
        out.write("\n")
    else:
        for finding in result.findings:
            tool = _confirmed_by(finding, verifications)
            print(format_finding(finding) + (f" [confirmed by {tool}]" if tool else ""), file=out)
        for verification in verifications or []:
            for note in verification.notes:
                print(f"verify: {verification.file}: {note}", file=out)
    if result.diagnostics:
        return 2
    return 1 if result.findings else 0


def format_finding(finding: LeakFinding) -> str:
    """One text line: ``file:line: kind: function(): message``.

    Args:
        finding: The finding.

    Returns:
        The line, without a newline.
    """
    return (f"{finding.file}:{finding.line}: {finding.kind.value}: "
            f"{finding.function}(): {finding.message}")


def format_diagnostic(diagnostic: Diagnostic) -> str:
    """``file:line: message`` (``file: message`` when the line is unknown).

    Args:
        diagnostic: The diagnostic.

    Returns:
        The text, without a newline.
    """
    where = diagnostic.file if diagnostic.line is None else f"{diagnostic.file}:{diagnostic.line}"
    return f"{where}: {diagnostic.message}"


def to_json(result: AnalysisResult) -> dict[str, Any]:
    """The JSON document for ``--format json``.

    Args:
        result: Analysis result.

    Returns:
        ``{"findings": [...], "diagnostics": [...]}`` with plain values.
    """
    return {
        "findings": [
            {"file": f.file, "line": f.line, "function": f.function, "kind": f.kind.value,
             "message": f.message, "variable": f.variable, "alloc_line": f.alloc_line,
             "lost_line": f.lost_line, "loop_line": f.loop_line, "fix_line": f.fix_line,
             "release": f.release}
            for f in result.findings
        ],
        "diagnostics": [{"file": d.file, "line": d.line, "message": d.message}
                        for d in result.diagnostics],
    }


def to_sarif(result: AnalysisResult,
             verifications: list[Verification] | None = None) -> dict[str, Any]:
    """A SARIF 2.1.0 log for ``--format sarif`` (validated against the OASIS schema in tests).

    Each result points at the allocation and, as related locations, at the allocation and at the
    point where the last reference is lost. Input errors become tool execution notifications, so
    code-scanning UIs can show them.

    Args:
        result: Analysis result.
        verifications: Runtime checks from ``--verify``, when it was given.

    Returns:
        The log as plain values.
    """
    rules = [{"id": kind.value, "shortDescription": {"text": text}}
             for kind, text in _RULE_TEXT.items()]
    index = {kind.value: i for i, kind in enumerate(_RULE_TEXT)}
    results = []
    for f in result.findings:
        entry: dict[str, Any] = {
            "ruleId": f.kind.value,
            "ruleIndex": index[f.kind.value],
            "level": "warning",
            "message": {"text": f"{f.function}(): {f.message}"},
            "locations": [_location(f.file, f.line)],
        }
        related = [(f.alloc_line, "allocated here"), (f.lost_line, "last reference lost here")]
        entry["relatedLocations"] = [
            {"id": i, **_location(f.file, line), "message": {"text": text}}
            for i, (line, text) in enumerate(related) if line]
        tool = _confirmed_by(f, verifications)
        entry["properties"] = {"function": f.function, "variable": f.variable,
                               **({"fixLine": f.fix_line, "release": f.release}
                                  if f.fix_line else {}),
                               **({"confirmedBy": tool} if tool else {})}
        results.append(entry)
    notifications = [
        {"level": "error", "message": {"text": d.message},
         "locations": [{"physicalLocation": {
             "artifactLocation": {"uri": _uri(d.file)},
             **({"region": {"startLine": d.line}} if d.line else {}),
         }}]}
        for d in result.diagnostics
    ]
    notifications += [{"level": "note", "message": {"text": f"verify {v.file}: {note}"}}
                      for v in verifications or [] for note in v.notes]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "incident-tui", "version": __version__,
                            "informationUri": INFORMATION_URI, "rules": rules}},
        "results": results,
    }
    if notifications:
        run["invocations"] = [{"executionSuccessful": not result.diagnostics,
                               "toolExecutionNotifications": notifications}]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _location(file: str, line: int) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": {"uri": _uri(file)},
                                 "region": {"startLine": max(line, 1)}}}


def _confirmed_by(finding: LeakFinding, verifications: list[Verification] | None) -> str | None:
    for verification in verifications or []:
        if verification.file == finding.file and verification.confirms(finding):
            return verification.tool
    return None


def _verification_json(verification: Verification, result: AnalysisResult) -> dict[str, Any]:
    confirmed = [f.line for f in result.findings
                 if f.file == verification.file and verification.confirms(f)]
    return {"file": verification.file, "tool": verification.tool,
            "observed": [{"kind": kind.value, "line": line} for kind, line in verification.observed],
            "confirmed_lines": confirmed, "notes": list(verification.notes)}


def _uri(path: str) -> str:
    """A SARIF artifact URI: relative paths stay relative (with ``/``), absolute become file:."""
    if os.path.isabs(path):
        return Path(path).as_uri()
    return Path(path).as_posix()
