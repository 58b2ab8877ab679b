"""The demo survives its own faults: no worker build, no cgroup permission, a corrupt store.

Every fault is real: gcc really runs and fails on a broken file, the cgroup parent really cannot be
written, the store file really is garbage or truncated. Each test checks that the user is told what
happened and what is in force, and that nothing is lost.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from analysis.model import TimelineKind
from tests.conftest import culprit_sha, wait_until
from tui.commands.demo import demo_sources
from tui.sources.base import SourceError
from tui.sources.demo import DemoScenario, IncidentStore
from tui.sources.demo.limits import CgroupV1Limiter, choose_limiter
from tui.sources.demo.repo_builder import DemoRepository, build_demo_repository, run_git
from tui.sources.demo.supervisor import BUILD_FAILED, WorkerSupervisor

MIB = 1024 * 1024
LIMIT = 64 * MIB
CORRUPT_NAME = re.compile(r"^incidents\.sqlite3\.corrupt-(\d{8}T\d{6}Z)$")
"""``<name>.corrupt-<UTC stamp>``."""


# -- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
def broken_headers(tmp_path: Path) -> Path:
    """A directory whose ``stdlib.h`` is not C: with it on ``C_INCLUDE_PATH`` the real gcc fails.

    gcc searches ``C_INCLUDE_PATH`` before the system headers, so the demo's unchanged worker.c
    pulls in this file and the compiler itself reports the error: a broken toolchain, for real.
    """
    headers = tmp_path / "broken-include"
    headers.mkdir()
    (headers / "stdlib.h").write_text("this is not C\n", encoding="utf-8")
    return headers


@pytest.fixture
def unwritable_dir(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A directory where no cgroup can be created, and how that was arranged.

    Permission bits are the natural way, but root (as in CI here) ignores them. As root the
    directory gets a read-only tmpfs mounted on it, which is how Docker presents /sys/fs/cgroup to
    containers (mkdir fails with EROFS); where mounting is not allowed either, a regular file
    stands where the directory is expected (mkdir under it fails with ENOTDIR).
    """
    target = tmp_path / "cgroup-parent"
    target.mkdir()
    if os.geteuid() != 0:
        target.chmod(0o555)
        try:
            yield target, "Permission denied"
        finally:
            target.chmod(0o755)
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "none", str(target)],
                             capture_output=True, check=False).returncode == 0
    if mounted:
        try:
            yield target, "Read-only file system"
        finally:
            subprocess.run(["umount", str(target)], check=True)
        return
    target.rmdir()
    target.write_text("not a directory\n", encoding="utf-8")
    yield target, "Not a directory"


@pytest.fixture(scope="module")
def broken_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoRepository, str]:
    """The demo repository plus a branch whose worker.c does not compile: (repo, broken sha)."""
    repo = build_demo_repository(tmp_path_factory.mktemp("repo") / "ads", datetime.now(timezone.utc))
    run_git(repo.path, ["checkout", "--quiet", "-b", "broken"])
    (repo.path / "worker.c").write_text("int main( { return 0; }\n", encoding="utf-8")
    identity = {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
                "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com"}
    run_git(repo.path, ["commit", "--quiet", "-am", "break the worker"], env=identity)
    broken = run_git(repo.path, ["rev-parse", "HEAD"])
    run_git(repo.path, ["checkout", "--quiet", "main"])
    return repo, broken


def needs_cgroup_v1() -> None:
    """Skip when this machine offers no writable cgroup-v1 memory hierarchy."""
    probe = CgroupV1Limiter(LIMIT)
    try:
        probe.prepare()
    except OSError as error:
        pytest.skip(f"no writable cgroup-v1 memory hierarchy here: {error}")
    probe.cleanup()


