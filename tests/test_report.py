"""The incident report: template headings, no placeholders, derived evidence, JSON shape."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from analysis.model import (
    Commit,
    ContainerState,
    Deployment,
    FileChange,
    FindingKind,
    Fix,
    Incident,
    IncidentStatus,
    LeakFinding,
    MemorySample,
    OnCallTeam,
    OomKill,
    PullRequest,
    Reason,
    Responder,
    Suspect,
    TimelineEntry,
    TimelineKind,
    WorkloadInfo,
)
from analysis.report import ReportData, render_report, report_json

MIB = 1 << 20
T0 = datetime(2024, 3, 7, 14, 0, 0, tzinfo=timezone.utc)

EXPECTED_HEADINGS = [
    "## Incident Information",
    "## Service Details",
    "## On-Call Team",
    "## Incident Timeline",
    "## Recent Changes Analysis",
    "### Commits",
    "### Pull Requests",
    "## Root Cause Analysis",
    "### Affected Component",
    "### Issue Description",
    "### Evidence",
    "### Confidence Level",
    "## Impact Assessment",
    "## Remediation",
    "### Immediate Actions Taken",
    "### Proposed Fix",
    "### Alternative Solutions",
    "### Recommended Action",
    "## Fix PR Details",
    "## Prevention Measures",
    "### Short-term",
    "### Long-term",
    "## Post-Incident Actions",
    "## Related Links",
]
"""The template's section headings, in order (checked against the template itself when present)."""

PLACEHOLDER = re.compile(r"\[(?! \]|x\])[A-Z@#][^\]]*\]")
"""A bracketed template placeholder like ``[Timestamp]``; checkboxes ``[ ]``/``[x]`` are not."""

TEMPLATE = Path(
    os.environ.get("INCIDENT_TUI_SHARED", Path(__file__).resolve().parents[2] / "shared")
) / ("incident-analysis-template.md")

SOURCE = """\
#include <stdlib.h>

static void fill(char *entry) {
    entry[0] = 1;
}

void refresh_cache(void) {
    for (;;) {
        char *entry = malloc(4096);
        fill(entry);
    }
}
"""
ORIGINAL_LINES = SOURCE.splitlines()
ALLOC_LINE = ORIGINAL_LINES.index("        char *entry = malloc(4096);") + 1
FILL_LINE = ALLOC_LINE + 1
LOOP_LINE = ALLOC_LINE - 1


