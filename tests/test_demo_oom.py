"""The real path: the leaking worker is built from the repo and killed by a real memory limit."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from analysis.model import TimelineKind
from tui.sources.demo import worker as worker_module
from tui.sources.demo.limits import CgroupV1Limiter, MemoryLimiter, WatchdogLimiter, choose_limiter
from tui.sources.demo.repo_builder import DemoRepository, build_demo_repository, run_git
from tui.sources.demo.supervisor import WorkerSupervisor
from tui.sources.demo.worker import build_worker, controller_frees_buffer

MIB = 1024 * 1024
LIMIT = 64 * MIB


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> DemoRepository:
    return build_demo_repository(tmp_path_factory.mktemp("repo") / "ads", datetime.now(timezone.utc))


@pytest.fixture
def supervise(repo: DemoRepository, tmp_path: Path) -> Iterator[Callable[..., WorkerSupervisor]]:
    """Make supervisors; every one is stopped and its cgroup checked gone, even on failure."""
    made: list[tuple[WorkerSupervisor, Path | None]] = []

    def make(limiter: MemoryLimiter | None = None, speed: float = 2.0) -> WorkerSupervisor:
        supervisor = WorkerSupervisor(repo.path, tmp_path / f"run{len(made)}", speed=speed, limiter=limiter)
        made.append((supervisor, getattr(supervisor.limiter, "path", None)))
        return supervisor

    try:
        yield make
    finally:
        for supervisor, cgroup in made:
            supervisor.stop()
            assert cgroup is None or not cgroup.exists(), f"cgroup {cgroup} left behind"


def limit_file(limiter: MemoryLimiter) -> Path | None:
    """The kernel file holding the cgroup's limit, if the limiter uses a cgroup."""
    path = getattr(limiter, "path", None)
    if path is None:
        return None
    return path / ("memory.max" if limiter.mechanism == "cgroup-v2" else "memory.limit_in_bytes")


def test_leaking_worker_is_oom_killed_under_the_best_limiter(repo: DemoRepository, supervise) -> None:
    # GIVEN the culprit (main's tip) deployed under the best memory limiter this machine offers
    if not Path("/proc/self/status").exists():
        pytest.skip("no cgroup and no /proc: no way to limit or measure the worker's memory")
    supervisor = supervise()
    mechanism = supervisor.limiter.mechanism
    kernel_limit = limit_file(supervisor.limiter)
    supervisor.start()
    supervisor.deploy(repo.deployed_sha)

    # WHEN we wait for the first kill
    killed = supervisor.wait_until(lambda: len(supervisor.oom_kills()) >= 1, timeout=30)

    # THEN the worker was OOM-killed with exit code 137 after its memory rose to near the limit
    assert killed, f"no OOM kill within 30 s under {mechanism}"
    kill = supervisor.oom_kills()[0]
    assert kill.exit_code == 137
    assert kill.at > kill.started_at
    samples = [s for s in supervisor.memory_since(None) if s.at <= kill.at]
    assert len(samples) >= 4
    assert max(s.bytes for s in samples) >= 0.75 * LIMIT
    assert samples[0].bytes < samples[-1].bytes  # it grew
    assert kill.peak_bytes == max(s.bytes for s in samples)
    # AND the mechanism is a real one, reported consistently, and a cgroup holds the 64 MiB limit
    assert mechanism in {"cgroup-v2", "cgroup-v1", "watchdog"}
    assert supervisor.describe().limit_mechanism == mechanism
    assert {s.source for s in samples} == {"proc" if mechanism == "watchdog" else mechanism}
    if kernel_limit is not None:
        assert int(kernel_limit.read_text()) == LIMIT
    assert supervisor.container_state().last_termination.reason == "OOMKilled"
    assert [e.kind for e in supervisor.events()][:2] == [TimelineKind.DEPLOYMENT, TimelineKind.OOM_KILL]


def test_cgroup_v1_limit_gets_a_kernel_oom_kill(repo: DemoRepository, supervise) -> None:
    # GIVEN a cgroup-v1 limiter, where this machine has a writable v1 memory hierarchy
    limiter = CgroupV1Limiter(LIMIT)
    try:
        limiter.prepare()
    except OSError as error:
        pytest.skip(f"cgroup v1 memory controller not usable here: {error}")
    supervisor = supervise(limiter=limiter)
    supervisor.start()
    supervisor.deploy(repo.deployed_sha)

    # WHEN the leaking worker runs until it is killed
    assert supervisor.wait_until(lambda: len(supervisor.oom_kills()) >= 1, timeout=30)

    # THEN the kernel itself counted the OOM kill in the cgroup's memory.oom_control
    counters = dict(line.split() for line in (limiter.path / "memory.oom_control").read_text().splitlines())
    assert int(counters["oom_kill"]) >= 1
    assert supervisor.oom_kills()[0].exit_code == 137


