"""Soak benchmark: the real ``incident-tui demo`` dashboard left running with the worker crash-looping.

Usage (from the repository root)::

    .venv/bin/python bench/soak.py --markdown docs/SOAK.md          # 30 minutes, the default
    .venv/bin/python bench/soak.py --minutes 2 --json /tmp/soak.json
    .venv/bin/python bench/soak.py --from-json bench/results/soak.json --markdown docs/SOAK.md

The app runs exactly as a user starts it (``python -m tui demo``) under a pseudo-terminal of
120x36, so Textual's real Linux driver renders the four-pane layout and writes every frame; this
process drains the terminal and answers nothing else, and counts the worker runs the app starts
(its children) to show the crash loop really ran. Every ``--interval`` seconds it reads the
app process's own ``VmRSS`` (``/proc/<pid>/status``) and user+system CPU time (``/proc/<pid>/stat``,
all the app's threads, not the worker: a child's time only shows up in ``cutime`` once reaped,
and the worker has its own pid). At the end it presses ``q``.

Pass criteria: memory is bounded (the peak stays under ``--max-rss-mb``) and the last ten minutes
grow by less than ``--max-growth-mb`` (5 MB). Growth compares the median of the last three
samples with the median of the three around the start of that window, so one noisy sample (a
garbage collection, a render burst) neither fails nor passes the run by itself.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import platform
import pty
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository root."""
DEFAULT_JSON = ROOT / "bench" / "results" / "soak.json"
"""Where the results go unless ``--json`` says otherwise."""
COLUMNS, ROWS = 120, 36
"""Terminal size: the smallest that shows all four panes at once (more to render per frame)."""
CLK_TCK = os.sysconf("SC_CLK_TCK")
ANSI = re.compile(r"\x1b(?:\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
"""Escape sequences (CSI, OSC, two-byte) stripped before reading the screen's text."""
MB = 1_000_000


class TerminalDrain(threading.Thread):
    """Reads the app's terminal output so it never blocks, keeping the newest text for parsing."""

    def __init__(self, master: int) -> None:
        super().__init__(name="soak-drain", daemon=True)
        self.master = master
        self.bytes_read = 0
        self.tail = ""
        """The last ~16 kB of output with escape sequences removed."""
        self._stop = threading.Event()

    def run(self) -> None:
        """Read until the app closes its terminal or :meth:`stop` is called."""
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the app closed its terminal
                return
            if not chunk:
                return
            self.bytes_read += len(chunk)
            self.tail = (self.tail + ANSI.sub("", chunk.decode("utf-8", "replace")))[-16384:]

    def stop(self) -> None:
        """Stop reading (within half a second)."""
        self._stop.set()

    def latest(self, pattern: str) -> str | None:
        """The last match's first group of ``pattern`` in the recent output, if any."""
        matches = re.findall(pattern, self.tail)
        return matches[-1] if matches else None


class WorkerCounter(threading.Thread):
    """Counts the worker runs the app starts, by polling the app's children (a crash-loop witness).

    At the default speed a run lasts under a second and the back-off is at least one, so a 0.2 s
    poll sees every run; the numbers are a lower bound, never invented.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(name="soak-workers", daemon=True)
        self.pid = pid
        self.seen: set[int] = set()
        self._stop = threading.Event()

    def run(self) -> None:
        """Poll every 0.2 s until :meth:`stop`."""
        # The worker is forked by the app's supervisor thread, so it is listed under that task.
        tasks = Path(f"/proc/{self.pid}/task")
        while not self._stop.wait(0.2):
            try:
                for task in tasks.iterdir():
                    self.seen.update(int(c) for c in (task / "children").read_text().split())
            except OSError:
                continue  # a thread ended between listing and reading; the next poll catches up

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()


def read_sample(pid: int) -> dict[str, float] | None:
    """The app's RSS (bytes), CPU seconds (user+system, all threads) and thread count, or None.

    The app's own helper processes count too (live mode's Kubernetes reader): their RSS is added
    (shared pages counted twice: an upper bound) and so is their CPU. The demo's leaking worker is
    the watched service, not the app, and is left out.
    """
    own = _process_sample(pid)
    if own is None:
        return None
    for child in _helpers(pid):
        if (sample := _process_sample(child)) is not None:
            for key in own:
                own[key] += sample[key]
    return own


def _process_sample(pid: int) -> dict[str, float] | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    if "VmRSS" not in fields:
        return None  # a zombie
    # Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
    rest = stat.rsplit(")", 1)[1].split()
    return {
        "rss_bytes": int(fields["VmRSS"].split()[0]) * 1024,
        "cpu_seconds": (int(rest[11]) + int(rest[12])) / CLK_TCK,
        "threads": int(fields["Threads"].strip()),
    }


HELPER_MODULES = (b"tui.sources.kubernetes_worker",)
"""Command-line marks of the app's own child processes."""


