"""``incident-tui demo``: the whole incident on this machine, interactive or headless.

A real leaking worker under a real 64 MiB limit, a real git repository and a local incident store
stand in for Kubernetes, GitHub and PagerDuty (see :mod:`tui.sources.demo`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from tui.commands.live import add_debug_log_argument, add_low_bandwidth_argument
from tui.paths import default_state_dir


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``demo`` sub-command."""
    parser = subparsers.add_parser(
        "demo",
        help="run the OOMKilled incident end to end on this machine (no cluster, no tokens)",
        description="Run the ads-demo-service incident on this machine: a real leaking C worker under a "
        "64 MiB memory limit, a real git repository and a local incident store.",
    )
    parser.add_argument("--state-dir", type=Path, default=None, help="where the demo keeps its state (default: XDG state dir)")
    parser.add_argument("--speed", type=float, default=1.0, help="divide restart back-off delays by this factor (default 1)")
    parser.add_argument("--read-only", action="store_true", help="refuse every write (acknowledge, PR)")
    parser.add_argument("--reset", action="store_true", help="delete the demo's state first and start over")
    parser.add_argument("--headless", action="store_true", help="no TUI: run until the first incident, analyse, write the report")
    parser.add_argument("--ack", action="store_true", help="headless: acknowledge the incident")
    parser.add_argument("--open-pr", action="store_true", help="headless: open the fix PR")
    parser.add_argument("--report", type=Path, default=None, help="headless: also write the Markdown report here")
    parser.add_argument("--json", type=Path, default=None, help="headless: write the JSON summary here")
    parser.add_argument("--timeout", type=float, default=120.0, help="headless: seconds to wait for the incident (default 120)")
    add_low_bandwidth_argument(parser)
    add_debug_log_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo.

    Returns:
        0 on success, 2 when the demo could not run (message on stderr).
    """
    from tui.sources.demo import DemoScenario

    state_dir: Path = args.state_dir or default_state_dir("demo")
    if args.reset and state_dir.exists():
        shutil.rmtree(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    scenario = DemoScenario(state_dir, speed=args.speed)
    try:
        scenario.start()
        print_notices(scenario)
        sources = demo_sources(scenario, state_dir, read_only=args.read_only,
                               low_bandwidth=getattr(args, "low_bandwidth", False))
        if args.headless:
            return run_headless(args, scenario, sources)
        from tui.app import IncidentApp

        IncidentApp(sources).run()
        print_notices(scenario)  # again: the TUI's alternate screen hid the first print
        return 0
    except Exception as error:  # a failed demo says why instead of dumping a traceback
        from tui.sources.base import SourceError

        if not isinstance(error, (SourceError, OSError, TimeoutError)):
            raise
        from tui.logsetup import redacted_message

        print(redacted_message(f"incident-tui demo: {error}"), file=sys.stderr)
        return 2
    finally:
        scenario.stop()


def demo_sources(scenario, state_dir: Path, *, read_only: bool, low_bandwidth: bool = False):
    """The demo's source set: store, supervised worker, local git repository.

    Args:
        scenario: A started :class:`tui.sources.demo.DemoScenario`.
        state_dir: Where reports go.
        read_only: Refuse writes.
        low_bandwidth: Run the dashboard in low-bandwidth mode (``--low-bandwidth``).

    Returns:
        A :class:`tui.session.SourceSet`.
    """
    from tui.session import SourceSet
    from tui.sources.git_local import LocalGitCodeSource
    from tui.sources.threaded import ThreadedIncidentSource

    code = LocalGitCodeSource(scenario.repo_path, default_branch=scenario.default_branch, pr_registry=scenario.store)
    return SourceSet(
        incidents=ThreadedIncidentSource(scenario.incidents),
        workload=scenario.workload,
        code=code,
        state_dir=state_dir,
        mode="demo",
        read_only=read_only,
        low_bandwidth=low_bandwidth,
        demo=scenario,
        notices=tuple(scenario.notices),
    )


def run_headless(args: argparse.Namespace, scenario, sources) -> int:
    """Wait for the incident, analyse, optionally acknowledge and open the PR, write the report.

    Returns:
        The exit code.
    """
    import asyncio

    return asyncio.run(_headless(args, scenario, sources))


async def _headless(args: argparse.Namespace, scenario, sources) -> int:
    """The headless run, on the same coroutines the dashboard's keys use."""
    import asyncio

    from tui import operations
    from tui.audit import for_session as audit_log
    from tui.investigation import investigate

    print(f"waiting up to {args.timeout:.0f}s for the worker to be OOM-killed...", file=sys.stderr)
    incident = await asyncio.to_thread(scenario.wait_for_incident, args.timeout)
    print(f"incident #{incident.number} {incident.id}: {incident.title}", file=sys.stderr)
    kills = sources.workload.oom_kills()
    anchor = kills[0].at if kills else incident.created_at
    investigation = await asyncio.to_thread(
        investigate,
        sources.code,
        first_oom=anchor,
        deployments=sources.workload.deployments(),
        build_globs=sources.build_globs,
        window=sources.window,
    )
    if args.ack:
        incident = await operations.acknowledge(sources, incident)
        print(f"acknowledged: status {incident.status.value}", file=sys.stderr)
    pr = None
    if args.open_pr:
        pr = await operations.open_fix_pr(sources, incident, investigation)
        print(f"fix PR #{pr.number} on {pr.branch}{' (reused)' if pr.reused else ''}", file=sys.stderr)
    markdown, summary, path = await operations.generate_report(sources, incident, investigation, pr)
    print(f"report written to {path}", file=sys.stderr)
    audit = audit_log(sources)
    if args.report:
        args.report.write_text(markdown, encoding="utf-8")
        audit.record("report", str(args.report), f"copy of {path.name}", "ok")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
        audit.record("report", str(args.json), f"JSON summary of {path.name}", "ok")
    return 0


def print_notices(scenario) -> None:
    """Print the faults the demo survived (corrupt store kept aside, no worker), one per line."""
    for notice in scenario.notices:
        print(f"incident-tui demo: {notice}", file=sys.stderr)