def test_watchdog_kills_the_leaking_worker_at_the_limit(repo: DemoRepository, supervise) -> None:
    # GIVEN the culprit deployed under the watchdog, which works without any cgroup
    supervisor = supervise(limiter=WatchdogLimiter(LIMIT))
    supervisor.start()
    supervisor.deploy(repo.deployed_sha)

    # WHEN we wait for the first kill
    assert supervisor.wait_until(lambda: len(supervisor.oom_kills()) >= 1, timeout=30)

    # THEN it is reported as an OOM kill with exit 137, RSS samples rose to near the limit
    kill = supervisor.oom_kills()[0]
    samples = [s for s in supervisor.memory_since(None) if s.at <= kill.at]
    assert kill.exit_code == 137
    assert 0.75 * LIMIT <= max(s.bytes for s in samples) <= LIMIT + 10 * MIB
    assert {s.source for s in samples} == {"proc"}
    assert supervisor.describe().limit_mechanism == "watchdog"
    assert any("watchdog" in note for note in supervisor.describe().notes)


def test_fixed_worker_stays_below_the_limit(repo: DemoRepository, supervise) -> None:
    # GIVEN the commit before the culprit (controller frees its buffer) deployed at speed 4
    fixed = run_git(repo.path, ["rev-parse", f"{repo.deployed_sha}~1"])
    supervisor = supervise(speed=4.0)
    supervisor.start()
    deployment = supervisor.deploy(fixed)

    # WHEN 40 samples (~10 work items, enough to leak 100 MiB) have been taken
    assert supervisor.wait_until(lambda: len(supervisor.memory_since(deployment.at)) >= 40, timeout=20)

    # THEN memory stayed far below the limit and nothing was killed
    samples = supervisor.memory_since(deployment.at)
    assert max(s.bytes for s in samples) < LIMIT / 2
    assert supervisor.oom_kills() == []
    state = supervisor.container_state()
    assert (state.state, state.restart_count) == ("running", 0)
    assert supervisor.deployments()[-1].sha == fixed


def test_crash_loop_backs_off_and_restarts(repo: DemoRepository, supervise) -> None:
    # GIVEN the culprit at speed 10 (back-offs of 1 s, 2 s ...)
    supervisor = supervise(speed=10.0)
    supervisor.start()
    supervisor.deploy(repo.deployed_sha)

    # WHEN it has been killed twice
    assert supervisor.wait_until(lambda: len(supervisor.oom_kills()) >= 2, timeout=30)

    # THEN it was restarted in between, after a back-off, and now waits in CrashLoopBackOff
    kinds = [e.kind for e in supervisor.events()]
    assert kinds[:5] == [TimelineKind.DEPLOYMENT, TimelineKind.OOM_KILL, TimelineKind.BACKOFF,
                         TimelineKind.RESTART, TimelineKind.OOM_KILL]
    first, second = supervisor.oom_kills()[:2]
    assert (second.started_at - first.at).total_seconds() >= 1.0  # the 10 s back-off / speed 10
    assert (first.restart_count, second.restart_count) == (1, 2)
    assert supervisor.wait_until(
        lambda: supervisor.container_state().reason == "CrashLoopBackOff" or len(supervisor.oom_kills()) > 2,
        timeout=5)


def test_python_stand_in_follows_the_source_when_there_is_no_compiler(
    repo: DemoRepository, supervise, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a machine without a C compiler
    monkeypatch.setattr(worker_module, "find_compiler", lambda: None)

    # WHEN the culprit and its parent are built
    culprit = build_worker(repo.path, repo.deployed_sha, tmp_path / "builds")
    parent = build_worker(repo.path, f"{repo.deployed_sha}~1", tmp_path / "builds")

    # THEN both are Python stand-ins flagged in the notes; only the culprit's keeps its buffers
    assert not culprit.compiled and "no C compiler found" in culprit.notes[0]
    assert "FREE_BUFFER = False" in Path(culprit.argv[-1]).read_text()
    assert "FREE_BUFFER = True" in Path(parent.argv[-1]).read_text()

    # AND the leaking stand-in really is killed at the limit under the watchdog
    supervisor = supervise(limiter=WatchdogLimiter(LIMIT), speed=4.0)
    supervisor.start()
    supervisor.deploy(repo.deployed_sha)
    assert supervisor.wait_until(lambda: len(supervisor.oom_kills()) >= 1, timeout=30)
    assert any("Python stand-in" in note for note in supervisor.describe().notes)


def test_controller_check_reads_the_controller_body_only() -> None:
    # GIVEN sources where free(buffer) is inside, outside, or absent from controller()
    inside = "void controller() { while (1) { char *buffer = malloc(1); free(buffer); } }"
    elsewhere = "void other() { free(buffer); }\nvoid controller() { while (1) { malloc(1); } }"
    # THEN only the first counts as freeing
    assert controller_frees_buffer(inside)
    assert not controller_frees_buffer(elsewhere)
    assert not controller_frees_buffer("int main() { return 0; }")


def test_choose_limiter_prefers_a_cgroup_when_one_is_writable() -> None:
    # GIVEN whatever this machine offers
    limiter = choose_limiter(LIMIT)
    try:
        # THEN a cgroup limiter has created its own uniquely named cgroup with the limit set,
        # and the watchdog is only chosen when no cgroup could be created
        if limiter.mechanism == "watchdog":
            assert getattr(limiter, "path", None) is None
        else:
            assert limiter.path.name.startswith(f"incident-tui-demo-{os.getpid()}-")
            assert int(limit_file(limiter).read_text()) == LIMIT
    finally:
        path = getattr(limiter, "path", None)
        limiter.cleanup()
    # AND cleanup removes it
    assert path is None or not path.exists()
