"""Sub-commands of the ``incident-tui`` CLI.

Each module exposes ``add_parser(subparsers)`` which registers its sub-command and sets
``func=run`` on it, and ``run(args) -> int`` which returns the process exit code.
"""
