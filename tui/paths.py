"""Where incident-tui keeps its state (XDG base directories)."""

from __future__ import annotations

import os
from pathlib import Path


def default_state_dir(name: str = "demo") -> Path:
    """``$XDG_STATE_HOME/incident-tui/<name>``, defaulting to ``~/.local/state``.

    Args:
        name: Sub-directory, e.g. ``demo``.

    Returns:
        The path (not created).
    """
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "incident-tui" / name
