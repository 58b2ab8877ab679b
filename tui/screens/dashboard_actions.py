"""The dashboard's keys: acknowledge, report, fix PR, merge (demo), time zone, zoom, focus, help.

Kept apart from the polling and layout in :mod:`tui.screens.dashboard`. Writes are async workers
(braindrop style): confirm with a modal, run the blocking call in a thread, report with ``notify``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import work

from analysis.model import IncidentStatus
from tui import operations
from tui.screens.modals import ConfirmScreen, HelpScreen, LogsScreen
from tui.screens.pull_request import PrPreviewScreen, PrViewScreen
from tui.screens.report import ReportScreen
from tui.sources.base import SourceError
from widgets.timeline import TimelineTable

if TYPE_CHECKING:
    from tui.screens.dashboard import DashboardScreen


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
        return True

    def _refuse_if_read_only(self: DashboardScreen, what: str) -> bool:
        """Tell the user a write is refused in read-only mode; True when it was."""
        if self.sources.read_only:
            self.notify(f"Read-only mode: {what} refused.", title="Read-only", severity="warning")
            return True
        return False

    @work(exclusive=True, group="acknowledge")
    async def action_acknowledge(self: DashboardScreen) -> None:
        """Acknowledge the incident after confirmation."""
        incident = self.incident
        if incident is None or self._refuse_if_read_only("acknowledge"):
            return
        question = f"Acknowledge incident #{incident.number}?"
        detail = f"{incident.title}\nThis tells {self.sources.mode} incident store that you are on it."
        if not await self.app.push_screen_wait(ConfirmScreen(question, detail, confirm_label="Acknowledge")):
            return
        try:
            self.incident = await operations.acknowledge(self.sources, incident)
        except SourceError as error:
            self.notify(str(error), title="Acknowledge failed", severity="error")
            return
        self.notify(f"Incident #{incident.number} acknowledged.")
        self.poll_incident()

    @work(exclusive=True, group="report")
    async def action_report(self: DashboardScreen) -> None:
        """Generate the incident report, save it and show it."""
        incident = self.incident
        if incident is None:
            return
        self.notify("Generating the incident report...")
        try:
            markdown, _summary, path = await operations.generate_report(
                self.sources, incident, self.investigation, self.pr
            )
        except (SourceError, OSError) as error:
            self.notify(str(error), title="Report failed", severity="error")
            return
        self.report_path = path
        self.notify(f"Report saved to {path}", title="Report")
        await self.app.push_screen(ReportScreen(markdown, path))

    @work(exclusive=True, group="pull-request")
    async def action_open_pr(self: DashboardScreen) -> None:
        """Preview the fix PR, open it on confirmation, then show it (merge key in the demo)."""
        incident, investigation = self.incident, self.investigation
        if incident is None:
            return
        if self.pr is None:
            existing = await asyncio.to_thread(self.sources.code.find_fix_pr, incident)
            if existing is None:
                if investigation is None or self._refuse_if_read_only("opening the fix PR"):
                    return
                report = getattr(self, "report_path", None)
                title, body = operations.fix_pr_preview(incident, investigation, report.name if report else None)
                target = operations.pr_target(self.sources, incident)
                assert investigation.fix is not None
                preview = PrPreviewScreen(title, body, investigation.fix.diff, target)
                if not await self.app.push_screen_wait(preview):
                    return
                try:
                    existing = await operations.open_fix_pr(
                        self.sources, incident, investigation, report_name=report.name if report else None
                    )
                except SourceError as error:
                    self.notify(str(error), title="Fix PR failed", severity="error")
                    return
                verb = "reused" if existing.reused else "opened"
                self.notify(f"PR #{existing.number} {verb} on {existing.branch}.", title="Fix PR")
            self.pr = existing
        choice = await self.app.push_screen_wait(PrViewScreen(self.pr, can_merge=self.sources.demo is not None))
        if choice == "merge":
            await self._merge_pr()

    async def _merge_pr(self: DashboardScreen) -> None:
        """Merge the fix PR in the demo and redeploy; the graph should flatten."""
        if self.sources.demo is None or self.pr is None or self._refuse_if_read_only("merging the PR"):
            return
        try:
            self.pr = await asyncio.to_thread(self.sources.demo.merge_pr, self.pr)
        except SourceError as error:
            self.notify(str(error), title="Merge failed", severity="error")
            return
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

    def action_help(self: DashboardScreen) -> None:
        """Show the key help."""
        self.app.push_screen(HelpScreen())
