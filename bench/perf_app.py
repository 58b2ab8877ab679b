"""Performance of the app itself: start-up, idle CPU, memory-graph redraw and peak RSS.

Usage (from the repository root)::

    .venv/bin/python bench/perf_app.py --json bench/results/perf_app.json
    .venv/bin/python bench/perf_app.py --quick --json /tmp/perf_app.json   # fewer runs, 20 s idle

Start-up is measured from the outside in, so the app needs no hook: ``python -m tui demo`` (and
``live`` against loopback servers: our PagerDuty and GitHub fakes behind Prism, kmock) is started
on a pseudo-terminal of 120x36, the start time is taken just before fork/exec, and the first data
frame is the first moment the terminal output (escape sequences removed) holds both an incident
number (``#3001 ``) and a memory value (``48.0 MiB / 64.0 MiB``): before data the header says "No
incident yet" and the memory pane "n/a". Idle CPU is the app process's user+system time
(``/proc/<pid>/stat``, every thread) over a window after a warm-up. The redraw and peak-RSS
measures run in-process (the redraw) and in a fresh subprocess (RSS, ``VmHWM``).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
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
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.perf_graph import graph_redraw, twelve_hours  # noqa: E402 - after the path is set
from bench.perf_rows import measure  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.soak import ANSI, TerminalDrain, machine_info, read_sample

COLUMNS, ROWS = 120, 36
"""Terminal size: every pane on screen, so the header and the memory value are both drawn."""
INCIDENT_RE = re.compile(r"#\d+ [^|\n]*\| (?:high|low) urgency")
"""The header's incident line (``#3001 !! TRIGGERED | high urgency``), not a PR number elsewhere."""
MEMORY_RE = re.compile(r"\d+\.\d MiB / ")
"""A current memory value (``n/a / 64.0 MiB`` before the first sample)."""
REDRAW_FIX = (
    "; MISSED: the demo's worker leaks 10 MiB/s and crash-loops, so every second brings a new sample to draw; "
    "the pane already draws at most once a second (the plot once a braille column fills, which in a session's "
    "first minutes is under a second), repaints the summary without a layout pass, and the workload is read "
    "once a second, and the plot becomes text straight from plotext's cell matrix. What is left is mostly "
    "plotext's own build (~6 ms a drawing) and Textual's compositor. Would fix: a canvas of our own for the "
    "plot, or the plot drawn at most every 2 s while the summary keeps its 1 s")
"""Why idle CPU is over target and what fixes it (appended when it is)."""
LIVE_START_FIX = (
    "; MISSED: the Kubernetes client is off the app's interpreter (reader process) and its answers are read as "
    "JSON; what is left on the app's own path is the interpreter and CLI, httpx and the PagerDuty read through "
    "Prism (~0.25 s), Textual and the dashboard's import (~0.35 s) and the first frames (~0.2 s), on two cores "
    "shared with the reader and the loopback servers. Would fix: less of Textual imported before the first frame")
"""Why live start-up is over target and what fixes it (appended when it is)."""
HEAVY = ("kubernetes", "github", "pycparser", "textual", "httpx", "plotext")
"""Packages whose import cost the report lists."""


# -- the app on a pseudo-terminal ------------------------------------------------------------

def spawn(argv: list[str], env: dict[str, str], python: tuple[str, ...] = ("-m", "tui"),
          ) -> tuple[subprocess.Popen[bytes], int, float]:
    """Start ``python -m tui ARGV`` on a new pty; returns the process, the pty master and the start time."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    full_env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(COLUMNS), LINES=str(ROWS), **env)
    full_env.pop("NO_COLOR", None)

    def controlling_terminal() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # after setsid: the pty is the app's terminal

    started = time.monotonic()  # just before fork/exec: interpreter start-up is part of the figure
    proc = subprocess.Popen([sys.executable, *python, *argv], stdin=slave, stdout=slave, stderr=slave,
                            env=full_env, cwd=ROOT, start_new_session=True,
                            preexec_fn=controlling_terminal)  # noqa: PLW1509  # one ioctl, as bench/soak.py does
    os.close(slave)
    return proc, master, started


def first_data(proc: subprocess.Popen[bytes], master: int, timeout: float = 60.0) -> tuple[float | None, str]:
    """Read the pty until both an incident number and a memory value were drawn; the monotonic time."""
    tail, seen = "", {"incident": False, "memory": False}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        ready, _, _ = select.select([master], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        # Keep a little of the previous text: a value may be split between two reads.
        tail = (tail + ANSI.sub("", chunk.decode("utf-8", "replace")))[-8192:]
        seen["incident"] |= bool(INCIDENT_RE.search(tail))
        seen["memory"] |= bool(MEMORY_RE.search(tail))
        if all(seen.values()):
            return time.monotonic(), tail
    return None, tail


def quit_app(proc: subprocess.Popen[bytes], master: int) -> None:
    """Press q; kill the process group if it has not gone within 20 s."""
    drain = TerminalDrain(master)
    drain.start()
    try:
        os.write(master, b"q")
        proc.wait(timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        drain.stop()
        os.close(master)


def startup_runs(argv: list[str], env: dict[str, str], runs: int) -> tuple[list[float], list[float]]:
    """Seconds from fork/exec to the first data frame, and the app's CPU seconds (all threads) by
    then, one of each per run (a failed run is left out). CPU close to the wall time says the
    start is bound by the interpreter's work, not by waiting on an upstream."""
    times, cpu = [], []
    for _ in range(runs):
        proc, master, started = spawn(argv, env)
        at, tail = first_data(proc, master)
        used = read_sample(proc.pid)
        quit_app(proc, master)
        if at is None:
            print(f"  no data frame; last text: {tail[-300:]!r}", file=sys.stderr)
            continue
        times.append(at - started)
        cpu.append(used["cpu_seconds"] if used else float("nan"))
        print(f"  {' '.join(argv[:1])}: first data after {times[-1]:.2f} s, CPU {cpu[-1]:.2f} s", file=sys.stderr)
    return times, cpu


