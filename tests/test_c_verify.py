"""``analyze --verify``: compiling and running a program under a leak checker, in a sandbox."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.model import FindingKind, LeakFinding
from tui.sources.c_verify import Verification, verify_file

needs_runtime = pytest.mark.skipif(
    not (shutil.which("gcc") or shutil.which("clang") or shutil.which("cc")),
    reason="no C compiler installed")

LEAKY_MAIN = ("#include <stdlib.h>\n#include <string.h>\nint main(void) {\n"
              "    char *p = malloc(16);\n    strcpy(p, \"x\");\n    return p[0] == 'y';\n}\n")


@needs_runtime
def test_a_real_leak_is_observed_at_its_allocation_line(tmp_path: Path) -> None:
    # GIVEN a program whose main leaks the block allocated on line 4
    path = tmp_path / "leaky.c"
    path.write_text(LEAKY_MAIN)
    # WHEN verified
    verification = verify_file(str(path))
    # THEN the runtime checker reports a leak at line 4 and the notes say how it ran
    assert verification.tool in ("valgrind", "leak-sanitizer")
    assert (FindingKind.LEAK, 4) in verification.observed
    assert any("exit status" in note or "time limit" in note for note in verification.notes)
    assert any("network" in note for note in verification.notes)


def test_files_without_main_are_never_run(tmp_path: Path) -> None:
    # GIVEN a library file with no main
    path = tmp_path / "lib.c"
    path.write_text("#include <stdlib.h>\nvoid f(void) { malloc(1); }\n")
    # WHEN verified THEN nothing is compiled or run, and the note says why
    verification = verify_file(str(path))
    assert verification == Verification(str(path), None,
                                         notes=("not run: the file defines no main()",))


@needs_runtime
def test_an_endless_program_is_stopped_by_the_time_limit(tmp_path: Path) -> None:
    # GIVEN a main that never returns
    path = tmp_path / "spin.c"
    path.write_text("int main(void) { for (;;) {} }\n")
    # WHEN verified with a 1 s limit THEN it is stopped and that is noted
    verification = verify_file(str(path), timeout=1.0)
    assert any("time limit" in note for note in verification.notes)


def test_confirmation_matches_kind_and_line() -> None:
    # GIVEN an observation of a leak at line 4
    verification = Verification("a.c", "valgrind", ((FindingKind.LEAK, 4),))
    finding = LeakFinding(file="a.c", line=4, function="main", kind=FindingKind.LEAK_IN_LOOP,
                          message="m", variable="p", alloc_line=4)
    # WHEN compared THEN a leak (in a loop or not) at that line is confirmed, others are not
    assert verification.confirms(finding)
    assert not verification.confirms(LeakFinding(**{**finding.__dict__, "alloc_line": 5,
                                                      "line": 5}))


@needs_runtime
def test_cli_verify_adds_confirmation_without_changing_exit_codes(tmp_path: Path) -> None:
    # GIVEN the leaky program
    path = tmp_path / "leaky.c"
    path.write_text(LEAKY_MAIN)
    # WHEN analysed with --verify as JSON
    done = subprocess.run([sys.executable, "-m", "tui", "analyze", str(path), "--verify",
                           "--format", "json"], capture_output=True, text=True, timeout=120,
                          check=False)
    # THEN exit status is still 1 and the verification confirms the static finding's line
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)
    [verification] = document["verification"]
    assert verification["confirmed_lines"] == [4]
    assert [f["line"] for f in document["findings"]] == [4]
