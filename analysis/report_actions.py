"""The report's closing sections: impact, remediation, the fix PR, prevention, follow-ups, links.

Split from :mod:`analysis.report_sections` to keep modules readable; same conventions: free text
in code spans, ``unknown (<why>)`` for missing values.
"""

from __future__ import annotations

from datetime import timedelta

from analysis.diffs import changed_lines
from analysis.model import FindingKind, IncidentStatus
from analysis.report import ReportData
from analysis.report_evidence import (
    MIB,
    all_findings,
    code,
    format_size,
    memory_evidence,
    primary_finding,
    span,
    unknown,
)


def impact_section(data: ReportData) -> str:
    """Impact Assessment: availability from the kills, duration from the incident."""
    memory = memory_evidence(data)
    state = data.container
    if data.oom_kills:
        now = ""
        if state is not None:
            now = f", now {state.state}" + (f" ({state.reason})" if state.reason else "")
        restarts = "unknown" if memory.restart_count is None else str(memory.restart_count)
        availability = (
            f"Degraded (pod constantly restarting: {len(data.oom_kills)} OOM kill(s), "
            f"restart count {restarts}{now})"
        )
    else:
        availability = unknown("no OOM kill recorded")
    incident = data.incident
    if incident.resolved_at:
        duration = span(incident.resolved_at - incident.created_at)
    else:
        duration = f"ongoing ({span(data.generated_at - incident.created_at)} so far)"
    workload = data.workload
    return "\n".join(
        [
            "## Impact Assessment",
            f"- **Service Availability**: {availability}",
            f"- **User Impact**: {unknown('no user-facing metrics in the data')}; every OOM kill "
            f"drops the work in flight in {code(workload.container)}",
            f"- **Duration**: {duration}",
            f"- **Affected Features**: all functionality of {code(workload.container)} in "
            f"{code(workload.namespace + '/' + workload.pod)} ({incident.service})",
        ]
    )


def remediation_section(data: ReportData) -> str:
    """Remediation: actions taken, the proposed fix diff, alternatives, a recommendation."""
    incident, fix, pr = data.incident, data.fix, data.pr
    finding = primary_finding(data)
    done: list[str] = []
    if incident.acknowledged_at:
        done.append(f"Acknowledged incident at {incident.acknowledged_at:%H:%M:%S} UTC")
    if finding is not None:
        done.append(
            f"Identified root cause: {finding.kind.value} in {code(finding.function + '()')}"
            f" ({code(f'{finding.file}:{finding.line}')})"
        )
    elif data.suspects:
        leader = code(data.suspects[0].commit.short_sha)
        done.append(f"Ranked {len(data.suspects)} commits; top suspect {leader}")
    if fix is not None:
        verified = "verified by re-analysis" if fix.verified_by_analysis else "NOT verified"
        done.append(f"Prepared fix: {fix.description} ({verified})")
    if pr is not None:
        done.append(f"Opened fix PR #{pr.number} from {code(pr.branch)} into {code(pr.base)}")
    actions = [f"{n}. {text}" for n, text in enumerate(done, 1)] or ["1. None recorded yet"]
    lines = ["## Remediation", "", "### Immediate Actions Taken", *actions, "", "### Proposed Fix"]
    if fix is None:
        lines.append(unknown("no fix was synthesized" + ("" if finding else ": no finding to fix")))
    else:
        lines += [
            f"{fix.description} in {code(fix.function + '()')} of {code(fix.file)}:",
            "",
            "```diff",
            fix.diff.rstrip("\n"),
            "```",
        ]
        lines += [f"- {note}" for note in fix.verification_notes]
    top = data.suspects[0] if data.suspects else None
    rollback = (
        f"Revert {code(top.commit.short_sha)} ({code(top.commit.subject)}), the top suspect"
        if top
        else unknown("no suspect commit in the window to revert")
    )
    growth = memory_evidence(data).growth_bytes_per_second
    limit = data.workload.limit_bytes
    buys = (
        f": at {growth / MIB:.1f} MiB/s doubling it only buys about "
        f"{span(timedelta(seconds=limit / growth))}"
        if growth and growth > 0 and limit
        else ""
    )
    target = (
        f"{code(finding.variable)} in {code(finding.function + '()')}"
        if finding
        else "the leaking allocation"
    )
    lines += [
        "",
        "### Alternative Solutions",
        f"1. **Rollback**: {rollback}",
        f"2. **Mitigation**: Increase the memory limit from {format_size(limit)} temporarily "
        f"(not recommended - masks the issue{buys})",
        f"3. **Redesign**: Use a static buffer or memory pool for {target} instead of a "
        "heap allocation per iteration",
        "",
        "### Recommended Action",
        _recommendation(data),
    ]
    return "\n".join(lines)


def _recommendation(data: ReportData) -> str:
    """The one action to take now, from the strongest thing available."""
    fix, pr = data.fix, data.pr
    if fix is not None and fix.verified_by_analysis:
        where = f"merge PR #{pr.number} ({code(pr.branch)})" if pr else "open the fix PR"
        return f"Apply the fix ({fix.description}) - {where}; minimal change with immediate impact."
    if fix is not None:
        return f"Review the unverified fix ({fix.description}) before merging; roll back meanwhile."
    if data.suspects:
        return f"Revert {code(data.suspects[0].commit.short_sha)} and redeploy, then investigate."
    return unknown("no fix and no suspect commit to act on")