def _headings(markdown: str) -> list[str]:
    """``##``/``###`` headings outside code fences."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"^#{2,3} ", line):
            out.append(line.rstrip())
    return out


def _prose(markdown: str) -> str:
    """The Markdown without fenced code blocks and inline code spans (data, not template)."""
    without_fences = re.sub(r"(?ms)^```.*?^```", "", markdown)
    return re.sub(r"(`+).*?\1", "", without_fences)


def _data(**changes: object) -> ReportData:
    """A full report's data: one leak found, a suspect commit, a fix and its PR."""
    finding = LeakFinding(
        file="src/cache.c",
        line=ALLOC_LINE,
        function="refresh_cache",
        kind=FindingKind.LEAK_IN_LOOP,
        message="entry is overwritten each iteration",
        variable="entry",
        alloc_line=ALLOC_LINE,
        lost_line=ALLOC_LINE,
        loop_line=LOOP_LINE,
        fix_line=FILL_LINE,
    )
    patched = SOURCE.replace(
        "        fill(entry);\n", "        fill(entry);\n        free(entry);\n"
    )
    diff = (
        "--- a/src/cache.c\n+++ b/src/cache.c\n"
        f"@@ -{FILL_LINE - 2},5 +{FILL_LINE - 2},6 @@ void refresh_cache(void) {{\n"
        "     for (;;) {\n         char *entry = malloc(4096);\n         fill(entry);\n"
        "+        free(entry);\n     }\n }\n"
    )
    fix = Fix(
        "src/cache.c",
        "refresh_cache",
        "insert free(entry); after its last use in the loop",
        SOURCE,
        patched,
        diff,
        1,
        True,
        None,
        ("re-analysis: no leak left in refresh_cache",),
    )
    commit = Commit(
        "c0ffee" + "1" * 34,
        "Dana Ops",
        "dana@example.org",
        T0 - timedelta(hours=2),
        T0 - timedelta(hours=2),
        "Reuse cache entries\n\nDrops the free.",
        (FileChange("src/cache.c", "modified", 0, 1, "@@ -1 +1 @@\n-x\n+y\n"),),
    )
    quiet = Commit(
        "feed" + "2" * 36,
        "Eli Docs",
        "eli@example.org",
        T0 - timedelta(hours=1),
        T0 - timedelta(hours=1),
        "Document cache",
        (FileChange("README.md", "modified", 1, 0, "@@ -1 +1,2 @@\n"),),
    )
    suspects = (
        Suspect(
            commit,
            95.0,
            (
                Reason("removes free(entry) in src/cache.c", 30),
                Reason("leak-in-loop of entry in refresh_cache()", 50),
                Reason("committed 2 h before the first OOM", 8),
            ),
            (finding,),
        ),
        Suspect(quiet, 0.0, (Reason("documentation-only change (README.md)", -40),)),
    )
    run_start = T0 - timedelta(seconds=7)
    kill_at = T0
    samples = tuple(
        MemorySample(run_start + timedelta(seconds=s), int(s * 10.5 * MIB), "cgroup-v1")
        for s in range(7)
    )
    data = ReportData(
        incident=Incident(
            "PABC123",
            4711,
            "OOMKilled cache-worker",
            "cache-service",
            "high",
            IncidentStatus.ACKNOWLEDGED,
            T0 + timedelta(seconds=40),
            assignee="Dana Ops",
            html_url="https://example.pagerduty.com/incidents/PABC123",
            acknowledged_at=T0 + timedelta(minutes=3),
        ),
        workload=WorkloadInfo(
            "cache-service",
            "prod",
            "cache-7d9",
            "cache",
            64 * MIB,
            "kubernetes",
            "Kubernetes (minikube)",
            cpu_limit="250m",
        ),
        on_call=OnCallTeam(
            "Cache Team",
            "Cache Escalation",
            (Responder("Dana Ops", "dana", 1), Responder("Fred Lead", "fred", 2)),
        ),
        timeline=(
            TimelineEntry(
                T0 + timedelta(seconds=20),
                TimelineKind.BACKOFF,
                "Back-off restarting failed container",
                "kubernetes",
            ),
        ),
        memory=samples,
        oom_kills=(
            OomKill(kill_at, run_start, 137, 64 * MIB, 1),
            OomKill(T0 + timedelta(seconds=60), T0 + timedelta(seconds=20), 137, None, 2),
        ),
        container=ContainerState("cache-7d9", "cache", "waiting", "CrashLoopBackOff", 2, 64 * MIB),
        suspects=suspects,
        fix=fix,
        pr=PullRequest(
            3,
            "Fix memory leak in refresh_cache",
            "Frees entry.",
            "incident/PABC123-fix",
            "main",
            created_at=T0 + timedelta(minutes=9),
            head_sha="ab12cd3" + "0" * 33,
        ),
        deployments=(Deployment(T0 - timedelta(minutes=30), "7", None, "rollout"),),
        merged_prs=(
            PullRequest(
                41,
                "Reuse cache entries",
                "",
                "dana/reuse",
                "main",
                merged_at=T0 - timedelta(hours=2),
            ),
        ),
        repository="acme/cache-service",
        generated_at=T0 + timedelta(minutes=12),
        window=timedelta(hours=24),
    )
    return replace(data, **changes)


def _minimal() -> ReportData:
    """Only what any incident has: no on-call, kills, suspects, fix or PR."""
    full = _data()
    return ReportData(
        incident=replace(
            full.incident, acknowledged_at=None, html_url=None, status=IncidentStatus.TRIGGERED
        ),
        workload=replace(full.workload, cpu_limit=None),
        repository="local/x",
        generated_at=full.generated_at,
    )


