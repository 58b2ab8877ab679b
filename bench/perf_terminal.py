"""Terminal bandwidth: bytes per minute the demo dashboard writes at 80x24, normal and ``--low-bandwidth``.

Usage (from the repository root)::

    .venv/bin/python bench/perf_terminal.py                     # 60 s per mode, the default
    .venv/bin/python bench/perf_terminal.py --seconds 20 --json /tmp/perf_terminal.json

Each mode runs exactly as a user starts it (``python -m tui demo --state-dir <tmp> --speed 10``,
plus ``--low-bandwidth`` for the second) on a pseudo-terminal of 80x24 with ``TERM=xterm-256color``,
the size of a jump host's terminal over SSH. This process drains the terminal (reusing
:class:`bench.soak.TerminalDrain`) and counts every byte the app writes. Start-up is discarded:
counting begins ``--warmup`` seconds (20) after the memory pane is first drawn, so the first
full-screen paint, compiling the worker and finding the incident are not part of the rate, and both
modes count the same stretch of the story: each gets a fresh state directory, so each sees the
worker leak, get OOM-killed and restart with a growing back-off, and the incident trigger, on the
same clock. At the end it presses ``q``.

The results file has the shape every ``bench/results/*.json`` shares:
``{"machine", "date", "measures": [{"name", "value", "unit", "target", "met", "note"}]}``.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import tempfile
import termios
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository root."""
sys.path.insert(0, str(ROOT))  # run as a script: make ``bench`` importable

from bench.perf_rows import measure  # noqa: E402
from bench.soak import TerminalDrain, machine_info, quit_app, stop_pty_app  # noqa: E402

DEFAULT_JSON = ROOT / "bench" / "results" / "perf_terminal.json"
"""Where the results go unless ``--json`` says otherwise."""
COLUMNS, ROWS = 80, 24
"""Terminal size: what on-call engineers have on a jump host."""
READY_MARK = r"(limit by)"
"""Text of the memory pane's summary: once it is on screen the dashboard is up."""
INCIDENT_MARK = r"(TRIGGERED)"
"""Text of the incident header once the incident is found."""




