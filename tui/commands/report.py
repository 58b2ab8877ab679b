"""``incident-tui report``: the incident report from the live sources, without the dashboard.

The same code path as ``demo --headless``: the investigation anchored on the first OOM kill, then
:func:`tui.operations.generate_report`, which saves the report under the state dir.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tui.commands.live import (
    add_config_argument,
    open_live_session,
    run_reporting_errors,
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``report`` sub-command."""
    parser = subparsers.add_parser(
        "report",
        help="write a live incident's report (Markdown and JSON) without the dashboard",
        description="Investigate a PagerDuty incident of a mapped service and write its report.",
    )
    parser.add_argument("--incident", metavar="ID", required=True, help="PagerDuty incident ID")
    parser.add_argument("-o", "--output", type=Path, default=None, metavar="FILE", help="also write the Markdown here")
    parser.add_argument("--json", type=Path, default=None, metavar="FILE", help="write the JSON summary here")
    add_config_argument(parser)
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="where the report is saved (default: $XDG_STATE_HOME/incident-tui/live)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the report.

    Returns:
        0 on success, 2 when it could not be made (one line on stderr).
    """
    return run_reporting_errors("report", lambda: _report(args))


async def _report(args: argparse.Namespace) -> int:
    """Open the session read-only, investigate, generate and write."""
    from tui.live import close_sources, investigate_and_report

    args.read_only = True  # a report never writes upstream
    sources, incident = await open_live_session(args)
    try:
        print(f"incident #{incident.number} {incident.id}: {incident.title}", file=sys.stderr)
        investigation, markdown, summary, path = await investigate_and_report(sources, incident)
    finally:
        await close_sources(sources)
    if investigation.suspects:
        top = investigation.suspects[0].commit
        print(f"top suspect: {top.short_sha} {top.subject} ({top.author})", file=sys.stderr)
    print(f"report written to {path}", file=sys.stderr)
    if args.output:
        args.output.write_text(markdown, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    return 0
