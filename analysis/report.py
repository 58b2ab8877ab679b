"""The incident analysis report: everything gathered during an incident, as Markdown and JSON.

The Markdown follows the team's incident-analysis template heading for heading. Every field is
filled from :class:`ReportData`; when a value is missing the report says ``unknown (<why>)``
instead of leaving a template placeholder. The derivations (timeline moments, memory statistics)
live in :mod:`analysis.report_evidence`, the code excerpt in :mod:`analysis.code_excerpt`, and
the Markdown in :mod:`analysis.report_sections` (opening sections and assembly),
:mod:`analysis.report_root_cause` and :mod:`analysis.report_actions`. Pure: no I/O, no Textual.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from analysis.model import (
    ContainerState,
    Deployment,
    Fix,
    Incident,
    LeakFinding,
    MemorySample,
    OnCallTeam,
    OomKill,
    PullRequest,
    Suspect,
    TimelineEntry,
    WorkloadInfo,
)


@dataclass(frozen=True, kw_only=True)
class ReportData:
    """A frozen snapshot of everything the report is built from."""

    incident: Incident
    """The incident."""
    workload: WorkloadInfo
    """The watched workload."""
    on_call: OnCallTeam | None = None
    """Who was on call, when the incident source knows."""
    timeline: tuple[TimelineEntry, ...] = ()
    """Merged timeline entries, oldest first."""
    memory: tuple[MemorySample, ...] = ()
    """Memory samples, oldest first."""
    oom_kills: tuple[OomKill, ...] = ()
    """OOM kills, oldest first."""
    container: ContainerState | None = None
    """The container's state when the report was generated."""
    suspects: tuple[Suspect, ...] = ()
    """Ranked suspect commits, most suspicious first."""
    fix: Fix | None = None
    """The synthesized fix, if any."""
    pr: PullRequest | None = None
    """The fix PR, if opened."""
    deployments: tuple[Deployment, ...] = ()
    """Rollouts of the workload, oldest first."""
    merged_prs: tuple[PullRequest, ...] = ()
    """Pull requests merged in the window."""
    repository: str
    """The code repository (``owner/name`` or a local label)."""
    generated_at: datetime
    """When the report was generated (UTC); "now" for durations of ongoing incidents."""
    window: timedelta = timedelta(hours=24)
    """How far before the first OOM kill commits were examined."""
    notes: tuple[str, ...] = ()
    """Caveats about how the data was gathered, shown at the end."""
    findings: tuple[LeakFinding, ...] = ()
    """Analysis findings on the current source, used when no suspect carries any."""
    sources: tuple[tuple[str, str], ...] = ()
    """``(path, text)`` of analysed source files, for the code excerpt."""
    error_messages: tuple[str, ...] = ()
    """Error lines from the killed container's logs, if captured."""
    links: tuple[tuple[str, str], ...] = ()
    """``(label, url)`` extra links, e.g. ``("Monitoring dashboard", "https://...")``."""
    primary_language: str | None = None
    """Main language of the service; derived from file extensions when ``None``."""


def render_report(data: ReportData) -> str:
    """Render the report as Markdown, with exactly the template's section headings.

    Args:
        data: The snapshot to report on.

    Returns:
        The Markdown text, ending with a newline.
    """
    # Imported here: the section modules import ReportData from this module.
    from analysis.report_sections import render_sections

    return render_sections(data)


def _iso(moment: datetime | None) -> str | None:
    """ISO 8601 text of a datetime, ``None`` passes through."""
    return None if moment is None else moment.isoformat()


def _finding_json(finding: LeakFinding) -> dict[str, Any]:
    """A finding as plain JSON values."""
    return {
        "file": finding.file,
        "line": finding.line,
        "function": finding.function,
        "kind": finding.kind.value,
        "message": finding.message,
        "variable": finding.variable,
        "alloc_line": finding.alloc_line,
        "lost_line": finding.lost_line,
        "loop_line": finding.loop_line,
        "fix_line": finding.fix_line,
    }


def _pr_json(pr: PullRequest) -> dict[str, Any]:
    """A pull request as plain JSON values."""
    return {
        "number": pr.number,
        "title": pr.title,
        "branch": pr.branch,
        "base": pr.base,
        "url": pr.url,
        "head_sha": pr.head_sha,
        "created_at": _iso(pr.created_at),
        "merged_at": _iso(pr.merged_at),
        "reused": pr.reused,
    }


def report_json(data: ReportData) -> dict[str, Any]:
    """The report's facts as a JSON-serialisable dict, for machines and golden tests.

    Args:
        data: The snapshot to report on.

    Returns:
        A dict with ``incident``, ``workload``, ``memory``, ``timeline``, ``suspects``,
        ``findings``, ``fix`` (or ``None``), ``pr`` (or ``None``), ``merged_prs`` and metadata.
    """
    # Imported here: report_evidence imports ReportData from this module.
    from analysis.report_evidence import all_findings, key_moments, memory_evidence

    incident = data.incident
    memory = memory_evidence(data)
    fix = data.fix
    return {
        "incident": {
            "id": incident.id,
            "number": incident.number,
            "title": incident.title,
            "service": incident.service,
            "status": incident.status.value,
            "urgency": incident.urgency,
            "severity": incident.severity,
            "created_at": _iso(incident.created_at),
            "acknowledged_at": _iso(incident.acknowledged_at),
            "resolved_at": _iso(incident.resolved_at),
            "url": incident.html_url,
        },
        "workload": {
            "namespace": data.workload.namespace,
            "pod": data.workload.pod,
            "container": data.workload.container,
            "limit_bytes": data.workload.limit_bytes,
            "limit_mechanism": data.workload.limit_mechanism,
        },
        "memory": {
            "peak_bytes": memory.peak_bytes,
            "limit_bytes": memory.limit_bytes,
            "growth_bytes_per_second": memory.growth_bytes_per_second,
            "restart_count": memory.restart_count,
            "samples_in_run": memory.samples_in_run,
        },
        "timeline": [{"at": _iso(moment.at), "text": moment.text} for moment in key_moments(data)],
        "oom_kills": [
            {
                "at": _iso(kill.at),
                "started_at": _iso(kill.started_at),
                "exit_code": kill.exit_code,
                "peak_bytes": kill.peak_bytes,
            }
            for kill in data.oom_kills
        ],
        "suspects": [
            {
                "sha": suspect.commit.sha,
                "short_sha": suspect.commit.short_sha,
                "subject": suspect.commit.subject,
                "author": suspect.commit.author,
                "committed_at": _iso(suspect.commit.committed_at),
                "score": suspect.score,
                "confidence": suspect.confidence,
                "reasons": [{"label": r.label, "weight": r.weight} for r in suspect.reasons],
                "files": [change.path for change in suspect.commit.files],
            }
            for suspect in data.suspects
        ],
        "findings": [_finding_json(finding) for finding in all_findings(data)],
        "fix": None
        if fix is None
        else {
            "file": fix.file,
            "function": fix.function,
            "description": fix.description,
            "diff": fix.diff,
            "lines_added": fix.lines_added,
            "verified": fix.verified_by_analysis,
            "compiled": fix.compiled,
            "notes": list(fix.verification_notes),
        },
        "pr": None if data.pr is None else _pr_json(data.pr),
        "merged_prs": [_pr_json(pr) for pr in data.merged_prs],
        "repository": data.repository,
        "generated_at": _iso(data.generated_at),
        "window_seconds": data.window.total_seconds(),
        "notes": list(data.notes),
    }
