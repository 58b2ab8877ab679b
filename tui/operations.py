"""The writes and the report: one code path for the dashboard's keys and the headless commands.

The functions that talk to the incident source are coroutines (that source is async); blocking
calls to the workload and code sources inside them run in threads, so none of this blocks the UI
loop.

Writes happen exactly once, only when meant:

- ``--read-only`` refuses acknowledging, notes, the fix branch, commit and PR and the demo's merge
  (:class:`ReadOnlyError`, with a message). The report is a local file, not an upstream write: it
  is still saved in read-only mode, as the ``report`` command (always read-only) does.
- Each write first reads what already exists upstream and reuses it: an incident that is no longer
  triggered is not acknowledged again; an existing fix PR (or fix branch) is reused; the PR note is
  added only when no note on the incident links the PR yet. So a second key press, a retry after a
  timeout whose request did succeed, or a restart between two steps (PR opened, note not yet
  added) completes the work without duplicating any of it.
- Writes on one incident are serialised within the process, so two concurrent callers cannot both
  see "no note yet" and both add one.
- Every write, reuse, refusal and failure appends one line to ``<state_dir>/audit.jsonl``
  (:mod:`tui.audit`).

The report (a local file, not an upstream write) is made by :mod:`tui.reporting`; its functions
are re-exported here so that every key's action is found in one module.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import TYPE_CHECKING

from analysis.model import (
    Incident,
    IncidentStatus,
    PullRequest,
)
from analysis.pr_text import fix_branch, fix_pr_body, fix_pr_title, pr_note
from tui.audit import OK, REFUSED, REUSED, AuditLog, failed
from tui.audit import for_session as audit_log
from tui.reporting import collect_report_data, generate_report, write_report  # noqa: F401 - re-exported
from tui.session import SourceSet
from tui.sources.base import NotFoundError, ReadOnlyError, SourceError

if TYPE_CHECKING:
    from tui.investigation import (
        Investigation,  # the module loads pycparser: only for annotations
    )

_write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = weakref.WeakKeyDictionary()
"""Per event loop (an asyncio lock belongs to one loop), one lock per incident."""


def _incident_lock(incident: Incident) -> asyncio.Lock:
    """The lock serialising this process's writes on ``incident``."""
    locks = _write_locks.setdefault(asyncio.get_running_loop(), {})
    return locks.setdefault(incident.id, asyncio.Lock())


def _incident_target(incident: Incident) -> str:
    """How the audit log names an incident."""
    return f"incident {incident.id} (#{incident.number})"


def refuse(sources: SourceSet, action: str, target: str, what: str, audit: AuditLog | None = None) -> str:
    """Record a write refused by read-only mode and return the message to show.

    Args:
        sources: The session (its state directory holds the audit log).
        action: The audit action (``acknowledge``, ``pull_request``, ``merge``...).
        target: What would have been written.
        what: The write in words, for the message.
        audit: The log to record in; the session's when ``None``.
    """
    (audit or audit_log(sources)).record(action, target, what, REFUSED)
    return f"read-only mode: {what} refused (start without --read-only to allow writes)"


def _check_writable(sources: SourceSet, audit: AuditLog, action: str, target: str, what: str) -> None:
    """Raise :class:`ReadOnlyError` (recording the refusal) in read-only mode."""
    if sources.read_only:
        raise ReadOnlyError(refuse(sources, action, target, what, audit))


async def acknowledge(sources: SourceSet, incident: Incident, *, audit: AuditLog | None = None) -> Incident:
    """Acknowledge the incident unless it already is (as upstream says now, not as ``incident`` says).

    Re-reading first makes a retry after a timed-out (but successful) acknowledgement, or a
    second key press, a no-op instead of a second write.

    Args:
        sources: The session.
        incident: The incident (possibly stale).
        audit: Where to record the write; the session's audit log when ``None``.

    Raises:
        ReadOnlyError: In read-only mode.
        SourceError: The incident source failed.
    """
    audit = audit or audit_log(sources)
    target, request = _incident_target(incident), "set status to acknowledged"
    _check_writable(sources, audit, "acknowledge", target, "acknowledge")
    async with _incident_lock(incident):
        try:
            current = await sources.incidents.incident(incident.id)
            if current.status is not IncidentStatus.TRIGGERED:
                audit.record("acknowledge", target, f"{request} (already {current.status.value})", REUSED)
                return current
            acknowledged = await sources.incidents.acknowledge(incident.id)
        except SourceError as error:
            audit.record("acknowledge", target, request, failed(str(error)))
            raise
    audit.record("acknowledge", target, request, OK)
    return acknowledged


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


def note_links_pr(content: str, pr: PullRequest) -> bool:
    """Whether a note's text links ``pr``: its URL, or (no URL) the note :func:`pr_note` writes."""
    if pr.url:
        return pr.url in content
    return f"Fix PR opened: PR #{pr.number} (" in content


def _pr_note_text(incident: Incident, pr: PullRequest, investigation: Investigation | None) -> str:
    """The note linking ``pr``; a short one when the fix is not known (an adopted PR)."""
    if investigation is not None and investigation.fix is not None:
        return pr_note(incident, pr.number, pr.url, investigation.fix, investigation.fix_suspect)
    where = pr.url or f"PR #{pr.number}"
    return f"Fix PR opened: {where} (branch {pr.branch}) for incident #{incident.number}. Generated by incident-tui."