def fix_pr_section(data: ReportData) -> str:
    """Fix PR Details: title, branch, files and lines from the PR and the fix."""
    fix, pr = data.fix, data.pr
    no_pr = unknown("no fix PR opened yet")
    no_fix = unknown("no fix synthesized")
    added = removed = 0
    if fix is not None:
        parsed = changed_lines(fix.diff)
        added, removed = len(parsed.added), len(parsed.removed)
    body_lines = [
        line
        for line in (pr.body if pr else "").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    if fix is not None:
        description = f"{fix.description}; resolves the leak behind the OOM kills"
    else:
        description = body_lines[0].strip() if body_lines else no_fix
    if pr is not None and pr.head_sha:
        rollback = f"revert {code(pr.head_sha[:7])} if issues arise"
    else:
        rollback = "revert the fix commit if issues arise" if fix else no_fix
    branch = f"{code(pr.branch)} into {code(pr.base)}, PR #{pr.number}" if pr else no_pr
    testing = (
        ("; ".join(fix.verification_notes) or "re-analysis of the patched source")
        if fix
        else no_fix
    )
    return "\n".join(
        [
            "## Fix PR Details",
            f"- **Title**: {code(pr.title) if pr else no_pr}",
            f"- **Description**: {description}",
            f"- **Branch**: {branch}",
            f"- **Files Changed**: {code(fix.file) if fix else no_fix}",
            f"- **Lines Changed**: {f'+{added} -{removed}' if fix else no_fix}",
            f"- **Testing**: {testing}; then build and deploy, and watch memory stay flat",
            f"- **Rollback Plan**: {rollback}",
        ]
    )


def prevention_section(data: ReportData) -> str:
    """Prevention Measures: the fix and monitoring now, tooling and process later."""
    fix, container = data.fix, code(data.workload.container)
    kinds = {f.kind for f in all_findings(data)}
    short = [
        f"- {fix.description}" if fix else "- Fix the leak (no fix synthesized yet)",
        f"- Deploy and monitor memory of {container} for 24 hours",
    ]
    long = [
        "- Implement memory leak detection in CI/CD (valgrind)",
        "- Add unit tests for memory management",
        "- Enable AddressSanitizer (LeakSanitizer) in development builds",
        "- Implement resource usage monitoring and alerting on memory growth, before the limit",
        "- Code review checklist: verify malloc/free pairs",
    ]
    if FindingKind.RESOURCE_LEAK in kinds:
        long.append("- Alert on open file descriptors of the container")
    return "\n".join(
        ["## Prevention Measures", "", "### Short-term", *short, "", "### Long-term", *long]
    )


def post_incident_section(data: ReportData) -> str:
    """Post-Incident Actions as checkboxes, ticked when the data shows them done."""
    pr = data.pr
    deployed = pr is not None and any(
        d.sha is not None and d.sha == pr.head_sha for d in data.deployments
    )
    resolved = data.incident.status is IncidentStatus.RESOLVED

    def box(done: bool, text: str) -> str:
        """A Markdown checkbox line."""
        return f"- [{'x' if done else ' '}] {text}"

    return "\n".join(
        [
            "## Post-Incident Actions",
            box(pr is not None, "Open fix PR"),
            box(deployed, "Deploy fix"),
            box(False, "Monitor service stability"),
            box(False, "Update runbook if needed"),
            box(False, "Conduct post-mortem meeting"),
            box(False, "Update documentation"),
            box(False, "Implement prevention measures"),
            box(resolved, "Close incident"),
        ]
    )


def links_section(data: ReportData) -> str:
    """Related Links as autolinks, or why each is missing."""
    given = {label.lower(): url for label, url in data.links}
    pr = data.pr
    pr_link = (
        f"<{pr.url}>"
        if pr and pr.url
        else unknown(f"PR #{pr.number} is local: branch {code(pr.branch)}")
        if pr
        else unknown("no fix PR opened yet")
    )
    incident = (
        f"<{data.incident.html_url}>" if data.incident.html_url else unknown("no incident URL")
    )

    def link(label: str, reason: str) -> str:
        """A configured link, or why there is none."""
        url = given.pop(label.lower(), None)
        return f"- {label}: " + (f"<{url}>" if url else unknown(reason))

    lines = [
        "## Related Links",
        f"- PagerDuty incident: {incident}",
        f"- GitHub PR for fix: {pr_link}",
        link("Deployment logs", "no deployment log URL configured"),
        link("Monitoring dashboard", "no dashboard URL configured"),
        link("Post-mortem document", "not written yet"),
    ]
    lines += [f"- {label}: <{url}>" for label, url in data.links if label.lower() in given]
    return "\n".join(lines)


def footer(data: ReportData) -> str:
    """Notes about how the data was gathered, and when the report was generated."""
    notes = [f"> Note: {note}" for note in data.notes]
    return "\n".join(
        [
            "---",
            *notes,
            *([""] if notes else []),
            f"*This analysis was generated by incident-tui at "
            f"{data.generated_at:%Y-%m-%d %H:%M:%S} UTC to assist with incident response "
            "and resolution.*",
        ]
    )
