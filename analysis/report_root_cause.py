"""The report's Root Cause Analysis: the affected code, what is wrong, evidence and confidence.

Split from :mod:`analysis.report_sections`; same conventions: free text in code spans,
``unknown (<why>)`` for missing values.
"""

from __future__ import annotations

from datetime import timedelta

from analysis.code_excerpt import excerpt_lines
from analysis.diffs import ALLOCATION_FUNCTIONS, find_calls
from analysis.model import FindingKind, LeakFinding, Suspect
from analysis.report import ReportData
from analysis.report_evidence import (
    MIB,
    MemoryEvidence,
    all_findings,
    code,
    first_kill,
    format_size,
    memory_evidence,
    primary_finding,
    source_for,
    span,
    unknown,
)


def _lines_of(finding: LeakFinding) -> str:
    """The line range a finding spans, e.g. ``26-28``."""
    numbers = [
        n
        for n in (finding.alloc_line, finding.line, finding.lost_line, finding.fix_line)
        if n is not None
    ]
    low, high = min(numbers), max(numbers)
    return str(low) if low == high else f"{low}-{high}"


def _introducer(data: ReportData, finding: LeakFinding | None) -> Suspect | None:
    """The suspect carrying the finding, else the top suspect."""
    carrying = next((s for s in data.suspects if finding in s.findings), None)
    return carrying or (data.suspects[0] if data.suspects else None)


def _issue_text(data: ReportData, finding: LeakFinding) -> str:
    """Issue Description prose for a finding and the commit that introduced it."""
    source = source_for(data, finding.file)
    alloc = ""
    if source and 1 <= finding.alloc_line <= len(source.splitlines()):
        calls = find_calls(source.splitlines()[finding.alloc_line - 1], ALLOCATION_FUNCTIONS)
        alloc = f" with {code(calls[0].text)}" if calls else ""
    where = f"{code(finding.function + '()')}"
    if finding.kind is FindingKind.LEAK_IN_LOOP:
        text = (
            f"Memory leak due to missing `free()` call. The {where} function allocates "
            f"{code(finding.variable)}{alloc} (line {finding.alloc_line}) inside a loop "
            f"(line {finding.loop_line or 'unknown'}) and never releases it, so every "
            "iteration leaks another block."
        )
    elif finding.kind is FindingKind.LEAK:
        text = (
            f"Memory leak due to missing `free()` call. {where} allocates "
            f"{code(finding.variable)}{alloc} (line {finding.alloc_line}) and loses the last "
            f"reference (line {finding.lost_line or finding.line}) without releasing it."
        )
    else:
        text = f"{finding.kind.value} of {code(finding.variable)} in {where}."
    text += f" Analysis: {finding.message}"
    suspect = _introducer(data, finding)
    if suspect is not None:
        changes = [r.label for r in suspect.reasons if r.label.startswith(("removes ", "adds "))]
        how = f", which {'; '.join(changes)}" if changes else ""
        text += (
            f"\n\nMost likely introduced by {code(suspect.commit.short_sha)} "
            f"({code(suspect.commit.subject)}){how}."
        )
    return text