def idle_cpu(argv: list[str], env: dict[str, str], warmup: float, seconds: float,
             python: tuple[str, ...] = ("-m", "tui")) -> float | None:
    """The app's CPU time over ``seconds`` after first data plus ``warmup``, as % of one core."""
    proc, master, _ = spawn(argv, env, python)
    at, _ = first_data(proc, master)
    drain = TerminalDrain(master)  # keep reading, or the app blocks writing frames
    drain.start()
    try:
        if at is None:
            return None
        time.sleep(warmup)
        before, t0 = read_sample(proc.pid), time.monotonic()
        time.sleep(seconds)
        after, t1 = read_sample(proc.pid), time.monotonic()
        if before is None or after is None:
            return None
        return 100 * (after["cpu_seconds"] - before["cpu_seconds"]) / (t1 - t0)
    finally:
        drain.stop()
        quit_app(proc, master)


# -- loopback live servers -------------------------------------------------------------------

@contextmanager
def live_servers(work: Path) -> Iterator[tuple[list[str], dict[str, str]]]:
    """PagerDuty and GitHub fakes behind Prism and kmock; yields the ``live`` arguments and environment."""
    import httpx

    from tests import fixtures_github as gh
    from tests import fixtures_kubernetes as kube
    from tests import fixtures_live as pd
    from tests.fixtures_prometheus import LEAK_CONTAINER, NAMESPACE
    from tests.prism import (
        GITHUB_SPEC,
        PAGERDUTY_ERRATA,
        PAGERDUTY_SPEC,
        patched_spec,
        spec_path,
        start_fake,
        stop,
    )

    with ExitStack() as stack:
        spec, _ = patched_spec(spec_path(PAGERDUTY_SPEC), work / "pd.json", PAGERDUTY_ERRATA)
        (work / "pd").mkdir()
        pd_url, _ = stack.enter_context(pd.fake_behind_prism(pd.FAKE_SCRIPT, pd.build_pagerduty_seed(), spec,
                                                              work / "pd"))
        (work / "gh").mkdir()
        gh_url, gh_fake = stack.enter_context(gh.fake_behind_prism(gh.FAKE_SCRIPT, gh.build_github_seed(),
                                                                    spec_path(GITHUB_SPEC), work / "gh"))
        httpx.post(f"{gh_fake}/__control", json={"public_url": gh_url}, timeout=10).raise_for_status()
        seed = kube.copy_worker_into(kube.build_kubernetes_seed(), NAMESPACE, metrics_at=datetime.now(UTC))
        (work / "kube-seed.json").write_text(json.dumps(seed), encoding="utf-8")
        process, port = start_fake(kube.SERVER_SCRIPT, work / "kube-seed.json")
        stack.callback(stop, process)
        kubeconfig = kube.write_kubeconfig(work / "kubeconfig", f"http://127.0.0.1:{port}")
        config = work / "config.toml"
        config.write_text(
            f'[pagerduty]\napi_url = "{pd_url}"\n\n[github]\napi_url = "{gh_url}"\n\n[kubernetes]\ncontext = "kmock"\n\n'
            f'[[service]]\npagerduty_service = "{pd.ADS_NAME}"\nnamespace = "{NAMESPACE}"\nselector = "app=worker-app"\n'
            f'container = "{LEAK_CONTAINER}"\nrepository = "{gh.REPOSITORY}"\nbranch = "main"\n', encoding="utf-8")
        config.chmod(0o600)
        env = {"KUBECONFIG": str(kubeconfig), "PAGERDUTY_API_TOKEN": pd.USER_TOKEN, "GITHUB_TOKEN": gh.TOKEN}
        yield ["live", "--incident", pd.OPEN_INCIDENT, "--config", str(config), "--read-only",
               "--state-dir", str(work / "state")], env


