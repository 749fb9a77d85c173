"""The main screen's core: one feed of service events, and the tabs that show the workspace.

The service handler runs inside service tasks, so it only buffers reply text and posts
messages (``engine.live.route_event``). Each event is handed to the views showing its session
(a chat tab, a compare tab's pane: the same feed for both), then applied to the workspace,
whose changes relabel tabs, redraw the top bar and save tabs and drafts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from textual import on, work
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import TabbedContent

from .... import events as ev
from ....errors import CopilotTuiError
from ....service import CopilotClient
from ....service.compare import Comparison
from ...engine.access import set_tab_label, use_span_compositor
from ...engine.live import route_event
from ...engine.paint import paint_turns
from ...engine.tuning import CollectorPause
from ...messages import ServiceEvent, StreamDirty
from ...safe import one_line
from ...widgets.chat_pane import ChatPane
from ...widgets.compare_view import CompareTab
from ...widgets.sidebar import Sidebar
from ...widgets.topbar import TopBar
from ...workspace import (
    Change,
    DraftChanged,
    GroupTab,
    InfoChanged,
    MarkChanged,
    NoteChanged,
    SessionTab,
    Tab,
    TabsChanged,
    Workspace,
    encode,
)
from .labels import group_label, session_label

TABS_KEY = "ui.open_tabs"
ACTIVE_KEY = "ui.active_tab"
TICK = 0.12  # spinner frame time
SIDEBAR_SETTLE = 0.3  # seconds a sidebar rebuild waits for more while replies stream

View = ChatPane | CompareTab


class MainCore(Screen[None]):
    # Focus is placed on purpose (the active prompt, or back where a dialog was opened from);
    # auto-focus on resume would grab the sidebar filter before that happens.
    AUTO_FOCUS = ""

    def __init__(
        self, client: CopilotClient, workspace: Workspace, *, show_meta: bool = True
    ) -> None:
        super().__init__()
        use_span_compositor(self)  # scattered changes draw alone (see engine.compositor)
        self.client = client
        self.workspace = workspace
        self._show_meta = show_meta
        self._views: dict[Tab, View] = {}
        self._frame = 0
        self._pane_counter = 0
        self._unsubscribe: list[Callable[[], None]] = []
        self._restoring = True
        self._loaded_drafts: dict[str, str] = {}
        self._draft_pending: set[str] = set()  # sessions whose save has not started yet
        self._draft_tasks: set[asyncio.Task[None]] = set()

    @property
    def restoring(self) -> bool:
        """Still reading sessions and reopening the tabs of the last run."""
        return self._restoring

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one("#tabs", TabbedContent)

    @property
    def sidebar(self) -> Sidebar:
        return self.query_one(Sidebar)

    def on_mount(self) -> None:
        self._unsubscribe = [
            self.client.on(self._from_service),
            self.workspace.subscribe(self._workspace_changed),
        ]
        self.set_interval(TICK, self._tick)

    def on_unmount(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()

    # -- the one feed of service events --------------------------------------------------

    def _from_service(self, event: ev.SessionEvent) -> None:
        """Runs inside service tasks: buffer text, post a message, nothing more."""
        route_event(self.workspace.live, event, self.post_message)

    @on(StreamDirty)
    def _stream_dirty(self, message: StreamDirty) -> None:
        for tab in self.workspace.tabs_showing(message.session_id):
            view = self._views.get(tab)
            if view is not None:
                view.text_arrived(message.session_id)

    @on(ServiceEvent)
    def _service_event(self, message: ServiceEvent) -> None:
        event = message.event
        sid, kind = event.session_id, event.type
        shown = self.workspace.tabs_showing(sid)
        for tab in shown:
            view = self._views.get(tab)
            if view is not None:
                view.handle_event(event)
        if kind == ev.SESSION_ERROR and not shown and self.workspace.group_of(sid) is None:
            title = one_line(self.workspace.title(sid))
            self.notify(f"{title}: {event.data.message}", severity="error", markup=False)
        # After the views: a reply's end is read from the live text, which the workspace
        # then marks finished.
        self.workspace.apply(event)
        if kind in (
            ev.SESSION_IDLE,
            ev.SESSION_CREATED,
            ev.TITLE_CHANGED,
            ev.MODEL_CHANGE,
            ev.SESSION_DELETED,
            ev.BRANCH_CHANGED,
        ):
            self.refresh_sessions_soon()

    # -- the workspace's changes ---------------------------------------------------------

    def _workspace_changed(self, change: Change) -> None:
        if isinstance(change, MarkChanged):
            self._relabel_session(change.session_id)
        elif isinstance(change, InfoChanged):
            self._relabel_session(change.session_id)
            self._update_topbar()
        elif isinstance(change, NoteChanged):
            if change.session_id == self.workspace.active_session:
                self._update_topbar()
        elif isinstance(change, TabsChanged):
            self._drop_closed_views()
            self._save_tabs()
        elif isinstance(change, DraftChanged):
            if self._loaded_drafts.get(change.session_id) != change.text:
                self._save_draft(change.session_id)

    def _relabel_session(self, sid: str, *, spin: bool = False) -> None:
        view = self._views.get(SessionTab(sid))
        if view is not None:
            self._set_label(view, session_label(self.workspace, sid, self._frame), spin)
        group_id = self.workspace.group_of(sid)
        if group_id is not None:
            self._relabel_group(group_id, spin=spin)

    def _relabel_group(self, group_id: str, *, spin: bool = False) -> None:
        view = self._views.get(GroupTab(group_id))
        if isinstance(view, CompareTab):
            label = group_label(self.workspace, group_id, view.comparison.title, self._frame)
            self._set_label(view, label, spin)

    def _set_label(self, view: View, label: Any, spin: bool) -> None:
        if not view.is_mounted or view.id is None:
            return
        try:
            set_tab_label(self.tabs.get_tab(view.id), label, spin=spin)
        except (NoMatches, ValueError):
            pass

    def _tick(self) -> None:
        """A spinner frame, in its own paint turn: the sidebar and the tab bar span the screen,
        so sharing a frame with a pane would repaint everything in between."""
        paint_turns(self.app).request(self, self._spin, "spin")

    def _spin(self) -> None:
        self._frame += 1
        self.sidebar.tick(self._frame)
        workspace = self.workspace
        for tab in workspace.tabs:
            if isinstance(tab, SessionTab):
                if workspace.mark(tab.session_id) == "streaming":
                    view = self._views.get(tab)
                    if view is not None:
                        label = session_label(workspace, tab.session_id, self._frame)
                        self._set_label(view, label, spin=True)
            elif workspace.group_mark(tab.group_id, live_only=True) is not None:
                self._relabel_group(tab.group_id, spin=True)

    # -- session list --------------------------------------------------------------------

    async def refresh_sessions(self) -> None:
        try:
            sessions = await self.client.list_sessions()
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        try:
            groups = await self.client.list_comparisons()
        except CopilotTuiError:
            groups = []
        self.workspace.set_sessions(sessions, groups)
        for tab in self.workspace.tabs:
            if isinstance(tab, SessionTab):
                self._relabel_session(tab.session_id)
        self._update_topbar()

    @work(group="sessions", exclusive=True)
    async def refresh_sessions_soon(self) -> None:
        if CollectorPause.active:
            # Replies are streaming: side-by-side panes end together, and each rebuild re-reads
            # the list and repaints the whole sidebar. A newer request cancels this one, so a
            # burst of ends rebuilds once.
            await asyncio.sleep(SIDEBAR_SETTLE)
        try:
            await self.refresh_sessions()
        except NoMatches:
            pass  # the app is closing and its widgets are gone (quitting while replies stream)

    # -- views of tabs -------------------------------------------------------------------

    def chat_pane(self, session_id: str) -> ChatPane | None:
        """The conversation tab of a session, when it is open."""
        view = self._views.get(SessionTab(session_id))
        return view if isinstance(view, ChatPane) else None

    def compare_tab(self, group_id: str) -> CompareTab | None:
        view = self._views.get(GroupTab(group_id))
        return view if isinstance(view, CompareTab) else None

    @property
    def active_pane(self) -> ChatPane | None:
        pane = self.tabs.active_pane
        return pane if isinstance(pane, ChatPane) else None

    @property
    def active_session_id(self) -> str | None:
        pane = self.active_pane
        return pane.session_id if pane else None

    @property
    def active_compare(self) -> CompareTab | None:
        pane = self.tabs.active_pane
        return pane if isinstance(pane, CompareTab) else None

    def _tab_of(self, view: object) -> Tab | None:
        if isinstance(view, ChatPane):
            return SessionTab(view.session_id)
        if isinstance(view, CompareTab):
            return GroupTab(view.group_id)
        return None

    def _activate(self, tab: Tab) -> None:
        view = self._views.get(tab)
        if view is not None and view.id:
            self.tabs.active = view.id
            self._sync_active()

    async def open_session(
        self,
        sid: str,
        *,
        activate: bool = True,
        message_id: str | None = None,
        seq: int | None = None,
    ) -> None:
        """Open (or show) a session's conversation tab, optionally revealing one message."""
        tab = SessionTab(sid)
        pane = self.chat_pane(sid)
        if pane is None:
            try:
                session = await self.client.resume_session(sid)
            except CopilotTuiError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            if (pane := self.chat_pane(sid)) is None:  # not opened meanwhile
                self._pane_counter += 1
                pane = ChatPane(
                    session,
                    self.workspace,
                    session_label(self.workspace, sid, self._frame),
                    id=f"pane-{self._pane_counter}",
                    show_meta=self._show_meta,
                )
                self._views[tab] = pane
                self.workspace.open(tab)
                await self.tabs.add_pane(pane)
                pane.set_visible(False)
                self._relabel_session(sid)
        if activate:
            self._activate(tab)
        if message_id:
            pane.reveal(message_id, seq)

    async def open_comparison(
        self, group_id: str, *, activate: bool = True, quiet: bool = False
    ) -> None:
        """Open (or show) a stored comparison's tab."""
        if self.compare_tab(group_id) is None:
            try:
                comparison = await self.client.open_comparison(group_id)
            except CopilotTuiError as exc:
                if not quiet:
                    self.notify(str(exc), severity="error", markup=False)
                return
            if self.compare_tab(group_id) is None:
                await self.add_comparison(comparison)
        if activate:
            self._activate(GroupTab(group_id))

    async def add_comparison(self, comparison: Comparison, *, fresh: bool = False) -> CompareTab:
        """Mount a compare tab. Its panes start from what the workspace holds (``fresh``: a
        comparison started here, whose first turn the events told) or from their history, and
        take events from the feed once they exist: nothing is replayed."""
        tab = GroupTab(comparison.group_id)
        self.workspace.add_comparison(comparison.group_id, [p.session_id for p in comparison.panes])
        self._pane_counter += 1
        view = CompareTab(
            comparison,
            self.workspace,
            group_label(self.workspace, comparison.group_id, comparison.title, self._frame),
            id=f"pane-{self._pane_counter}",
            show_meta=self._show_meta,
            fresh=fresh,
        )
        self._views[tab] = view
        self.workspace.open(tab)
        await self.tabs.add_pane(view)
        view.set_visible(False)
        self._relabel_group(comparison.group_id)
        return view

    def close_tab(self, tab: Tab) -> None:
        self.workspace.close(tab)

    def _drop_closed_views(self) -> None:
        """Views of tabs the workspace no longer holds leave the tab bar."""
        open_tabs = set(self.workspace.tabs)
        closed = [tab for tab in self._views if tab not in open_tabs]
        for tab in closed:
            view = self._views.pop(tab)
            if view.id is not None and view.is_attached:
                self.tabs.remove_pane(view.id)
        if closed:
            self.call_after_refresh(self._sync_active)

    @on(TabbedContent.TabActivated, "#tabs")
    @on(TabbedContent.Cleared, "#tabs")
    def _tab_activated(self) -> None:
        self._sync_active()

    def _sync_active(self) -> None:
        """The tab bar's active tab is the workspace's (which then shows it)."""
        self.workspace.activate(self._tab_of(self.tabs.active_pane))
        self._show_active()

    def _show_active(self) -> None:
        self._update_empty()
        active = self.tabs.active_pane
        for view in self._views.values():
            if view.is_mounted:
                view.set_visible(view is active)
        self._update_topbar()
        if not self._restoring:
            self._save_active()

    def _update_empty(self) -> None:
        """Overridden by the screen: the welcome when no tab is open."""

    def _update_topbar(self) -> None:
        bar = self.query_one(TopBar)
        compare = self.active_compare
        if compare is not None:
            comparison = compare.comparison
            bar.session_id = f"{len(comparison.panes)} models"
            bar.session_title = f"⚖ {comparison.title}"
            bar.model = "blind" if comparison.hidden else ", ".join(comparison.models)
            bar.note = ""
            return
        sid = self.active_session_id
        info = self.workspace.info(sid) if sid else None
        bar.session_id = sid or ""
        bar.session_title = info.title if info else ""
        bar.model = info.model if info else ""
        bar.note = self.workspace.note(sid) if sid else ""

    # -- saving --------------------------------------------------------------------------

    @work(group="save-tabs", exclusive=True)
    async def _save_tabs(self) -> None:
        if self._restoring:
            return
        try:
            await self.client.set_state(TABS_KEY, [encode(t) for t in self.workspace.tabs])
        except CopilotTuiError:
            pass

    @work(group="save-active", exclusive=True)
    async def _save_active(self) -> None:
        active = self.workspace.active
        try:
            await self.client.set_state(ACTIVE_KEY, encode(active) if active else None)
        except CopilotTuiError:
            pass

    async def load_drafts(self) -> None:
        try:
            drafts = await self.client.list_drafts()
        except CopilotTuiError:
            return
        self._loaded_drafts = drafts  # news to the workspace, not to the store
        try:
            self.workspace.load_drafts(drafts)
        finally:
            self._loaded_drafts = {}

    def _save_draft(self, sid: str) -> None:
        """Keep a session's draft in the store, written in the order typed.

        A plain task, not a worker: quitting cancels workers, and the last keys before a quit
        must still reach the store (writes queue on the store's one thread, so the last
        submitted wins). Keys typed before a save has started are saved by it.
        """
        if sid in self._draft_pending:
            return
        self._draft_pending.add(sid)
        task = asyncio.get_running_loop().create_task(self._store_draft(sid))
        self._draft_tasks.add(task)
        task.add_done_callback(self._draft_tasks.discard)

    async def _store_draft(self, sid: str) -> None:
        self._draft_pending.discard(sid)
        text = self.workspace.draft(sid)
        with contextlib.suppress(CopilotTuiError):  # the draft stays in the workspace
            await self.client.set_draft(sid, text)