def _memory_lines(data: ReportData, memory: MemoryEvidence) -> list[str]:
    """Evidence bullets about restarts and memory growth."""
    growth = memory.growth_bytes_per_second
    if growth is None:
        pattern = unknown("fewer than two samples in the first killed run")
        rate = pattern
    else:
        shape = "Linear growth" if memory.r_squared and memory.r_squared >= 0.9 else "Growth"
        fit = f", R² {memory.r_squared:.2f}" if memory.r_squared is not None else ""
        pattern = (
            f"{shape} at {growth / MIB:.1f} MiB/s until the limit{fit}"
            if growth > 0
            else f"no growth ({growth / MIB:+.2f} MiB/s)"
        )
        rate = (
            f"{growth:,.0f} bytes/s (least squares over {memory.samples_in_run} samples of "
            "the first killed run)"
        )
        if growth > 0 and memory.limit_bytes:
            fill = span(timedelta(seconds=memory.limit_bytes / growth))
            rate += f"; from zero the limit is reached in about {fill}"
    peak = (
        unknown("no samples")
        if memory.peak_bytes is None
        else (
            f"{memory.peak_bytes / MIB:.1f} MiB"
            + (
                f" of the {format_size(memory.limit_bytes)} limit "
                f"({100 * memory.peak_bytes / memory.limit_bytes:.0f}%)"
                if memory.limit_bytes
                else ""
            )
        )
    )
    restarts = (
        unknown("no container state") if memory.restart_count is None else str(memory.restart_count)
    )
    lines = [
        f"- Pod restart count: {restarts}",
        f"- Memory usage pattern: {pattern}",
        f"- Peak memory: {peak}",
        f"- Growth rate: {rate}",
    ]
    if any(f.kind in (FindingKind.LEAK, FindingKind.LEAK_IN_LOOP) for f in all_findings(data)):
        if growth is None:
            resident = "too few samples to confirm the leaked pages are written"
        elif growth > 0:
            resident = "the growth shows the leaked pages are written"
        else:
            resident = "no growth was observed, so the leaked pages may be untouched"
        lines.append(
            "- Residency: leaked heap pages count against the limit only once they are "
            f"touched (untouched pages map the shared zero page); {resident}"
        )
    return lines


def root_cause_section(data: ReportData) -> str:
    """Root Cause Analysis: component, description with code, evidence, confidence."""
    finding = primary_finding(data)
    lines = ["## Root Cause Analysis", "", "### Affected Component"]
    if finding is None:
        missing = unknown("no analysis finding")
        lines += [f"- **File**: {missing}", f"- **Function**: {missing}", f"- **Lines**: {missing}"]
    else:
        lines += [
            f"- **File**: {code(finding.file)}",
            f"- **Function**: {code(finding.function + '()')}",
            f"- **Lines**: {_lines_of(finding)}",
        ]
    lines += ["", "### Issue Description"]
    if finding is None:
        lines.append(unknown("the C analysis found no leak in the examined code"))
    else:
        lines.append(_issue_text(data, finding))
        source = source_for(data, finding.file)
        excerpt = excerpt_lines(source, finding) if source else []
        lines += ["", "**Code Analysis:**"]
        lines += (
            ["```c", *excerpt, "```"]
            if excerpt
            else [unknown(f"the source of {finding.file} at the finding's lines is not available")]
        )
    kill = first_kill(data)
    events = (
        "Kubernetes events"
        if data.workload.limit_mechanism == "kubernetes"
        else (f"Kill events ({data.workload.limit_mechanism})")
    )
    kills = (
        f"OOMKilled (exit {kill.exit_code}), {len(data.oom_kills)} kill(s), first at "
        f"{kill.at:%H:%M:%S} UTC"
        if kill
        else unknown("no OOM kill recorded")
    )
    errors = "; ".join(code(m) for m in data.error_messages[:5]) or unknown("no log lines captured")
    lines += [
        "",
        "### Evidence",
        f"- {events}: {kills}",
        *_memory_lines(data, memory_evidence(data)),
        f"- Error messages: {errors}",
    ]
    lines += [
        f"- Static analysis: {f.kind.value} in {code(f.function + '()')} at "
        f"{code(f'{f.file}:{f.line}')}: {f.message}"
        for f in all_findings(data)
    ]
    lines += ["", "### Confidence Level", _confidence(data, finding)]
    return "\n".join(lines)


def _confidence(data: ReportData, finding: LeakFinding | None) -> str:
    """Confidence Level from the top suspect and its reasons."""
    if data.suspects:
        top = data.suspects[0]
        head = (
            f"**{top.confidence.capitalize()} Confidence** - top suspect "
            f"{code(top.commit.short_sha)} ({code(top.commit.subject)}) scores {top.score:.0f}:"
        )
        reasons = sorted(top.reasons, key=lambda r: -abs(r.weight))
        return "\n".join([head, *[f"- {r.weight:+.0f} {r.label}" for r in reasons]])
    if finding is not None:
        return (
            f"**Medium Confidence** - the analysis finds a {finding.kind.value} in "
            f"{code(finding.function + '()')}, but no commit in the window is linked to it."
        )
    return "**Low Confidence** - " + unknown("no suspect commits and no analysis findings")
