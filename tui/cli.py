"""The ``incident-tui`` command line: parses arguments and hands over to a sub-command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tui import __version__

# Sub-command modules, imported lazily so `incident-tui analyze` does not pay for Textual.
_COMMANDS = ("tui.commands.demo", "tui.commands.analyze", "tui.commands.correlate")


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every sub-command registered.

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
    for module_name in _COMMANDS:
        importlib.import_module(module_name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` when ``None``.

    Returns:
        The exit code.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