async def _ensure_pr_note(
    sources: SourceSet, incident: Incident, pr: PullRequest, investigation: Investigation | None, audit: AuditLog
) -> bool:
    """Add the note linking ``pr`` unless a note on the incident already links it.

    Returns:
        True when a note was added, False when one existed.
    """
    target = _incident_target(incident)
    request = f"note linking PR #{pr.number} ({pr.url or pr.branch})"
    try:
        notes = await sources.incidents.notes(incident.id)
        if any(note_links_pr(getattr(note, "content", "") or "", pr) for note in notes):
            audit.record("note", target, request, REUSED)
            return False
        await sources.incidents.add_note(incident.id, _pr_note_text(incident, pr, investigation))
    except SourceError as error:
        audit.record("note", target, request, failed(str(error)))
        raise
    audit.record("note", target, request, OK)
    return True


async def _branch_exists(sources: SourceSet, branch: str) -> bool | None:
    """Whether ``branch`` exists on the code host (``None``: could not tell), for the audit log."""
    try:
        await asyncio.to_thread(sources.code.parent_of, branch)
    except NotFoundError:
        return False
    except SourceError:
        return None
    return True


def _record_pr(audit: AuditLog, sources: SourceSet, pr: PullRequest, branch_existed: bool | None) -> None:
    """Audit the branch, the commit and the PR that one ``open_fix_pr`` call wrote or reused."""
    repo = sources.code.repository
    branch_result = REUSED if pr.reused or branch_existed else OK
    audit.record("branch", f"{repo}@{pr.branch}", f"create {pr.branch} from {pr.base}", branch_result)
    audit.record("commit", f"{repo}@{pr.branch}", f"fix commit {(pr.head_sha or '?')[:12]} on {pr.branch}",
                 branch_result)
    audit.record("pull_request", f"{repo}#{pr.number}", f"open {pr.branch} -> {pr.base}: {pr.title}",
                 REUSED if pr.reused else OK)


async def open_fix_pr(
    sources: SourceSet,
    incident: Incident,
    investigation: Investigation | None,
    *,
    report_name: str | None = None,
    add_note: bool = True,
    audit: AuditLog | None = None,
) -> PullRequest:
    """Open (or find) the fix PR on ``incident/<id>-fix`` and make sure a note links it.

    Idempotent: an existing PR for the incident is returned with ``reused=True``; an existing
    branch is reused; the note is added only when no note on the incident links the PR yet (so
    a note lost to a crash or a timeout after the PR was opened is added now, and only once).

    Args:
        sources: The session.
        incident: The incident the fix is for.
        investigation: The root-cause result holding the fix; only needed to open a new PR.
        report_name: The report's file name, mentioned in a new PR's body.
        add_note: Whether to make sure the incident has the note linking the PR.
        audit: Where to record the writes; the session's audit log when ``None``.

    Raises:
        ReadOnlyError: In read-only mode.
        SourceError: When there is no fix or an upstream fails.
    """
    audit = audit or audit_log(sources)
    branch = fix_branch(incident)
    target = f"{sources.code.repository}@{branch}"
    _check_writable(sources, audit, "pull_request", target, "opening the fix PR")
    async with _incident_lock(incident):
        try:
            pr = await asyncio.to_thread(sources.code.find_fix_pr, incident)
            if pr is not None:
                audit.record("pull_request", f"{sources.code.repository}#{pr.number}",
                             f"open {pr.branch} -> {pr.base}", REUSED)
            else:
                if investigation is None:
                    raise SourceError("no verified fix to propose yet")
                title, body = fix_pr_preview(incident, investigation, report_name)
                assert investigation.fix is not None  # fix_pr_preview raised otherwise
                branch_existed = await _branch_exists(sources, branch)
                pr = await asyncio.to_thread(sources.code.open_fix_pr, incident, investigation.fix, title, body)
                _record_pr(audit, sources, pr, branch_existed)
        except SourceError as error:
            audit.record("pull_request", target, f"open {branch} -> {sources.code.default_branch}", failed(str(error)))
            raise
        if add_note:
            await _ensure_pr_note(sources, incident, pr, investigation, audit)
    return pr


async def merge_demo_pr(sources: SourceSet, pr: PullRequest, *, audit: AuditLog | None = None) -> PullRequest:
    """Merge the fix PR in the demo (and redeploy); audited like every write.

    Raises:
        ReadOnlyError: In read-only mode.
        SourceError: Not the demo, or the merge failed.
    """
    audit = audit or audit_log(sources)
    target, request = f"{sources.code.repository}#{pr.number}", f"merge {pr.branch} into {pr.base}"
    _check_writable(sources, audit, "merge", target, "merging the PR")
    if sources.demo is None:
        raise SourceError("only the demo merges its own PRs; merge on the code host")
    if pr.merged_at is not None:
        audit.record("merge", target, request, REUSED)
        return pr
    try:
        merged = await asyncio.to_thread(sources.demo.merge_pr, pr)
    except SourceError as error:
        audit.record("merge", target, request, failed(str(error)))
        raise
    audit.record("merge", target, request, OK)
    return merged


def pr_target(sources: SourceSet, incident: Incident) -> str:
    """Where the PR goes and what else confirming writes, in words, for the preview."""
    return (f"branch {fix_branch(incident)} -> {sources.code.default_branch} of {sources.code.repository}\n"
            f"Also: a note on incident #{incident.number} linking the PR and summarising the root cause")