def _helpers(pid: int) -> list[int]:
    """The children of ``pid`` that are the app's helpers (by :data:`HELPER_MODULES`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid and any(mark in (entry / "cmdline").read_bytes() for mark in HELPER_MODULES):
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue  # exited while we looked
    return found


def machine_info() -> dict[str, object]:
    """What the numbers were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        mem_kb = 0
    try:
        textual = subprocess.run([sys.executable, "-c", "import textual; print(textual.__version__)"],
                                 capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        textual = "unknown"
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_mb": round(mem_kb * 1024 / MB),
        "kernel": platform.release(), "python": platform.python_version(), "textual": textual,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def spawn_app(state_dir: Path, speed: float) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``python -m tui demo`` on a new pseudo-terminal of COLUMNS x ROWS."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(COLUMNS), LINES=str(ROWS))
    env.pop("NO_COLOR", None)

    def controlling_terminal() -> None:
        # After setsid (start_new_session): make the pty ours, as a login shell's would be.
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "demo", "--state-dir", str(state_dir), "--speed", f"{speed:g}"],
        stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
        start_new_session=True, preexec_fn=controlling_terminal,
    )
    os.close(slave)
    return proc, master


def run_soak(minutes: float, interval: float, speed: float) -> dict[str, object]:
    """Run the app for ``minutes``, sampling every ``interval`` seconds; return the raw results."""
    info = machine_info()
    started = datetime.now(timezone.utc)
    state_dir = Path(tempfile.mkdtemp(prefix="incident-tui-soak-"))
    proc, master = spawn_app(state_dir, speed)
    drain = TerminalDrain(master)
    drain.start()
    workers = WorkerCounter(proc.pid)
    workers.start()
    # Measure the running dashboard, not interpreter start-up: wait until the memory pane is drawn.
    ready_by = time.monotonic() + 120
    while drain.latest(r"(limit by)") is None and proc.poll() is None and time.monotonic() < ready_by:
        time.sleep(0.2)
    samples: list[dict[str, float]] = []
    t0 = time.monotonic()
    deadline = t0 + minutes * 60
    next_at = t0
    exit_note = "still running at the end"
    try:
        while True:
            now = time.monotonic()
            if now >= next_at:
                sample = read_sample(proc.pid)
                if sample is None or proc.poll() is not None:
                    exit_note = f"the app exited early with status {proc.poll()}"
                    break
                sample["t"] = round(now - t0, 1)
                sample["worker_runs"] = len(workers.seen)
                samples.append(sample)
                print(f"{sample['t']:7.0f}s  RSS {sample['rss_bytes'] / MB:7.1f} MB  "
                      f"CPU {sample['cpu_seconds']:7.1f}s  worker runs {sample['worker_runs']}",
                      file=sys.stderr, flush=True)
                next_at += interval
                if next_at > deadline + 0.5:
                    break
            if proc.poll() is not None:
                exit_note = f"the app exited early with status {proc.returncode}"
                break
            time.sleep(max(0.0, min(next_at, deadline + 1) - time.monotonic()))
        limiter = drain.latest(r"limit by ([\w-]+)")
        quit_status = quit_app(proc, master)
        if exit_note == "still running at the end":
            exit_note = f"quit with q: {quit_status}"
    finally:
        workers.stop()
        stop_pty_app(proc, master, drain, state_dir)
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return {
        "benchmark": "soak",
        "started_utc": started.isoformat(timespec="seconds"),
        "finished_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": f"python -m tui demo --speed {speed:g} (pty {COLUMNS}x{ROWS})",
        "minutes": minutes, "interval_seconds": interval, "speed": speed,
        "limit_mechanism_on_screen": limiter, "terminal_bytes": drain.bytes_read,
        "app_exit": exit_note, "machine": info, "samples": samples,
    }


