"""The dashboard's keys: acknowledge, report, fix PR, merge (demo), time zone, zoom, focus, help.

Kept apart from the polling and layout in :mod:`tui.screens.dashboard`. Writes are async workers
(braindrop style): confirm with a modal, run the blocking call in a thread, report with ``notify``.
A write key pressed again while its write is still running is told to wait (never a second write,
never a cancelled first one); read-only mode refuses writes with a message and an audit record
and shows a READ-ONLY bar above the footer.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import work
from textual.widgets import Static

from analysis.model import IncidentStatus
from analysis.pr_text import fix_branch
from tui import operations
from tui.audit import OK, AuditLog
from tui.screens.modals import ConfirmScreen, HelpScreen, LogsScreen
from tui.sources.base import SourceError
from widgets.timeline import TimelineTable

if TYPE_CHECKING:
    from tui.screens.dashboard import DashboardScreen

READ_ONLY_BANNER = "READ-ONLY: no ack, note, fix PR or merge; reports are saved locally"
"""The bar above the footer in read-only mode (fits 80 columns)."""


class DashboardActions:
    """Mixin holding the dashboard's ``action_*`` methods."""

    def check_action(self: DashboardScreen, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out keys that do not apply yet (or any more)."""
        if action == "acknowledge":
            return True if self.incident and self.incident.status is IncidentStatus.TRIGGERED else None
        if action == "report":
            return True if self.incident else None
        if action == "open_pr":
            has_fix = self.investigation is not None and self.investigation.fix is not None
            return True if self.incident and (has_fix or self.pr) else None
        if action == "refresh_now":
            # Only the slow-link mode needs it (and normal mode's footer stays as it was).
            return self.sources.low_bandwidth
        return True

    def _on_mount(self: DashboardScreen) -> None:
        """Show the read-only bar above the footer.

        Textual calls the mount handler of every class in the screen's MRO, so this runs as well
        as the screen's own ``on_mount``; the bar lives with the keys it explains.
        """
        if self.sources.read_only:
            banner = Static(READ_ONLY_BANNER, id="read-only-banner", markup=False)
            self.mount(banner, after=self.query_one("#panes"))

    def _audit(self: DashboardScreen) -> AuditLog:
        """A fresh handle on the session's audit log (it collects this action's failures)."""
        return operations.audit_log(self.sources)

    def _report_audit_failures(self: DashboardScreen, audit: AuditLog) -> None:
        """Tell the user when the audit log could not be written (the write itself stands)."""
        for failure in audit.failures:
            self.notify(failure, title="Audit log", severity="warning")

    def _refuse_if_read_only(self: DashboardScreen, action: str, target: str, what: str) -> bool:
        """Tell the user (and the audit log) a write is refused in read-only mode; True when it was."""
        if not self.sources.read_only:
            return False
        audit = self._audit()
        message = operations.refuse(self.sources, action, target, what, audit)
        self.notify(message[:1].upper() + message[1:] + ".", title="Read-only", severity="warning")
        self._report_audit_failures(audit)
        return True

    def _start_write(self: DashboardScreen, what: str) -> bool:
        """Claim the ``what`` write; False (and a notice) when one is still running.

        A second key press while the first write is in flight must not start (or cancel) a
        second write: exclusive workers would cancel the first mid-request.
        """
        busy: set[str] = self.__dict__.setdefault("_writes_in_progress", set())
        if what in busy:
            self.notify(f"{what} is already in progress.", title="Please wait")
            return False
        busy.add(what)
        return True

    def _end_write(self: DashboardScreen, what: str) -> None:
        """Release the ``what`` write."""
        self.__dict__.setdefault("_writes_in_progress", set()).discard(what)

    @work(group="acknowledge")
    async def action_acknowledge(self: DashboardScreen) -> None:
        """Acknowledge the incident after confirmation."""
        incident = self.incident
        if incident is None:
            return
        if self._refuse_if_read_only("acknowledge", f"incident {incident.id} (#{incident.number})", "acknowledge"):
            return
        if not self._start_write("Acknowledging"):
            return
        try:
            question = f"Acknowledge incident #{incident.number}?"
            detail = f"{incident.title}\nThis tells {self.sources.mode} incident store that you are on it."
            if not await self.app.push_screen_wait(ConfirmScreen(question, detail, confirm_label="Acknowledge")):
                return
            audit = self._audit()
            try:
                self.incident = await operations.acknowledge(self.sources, incident, audit=audit)
            except SourceError as error:
                self.notify(str(error), title="Acknowledge failed", severity="error")
                return
            finally:
                self._report_audit_failures(audit)
        finally:
            self._end_write("Acknowledging")
        self.notify(f"Incident #{incident.number} acknowledged.")
        self._tick_incident()  # read it back now (unless a read is under way or backing off)

    @work(group="report")
    async def action_report(self: DashboardScreen) -> None:
        """Generate the incident report, save it and show it (a local file: allowed when read-only)."""
        incident = self.incident
        if incident is None or not self._start_write("The report"):
            return
        self.notify("Generating the incident report...")
        audit = self._audit()
        try:
            markdown, _summary, path = await operations.generate_report(
                self.sources, incident, self.investigation, self.pr, audit=audit
            )
        except (SourceError, OSError) as error:
            self.notify(str(error), title="Report failed", severity="error")
            return
        finally:
            self._report_audit_failures(audit)
            self._end_write("The report")
        self.report_path = path
        self.notify(f"Report saved to {path}", title="Report")
        from tui.screens.report import ReportScreen  # here: Markdown is not needed for the first frame

        await self.app.push_screen(ReportScreen(markdown, path))

    @work(group="pull-request")
    async def action_open_pr(self: DashboardScreen) -> None:
        """Preview the fix PR, open it on confirmation, then show it (merge key in the demo)."""
        incident = self.incident
        if incident is None or not self._start_write("The fix PR"):
            return
        try:
            if self.pr is None and not await self._find_or_open_pr():
                return
        finally:
            self._end_write("The fix PR")
        assert self.pr is not None
        from tui.screens.pull_request import PrViewScreen  # here: not needed for the first frame

        choice = await self.app.push_screen_wait(PrViewScreen(self.pr, can_merge=self.sources.demo is not None))
        if choice == "merge":
            await self._merge_pr()

    async def _find_or_open_pr(self: DashboardScreen) -> bool:
        """Set ``self.pr``: an existing fix PR (completing its note), else one opened after the preview.

        Returns:
            Whether there is a PR to show.
        """
        incident, investigation = self.incident, self.investigation
        assert incident is not None
        existing = await asyncio.to_thread(self.sources.code.find_fix_pr, incident)
        if existing is None:
            target = f"{self.sources.code.repository}@{fix_branch(incident)}"
            if investigation is None or self._refuse_if_read_only("pull_request", target, "opening the fix PR"):
                return False
            report = getattr(self, "report_path", None)
            title, body = operations.fix_pr_preview(incident, investigation, report.name if report else None)
            assert investigation.fix is not None
            from tui.screens.pull_request import PrPreviewScreen  # here: not needed for the first frame

            preview = PrPreviewScreen(title, body, investigation.fix.diff, operations.pr_target(self.sources, incident))
            if not await self.app.push_screen_wait(preview):
                return False
        elif self.sources.read_only:
            self.pr = existing  # reading is fine; completing a missing note is a write, refused
            return True
        # Opening, or reusing an existing PR: either way the note linking it is added if missing
        # (a crash or a timeout may have come between the PR and the note).
        audit = self._audit()
        try:
            report = getattr(self, "report_path", None)
            pr = await operations.open_fix_pr(
                self.sources, incident, investigation, report_name=report.name if report else None, audit=audit
            )
        except SourceError as error:
            self.notify(str(error), title="Fix PR failed", severity="error")
            if existing is None:
                return False
            pr = existing  # the PR exists; only its note failed: show the PR anyway
        finally:
            self._report_audit_failures(audit)
        if existing is None:
            verb = "reused" if pr.reused else "opened"
            self.notify(f"PR #{pr.number} {verb} on {pr.branch}.", title="Fix PR")
        elif any(entry["action"] == "note" and entry["result"] == OK for entry in audit.entries):
            self.notify(f"Added the missing note linking PR #{pr.number} to incident #{incident.number}.",
                        title="Fix PR")
        self.pr = pr
        return True

    async def _merge_pr(self: DashboardScreen) -> None:
        """Merge the fix PR in the demo and redeploy; the graph should flatten."""
        if self.sources.demo is None or self.pr is None:
            return
        pr = self.pr
        if self._refuse_if_read_only("merge", f"{self.sources.code.repository}#{pr.number}", "merging the PR"):
            return
        audit = self._audit()
        try:
            self.pr = await operations.merge_demo_pr(self.sources, pr, audit=audit)
        except SourceError as error:
            self.notify(str(error), title="Merge failed", severity="error")
            return
        finally:
            self._report_audit_failures(audit)
        self.notify(f"PR #{self.pr.number} merged; redeploying the worker from the fix.", title="Merged")

    def action_toggle_time(self: DashboardScreen) -> None:
        """Switch the timeline between UTC and local time."""
        timeline = self.query_one(TimelineTable)
        timeline.show_local = not timeline.show_local
        self.notify("Timeline in local time." if timeline.show_local else "Timeline in UTC.")

    def action_memory_window(self: DashboardScreen) -> None:
        """Cycle the memory graph between 5 minutes, 1 hour and 12 hours of history."""
        from tui.screens.dashboard_views import MEMORY_WINDOWS

        self.memory_window = (self.memory_window + 1) % len(MEMORY_WINDOWS)
        minutes = int(MEMORY_WINDOWS[self.memory_window].total_seconds() // 60)
        self.notify(f"Memory graph: last {minutes // 60} h" if minutes >= 60 else f"Memory graph: last {minutes} min")

    def action_zoom(self: DashboardScreen) -> None:
        """Zoom the active pane to the whole screen, or restore the layout."""
        from tui.screens.dashboard import PANES, Pane

        if self.maximized is not None:
            self.minimize()
            return
        self.maximize(self.query_one(f"#{PANES[self.active_pane][0]}", Pane), container=False)

    def action_focus_pane(self: DashboardScreen, index: int) -> None:
        """Bring pane ``index`` to the front and focus its view."""
        from tui.screens.dashboard import PANES, Pane

        self.active_pane = index
        pane = self.query_one(f"#{PANES[index][0]}", Pane)
        if self.maximized is not None:
            self.maximize(pane, container=False)
        for widget in pane.query("*"):
            if widget.focusable:
                widget.focus()
                return

    def action_cycle_pane(self: DashboardScreen, step: int) -> None:
        """Focus the next (or previous) pane; in compact mode it also comes to the front.

        Tab moves by pane rather than by widget because hidden panes (compact mode) are not in
        Textual's focus chain, and each pane has one focusable view anyway.
        """
        from tui.screens.dashboard import PANES

        self.action_focus_pane((self.active_pane + step) % len(PANES))

    @work(exclusive=True, group="logs")
    async def action_previous_logs(self: DashboardScreen) -> None:
        """Show the killed run's output (read in a thread: it may be an API call)."""
        try:
            text = await asyncio.to_thread(self.sources.workload.previous_logs, 200)
        except Exception as error:  # a failed read is a message, never a crash
            self.notify(str(error) or type(error).__name__, title="Previous logs", severity="error")
            return
        info = self._info
        title = f"Previous run of {info.container} in {info.pod} (last 200 lines)" if info else "Previous run"
        await self.app.push_screen(LogsScreen(title, text))

    def action_refresh_now(self: DashboardScreen) -> None:
        """Poll every upstream now (low-bandwidth mode, where the automatic reads are far apart)."""
        asked = self._poll_everything_now()
        self.notify(f"Refreshing: {', '.join(asked)}.", timeout=3)

    def action_help(self: DashboardScreen) -> None:
        """Show the key help."""
        self.app.push_screen(HelpScreen())
