"""``analyze --verify`` runs hostile programs inside its limits; nothing else ever runs repository code.

Real C programs, compiled and run by :func:`tui.sources.c_verify.verify_file`: a fork bomb, an
endless loop, a 16 GiB allocation and a TCP connection to a listener this test holds on 127.0.0.1.
Then a repository whose Makefile, configure script and git hooks would each create a marker file
goes through ``incident-tui analyze``, ``incident-tui correlate`` and the live investigation: the
marker must never appear.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tui.sources.c_verify import sandbox, verify_file

needs_compiler = pytest.mark.skipif(not (shutil.which("gcc") or shutil.which("clang") or shutil.which("cc")),
                                    reason="no C compiler installed")


def sandbox_processes() -> list[str]:
    """Command lines of live processes still running a verify binary (``incident-tui-verify-*/program``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            state = next((line for line in (entry / "status").read_text().splitlines()
                          if line.startswith("State:")), "")
        except OSError:
            continue  # exited while we looked
        if "incident-tui-verify-" in cmdline and "zombie" not in state:
            found.append(f"{entry.name}: {cmdline}")
    return found


def outcome(notes: tuple[str, ...]) -> str:
    """The note that says how the run ended."""
    return next(note for note in notes if "exit status" in note or "time limit" in note)


@needs_compiler
def test_a_fork_bomb_is_bounded_and_leaves_nothing_running(tmp_path: Path) -> None:
    # GIVEN a program that forks forever (each child forks too)
    path = tmp_path / "bomb.c"
    path.write_text("#include <unistd.h>\nint main(void) { for (;;) fork(); }\n")
    # WHEN verified with a 5 s limit
    started = time.monotonic()
    verification = verify_file(str(path), timeout=5.0)
    elapsed = time.monotonic() - started
    # THEN the run is stopped by the time limit, promptly (the machine stayed usable)
    assert "stopped after the 5s time limit" in outcome(verification.notes), verification.notes
    assert elapsed < 30, elapsed
    # AND no process of it survives the run
    assert sandbox_processes() == []
    # AND the notes say how the number of processes was bounded
    assert any("process" in note for note in verification.notes), verification.notes


@needs_compiler
def test_an_endless_loop_is_stopped_at_the_time_limit(tmp_path: Path) -> None:
    # GIVEN a program that never returns and a child that ignores its parent's death
    path = tmp_path / "spin.c"
    path.write_text("#include <unistd.h>\nint main(void) { if (fork() == 0) setsid(); for (;;) {} }\n")
    # WHEN verified with a 2 s limit
    started = time.monotonic()
    verification = verify_file(str(path), timeout=2.0)
    # THEN it is stopped at the limit and neither process survives (not even the one in its own session)
    assert "stopped after the 2s time limit" in outcome(verification.notes)
    assert time.monotonic() - started < 30
    assert sandbox_processes() == []


@needs_compiler
def test_a_huge_allocation_fails_inside_the_memory_limit(tmp_path: Path) -> None:
    # GIVEN a program that allocates and touches 16 GiB, 256 MiB at a time, exiting 42 when malloc fails
    path = tmp_path / "hog.c"
    path.write_text(
        "#include <stdlib.h>\n#include <string.h>\n"
        "int main(void) {\n"
        "    for (int i = 0; i < 64; i++) {\n"
        "        char *p = malloc(256u << 20);\n"
        "        if (p == NULL) return 42;\n"
        "        memset(p, 1, 256u << 20);\n"
        "    }\n"
        "    return 0;\n"
        "}\n")
    # WHEN verified
    verification = verify_file(str(path), timeout=30.0)
    # THEN it did not get its 16 GiB: malloc failed (42) or the memory limit killed it, never exit 0
    ended = outcome(verification.notes)
    assert "exit status 0 " not in ended and "time limit" not in ended, verification.notes
    assert verification.tool in ("valgrind", "leak-sanitizer")
    if verification.tool == "valgrind":
        # RLIMIT_AS: malloc returns NULL, or valgrind's own shadow of the touched memory hits the
        # limit first (which comes first depends on where the kernel put the earlier mappings).
        stopped_by_valgrind = any("valgrind ran out of memory" in note for note in verification.notes)
        assert "exit status 42" in ended or stopped_by_valgrind, verification.notes


@pytest.mark.skipif(not shutil.which("valgrind"), reason="valgrind not installed")
def test_valgrind_running_out_of_memory_is_said_not_reported_as_a_clean_run(tmp_path: Path) -> None:
    # GIVEN a program that touches 512 MiB at once: its malloc fits a 640 MiB limit, but not the
    # shadow memory memcheck keeps for it
    path = tmp_path / "toucher.c"
    path.write_text(
        "#include <stdlib.h>\n#include <string.h>\n"
        "int main(void) {\n"
        "    char *p = malloc(512u << 20);\n"
        "    if (p == NULL) return 42;\n"
        "    memset(p, 1, 512u << 20);\n"
        "    return 0;\n"
        "}\n")
    # WHEN verified under that limit
    verification = verify_file(str(path), timeout=30.0, memory_limit=640 * 1024**2)
    # THEN the notes say valgrind itself stopped, and that its count of problems is not the whole story
    assert verification.tool == "valgrind"
    assert "exit status 1 " in outcome(verification.notes), verification.notes
    assert any("valgrind ran out of memory under the 0.6 GiB" in note for note in verification.notes)
    assert any("problem(s) in toucher.c before it stopped" in note for note in verification.notes)


@needs_compiler
def test_the_program_cannot_reach_a_listener_on_loopback(tmp_path: Path) -> None:
    # GIVEN a TCP listener on 127.0.0.1 and a program that connects to it (exit 0 connected, 7 refused)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0)
    port = listener.getsockname()[1]
    path = tmp_path / "phone_home.c"
    path.write_text(
        "#include <arpa/inet.h>\n#include <netinet/in.h>\n#include <sys/socket.h>\n#include <unistd.h>\n"
        "int main(void) {\n"
        "    int fd = socket(AF_INET, SOCK_STREAM, 0);\n"
        "    struct sockaddr_in to = {0};\n"
        "    to.sin_family = AF_INET;\n"
        "    to.sin_port = htons(PORT);\n"
        "    to.sin_addr.s_addr = htonl(0x7f000001);\n"
        "    int failed = connect(fd, (struct sockaddr *)&to, sizeof to);\n"
        "    close(fd);\n"
        "    return failed ? 7 : 0;\n"
        "}\n")
    try:
        # AND proof that the program does connect when run outside the sandbox
        binary = tmp_path / "phone_home"
        subprocess.run([shutil.which("cc") or "gcc", f"-DPORT={port}", "-o", str(binary), str(path)], check=True)
        assert subprocess.run([str(binary)], timeout=10, check=False).returncode == 0
        listener.accept()[0].close()
        isolation = sandbox()
        if not isolation.prefix:
            pytest.skip(f"network isolation unavailable on this machine: {'; '.join(isolation.notes)}")
        # WHEN it is verified
        verification = verify_file(str(path), defines=[f"PORT={port}"], timeout=30.0)
        # THEN the connection failed inside the sandbox, and the listener never saw it
        assert "exit status 7" in outcome(verification.notes), verification.notes
        assert any(note.startswith("network: none") for note in verification.notes)
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()


@needs_compiler
def test_the_compiler_itself_is_bounded(tmp_path: Path) -> None:
    # GIVEN a "fix" whose source includes an endless device (cc1 would read and allocate forever)
    from tui.sources.c_compile import compile_check

    started = time.monotonic()
    # WHEN it is compile-checked
    compiled, note = compile_check('#include "/dev/zero"\nint main(void) { return 0; }\n', str(tmp_path / "fix.c"))
    # THEN the memory limit stops the compiler quickly, and the failure is reported, not raised
    assert compiled is False, note
    assert "does not compile" in note or "timed out" in note
    assert time.monotonic() - started < 60


MARKER_MAKEFILE = "all:\n\ttouch {marker}\n"
MARKER_SCRIPT = "#!/bin/sh\ntouch {marker}\n"
LEAKY_WORKER = ("#include <stdlib.h>\nvoid controller(void) {\n    for (;;) {\n        char *buffer = malloc(64);\n"
                "        buffer[0] = 1;\n    }\n}\n")


def git(repo: Path, *args: str, when: datetime) -> None:
    """Run git in ``repo`` with author and committer date ``when``."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp, "GIT_AUTHOR_NAME": "T",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


@pytest.fixture
def booby_trapped_repo(tmp_path: Path) -> tuple[Path, Path, datetime]:
    """A git repository whose Makefile, configure, build.sh, git hooks and git config would create a marker."""
    marker = tmp_path / "EXECUTED"
    repo = tmp_path / "repo"
    repo.mkdir()
    oom = datetime.now(UTC).replace(microsecond=0)
    git(repo, "init", "-q", "-b", "main", when=oom)
    (repo / "Makefile").write_text(MARKER_MAKEFILE.format(marker=marker))
    for script in ("configure", "build.sh"):
        (repo / script).write_text(MARKER_SCRIPT.format(marker=marker))
        (repo / script).chmod(0o755)
    (repo / "worker.c").write_text(LEAKY_WORKER)
    git(repo, "add", "-A", when=oom - timedelta(hours=5))
    git(repo, "commit", "-q", "-m", "import", when=oom - timedelta(hours=5))
    (repo / "worker.c").write_text(LEAKY_WORKER.replace("buffer[0] = 1;", "buffer[0] = 2;"))
    git(repo, "commit", "-q", "-am", "tweak loop", when=oom - timedelta(hours=1))
    # Hooks are installed only now, so creating the repository did not fire them.
    hooks = repo / ".git" / "hooks"
    for hook in ("post-checkout", "pre-commit", "post-commit", "post-merge", "pre-push", "post-rewrite",
                 "reference-transaction", "fsmonitor-watchman"):
        (hooks / hook).write_text(MARKER_SCRIPT.format(marker=marker))
        (hooks / hook).chmod(0o755)
    assert not marker.exists()
    return repo, marker, oom


def trap_git_config(repo: Path, when: datetime) -> None:
    """Repository-local git settings that run ``configure``: what a repository received as an archive
    (``.git/config`` included) can carry. An fsmonitor, an external diff, a textconv driver, a pager."""
    trap = str(repo / "configure")
    for key in ("core.fsmonitor", "diff.external", "diff.trap.textconv", "core.pager"):
        git(repo, "config", key, trap, when=when)
    (repo / ".gitattributes").write_text("*.c diff=trap\n")


@pytest.mark.parametrize("git_config", [
    pytest.param(False, id="scripts-and-hooks"),
    pytest.param(True, id="git-config-commands"),
])
def test_analyze_correlate_and_the_investigation_never_run_repository_code(
    booby_trapped_repo: tuple[Path, Path, datetime], git_config: bool
) -> None:
    repo, marker, oom = booby_trapped_repo
    if git_config:
        trap_git_config(repo, oom)
    # GIVEN the trap works: the repository's configure creates the marker (then it is reset)
    subprocess.run([str(repo / "configure")], check=True)
    assert marker.exists()
    marker.unlink()
    run = lambda *args: subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True,
                                       timeout=120, check=False, cwd=repo)
    # WHEN the file is analysed, the repository correlated, and the live investigation run on it
    analyzed = run("analyze", str(repo / "worker.c"))
    correlated = run("correlate", "--repo", str(repo), "--at", oom.isoformat(), "--format", "json")
    from tui.investigation import investigate
    from tui.sources.git_local import LocalGitCodeSource

    investigation = investigate(LocalGitCodeSource(repo, default_branch="main"), first_oom=oom, deployments=[],
                                build_globs=("*.c",))
    # THEN each did its work: the leak found, the commits ranked
    assert analyzed.returncode == 1 and "leak" in analyzed.stdout, analyzed.stderr
    assert correlated.returncode == 0 and "tweak loop" in correlated.stdout, correlated.stderr
    assert {s.commit.subject for s in investigation.suspects} == {"import", "tweak loop"}
    # AND none of them ran the Makefile, configure, build.sh, a git hook or a command from .git/config
    assert not marker.exists()
