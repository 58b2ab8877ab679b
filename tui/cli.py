"""The ``incident-tui`` command line: parses arguments and hands over to a sub-command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tui import __version__

_COMMANDS = {
    "live": "tui.commands.live",
    "report": "tui.commands.report",
    "demo": "tui.commands.demo",
    "analyze": "tui.commands.analyze",
    "correlate": "tui.commands.correlate",
    "check": "tui.commands.check",
}
"""Sub-command name -> module. Only the module of the command being run is imported, so
``incident-tui analyze`` pays neither for Textual nor for the HTTP and Kubernetes clients."""

DEFAULT_COMMAND = "live"
"""What a bare ``incident-tui`` (or ``incident-tui --incident ID``) runs."""
_TOP_LEVEL_OPTIONS = ("-h", "--help", "--version")
"""Arguments the top-level parser handles itself."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Build the top-level parser.

    Args:
        only: Register just this sub-command (the one being run); every one when ``None``.

    Returns:
        The parser; each sub-command sets ``func`` to its ``run`` function.
    """
    import importlib

    parser = argparse.ArgumentParser(
        prog="incident-tui",
        description="From an OOMKilled page to an open fix PR, in one terminal screen.",
    )
    parser.add_argument("--version", action="version", version=f"incident-tui {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in _COMMANDS.items():
        if only is None or name == only:
            importlib.import_module(module_name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; without a sub-command (``incident-tui``, ``incident-tui --incident ID``) it runs ``live``.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` when ``None``.

    Returns:
        The exit code.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or (arguments[0] not in _COMMANDS and arguments[0] not in _TOP_LEVEL_OPTIONS):
        arguments.insert(0, DEFAULT_COMMAND)
    parser = build_parser(only=arguments[0] if arguments[0] in _COMMANDS else None)
    args = parser.parse_args(arguments)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    from tui.logsetup import (
        configure_debug_log,
        debug_log_path,
        remove_debug_log,
        report_unexpected,
    )

    handler = None
    log_path = debug_log_path(getattr(args, "debug_log", None))
    if log_path is not None:
        try:
            handler = configure_debug_log(log_path)
        except OSError as error:
            print(f"incident-tui {args.command}: cannot open the debug log {log_path}: {error.strerror}",
                  file=sys.stderr)
            return 2
    try:
        return int(args.func(args))
    except Exception as error:  # noqa: BLE001 - the last line of defence: a redacted traceback, never a raw one
        return report_unexpected(error, args.command)
    finally:
        if handler is not None:
            remove_debug_log(handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