# -- import time -----------------------------------------------------------------------------

def speed_reference() -> float:
    """Best of 7 timings, in ms, of the same pure-Python loop: how fast the machine is right now."""
    best = float("inf")
    for _ in range(7):
        started = time.perf_counter()
        sum(i * i for i in range(200_000))
        best = min(best, time.perf_counter() - started)
    return best * 1000


def import_ms(module: str) -> float:
    """Cumulative import time of ``module`` in a fresh interpreter (``-X importtime``), in ms."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], cwd=ROOT,
                            capture_output=True, text=True, check=True)
    for line in reversed(result.stderr.splitlines()):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1]) / 1000
    return float("nan")


WRAPPER = """
import os, runpy, signal, sys
if "PERF_MODULES_FILE" in os.environ:
    def dump(signum, frame):
        with open(os.environ["PERF_MODULES_FILE"], "w") as out:
            out.write(" ".join(sorted(sys.modules)))
    signal.signal(signal.SIGUSR1, dump)
if "PERF_WORKLOAD_INTERVAL" in os.environ:
    import tui.app
    init = tui.app.IncidentApp.__init__
    def patched(self, *args, **kwargs):
        init(self, *args, **{**kwargs, "workload_interval": float(os.environ["PERF_WORKLOAD_INTERVAL"])})
    tui.app.IncidentApp.__init__ = patched
sys.argv = ["tui", *sys.argv[1:]]
runpy.run_module("tui", run_name="__main__", alter_sys=True)
"""
"""Runs the CLI as ``python -m tui`` does; on SIGUSR1 writes ``sys.modules`` to $PERF_MODULES_FILE,
and $PERF_WORKLOAD_INTERVAL overrides the dashboard's workload interval (a what-if)."""


def heavy_row(command: str, argv: list[str], env: dict[str, str], work: Path) -> dict[str, object]:
    """The row saying which heavy packages were loaded by the first data frame without being needed."""
    loaded = heavy_at_first_data(argv, env, work) or []
    needless = [n for n in ("github", "pycparser") + (("kubernetes",) if command == "demo" else ()) if n in loaded]
    why = ("; pycparser comes with the investigation, which starts once the incident and its first OOM kill "
           "are known (after the first refresh with them)" if "pycparser" in needless else "")
    why += ("; github is imported by the investigation worker" if "github" in needless else "")
    return measure(f"heavy packages imported by the first data frame, {command}", len(needless), "packages", 0,
                   f"loaded: {', '.join(loaded)}; not needed for the first frame: {', '.join(needless) or 'none'}"
                   + why)


def heavy_at_first_data(argv: list[str], env: dict[str, str], work: Path) -> list[str] | None:
    """Which :data:`HEAVY` packages the app had imported when its first data frame was drawn."""
    listing = work / f"modules-{argv[0]}.txt"
    listing.unlink(missing_ok=True)
    proc, master, _ = spawn(argv, {**env, "PERF_MODULES_FILE": str(listing)}, ("-c", WRAPPER))
    at, _ = first_data(proc, master)
    if at is not None:
        os.kill(proc.pid, signal.SIGUSR1)
        for _ in range(50):  # the handler runs between the main thread's bytecodes
            if listing.exists() and listing.stat().st_size:
                break
            time.sleep(0.05)
    quit_app(proc, master)
    if at is None or not listing.exists():
        return None
    modules = set(listing.read_text().split())
    return [name for name in HEAVY if name in modules]


