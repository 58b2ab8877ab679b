"""The incident report: gather the evidence fresh, render it, save it atomically, audit the file.

Used by the dashboard's ``r`` key, the ``report`` command and the headless demo, through
:mod:`tui.operations`. Reading the sources runs in threads where they block, so none of this
blocks the UI loop.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.model import Incident, OnCallTeam, PullRequest, TimelineEntry
from analysis.report import ReportData, render_report, report_json
from tui.audit import OK, AuditLog, failed
from tui.audit import for_session as audit_log
from tui.session import SourceSet
from tui.sources.base import SourceError

if TYPE_CHECKING:
    from tui.investigation import (
        Investigation,  # the module loads pycparser: only for annotations
    )


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


def write_report(state_dir: Path, incident: Incident, markdown: str, *, now: datetime | None = None) -> Path:
    """Write the report atomically under ``state_dir/reports``; never overwrite an earlier one.

    The name carries the second it was written (``incident-1001-20261201T093000Z.md``); a second
    report in the same second gets ``-2``, ``-3``... The text is written to a temporary file
    first and hard-linked to a free name, and ``link`` fails rather than replace a file, so no
    reader ever sees half a report and no earlier report is ever replaced.

    Args:
        state_dir: The session's state directory.
        incident: The incident the report is about (its number names the file).
        markdown: The report.
        now: The time to name the file by (default: now).

    Returns:
        The path written.

    Raises:
        SourceError: No free name among a thousand in the same second.
        OSError: The directory cannot be written.
    """
    reports = state_dir / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
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
    sources: SourceSet,
    incident: Incident,
    investigation: Investigation | None,
    pr: PullRequest | None,
    *,
    audit: AuditLog | None = None,
) -> tuple[str, dict, Path]:
    """Collect, render and write the report (also in read-only mode: it is a local file).

    Args:
        sources: The session.
        incident: The incident.
        investigation: The root-cause result, if it has run.
        pr: The fix PR, if one was opened.
        audit: Where to record the file write; the session's audit log when ``None``.

    Returns:
        The Markdown, the JSON summary and the path written.

    Raises:
        SourceError: A source failed while collecting the evidence.
        OSError: The report could not be written.
    """
    audit = audit or audit_log(sources)
    data = await collect_report_data(sources, incident, investigation, pr)
    markdown = render_report(data)
    reports = Path(sources.state_dir) / "reports"
    request = f"write the incident report ({len(markdown)} characters of Markdown)"
    try:
        path = await asyncio.to_thread(write_report, sources.state_dir, data.incident, markdown)
    except (SourceError, OSError) as error:
        audit.record("report", str(reports), request, failed(str(error)))
        raise
    audit.record("report", str(path), request, OK)
    return markdown, report_json(data), path
