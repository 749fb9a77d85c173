"""The main screen: sidebar of sessions, a tab per open conversation, header and footer.

It composes the widgets and runs actions; what the UI knows lives in the workspace
(``ui/workspace``), the feed of service events in ``core``, and the flows of sessions,
comparisons and the clipboard in their own modules.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer, TabbedContent, TabPane

from ....errors import CopilotTuiError, SessionNotFound
from ....service import CopilotClient
from ...keymap import MAIN_KEYS, bindings
from ...messages import OpenComparison, OpenSession, SessionAction, StartupDone
from ...widgets.chat_pane import ChatPane
from ...widgets.compare_view import CompareTab
from ...widgets.sidebar import Sidebar
from ...widgets.topbar import TopBar
from ...widgets.welcome import Welcome
from ...workspace import GroupTab, SessionTab, Workspace, decode
from .clipboard import ClipboardActions
from .compare import CompareFlows
from .core import ACTIVE_KEY, TABS_KEY
from .sessions import SessionFlows
from .steer import SteerFlows


class MainScreen(SessionFlows, CompareFlows, ClipboardActions, SteerFlows):
    BINDINGS = bindings(MAIN_KEYS)

    def __init__(
        self,
        client: CopilotClient,
        workspace: Workspace,
        *,
        start_session: str | None = None,
        start_model: str | None = None,
        show_sidebar: bool = True,
        show_meta: bool = True,
    ) -> None:
        super().__init__(client, workspace, show_meta=show_meta)
        self._start_session = start_session
        self._start_model = start_model
        self._show_sidebar = show_sidebar

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        with Horizontal(id="body"):
            yield Sidebar(self.workspace, id="sidebar")
            yield TabbedContent(id="tabs")
            yield Welcome(id="welcome")
        yield Footer()

    def on_mount(self) -> None:
        """MainCore.on_mount runs as well: Textual calls the handler of every class in the MRO."""
        self.sidebar.set_class(not self._show_sidebar, "-hidden")
        self.start_up()

    @work(group="startup")
    async def start_up(self) -> None:
        await self.refresh_sessions()
        await self.load_drafts()
        try:
            open_tabs = await self.client.get_state(TABS_KEY, []) or []
            active = decode(await self.client.get_state(ACTIVE_KEY))
        except CopilotTuiError:
            open_tabs, active = [], None
        for saved in open_tabs if isinstance(open_tabs, list) else []:
            tab = decode(saved)
            if isinstance(tab, GroupTab):
                await self.open_comparison(tab.group_id, activate=False, quiet=True)
            elif isinstance(tab, SessionTab) and tab.session_id in self.workspace.sessions:
                await self.open_session(tab.session_id, activate=False)
        if self._start_session:
            await self._open_or_create(self._start_session, self._start_model)
        elif active is not None and self.workspace.is_open(active):
            self._activate(active)
        self._restoring = False
        self.post_message(StartupDone())
        self._save_tabs()
        self._sync_active()
        if not self.workspace.tabs:
            self.query_one(Welcome).focus_input()

    async def _open_or_create(self, session_id: str, model: str | None) -> None:
        try:
            await self.client.resume_session(session_id)
        except SessionNotFound:
            try:
                await self.client.create_session(model, session_id=session_id)
            except CopilotTuiError as exc:
                self.notify(str(exc), severity="error", markup=False, timeout=10)
                return
            await self.refresh_sessions()
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False, timeout=10)
            return
        await self.open_session(session_id)

    # -- messages from widgets and dialogs ------------------------------------------------

    @on(OpenSession)
    async def _open_session(self, message: OpenSession) -> None:
        await self.open_session(message.session_id, message_id=message.message_id, seq=message.seq)

    @on(OpenComparison)
    async def _open_comparison(self, message: OpenComparison) -> None:
        await self.open_comparison(message.group_id)

    @on(SessionAction)
    def _session_action(self, message: SessionAction) -> None:
        tab = message.tab
        if message.action == "new":
            self.action_new_session()
        elif isinstance(tab, GroupTab) and message.action == "delete":
            self.delete_comparison_asked(tab.group_id)
        elif isinstance(tab, GroupTab) and message.action == "rename":
            self.notify("A comparison keeps the title of its first prompt.", markup=False)
        elif isinstance(tab, SessionTab) and message.action == "rename":
            self.rename(tab.session_id)
        elif isinstance(tab, SessionTab) and message.action == "delete":
            self.delete(tab.session_id)

    # -- moving around -------------------------------------------------------------------

    def action_toggle_sidebar(self) -> None:
        sidebar = self.sidebar
        sidebar.toggle_class("-hidden")
        if sidebar.has_class("-hidden") and sidebar.has_focus_within:
            self.action_focus_prompt()

    def action_focus_filter(self) -> None:
        self.sidebar.remove_class("-hidden")
        self.sidebar.focus_filter()

    def action_close_tab(self) -> None:
        active = self.workspace.active
        if active is not None:
            self.close_tab(active)

    def _tab_panes(self) -> list[TabPane]:
        return [p for p in self.tabs.query(TabPane) if isinstance(p, (ChatPane, CompareTab))]

    def _move(self, step: int) -> None:
        panes = self._tab_panes()
        if not panes:
            return
        active = self.tabs.active_pane
        index = panes.index(active) if active in panes else 0
        target = panes[(index + step) % len(panes)]
        if target.id:
            self._switch_to(target.id)

    def _switch_to(self, pane_id: str) -> None:
        """Show the tab now, in this key's own handling, not when the tab bar's message comes
        back: the prompt that takes the keys typed after it is then the new tab's."""
        self.tabs.active = pane_id
        self._sync_active()

    def action_prev_tab(self) -> None:
        self._move(-1)

    def action_next_tab(self) -> None:
        self._move(1)

    def action_goto_tab(self, number: int) -> None:
        panes = self._tab_panes()
        if 0 < number <= len(panes) and panes[number - 1].id:
            self._switch_to(panes[number - 1].id or "")