# -- main ------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """Run every measure and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "perf_app.json")
    parser.add_argument("--quick", action="store_true", help="3 start-ups, 20 s idle windows")
    parser.add_argument("--skip-live", action="store_true", help="no loopback servers (no Prism here)")
    args = parser.parse_args(argv)
    runs, idle = (3, 20.0) if args.quick else (5, 60.0)
    rows: list[dict[str, object]] = []
    info = machine_info()
    speed_at_start = speed_reference()
    work = Path(tempfile.mkdtemp(prefix="incident-tui-perf-"))
    demo = ["demo", "--state-dir", str(work / "demo")]
    print("preparing the demo state (first incident)...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "tui", *demo, "--headless", "--speed", "10", "--timeout", "120"],
                   cwd=ROOT, capture_output=True, check=True)
    times, cpu_used = startup_runs(demo, {}, runs)
    rows.append(measure("start-up to first data frame, demo", statistics.median(times), "s", 1.0,
                        f"median of {len(times)} runs ({', '.join(f'{t:.2f}' for t in times)}), warm state dir "
                        f"(the incident exists), pty {COLUMNS}x{ROWS}; includes compiling worker.c and its first "
                        f"sample; CPU used by then (median): {statistics.median(cpu_used):.2f} s"))
    rows.append(heavy_row("demo", demo, {}, work))
    cpu = idle_cpu(demo, {}, 10.0, idle)
    rows.append(measure("idle CPU, demo dashboard", cpu or float("nan"), "% of one core", 3.0,
                        f"{idle:.0f} s after a 10 s warm-up, default intervals (workload 1 s, incident 2 s); the "
                        "worker crash-loops and samples its memory twice a second, so this is the busy case; "
                        "6.5% before this session (every sample redrew the plot, and each summary change laid "
                        "out the whole screen)" + (REDRAW_FIX if (cpu or 99) >= 3 else "")))
    if not args.skip_live:
        with live_servers(work) as (live, env):
            times, cpu_used = startup_runs(live, env, runs)
            rows.append(measure("start-up to first data frame, live (loopback)", statistics.median(times), "s", 1.0,
                                f"median of {len(times)} runs ({', '.join(f'{t:.2f}' for t in times)}); PagerDuty "
                                "and GitHub behind Prism, kmock; CPU used by then (median): "
                                f"{statistics.median(cpu_used):.2f} s (the app and its Kubernetes reader process). On "
                                "the path: interpreter and CLI; the reader process started first (it imports the "
                                "Kubernetes client on the other core); Textual and the dashboard imported in a thread "
                                "while the config is read and PagerDuty asked for the incident (the header shows it "
                                "at mount); the reader's first workload read (pods, metrics, read as JSON, not the "
                                "client's pydantic models) posts the memory value before events and ReplicaSets "
                                "are listed. --debug-log notes each step's time. Was 2.36 s two sessions ago (the "
                                "generated CoreV1Api and AppsV1Api, 1.05 s) and 1.53 s at this session's start (the "
                                "client's import and models on the app's one interpreter lock)"
                                + (LIVE_START_FIX if statistics.median(times) >= 1 else "")))
            rows.append(heavy_row("live", live, env, work))
            cpu = idle_cpu(live, env, 10.0, idle)
            what_if = idle_cpu(live, {**env, "PERF_WORKLOAD_INTERVAL": "2"}, 10.0, idle, ("-c", WRAPPER))
            rows.append(measure("idle CPU, live dashboard, one incident", cpu or float("nan"), "% of one core", 3.0,
                                f"{idle:.0f} s after a 10 s warm-up at live mode's default intervals (workload "
                                f"2 s, incident 2 s); nothing pressed (a second run pinned at 2 s: {what_if:.1f}%). "
                                "The memory pane is redrawn when a sample arrives (metrics-server: every 5 s at "
                                "most) or its right edge moves by a column" + (REDRAW_FIX if (cpu or 99) >= 3 else "")))
    for module in ("tui.app", "kubernetes.client", "github", "pycparser.c_parser", "tui.investigation"):
        rows.append(measure(f"import time, {module}", import_ms(module), "ms", None,
                            "python -X importtime, cumulative, fresh interpreter"))
    rows.extend(graph_redraw(((80, 24), (160, 48)), 15 if args.quick else 31))
    rss, cpu, kept = twelve_hours()
    rows.append(measure("peak RSS, dashboard with a 12-hour history", rss, "MB", 150.0,
                        f"VmHWM of a fresh headless Pilot run at 160x48 (tests/static_sources plus a history "
                        f"source answering 43,200 samples at 1 s; {kept} samples kept), 12 h span shown for 23 s"))
    rows.append(measure("idle CPU, 12-hour history on the 12-hour span", cpu, "% of one core", 3.0,
                        "same run, 20 s with nothing pressed: the graph is redrawn only when its right edge "
                        "moves by a column (135 s at 160 columns on the 12-hour span), from each column's peak "
                        "(headless: no terminal output)" + ("; MISSED" if cpu >= 3 else "")))
    rows.append(measure("machine speed reference (a fixed pure-Python loop)", speed_reference(), "ms", None,
                        f"best of 7 at the end of this run; {speed_at_start:.1f} ms at its start. This VM's speed "
                        "varies by up to 1.8x within an hour (tui.app's import took 0.29-0.53 s on the same day): "
                        "read the CPU-bound rows above against it"))
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result = {"machine": info, "date": datetime.now(UTC).isoformat(timespec="seconds"), "measures": rows}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    for row in rows:
        print(f"{row['name']}: {row['value']} {row['unit']} (target {row['target']}, met {row['met']})")
    shutil.rmtree(work, ignore_errors=True)  # the demo's state: repository, store, reports
    return 0


if __name__ == "__main__":
    sys.exit(main())
