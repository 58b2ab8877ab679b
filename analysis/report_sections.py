"""The report's Markdown, one function per template section.

Headings are exactly the template's. Free text from outside (titles, commit subjects) is put in
code spans so that it can never be mistaken for a template placeholder or break the Markdown;
missing values read ``unknown (<why>)``.
"""

from __future__ import annotations

from collections.abc import Sequence

from analysis.correlation import deployment_containing
from analysis.model import Suspect
from analysis.report import ReportData
from analysis.report_actions import (
    fix_pr_section,
    footer,
    impact_section,
    links_section,
    post_incident_section,
    prevention_section,
    remediation_section,
)
from analysis.report_evidence import (
    anchor,
    code,
    first_kill,
    format_size,
    key_moments,
    language,
    span,
    stamp,
    unknown,
)
from analysis.report_root_cause import root_cause_section

MAX_COMMITS = 5
"""Commits listed in full; the rest are counted."""


def _title(data: ReportData) -> str:
    """The H1: incident number and title."""
    return f"# Incident Analysis: #{data.incident.number} {code(data.incident.title)}"


def _incident_information(data: ReportData) -> str:
    """Incident Information from the incident itself."""
    incident = data.incident
    severity = incident.severity or unknown(f"no severity set; urgency is {incident.urgency}")
    resolved = "not resolved yet" + (
        ""
        if incident.resolved_at
        else f"; {span(data.generated_at - incident.created_at)} since trigger"
    )
    return "\n".join(
        [
            "## Incident Information",
            f"- **Incident ID**: {incident.id} (#{incident.number})",
            f"- **Title**: {code(incident.title)}",
            f"- **Service**: {incident.service}",
            f"- **Severity**: {severity}",
            f"- **Status**: {incident.status.value.capitalize()}",
            f"- **Triggered At**: {stamp(incident.created_at, 'no trigger time')}",
            f"- **Acknowledged At**: {stamp(incident.acknowledged_at, 'not acknowledged yet')}",
            f"- **Resolved At**: {stamp(incident.resolved_at, resolved)}",
            f"- **Assignee**: {incident.assignee or unknown('nobody assigned')}",
        ]
    )


def _service_details(data: ReportData) -> str:
    """Service Details: repository, where it runs, language and limits."""
    workload = data.workload
    memory = (
        f"{format_size(workload.limit_bytes)} memory (enforced by {workload.limit_mechanism})"
        if workload.limit_bytes
        else unknown("no memory limit set") + " memory"
    )
    cpu = (
        f"{workload.cpu_limit} CPU"
        if workload.cpu_limit
        else unknown("no CPU limit given") + " CPU"
    )
    lines = [
        "## Service Details",
        f"- **Repository**: {data.repository}",
        f"- **Deployment**: {workload.environment}; namespace {code(workload.namespace)}, pod "
        f"{code(workload.pod)}, container {code(workload.container)}",
        f"- **Primary Language**: {language(data) or unknown('no source files in the data')}",
        f"- **Resource Limits**: {memory}, {cpu}",
    ]
    lines += [f"- **Note**: {note}" for note in workload.notes]
    return "\n".join(lines)


def _on_call(data: ReportData) -> str:
    """On-Call Team by escalation level."""
    team = data.on_call
    if team is None:
        missing = unknown("no on-call data from the incident source")
        return "\n".join(
            [
                "## On-Call Team",
                f"- **Team**: {missing}",
                f"- **Primary On-Call**: {missing}",
                f"- **Secondary On-Call**: {missing}",
                f"- **Escalation Policy**: {missing}",
            ]
        )

    def level(n: int) -> str:
        """Responders at one escalation level, or why there are none."""
        people = [f"@{r.handle} ({r.name})" for r in team.responders if r.level == n]
        return ", ".join(people) or unknown(f"nobody at escalation level {n}")

    return "\n".join(
        [
            "## On-Call Team",
            f"- **Team**: {team.team}",
            f"- **Primary On-Call**: {level(1)}",
            f"- **Secondary On-Call**: {level(2)}",
            f"- **Escalation Policy**: {team.escalation_policy}",
        ]
    )


def _timeline(data: ReportData) -> str:
    """Incident Timeline: the key moments as ``HH:MM:SS - text`` lines."""
    moments = key_moments(data)
    dates = sorted({m.at.date() for m in moments if m.at is not None})
    when = f"on {dates[0]}" if len(dates) == 1 else f"from {dates[0]} to {dates[-1]}"
    lines = ["## Incident Timeline", f"All times UTC, {when}.", "```"]
    lines += [f"{m.at:%H:%M:%S} - {m.text}" if m.at else f"--:--:-- - {m.text}" for m in moments]
    return "\n".join([*lines, "```"])