def stop_pty_app(proc: subprocess.Popen[bytes], master: int, drain: TerminalDrain, state_dir: Path) -> None:
    """Stop reading the pty, kill the app's process group if it still runs, close the pty, remove the state."""
    drain.stop()
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    os.close(master)
    shutil.rmtree(state_dir, ignore_errors=True)


def quit_app(proc: subprocess.Popen[bytes], master: int) -> str:
    """Press ``q`` and wait for a clean exit (the app stops the worker and removes its cgroup)."""
    try:
        os.write(master, b"q")
        return f"exit status {proc.wait(timeout=30)}"
    except (OSError, subprocess.TimeoutExpired):
        return "did not exit within 30 s of q; killed"


def median_at(samples: list[dict[str, float]], index: int) -> float:
    """Median RSS of the (up to) three samples centred on ``index``."""
    window = samples[max(0, index - 1):index + 2]
    return statistics.median(s["rss_bytes"] for s in window)


def summarize(results: dict[str, object], max_rss_mb: float, max_growth_mb: float) -> dict[str, object]:
    """Figures and the verdict from the raw samples."""
    samples: list[dict[str, float]] = results["samples"]  # type: ignore[assignment]
    if len(samples) < 3:
        return {"pass": False, "reasons": ["fewer than three samples: " + str(results["app_exit"])]}
    duration = samples[-1]["t"] - samples[0]["t"]
    window = min(600.0, duration / 2)  # the last ten minutes, or the second half of a short run
    start_index = min(range(len(samples)), key=lambda i: abs(samples[i]["t"] - (samples[-1]["t"] - window)))
    growth = median_at(samples, len(samples) - 1) - median_at(samples, start_index)
    rss = [s["rss_bytes"] for s in samples]
    cpu = samples[-1]["cpu_seconds"] - samples[0]["cpu_seconds"]
    tail_cpu = samples[-1]["cpu_seconds"] - samples[start_index]["cpu_seconds"]
    runs = [int(s.get("worker_runs", 0)) for s in samples]
    reasons = []
    if max(rss) > max_rss_mb * MB:
        reasons.append(f"peak RSS {max(rss) / MB:.1f} MB is above the {max_rss_mb:g} MB bound")
    if growth >= max_growth_mb * MB:
        reasons.append(f"RSS grew {growth / MB:.2f} MB in the last {window / 60:.0f} min "
                       f"(limit {max_growth_mb:g} MB)")
    if str(results["app_exit"]).startswith("the app exited early"):
        reasons.append(str(results["app_exit"]))
    if results.get("minutes", 0) >= 5 and runs[-1] < 3:  # type: ignore[operator]
        reasons.append("the worker was not seen crash-looping (fewer than 3 runs)")
    return {
        "pass": not reasons, "reasons": reasons,
        "duration_minutes": round(duration / 60, 1), "samples": len(samples),
        "rss_first_mb": round(rss[0] / MB, 1), "rss_min_mb": round(min(rss) / MB, 1),
        "rss_max_mb": round(max(rss) / MB, 1), "rss_last_mb": round(rss[-1] / MB, 1),
        "growth_window_minutes": round(window / 60, 1), "growth_last_window_mb": round(growth / MB, 2),
        "cpu_seconds": round(cpu, 1), "cpu_percent_of_one_core": round(100 * cpu / duration, 1) if duration else 0.0,
        "cpu_percent_last_window": round(100 * tail_cpu / window, 1) if window else 0.0,
        "threads_max": max(int(s["threads"]) for s in samples),
        "worker_runs": runs[-1],
        "max_rss_mb_bound": max_rss_mb, "max_growth_mb_bound": max_growth_mb,
    }


def summary_text(results: dict[str, object], summary: dict[str, object]) -> str:
    """The plain-text summary printed at the end."""
    verdict = "PASS" if summary["pass"] else "FAIL: " + "; ".join(summary["reasons"])  # type: ignore[arg-type]
    if "samples" not in summary or not isinstance(summary.get("samples"), int):
        return f"soak: {verdict}"
    return (
        f"soak: {summary['duration_minutes']} min, {summary['samples']} samples, speed {results['speed']}\n"
        f"  RSS first {summary['rss_first_mb']} MB, min {summary['rss_min_mb']}, max {summary['rss_max_mb']}, "
        f"last {summary['rss_last_mb']}\n"
        f"  growth over the last {summary['growth_window_minutes']} min: {summary['growth_last_window_mb']} MB "
        f"(limit {summary['max_growth_mb_bound']} MB)\n"
        f"  CPU {summary['cpu_seconds']} s = {summary['cpu_percent_of_one_core']}% of one core "
        f"({summary['cpu_percent_last_window']}% in the last window), threads max {summary['threads_max']}\n"
        f"  worker runs seen (the crash loop): {summary['worker_runs']}, "
        f"limit by {results.get('limit_mechanism_on_screen')}, app: {results['app_exit']}\n"
        f"  {verdict}"
    )