def test_headings_match_the_template_in_order() -> None:
    # GIVEN the template's headings (from the template itself when it is beside the checkout)
    expected = EXPECTED_HEADINGS
    if TEMPLATE.exists():
        expected = _headings(TEMPLATE.read_text(encoding="utf-8"))
        assert expected == EXPECTED_HEADINGS, "the template changed: update the report"
    # WHEN full and minimal reports are rendered
    for data in (_data(), _minimal()):
        # THEN each has exactly those headings, in order
        assert _headings(render_report(data)) == expected


@pytest.mark.parametrize("make", [_data, _minimal], ids=["full", "minimal"])
def test_no_template_placeholder_is_left(make) -> None:
    # GIVEN a report (full, and one with almost nothing known)
    markdown = render_report(make())
    # THEN no bracketed placeholder remains in the prose ...
    assert PLACEHOLDER.findall(_prose(markdown)) == []
    # ... and none of the template's own placeholders appears anywhere, code blocks included
    template_placeholders = {
        "[Timestamp]",
        "[HH:MM:SS]",
        "[sha]",
        "[@username]",
        "[number]",
        "[title]",
        "[Team Name]",
        "[Policy Name]",
        "[timestamp]",
    }
    assert [p for p in template_placeholders if p in markdown] == []


def test_the_detector_would_catch_a_placeholder_but_not_checkboxes() -> None:
    # GIVEN text with a placeholder, a checkbox and a ticked checkbox
    text = "- **Triggered At**: [Timestamp]\n- [ ] Deploy fix\n- [x] Open fix PR\n"
    # THEN only the placeholder is found
    assert PLACEHOLDER.findall(_prose(text)) == ["[Timestamp]"]


def test_missing_data_says_unknown_with_a_reason() -> None:
    # GIVEN data without on-call team, kills, suspects, fix or PR
    markdown = render_report(_minimal())
    section = lambda name: markdown.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]  # noqa: E731
    # THEN every on-call field, the fix and the fix PR say unknown with a reason
    assert section("On-Call Team").count("unknown (") == 4
    assert "unknown (no fix was synthesized" in section("Remediation")
    assert "**Title**: unknown (no fix PR opened yet)" in section("Fix PR Details")
    # AND an unacknowledged, unresolved incident is reported as ongoing for its real age
    assert "**Acknowledged At**: unknown (not acknowledged yet)" in markdown
    assert "**Duration**: ongoing (11 min so far)" in markdown


def test_timeline_is_derived_from_the_first_killed_run() -> None:
    # GIVEN a run that starts 7 s before its kill and passes 95% of 64 MiB (63 MiB) after 6 s
    data = _data()
    block = render_report(data).split("## Incident Timeline\n", 1)[1].split("```")[1]
    lines = [line for line in block.splitlines() if line]
    # THEN each line is HH:MM:SS - text, chronological
    assert all(re.match(r"^\d\d:\d\d:\d\d - ", line) for line in lines)
    assert [line[:8] for line in lines] == sorted(line[:8] for line in lines)
    text = "\n".join(lines)
    # AND run start, limit, kill, trigger and restart come from the right entries
    assert "13:59:53 - Pod cache-7d9 starts consuming memory" in text
    assert "13:59:59 - Memory usage reaches the 64Mi limit" in text
    assert "14:00:00 - Kubernetes OOMKills cache (exit 137)" in text
    assert "14:00:40 - PagerDuty incident #4711 triggered" in text
    assert "14:00:20 - Pod restart initiated (CrashLoopBackOff)" in text


