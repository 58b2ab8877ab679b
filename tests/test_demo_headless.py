"""``incident-tui demo --headless`` as a real process: the scenario, the analysis, the writes, the files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import culprit_sha


def run_headless(state_dir: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", "demo", "--headless", "--state-dir", str(state_dir), "--speed", "20",
         "--report", str(out / "report.md"), "--json", str(out / "report.json"), *extra],
        capture_output=True, text=True, timeout=180,
    )


def test_headless_demo_acks_opens_pr_and_writes_report_and_json(tmp_path: Path) -> None:
    # GIVEN a fresh state dir
    state = tmp_path / "state"
    # WHEN the headless demo runs with --ack and --open-pr
    done = run_headless(state, tmp_path, "--ack", "--open-pr")
    # THEN it succeeds
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "report.json").read_text())
    # AND the JSON names the acknowledged incident, the culprit first, the finding, the fix and the PR
    assert summary["incident"]["status"] == "acknowledged" and summary["incident"]["id"]
    culprit = culprit_sha(state / "ads-demo-service")
    top = summary["suspects"][0]
    assert top["sha"] == culprit and top["score"] > summary["suspects"][1]["score"]
    assert all({"label", "weight"} <= set(reason) for reason in top["reasons"])
    finding = summary["findings"][0]
    assert (finding["file"], finding["function"], finding["kind"]) == ("worker.c", "controller", "leak-in-loop")
    assert "+        free(buffer);" in summary["fix"]["diff"]
    assert summary["pr"]["branch"] == f"incident/{summary['incident']['id']}-fix"
    # AND the Markdown report has no template placeholder left and is also under reports/
    report = (tmp_path / "report.md").read_text()
    assert not re.search(r"\[(?:Timestamp|sha|number|title|Team Name|@username|Policy Name)\]", report)
    assert list((state / "reports").glob("incident-*.md"))
    # AND every write is in the audit log, the copies of the report included, in order
    audit = [json.loads(line) for line in (state / "audit.jsonl").read_text().splitlines()]
    assert [(r["action"], r["result"]) for r in audit] == [
        ("acknowledge", "ok"), ("branch", "ok"), ("commit", "ok"), ("pull_request", "ok"), ("note", "ok"),
        ("report", "ok"), ("report", "ok"), ("report", "ok")]
    assert [r["target"] for r in audit[-2:]] == [str(tmp_path / "report.md"), str(tmp_path / "report.json")]


def test_second_headless_run_reuses_the_pr(tmp_path: Path) -> None:
    # GIVEN a headless run that opened the PR
    state = tmp_path / "state"
    assert run_headless(state, tmp_path, "--open-pr").returncode == 0
    first = json.loads((tmp_path / "report.json").read_text())["pr"]
    # WHEN it runs again on the same state
    again = run_headless(state, tmp_path, "--open-pr")
    # THEN the same PR comes back, marked as reused, and the earlier report is kept
    assert again.returncode == 0, again.stderr
    second = json.loads((tmp_path / "report.json").read_text())["pr"]
    assert (second["number"], second["branch"]) == (first["number"], first["branch"])
    assert second["reused"] is True
    assert len(list((state / "reports").glob("incident-*.md"))) == 2


def test_read_only_headless_refuses_to_open_a_pr(tmp_path: Path) -> None:
    # WHEN --open-pr is combined with --read-only
    done = run_headless(tmp_path / "state", tmp_path, "--open-pr", "--read-only")
    # THEN it fails with a clear message and no exit traceback
    assert done.returncode == 2
    assert "read-only mode" in done.stderr and "Traceback" not in done.stderr