def run_headless(state: Path, out: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``incident-tui demo --headless`` as a real process, with extra environment for it only."""
    return subprocess.run(
        [sys.executable, "-m", "tui", "demo", "--headless", "--state-dir", str(state), "--speed", "20",
         "--json", str(out / "summary.json"), "--timeout", "60"],
        capture_output=True, text=True, timeout=180, env={**os.environ, **env},
    )


# -- (a) the worker cannot be built --------------------------------------------------------------


async def test_dashboard_opens_without_a_worker_and_still_finds_the_culprit(
    tmp_path: Path, broken_headers: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.app import IncidentApp
    from widgets.memory_graph import MemoryGraph, summary_line
    from widgets.timeline import TimelineTable

    # GIVEN a toolchain whose stdlib.h is broken (the environment is how gcc finds headers: the
    # real gcc runs and fails; nothing in the demo is replaced)
    monkeypatch.setenv("C_INCLUDE_PATH", str(broken_headers))
    scenario = DemoScenario(tmp_path / "state", speed=20.0)
    # WHEN the demo starts
    scenario.start()
    try:
        # THEN it does not fail: it says there is no worker, and opens the incident from the repository
        assert any(n.startswith("no worker: worker.c at ") and "does not compile" in n for n in scenario.notices)
        incident = scenario.wait_for_incident(5)
        assert "not running" in incident.title
        state = scenario.workload.container_state()
        assert (state.state, state.reason) == ("waiting", BUILD_FAILED)
        sources = demo_sources(scenario, tmp_path / "state", read_only=False)
        async with IncidentApp(sources, workload_interval=0.2, incident_interval=0.3).run_test(size=(160, 50)) as pilot:
            screen = pilot.app.screen
            graph = screen.query_one(MemoryGraph)
            await wait_until(pilot, lambda: graph.view is not None and graph.view.notes, what="the memory pane")
            # AND the memory pane says why there is no worker (gcc's own error) and what to do
            problem = graph.view.notes[0]
            assert "no worker" in problem and "stdlib.h" in problem and "install a C compiler" in problem
            assert "WAITING (BuildFailed)" in summary_line(graph.view)
            assert not graph.view.samples and not graph.view.oom_kills
            # AND the notice printed before the app took the terminal is shown again inside it
            shown = [n.message for n in pilot.app._notifications]
            assert any(m.startswith("no worker: worker.c at ") for m in shown), shown
            # AND the analysis still ranks the culprit first from the repository
            await wait_until(pilot, lambda: screen.investigation is not None, what="the investigation")
            assert screen.investigation.suspects[0].commit.sha == culprit_sha(scenario.repo_path)
            # AND the timeline has the incident, the rollout and the failed start
            entries = screen.query_one(TimelineTable).entries
            kinds = {entry.kind for entry in entries}
            assert {TimelineKind.INCIDENT, TimelineKind.DEPLOYMENT} <= kinds
            assert any("cannot start" in entry.summary for entry in entries)
    finally:
        scenario.stop()
    # AND gcc's full output is kept next to the build for whoever fixes it
    build_logs = list((tmp_path / "state" / "run" / "builds").glob("*/build.log"))
    assert build_logs and "unknown type name" in build_logs[0].read_text()


def test_headless_demo_without_a_worker_reports_and_says_why(tmp_path: Path, broken_headers: Path) -> None:
    # GIVEN a real `incident-tui demo --headless` whose gcc fails on a broken header
    # WHEN it runs
    done = run_headless(tmp_path / "state", tmp_path, C_INCLUDE_PATH=str(broken_headers))
    # THEN it succeeds, says on stderr why there is no worker, without a traceback
    assert done.returncode == 0, done.stderr
    assert "incident-tui demo: no worker: worker.c at " in done.stderr and "stdlib.h" in done.stderr
    assert "Traceback" not in done.stderr
    # AND the summary names the incident and ranks the culprit first, with the leak and the fix
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["incident"]["id"]
    assert summary["suspects"][0]["sha"] == culprit_sha(tmp_path / "state" / "ads-demo-service")
    assert summary["findings"][0]["kind"] == "leak-in-loop"


def test_headless_demo_without_a_compiler_runs_the_stand_in_and_says_so(tmp_path: Path) -> None:
    # GIVEN a PATH with git but no C compiler (a machine without build tools)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").symlink_to(shutil.which("git"))
    # WHEN the real CLI runs headless there
    done = run_headless(tmp_path / "state", tmp_path, PATH=str(bin_dir))
    # THEN it still gets its incident, from the Python stand-in, and says so and what to do
    assert done.returncode == 0, done.stderr
    assert "no C compiler found (install gcc to run the real C worker)" in done.stderr
    builds = tmp_path / "state" / "run" / "builds"
    assert list(builds.glob("*/worker_standin.py")) and not list(builds.glob("*/worker"))
    assert json.loads((tmp_path / "summary.json").read_text())["oom_kills"]


def test_failed_rollout_keeps_the_running_worker(broken_repo, tmp_path: Path) -> None:
    repo, broken = broken_repo
    supervisor = WorkerSupervisor(repo.path, tmp_path / "run", speed=20.0)
    supervisor.start()
    try:
        # GIVEN the culprit running
        supervisor.deploy(repo.deployed_sha)
        assert supervisor.wait_until(lambda: supervisor.container_state().state == "running", timeout=30)
        # WHEN a commit whose worker.c does not compile is rolled out
        with pytest.raises(SourceError, match="does not compile"):
            supervisor.deploy(broken)
        # THEN the running worker stays, the timeline says the rollout failed and no problem is shown
        assert supervisor.deployed_sha == repo.deployed_sha
        failed = [e for e in supervisor.events() if e.summary.startswith(f"Rollout of {broken[:7]} failed")]
        assert failed and f"{repo.deployed_sha[:7]} keeps running" in failed[0].summary
        assert not any(n.startswith("no worker") for n in supervisor.describe().notes)
        # AND it is still the one that gets OOM-killed
        assert supervisor.wait_until(lambda: len(supervisor.oom_kills()) >= 1, timeout=30)
    finally:
        supervisor.stop()


def test_a_good_rollout_after_a_failed_build_brings_the_worker_back(broken_repo, tmp_path: Path) -> None:
    repo, broken = broken_repo
    supervisor = WorkerSupervisor(repo.path, tmp_path / "run", speed=20.0)
    supervisor.start()
    try:
        # GIVEN a first rollout that cannot be built: no worker, and the pane's note says so
        with pytest.raises(SourceError):
            supervisor.deploy(broken)
        assert supervisor.container_state().reason == BUILD_FAILED
        assert supervisor.describe().notes[0].startswith(f"no worker: worker.c at {broken[:7]} does not compile")
        # WHEN a good commit is rolled out
        supervisor.deploy(repo.deployed_sha)
        # THEN the worker runs, the note is gone, and the leak is OOM-killed as usual
        assert supervisor.wait_until(lambda: len(supervisor.oom_kills()) >= 1, timeout=30)
        assert not any(n.startswith("no worker") for n in supervisor.describe().notes)
    finally:
        supervisor.stop()


# -- (b) no cgroup permission ----------------------------------------------------------------------


def test_unwritable_cgroups_fall_back_to_the_watchdog_and_say_why(tmp_path: Path, unwritable_dir) -> None:
    parent, why = unwritable_dir
    # GIVEN both cgroup hierarchies pointed at a directory nobody can create a cgroup in
    limiter = choose_limiter(LIMIT, cgroup_v2_parent=parent, cgroup_v1_parent=parent)
    # THEN the watchdog is chosen, and each skipped mechanism is named with the system's reason
    assert limiter.mechanism == "watchdog"
    assert [r.split(" not used: ")[0] for r in limiter.fallback_reasons] == ["cgroup-v2", "cgroup-v1"]
    assert all(why in reason and str(parent) in reason for reason in limiter.fallback_reasons)
    # WHEN the demo runs with it
    with DemoScenario(tmp_path / "state", speed=20.0, limiter=limiter) as scenario:
        incident = scenario.wait_for_incident(60)
        info = scenario.workload.describe()
        kill_events = [e for e in scenario.workload.events() if e.kind is TimelineKind.OOM_KILL]
    # THEN the leak is still killed at the limit, by the watchdog, and the memory pane says so and why
    assert incident.id
    assert info.limit_mechanism == "watchdog"
    assert any("watchdog that SIGKILLs at the limit" in note for note in info.notes)
    assert any(note.startswith("cgroup-v1 not used: ") and why in note for note in info.notes)
    assert kill_events and kill_events[0].summary.endswith("watchdog)")


def test_unwritable_cgroup_v2_falls_back_to_cgroup_v1(unwritable_dir) -> None:
    needs_cgroup_v1()
    parent, why = unwritable_dir
    # WHEN only the v2 parent is unwritable
    limiter = choose_limiter(LIMIT, cgroup_v2_parent=parent)
    try:
        # THEN v1 is in force and the reason v2 was skipped is kept for the pane
        assert limiter.mechanism == "cgroup-v1"
        assert len(limiter.fallback_reasons) == 1
        assert limiter.fallback_reasons[0].startswith("cgroup-v2 not used: ") and why in limiter.fallback_reasons[0]
    finally:
        limiter.cleanup()


def test_cgroup_that_refuses_the_worker_hands_over_to_the_watchdog(broken_repo, tmp_path: Path) -> None:
    needs_cgroup_v1()
    repo, _ = broken_repo
    # GIVEN a prepared cgroup-v1 limiter whose cgroup is removed before the worker starts (as when
    # an administrator or a cleanup job deletes it): the kernel refuses the worker's join
    limiter = CgroupV1Limiter(LIMIT)
    limiter.prepare()
    assert limiter.path is not None
    limiter.path.rmdir()
    supervisor = WorkerSupervisor(repo.path, tmp_path / "run", speed=20.0, limiter=limiter)
    supervisor.start()
    try:
        # WHEN the culprit is deployed
        supervisor.deploy(repo.deployed_sha)
        # THEN the worker still runs and is killed at the limit, by the watchdog
        assert supervisor.wait_until(lambda: len(supervisor.oom_kills()) >= 1, timeout=30)
        info = supervisor.describe()
        assert info.limit_mechanism == "watchdog"
        # AND the pane and the timeline say which limiter is in force and why
        assert any(n.startswith("cgroup-v1 not used: the worker could not join its cgroup") for n in info.notes)
        assert any(e.summary.startswith("Memory limit now enforced by the watchdog") for e in supervisor.events())
    finally:
        supervisor.stop()


# -- (c) a corrupt incident store ------------------------------------------------------------------


def kept_files(state: Path) -> list[Path]:
    return sorted(p for p in state.iterdir() if CORRUPT_NAME.match(p.name))


def test_garbage_store_is_kept_aside_and_a_fresh_one_works(tmp_path: Path) -> None:
    # GIVEN a store file that is not SQLite at all
    state = tmp_path / "state"
    state.mkdir()
    garbage = b"this is not a database\n" * 100
    (state / "incidents.sqlite3").write_bytes(garbage)
    before = datetime.now(timezone.utc).replace(microsecond=0)
    # WHEN the store is opened
    store = IncidentStore(state)
    try:
        # THEN the old file is kept, byte for byte, under <name>.corrupt-<UTC stamp>
        kept = kept_files(state)
        assert kept == [store.kept_corrupt] and kept[0].read_bytes() == garbage
        stamp = datetime.strptime(CORRUPT_NAME.match(kept[0].name).group(1), "%Y%m%dT%H%M%SZ")
        assert before <= stamp.replace(tzinfo=timezone.utc) <= datetime.now(timezone.utc)
        # AND the note says where it was kept
        assert store.recovery_note and str(kept[0]) in store.recovery_note
        # AND the fresh store works
        incident = store.trigger("after recovery")
        assert store.open_incidents() == [incident]
    finally:
        store.close()


def test_truncated_store_is_kept_aside_and_the_demo_says_where(tmp_path: Path) -> None:
    # GIVEN a real store with incidents, then cut in half (a crash or a full disk mid-copy)
    state = tmp_path / "state"
    store = IncidentStore(state)
    for number in range(20):
        store.add_note(store.trigger(f"incident {number}").id, "details " * 300)
    store.close()
    path = state / "incidents.sqlite3"
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    # WHEN the demo starts on that state dir
    with DemoScenario(state, speed=20.0) as scenario:
        # THEN the truncated file is kept as it was and the store starts empty
        kept = kept_files(state)
        assert len(kept) == 1 and kept[0].read_bytes() == whole[: len(whole) // 2]
        assert not any(i.title.startswith("incident ") for i in scenario.store.open_incidents())
        # AND the user is told where it was kept: in the notices (CLI) and on the timeline (UI)
        assert any(str(kept[0]) in notice for notice in scenario.notices)
        assert any(str(kept[0]) in entry.summary for entry in scenario.workload.events())


def test_headless_demo_on_a_corrupt_store_says_where_the_old_one_is(tmp_path: Path) -> None:
    # GIVEN a state dir whose store is garbage
    state = tmp_path / "state"
    state.mkdir()
    (state / "incidents.sqlite3").write_bytes(b"\x00garbage" * 512)
    # WHEN the real CLI runs headless
    done = run_headless(state, tmp_path)
    # THEN it succeeds with a fresh store, and stderr says where the old one was kept
    assert done.returncode == 0, done.stderr
    kept = kept_files(state)
    assert len(kept) == 1 and kept[0].read_bytes() == b"\x00garbage" * 512
    assert f"kept as {kept[0]}" in done.stderr
    assert json.loads((tmp_path / "summary.json").read_text())["incident"]["id"]