def spawn_demo(state_dir: Path, speed: float, extra: list[str]) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``python -m tui demo`` on a new pseudo-terminal of COLUMNS x ROWS.

    Args:
        state_dir: The demo's own (fresh) state directory.
        speed: ``--speed``.
        extra: More arguments, e.g. ``["--low-bandwidth"]``.

    Returns:
        The process and the terminal's master side (the caller closes it).
    """
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(COLUMNS), LINES=str(ROWS))
    # No truecolor: jump hosts rarely pass COLORTERM on, and Textual writes shorter colour codes without it.
    env.pop("COLORTERM", None)
    env.pop("NO_COLOR", None)

    def controlling_terminal() -> None:
        # After setsid (start_new_session): make the pty the app's terminal, as sshd's would be.
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "demo", "--state-dir", str(state_dir), "--speed", f"{speed:g}", *extra],
        stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
        start_new_session=True, preexec_fn=controlling_terminal,
    )
    os.close(slave)
    return proc, master


def run_mode(extra: list[str], seconds: float, warmup: float, speed: float) -> dict[str, object]:
    """Run the demo once and count the bytes it writes after start-up.

    Returns:
        ``bytes`` and ``seconds`` counted, ``per_10s`` (bytes in each ten-second slice, to show the
        spread), ``startup_bytes`` (discarded), whether the incident was on screen when counting
        started and how the app ended.
    """
    state_dir = Path(tempfile.mkdtemp(prefix="incident-tui-perf-terminal-"))
    proc, master = spawn_demo(state_dir, speed, extra)
    drain = TerminalDrain(master)
    drain.start()
    try:
        ready_by = time.monotonic() + 120
        while drain.latest(READY_MARK) is None and proc.poll() is None and time.monotonic() < ready_by:
            time.sleep(0.1)
        if drain.latest(READY_MARK) is None:
            raise RuntimeError(f"the dashboard did not come up ({' '.join(extra) or 'normal'}): "
                               f"exit {proc.poll()}, output ends {drain.tail[-300:]!r}")
        # A fixed delay from the first paint, not "once the incident shows": both modes then count
        # the same stretch of the demo's story (the worker's back-off grows as it goes on).
        seen_incident = False
        warm_until = time.monotonic() + warmup
        while time.monotonic() < warm_until:
            seen_incident = seen_incident or drain.latest(INCIDENT_MARK) is not None
            time.sleep(0.1)
        start_bytes, start = drain.bytes_read, time.monotonic()
        slices: list[int] = []
        last = start_bytes
        while time.monotonic() - start < seconds and proc.poll() is None:
            time.sleep(min(10.0, seconds - (time.monotonic() - start)))
            now_bytes = drain.bytes_read
            slices.append(now_bytes - last)
            last = now_bytes
        counted, elapsed = drain.bytes_read - start_bytes, time.monotonic() - start
        ended = "exited early" if proc.poll() is not None else quit_app(proc, master)
    finally:
        stop_pty_app(proc, master, drain, state_dir)
    return {"bytes": counted, "seconds": elapsed, "per_10s": slices, "startup_bytes": start_bytes, "ended": ended,
            "incident": "on screen" if seen_incident else "NOT yet on screen"}


def measures(normal: dict[str, object], low: dict[str, object], seconds: float, warmup: float,
             speed: float) -> list[dict[str, object]]:
    """The rows: bytes per minute in each mode and the low-bandwidth share of normal."""
    def per_minute(run: dict[str, object]) -> float:
        return float(run["bytes"]) * 60 / float(run["seconds"])  # type: ignore[arg-type]

    setup = (f"python -m tui demo --speed {speed:g} on a pty {COLUMNS}x{ROWS}, TERM=xterm-256color, no "
             f"COLORTERM; counted for {seconds:g} s starting {warmup:g} s after the memory pane was first "
             f"on screen (start-up discarded); no keys pressed until q")
    normal_rate, low_rate = per_minute(normal), per_minute(low)
    return [
        measure("terminal output, normal mode", normal_rate, "bytes/min", None,
                f"{setup}. Memory read every 1 s, incident every 2 s, braille graph. Bytes per 10 s: "
                f"{normal['per_10s']}; start-up wrote {normal['startup_bytes']} bytes; incident {normal['incident']} "
                f"when counting began; {normal['ended']}. "
                "The issue sets no target for normal mode."),
        measure("terminal output, --low-bandwidth", low_rate, "bytes/min", None,
                f"{setup}. Memory read every 5 s, incident every 15 s, panes redrawn only on change, ASCII "
                f"graph, no animations. Bytes per 10 s: {low['per_10s']}; start-up wrote "
                f"{low['startup_bytes']} bytes; incident {low['incident']} when counting began; {low['ended']}. "
                "A slice of 0 bytes is a stretch where no data changed (the worker waiting in back-off), "
                "so nothing was redrawn: the rate depends on how "
                "much of the window the worker ran, and varies between runs more than normal mode's. "
                "The issue asks for the measurement, no number."),
        measure("terminal output, --low-bandwidth as a share of normal", 100 * low_rate / normal_rate if normal_rate else None,
                "%", None, "low-bandwidth bytes per minute divided by normal mode's, same demo story and "
                "window; no target is set by the issue."),
    ]


def main(argv: list[str] | None = None) -> int:
    """Measure both modes, write the results file and print the rows.

    Returns:
        0 (the issue sets no pass/fail target).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds counted per mode (default 60)")
    parser.add_argument("--warmup", type=float, default=20.0,
                        help="seconds after the dashboard first appears before counting starts (default 20: "
                        "past low-bandwidth mode's second incident poll, at 15 s, which finds the incident)")
    parser.add_argument("--speed", type=float, default=10.0, help="demo --speed (default 10)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON,
                        help=f"results file (default {DEFAULT_JSON.relative_to(ROOT)})")
    args = parser.parse_args(argv)

    info = machine_info()
    date = datetime.now(timezone.utc).isoformat(timespec="seconds")
    normal = run_mode([], args.seconds, args.warmup, args.speed)
    low = run_mode(["--low-bandwidth"], args.seconds, args.warmup, args.speed)
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    rows = measures(normal, low, args.seconds, args.warmup, args.speed)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"machine": info, "date": date, "measures": rows}, indent=1) + "\n",
                         encoding="utf-8")
    for row in rows:
        print(f"{row['name']}: {row['value']} {row['unit']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
