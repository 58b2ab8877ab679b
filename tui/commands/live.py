"""``incident-tui live`` (also a bare ``incident-tui``): the dashboard on PagerDuty, Kubernetes and GitHub.

The config maps the incident's PagerDuty service to its workload and repository; tokens come from
the environment. Every mistake (config, token, unmapped service, unreachable API before the
dashboard starts) is one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from tui.paths import default_state_dir

T = TypeVar("T")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``live`` sub-command."""
    parser = subparsers.add_parser(
        "live",
        help="open the dashboard on a live incident (PagerDuty, Kubernetes, GitHub); the default command",
        description="Open the dashboard on a PagerDuty incident of a service mapped in the config: its "
        "Kubernetes workload's memory and OOM kills, and the GitHub changes before the first kill. "
        "Tokens come from PAGERDUTY_API_TOKEN and GITHUB_TOKEN, cluster access from KUBECONFIG.",
    )
    add_config_argument(parser)
    parser.add_argument("--incident", metavar="ID", default=None,
                        help="PagerDuty incident ID (default: the newest open incident of the mapped services)")
    parser.add_argument("--read-only", action="store_true", help="refuse every write (acknowledge, notes, PR)")
    parser.set_defaults(pick=sys.stdin.isatty() and sys.stdout.isatty())
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="where reports are written (default: $XDG_STATE_HOME/incident-tui/live)")
    add_low_bandwidth_argument(parser)
    parser.set_defaults(func=run)


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """``--config PATH`` and ``--debug-log PATH``, shared with ``report`` and ``check``."""
    parser.add_argument("--config", type=Path, default=None, metavar="PATH",
                        help="config file (default: $INCIDENT_TUI_CONFIG, else $XDG_CONFIG_HOME/incident-tui/config.toml)")
    add_debug_log_argument(parser)


def add_low_bandwidth_argument(parser: argparse.ArgumentParser) -> None:
    """``--low-bandwidth``: the dashboard for slow links (shared with ``demo``)."""
    from tui.session import LOW_BANDWIDTH_INTERVALS

    workload, incident = LOW_BANDWIDTH_INTERVALS
    parser.add_argument("--low-bandwidth", action="store_true",
                        help=f"for slow links: poll the workload every {workload:g}s and the incident every "
                        f"{incident:g}s, no animations, ASCII graph, redraw only what changed; ctrl+r polls now")


def add_debug_log_argument(parser: argparse.ArgumentParser) -> None:
    """``--debug-log PATH``: every library's DEBUG logging to a file, secrets masked (see :mod:`tui.logsetup`)."""
    parser.add_argument("--debug-log", type=Path, default=None, metavar="PATH",
                        help="append DEBUG logging (HTTP requests, Kubernetes calls, errors) to PATH with every "
                        "token replaced by *** (default: $INCIDENT_TUI_DEBUG_LOG, else none)")


