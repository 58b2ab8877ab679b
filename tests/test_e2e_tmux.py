"""End to end in a real terminal: ``incident-tui demo`` in tmux at 80x24, driven by keys, read off the screen."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

if shutil.which("tmux") is None:  # make test installs it; a bare pytest run on a laptop may not have it
    pytest.skip("tmux is not installed (make test installs it)", allow_module_level=True)


class Terminal:
    """A tmux session on a private socket."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", str(self.socket), *args], capture_output=True, text=True, check=True).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", *keys)

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        """Wait until ``text`` is on screen; fail showing the screen otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on screen after {timeout:.0f}s:\n{screen}")
            time.sleep(0.1)  # polling the terminal for a condition: there is no event to wait on


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    socket = tmp_path / "tmux.sock"
    term = Terminal(socket)
    command = f"{sys.executable} -m tui demo --state-dir {tmp_path / 'state'} --speed 20; echo EXITED $?; sleep 60"
    env = {**os.environ, "TERM": "xterm-256color", "NO_COLOR": "1"}
    subprocess.run(["tmux", "-S", str(socket), "new-session", "-d", "-x", "80", "-y", "24", command], check=True, env=env)
    try:
        yield term
    finally:
        subprocess.run(["tmux", "-S", str(socket), "kill-server"], capture_output=True)


def test_demo_in_a_real_80x24_terminal(terminal: Terminal, tmp_path: Path) -> None:
    # GIVEN the demo started in an 80x24 terminal without colour
    # THEN the incident appears, stated in words
    terminal.wait_for("!! TRIGGERED")
    screen = terminal.wait_for("OOM kills")
    assert "[1 Memory]" in screen and "limit 64 MiB" in screen
    # WHEN 3 shows the suspects THEN the culprit is ranked first with its reasons
    terminal.keys("3")
    screen = terminal.wait_for("removes free(buffer) in worker.c")
    first_row = next(line for line in screen.splitlines() if line.startswith("┃ 1 "))
    assert "tidy up controller loop" in first_row
    # WHEN 4 shows the diff THEN the analysis is marked on the lines
    terminal.keys("4")
    terminal.wait_for("^ ALLOC buffer")
    # WHEN a, y acknowledge THEN the header says so
    terminal.keys("a")
    terminal.wait_for("Acknowledge incident #")
    terminal.keys("y")
    terminal.wait_for("ok ACKNOWLEDGED")
    # WHEN r generates the report THEN it is shown with its path
    terminal.keys("r")
    terminal.wait_for("Report saved to")
    assert list((tmp_path / "state" / "reports").glob("incident-*.md"))
    terminal.keys("Escape")
    terminal.wait_for("ok ACKNOWLEDGED")
    # WHEN p previews and y creates the PR THEN the PR view shows it
    terminal.keys("p")
    terminal.wait_for("Open this fix PR?")
    terminal.keys("y")
    terminal.wait_for("PR #")
    # WHEN m merges it THEN the timeline records the merge
    terminal.keys("m")
    terminal.keys("2")
    terminal.wait_for("MRG")
    # WHEN q quits THEN the process exits cleanly
    terminal.keys("q")
    terminal.wait_for("EXITED 0")
    # AND no worker process from this demo outlives it
    survivors = subprocess.run(["pgrep", "-f", str(tmp_path / "state" / "run")], capture_output=True, text=True).stdout
    assert survivors.strip() == ""
