"""Comparisons: start one from the dialog, show it as a tab, vote, the leaderboard, delete."""

from __future__ import annotations

from textual import on, work

from ....errors import CopilotTuiError
from ...safe import one_line
from ...votes import VoteChoice
from ...widgets.compare_view import CompareTab
from ...workspace import GroupTab
from ..compare_dialog import CompareRequest, CompareScreen
from ..leaderboard import LeaderboardScreen
from ..simple import ConfirmScreen
from ..vote import VoteScreen
from .dialogs import DialogHost


class CompareFlows(DialogHost):
    def action_leaderboard(self) -> None:
        def picked(group_id: str | None) -> None:
            if group_id:
                self.run_worker(self.open_comparison(group_id), group="compare-open")

        self._dialog(LeaderboardScreen(self.client), picked)

    @on(CompareTab.VoteRequested)
    def _vote_requested(self, message: CompareTab.VoteRequested) -> None:
        tab = message.tab
        current = "given (voting again changes it)" if tab.comparison.voted else None
        dialog = VoteScreen(tab.comparison.title, tab.vote_choices(), current=current)

        def chosen(choice: VoteChoice | None) -> None:
            if choice is not None:
                tab.record_vote(choice)

        self._dialog(dialog, chosen)

    @on(CompareTab.Voted)
    async def _voted(self, message: CompareTab.Voted) -> None:
        self._update_topbar()
        await self.refresh_sessions()  # a blind comparison's models appear in the sidebar

    def action_new_comparison(self) -> None:
        def chosen(request: CompareRequest | None) -> None:
            if request is not None:
                self.start_comparison(request)

        self._dialog(CompareScreen(self.client), chosen)

    @work(group="compare")
    async def start_comparison(self, request: CompareRequest) -> None:
        """Start it and show it. Nothing is replayed: what its panes' events said before the
        tab exists is in the workspace when the tab is made."""
        try:
            comparison = await self.client.compare(
                request.panes,
                request.prompt,
                request.system_message,
                blind=request.blind,
                tags=request.tags,
                mode="agent" if request.cwd else "chat",
                cwd=request.cwd,
            )
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False, timeout=10)
            return
        await self.add_comparison(comparison, fresh=True)
        self._activate(GroupTab(comparison.group_id))
        await self.refresh_sessions()

    def delete_comparison_asked(self, group_id: str) -> None:
        tab = self.compare_tab(group_id)
        group = self.workspace.groups.get(group_id)
        title = tab.comparison.title if tab else group.title if group else group_id

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.delete_comparison(group_id)

        self._dialog(
            ConfirmScreen(f"Delete the comparison “{one_line(title)}” and its panes' sessions?"),
            confirmed,
        )

    @work(group="delete")
    async def delete_comparison(self, group_id: str) -> None:
        self.close_tab(GroupTab(group_id))
        try:
            await self.client.delete_comparison(group_id, sessions=True)
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)
        await self.refresh_sessions()