def markdown(results: dict[str, object], summary: dict[str, object]) -> str:
    """docs/SOAK.md: what was run, on what, when, the verdict and the samples once a minute."""
    machine: dict[str, object] = results["machine"]  # type: ignore[assignment]
    samples: list[dict[str, float]] = results["samples"]  # type: ignore[assignment]
    lines = [
        "# Soak: the demo dashboard left running with the worker crash-looping",
        "",
        "Generated by `bench/soak.py` (`make soak`) from `bench/results/soak.json`; do not edit by hand.",
        "",
        f"- run: {results['started_utc']} to {results['finished_utc']} (UTC), "
        f"`{results['command']}`, sampled every {results['interval_seconds']:g} s",
        f"- machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_mb']} MB RAM, "
        f"Linux {machine['kernel']}, Python {machine['python']}, Textual {machine['textual']}; "
        f"load average {machine['load_average_at_start']} at start, {machine.get('load_average_at_end')} at end "
        "(the machine is shared; CPU time is the app's own, but contention slows its frames)",
        f"- memory limit enforced by: {results.get('limit_mechanism_on_screen')}; app: {results['app_exit']}",
        "- measured: the app process's own `VmRSS` and user+system CPU time (all its threads; not the worker)",
        f"- exercised: the four-pane dashboard redrawing on workload polls (1 s) and incident polls (2 s), "
        f"the worker OOM-killed and restarted with CrashLoopBackOff at demo speed {results['speed']:g} "
        f"(back-off capped at {300 / float(results['speed']):g} s), the first kill's incident investigated",
        "",
        "## Verdict",
        "",
        *(f"- {line.strip()}" for line in summary_text(results, summary).removeprefix("soak: ").splitlines()),
        "",
        f"Pass criteria: peak RSS under {summary.get('max_rss_mb_bound', '?')} MB, and growth over the last ten minutes (median of the last "
        "three samples minus the median of the three at the window's start) under 5 MB.",
        "",
        "## Samples (one a minute)",
        "",
        "| minute | RSS MB | CPU s | threads | worker runs so far |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    shown = -60.0
    for sample in samples:
        if sample["t"] - shown >= 60 or sample is samples[-1]:
            shown = sample["t"]
            lines.append(f"| {sample['t'] / 60:.1f} | {sample['rss_bytes'] / MB:.1f} | {sample['cpu_seconds']:.1f} "
                         f"| {int(sample['threads'])} | {int(sample.get('worker_runs', 0))} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the soak (or re-read a result), write the JSON and Markdown, print the summary.

    Returns:
        0 when the run passes, 1 when it fails.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to run (default 30)")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between samples (default 10)")
    parser.add_argument("--speed", type=float, default=10.0,
                        help="demo --speed: back-offs capped at 300/speed s, so the worker crash-loops "
                        "about every 30 s at the default 10")
    parser.add_argument("--max-rss-mb", type=float, default=300.0, help="bound on the peak RSS (default 300)")
    parser.add_argument("--max-growth-mb", type=float, default=5.0, help="allowed growth over the last 10 min")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"results file (default {DEFAULT_JSON.relative_to(ROOT)})")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the Markdown report here")
    parser.add_argument("--from-json", type=Path, default=None, help="do not run: summarise an earlier results file")
    args = parser.parse_args(argv)

    if args.from_json is not None:
        results = json.loads(args.from_json.read_text(encoding="utf-8"))
    else:
        results = run_soak(args.minutes, args.interval, args.speed)
    summary = summarize(results, args.max_rss_mb, args.max_growth_mb)
    results["summary"] = summary
    if args.from_json is None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown(results, summary), encoding="utf-8")
    print(summary_text(results, summary))
    return 0 if summary["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