def test_memory_evidence_uses_least_squares_over_the_killed_run() -> None:
    # GIVEN samples growing 10.5 MiB per second in the first killed run
    facts = report_json(_data())["memory"]
    # THEN the growth rate is that slope, the peak is the kill's peak, restarts come from state
    assert facts["growth_bytes_per_second"] == pytest.approx(10.5 * MIB)
    assert facts["peak_bytes"] == 64 * MIB
    assert facts["restart_count"] == 2
    evidence = render_report(_data()).split("### Evidence\n", 1)[1].split("###", 1)[0]
    assert "Linear growth at 10.5 MiB/s" in evidence
    assert "11,010,048 bytes/s" in evidence
    assert "touched" in evidence  # a leak finding: say when the leak becomes resident


def test_code_analysis_shows_the_function_with_the_finding_marked() -> None:
    # GIVEN a leak in refresh_cache() whose fix goes after the fill() call
    markdown = render_report(_data())
    block = markdown.split("**Code Analysis:**\n```c\n", 1)[1].split("```", 1)[0].splitlines()
    # THEN the block is the function, from its signature to its closing brace
    assert block[0] == "void refresh_cache(void) {" and block[-1] == "}"
    # AND the allocation carries its line number and the missing free follows the last use
    assert any(
        line.startswith("        char *entry = malloc(4096);") and f"Line {ALLOC_LINE}:" in line
        for line in block
    )
    fill_index = next(i for i, line in enumerate(block) if line.startswith("        fill(entry);"))
    assert block[fill_index + 1].strip().startswith("// MISSING: free(entry);")


def test_proposed_fix_and_checkboxes() -> None:
    # GIVEN a verified fix with an open PR, incident not resolved
    data = _data()
    markdown = render_report(data)
    # THEN the fix diff is shown verbatim in a diff block
    assert f"```diff\n{data.fix.diff.rstrip()}\n```" in markdown
    # AND the PR box is ticked while deploy and close are not
    assert "- [x] Open fix PR" in markdown
    assert "- [ ] Deploy fix" in markdown and "- [ ] Close incident" in markdown
    # AND confidence comes from the top suspect and lists its weighted reasons
    confidence = markdown.split("### Confidence Level\n", 1)[1].split("\n## ", 1)[0]
    assert confidence.startswith("**High Confidence**")
    assert "+30 removes free(entry) in src/cache.c" in confidence


def test_resolved_incident_has_a_duration_and_a_ticked_close() -> None:
    # GIVEN the incident resolved 50 minutes after it was triggered
    full = _data()
    resolved = replace(
        full.incident,
        status=IncidentStatus.RESOLVED,
        resolved_at=full.incident.created_at + timedelta(minutes=50),
    )
    markdown = render_report(replace(full, incident=resolved))
    # THEN the duration is trigger to resolution and the close box is ticked
    assert "**Duration**: 50 min" in markdown
    assert "- [x] Close incident" in markdown


def test_report_json_has_the_machine_readable_facts() -> None:
    # GIVEN a full report and a minimal one
    full, minimal = report_json(_data()), report_json(_minimal())
    # THEN both serialise, and the incident, ranked suspects, findings, fix and PR are there
    json.dumps(full), json.dumps(minimal)
    incident = full["incident"]
    assert (incident["id"], incident["number"], incident["status"]) == (
        "PABC123",
        4711,
        "acknowledged",
    )
    assert [s["score"] for s in full["suspects"]] == sorted(
        (s["score"] for s in full["suspects"]), reverse=True
    )
    assert full["suspects"][0]["reasons"][0] == {
        "label": "removes free(entry) in src/cache.c",
        "weight": 30,
    }
    assert full["suspects"][0]["files"] == ["src/cache.c"]
    assert {k: full["findings"][0][k] for k in ("file", "line", "function", "kind")} == {
        "file": "src/cache.c",
        "line": ALLOC_LINE,
        "function": "refresh_cache",
        "kind": "leak-in-loop",
    }
    assert full["fix"]["verified"] is True and full["fix"]["diff"].startswith("--- a/src/cache.c")
    assert (full["pr"]["branch"], full["pr"]["number"]) == ("incident/PABC123-fix", 3)
    assert "url" in full["pr"]
    # AND missing fix and PR are null, not absent
    assert minimal["fix"] is None and minimal["pr"] is None and minimal["suspects"] == []
