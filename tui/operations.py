"""The writes and the report: one code path for the dashboard's keys and the headless commands.

The functions that talk to the incident source are coroutines (that source is async); blocking
calls to the workload and code sources inside them run in threads, so none of this blocks the UI
loop. Writes check ``read_only`` first and are idempotent by construction of the sources.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from analysis.model import Incident, IncidentStatus, OnCallTeam, PullRequest, TimelineEntry
from analysis.pr_text import fix_branch, fix_pr_body, fix_pr_title, pr_note
from analysis.report import ReportData, render_report, report_json
from tui.investigation import Investigation
from tui.session import SourceSet
from tui.sources.base import ReadOnlyError, SourceError


def _refuse_in_read_only(sources: SourceSet, what: str) -> None:
    """Raise :class:`ReadOnlyError` naming the refused write."""
    if sources.read_only:
        raise ReadOnlyError(f"read-only mode: {what} refused (start without --read-only to allow writes)")


async def acknowledge(sources: SourceSet, incident: Incident) -> Incident:
    """Acknowledge the incident unless it already is.

    Raises:
        ReadOnlyError: In read-only mode.
    """
    _refuse_in_read_only(sources, "acknowledge")
    if incident.status is not IncidentStatus.TRIGGERED:
        return incident
    return await sources.incidents.acknowledge(incident.id)


def fix_pr_preview(incident: Incident, investigation: Investigation, report_name: str | None) -> tuple[str, str]:
    """Title and body of the fix PR for the preview and for creation.

    Raises:
        SourceError: When the investigation produced no fix.
    """
    if investigation.fix is None:
        raise SourceError("no verified fix to propose yet")
    title = fix_pr_title(incident, investigation.fix)
    body = fix_pr_body(incident, investigation.fix, investigation.fix_suspect, report_name)
    return title, body


async def open_fix_pr(
    sources: SourceSet,
    incident: Incident,
    investigation: Investigation,
    *,
    report_name: str | None = None,
    add_note: bool = True,
) -> PullRequest:
    """Open (or find) the fix PR on ``incident/<id>-fix`` and note it on the incident.

    Idempotent: an existing PR for the incident is returned with ``reused=True`` and no second
    note is added.

    Raises:
        ReadOnlyError: In read-only mode.
        SourceError: When there is no fix or the code host fails.
    """
    _refuse_in_read_only(sources, "opening the fix PR")
    existing = await asyncio.to_thread(sources.code.find_fix_pr, incident)
    if existing is not None:
        return existing
    title, body = fix_pr_preview(incident, investigation, report_name)
    assert investigation.fix is not None  # fix_pr_preview raised otherwise
    pr = await asyncio.to_thread(sources.code.open_fix_pr, incident, investigation.fix, title, body)
    if add_note and not pr.reused:
        note = pr_note(incident, pr.number, pr.url, investigation.fix, investigation.fix_suspect)
        await sources.incidents.add_note(incident.id, note)
    return pr


def pr_target(sources: SourceSet, incident: Incident) -> str:
    """Where the PR goes and what else confirming writes, in words, for the preview."""
    return (f"branch {fix_branch(incident)} -> {sources.code.default_branch} of {sources.code.repository}\n"
            f"Also: a note on incident #{incident.number} linking the PR and summarising the root cause")


async def collect_report_data(
    sources: SourceSet,
    incident: Incident,
    investigation: Investigation | None,
    pr: PullRequest | None,
) -> ReportData:
    """Gather the evidence for the report from the sources, fresh.

    Args:
        sources: Where to read from.
        incident: The incident (re-read so the status is current).
        investigation: The root-cause result, if it has run.
        pr: The fix PR, if one was opened.

    Returns:
        Everything :func:`analysis.report.render_report` needs.
    """
    incident = await sources.incidents.incident(incident.id)
    log_entries = [*await sources.incidents.log_entries(incident.id), *await sources.incidents.change_events(incident.id)]
    on_call = await sources.incidents.on_call(incident.id)
    return await asyncio.to_thread(_blocking_report_data, sources, incident, log_entries, on_call, investigation, pr)


def _blocking_report_data(
    sources: SourceSet,
    incident: Incident,
    log_entries: list[TimelineEntry],
    on_call: OnCallTeam,
    investigation: Investigation | None,
    pr: PullRequest | None,
) -> ReportData:
    """The part of :func:`collect_report_data` that reads the blocking workload and code sources."""
    workload = sources.workload
    timeline = sorted([*log_entries, *workload.events(), *(investigation.commit_entries() if investigation else ())], key=lambda entry: entry.at)
    merged: tuple[PullRequest, ...] = ()
    if investigation is not None:
        merged = tuple(sources.code.merged_pull_requests(investigation.window_start, datetime.now(timezone.utc)))
        suspect_pr = investigation.suspect_pr
        if suspect_pr is not None and suspect_pr.number not in {pr.number for pr in merged}:
            merged = (suspect_pr, *merged)
    return ReportData(
        incident=incident,
        workload=workload.describe(),
        on_call=on_call,
        timeline=tuple(timeline),
        memory=tuple(workload.memory_since(None)),
        oom_kills=tuple(workload.oom_kills()),
        container=workload.container_state(),
        suspects=investigation.suspects if investigation else (),
        fix=investigation.fix if investigation else None,
        pr=pr or sources.code.find_fix_pr(incident),
        deployments=tuple(workload.deployments()),
        merged_prs=merged,
        repository=sources.code.repository,
        generated_at=datetime.now(timezone.utc),
        window=sources.window,
    )


def write_report(state_dir: Path, incident: Incident, markdown: str) -> Path:
    """Write the report atomically under ``state_dir/reports``; never overwrite an earlier one.

    Returns:
        The path written.
    """
    reports = state_dir / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base = f"incident-{incident.number}-{stamp}"
    descriptor, temporary = tempfile.mkstemp(dir=reports, prefix=".report-", suffix=".tmp")
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(markdown)
    for attempt in range(1, 1000):
        target = reports / (f"{base}.md" if attempt == 1 else f"{base}-{attempt}.md")
        try:
            # link() fails when the target exists, so an earlier report is never replaced.
            os.link(temporary, target)
        except FileExistsError:
            continue
        os.unlink(temporary)
        return target
    os.unlink(temporary)
    raise SourceError(f"could not find a free report name in {reports}")


async def generate_report(
    sources: SourceSet, incident: Incident, investigation: Investigation | None, pr: PullRequest | None
) -> tuple[str, dict, Path]:
    """Collect, render and write the report.

    Returns:
        The Markdown, the JSON summary and the path written.
    """
    data = await collect_report_data(sources, incident, investigation, pr)
    markdown = render_report(data)
    path = await asyncio.to_thread(write_report, sources.state_dir, data.incident, markdown)
    return markdown, report_json(data), path