def _deployment_correlation(data: ReportData, suspect: Suspect) -> str:
    """Whether a rollout before the first kill contained the commit."""
    if not data.deployments:
        return unknown("no deployment data")
    first = anchor(data)
    rollout = deployment_containing(
        suspect.commit,
        data.deployments,
        first_oom=first,
        known_commits=[s.commit for s in data.suspects],
    )
    if rollout is None:
        return "No - no rollout between this commit and the first OOM kill"
    return (
        f"Yes - deployed at {rollout.at:%H:%M:%S} UTC (revision {rollout.revision}), "
        f"{span(first - rollout.at)} before the first OOM kill"
    )


def _commit_block(data: ReportData, suspect: Suspect, rank: int) -> list[str]:
    """One suspect commit with its files, deployment and weighted evidence."""
    commit = suspect.commit
    files = [
        f"  - {code(c.path)} (+{c.additions} -{c.deletions}, {c.status})" for c in commit.files
    ]
    reasons = sorted(suspect.reasons, key=lambda r: -abs(r.weight))
    return [
        f"- **Commit SHA**: {code(commit.short_sha)} ({commit.sha}), rank {rank}, suspicion score "
        f"{suspect.score:.0f} ({suspect.confidence})",
        f"- **Subject**: {code(commit.subject or '(no message)')}",
        f"- **Author**: {commit.author} <{commit.author_email}>",
        f"- **Date**: {stamp(commit.committed_at, 'no commit date')}",
        "- **Files Changed**:" if files else f"- **Files Changed**: {unknown('no file changes')}",
        *files,
        f"- **Deployment Correlation**: {_deployment_correlation(data, suspect)}",
        "- **Evidence**:" if reasons else f"- **Evidence**: {unknown('no scoring evidence')}",
        *[f"  - {r.weight:+.0f} {r.label}" for r in reasons],
    ]


def _recent_changes(data: ReportData) -> str:
    """Recent Changes Analysis: ranked commits and merged pull requests."""
    first = anchor(data)
    event = "the first OOM kill" if first_kill(data) else "the incident was triggered"
    lines = [
        "## Recent Changes Analysis",
        f"**Timeframe**: {span(data.window)} before {event} "
        f"({stamp(first - data.window, '')} to {stamp(first, '')})",
        "",
        "### Commits",
    ]
    if not data.suspects:
        lines.append(
            f"- **Commit SHA**: {unknown('no commits on the default branch in the window')}"
        )
    for rank, suspect in enumerate(data.suspects[:MAX_COMMITS], start=1):
        lines += [*([""] if rank > 1 else []), *_commit_block(data, suspect, rank)]
    if len(data.suspects) > MAX_COMMITS:
        lines += [
            "",
            f"{len(data.suspects) - MAX_COMMITS} more commits in the window scored lower.",
        ]
    lines += ["", "### Pull Requests"]
    if not data.merged_prs:
        lines.append("- **PR #**: none (no pull request merged in the window)")
    for pr in data.merged_prs:
        if not data.deployments:
            rollouts = unknown("no deployment data")
        else:
            after = [d for d in data.deployments if pr.merged_at and d.at >= pr.merged_at]
            rollouts = (
                ", ".join(f"revision {d.revision} at {d.at:%H:%M:%S} UTC" for d in after)
                or "none after the merge"
            )
        lines += [
            f"- **PR #**: {pr.number}",
            f"- **Title**: {code(pr.title)}",
            f"- **Merged**: {stamp(pr.merged_at, 'merge time not recorded')}",
            f"- **Deployments**: {rollouts}",
            "",
        ]
    return "\n".join(lines)


def render_sections(data: ReportData) -> str:
    """The whole report, sections in template order.

    Args:
        data: The report data.

    Returns:
        Markdown text ending with a newline.
    """
    parts: Sequence[str] = (
        _title(data),
        _incident_information(data),
        _service_details(data),
        _on_call(data),
        _timeline(data),
        _recent_changes(data),
        root_cause_section(data),
        impact_section(data),
        remediation_section(data),
        fix_pr_section(data),
        prevention_section(data),
        post_incident_section(data),
        links_section(data),
        footer(data),
    )
    return "\n\n".join(part.rstrip() for part in parts) + "\n"