def warn_about(warnings: tuple[str, ...] | list[str], command: str) -> None:
    """Print config warnings (e.g. a readable file holding a secret) on stderr, one line each."""
    for warning in warnings:
        print(f"incident-tui {command}: warning: {warning}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Open the dashboard on the live incident.

    Returns:
        0 after the dashboard closes, 2 when it could not start (one line on stderr).
    """
    return run_reporting_errors("live", lambda: _live(args))


def run_reporting_errors(command: str, main: Callable[[], Awaitable[int]]) -> int:
    """Run ``main`` on a fresh event loop; configuration and source errors become exit code 2.

    Args:
        command: The sub-command, for the message prefix.
        main: The coroutine factory to run.

    Returns:
        The coroutine's exit code, or 2 with one line on stderr.
    """
    from tui.config import ConfigError
    from tui.live import PickerCancelled
    from tui.logsetup import redacted_message
    from tui.sources.base import SourceError

    try:
        return asyncio.run(main())
    except PickerCancelled:
        return 0  # the user quit the picker: nothing went wrong
    except (ConfigError, SourceError, OSError) as error:
        warn_about(getattr(error, "warnings", ()), command)
        # The sources promise token-free messages; masking again guards a message built elsewhere.
        print(redacted_message(f"incident-tui {command}: {error}"), file=sys.stderr)
        logging.getLogger("incident_tui").debug("%s failed", command, exc_info=error)
        return 2
    except KeyboardInterrupt:
        return 130


async def open_live_session(args: argparse.Namespace, *, state_name: str = "live", workload: Any = None,
                            while_reading: Callable[[], object] | None = None):
    """Load the config, pick the incident and build its sources.

    Args:
        args: Parsed arguments with ``config``, ``incident`` and optionally ``read_only``/``state_dir``.
        state_name: Sub-directory of the XDG state dir used when ``--state-dir`` is not given.
        workload: A :class:`~tui.sources.kubernetes_process.KubernetesProcessSource` started
            earlier, for the sources to use (closed here if this fails); one is started when ``None``.
        while_reading: Called just before PagerDuty is asked for the incident, to start work that
            can overlap the request (the live command imports Textual there).

    Returns:
        ``(sources, incident)``; the caller closes the sources with :func:`tui.live.close_sources`.

    Raises:
        ConfigError: The config is missing or wrong.
        SourceError: A token is missing, the incident is unknown or unmapped, PagerDuty failed.
    """
    from tui.config import load_config
    from tui.live import build_live_sources, pagerduty_source, pick_incident
    from tui.logsetup import startup_milestone

    pagerduty = None
    try:
        config = load_config(args.config)
        warn_about(config.warnings, getattr(args, "command", None) or "live")
        pagerduty = pagerduty_source(config)
        # Started before PagerDuty is asked: the child imports the Kubernetes client on the other
        # core while the incident is read here.
        workload = workload or start_kubernetes_reader(args)
        if len(config.services) == 1:
            # The only mapping is the one any incident of this session uses (another service would
            # be refused as unmapped): the reader can make its first reads while PagerDuty answers.
            workload.bind(config.services[0], context=config.kubernetes.context)
        choose = _run_picker if getattr(args, "pick", False) else None
        if while_reading is not None:
            while_reading()
        incident = await pick_incident(pagerduty, args.incident, choose)
        startup_milestone("incident read from PagerDuty")
        state_dir: Path = getattr(args, "state_dir", None) or default_state_dir(state_name)
        sources = build_live_sources(
            config,
            incident_service=incident.service,
            service_id=incident.service_id,
            read_only=bool(getattr(args, "read_only", False)),
            state_dir=state_dir,
            pagerduty=pagerduty,
            workload_process=workload,
        )
        startup_milestone("live sources built")
    except BaseException:
        if workload is not None:
            workload.close()
        if pagerduty is not None:
            await pagerduty.aclose()
        raise
    return sources, incident


def start_kubernetes_reader(args: argparse.Namespace) -> Any:
    """Start the Kubernetes reader process (:mod:`tui.sources.kubernetes_process`), logging to ``--debug-log``."""
    from tui.logsetup import debug_log_path
    from tui.sources.kubernetes_process import KubernetesProcessSource

    log_path = debug_log_path(getattr(args, "debug_log", None))
    return KubernetesProcessSource(str(log_path) if log_path else None)


async def _run_picker(incidents):
    """Show the incident picker in the terminal and return the chosen ID (``None`` if quit)."""
    # Textual from one thread at a time: two threads importing its circular modules at once could
    # each be handed the other's half-initialised module.
    for thread in threading.enumerate():
        if thread.name == DASHBOARD_IMPORT_THREAD:
            await asyncio.to_thread(thread.join)
    from tui.screens.picker import IncidentPickerApp

    return await IncidentPickerApp(incidents).run_async()


DASHBOARD_IMPORT_THREAD = "import-dashboard"
"""The thread that imports Textual and the dashboard while the session is set up."""


def _import_dashboard() -> None:
    """Import Textual and the dashboard (0.3 s or more); an error is raised again where they are used."""
    try:
        import tui.app  # noqa: F401
    except Exception:  # noqa: BLE001, S110 - a head start only: the import is repeated, and fails, in _live
        pass


async def _live(args: argparse.Namespace) -> int:
    """Build the session and run the dashboard on this event loop (so PagerDuty's client stays on it)."""
    # First the Kubernetes reader (its client import then runs on the other core throughout),
    # then Textual's import beside the PagerDuty request, which mostly waits on the network: the
    # three overlap instead of adding up before the first frame. (Started only once the config
    # is read and httpx imported: both would otherwise wait on the import for the interpreter.)
    reader = start_kubernetes_reader(args)
    importer = threading.Thread(target=_import_dashboard, name=DASHBOARD_IMPORT_THREAD)
    sources, incident = await open_live_session(args, workload=reader, while_reading=importer.start)
    from tui.app import IncidentApp
    from tui.live import close_sources
    from tui.logsetup import redacting_error_console, startup_milestone

    startup_milestone("Textual and the dashboard imported")

    if getattr(args, "low_bandwidth", False):
        sources = dataclasses.replace(sources, low_bandwidth=True)
    try:
        app = IncidentApp(sources, incident_id=incident.id, incident=incident)
        # Textual prints a crash's traceback with every frame's locals: mask the tokens among them.
        app.error_console = redacting_error_console()
        await app.run_async()
    finally:
        await close_sources(sources)
    return 0
