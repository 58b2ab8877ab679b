"""``incident-tui analyze``: run the C leak analysis on files and print findings.

Exit status: 0 when nothing was found, 1 when there are findings, 2 when an input could not be
read, preprocessed or parsed (the other inputs are still analysed and printed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from analysis.model import AnalysisResult, Diagnostic, FindingKind, LeakFinding
from tui import __version__

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
        help="find memory leaks in C files",
        description="Find memory leaks in C files (exit 0: none, 1: findings, 2: input errors).",
    )
    parser.add_argument("files", nargs="+", metavar="FILE.c", help="C source files")
    parser.add_argument("-I", dest="include_dirs", action="append", default=[], metavar="DIR",
                        help="add a directory to the header search path (repeatable)")
    parser.add_argument("-D", dest="defines", action="append", default=[],
                        metavar="NAME[=VALUE]", help="define a macro (repeatable)")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text",
                        help="output format (default: text)")
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
    if args.format == "json":
        json.dump(to_json(result), out, indent=2)
        out.write("\n")
    elif args.format == "sarif":
        json.dump(to_sarif(result), out, indent=2)
        out.write("\n")
    else:
        for finding in result.findings:
            print(format_finding(finding), file=out)
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
             "lost_line": f.lost_line, "loop_line": f.loop_line, "fix_line": f.fix_line}
            for f in result.findings
        ],
        "diagnostics": [{"file": d.file, "line": d.line, "message": d.message}
                        for d in result.diagnostics],
    }


def to_sarif(result: AnalysisResult) -> dict[str, Any]:
    """A minimal SARIF 2.1.0 log for ``--format sarif``.

    Input errors become tool execution notifications, so code-scanning UIs can show them.

    Args:
        result: Analysis result.

    Returns:
        The log as plain values.
    """
    rules = [{"id": kind.value, "shortDescription": {"text": text}}
             for kind, text in _RULE_TEXT.items()]
    results = [
        {
            "ruleId": f.kind.value,
            "level": "warning",
            "message": {"text": f"{f.function}(): {f.message}"},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": _uri(f.file)},
                "region": {"startLine": f.line},
            }}],
        }
        for f in result.findings
    ]
    notifications = [
        {"level": "error", "message": {"text": d.message},
         "locations": [{"physicalLocation": {
             "artifactLocation": {"uri": _uri(d.file)},
             **({"region": {"startLine": d.line}} if d.line else {}),
         }}]}
        for d in result.diagnostics
    ]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "incident-tui", "version": __version__,
                            "informationUri": INFORMATION_URI, "rules": rules}},
        "results": results,
    }
    if notifications:
        run["invocations"] = [{"executionSuccessful": False,
                               "toolExecutionNotifications": notifications}]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _uri(path: str) -> str:
    """A SARIF artifact URI: relative paths stay relative (with ``/``), absolute become file:."""
    if os.path.isabs(path):
        return Path(path).as_uri()
    return Path(path).as_posix()
