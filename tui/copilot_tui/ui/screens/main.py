"""The main screen: sidebar of sessions, a tab per open conversation, header and footer.

It subscribes to the service's events. The handler runs inside service tasks, so it only
buffers reply text and posts messages; everything visible happens in the message handlers.
A comparison is a tab too (a CompareTab), fed the same events for its panes' sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.command import SimpleCommand
from textual.containers import Horizontal
from textual.content import Content
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, TabbedContent, TabPane

from ... import events as ev
from ...errors import CopilotTuiError, SessionNotFound
from ...service import CopilotClient
from ...service.compare import Comparison
from ...types import SessionInfo
from ..engine.access import hold_keys, set_tab_label, use_span_compositor
from ..engine.live import LiveText, route_event
from ..engine.paint import paint_turns
from ..engine.tuning import CollectorPause
from ..keymap import MAIN_KEYS, bindings
from ..messages import (
    OpenComparison,
    OpenSession,
    ServiceEvent,
    SessionAction,
    StartupDone,
    StreamDirty,
)
from ..safe import one_line
from ..widgets.chat_pane import ChatPane
from ..widgets.compare_view import CompareTab, keep_text
from ..widgets.marks import mark
from ..widgets.prompt import Prompt
from ..widgets.sidebar import GROUP_PREFIX, Sidebar, group_option
from ..widgets.topbar import TopBar
from ..widgets.welcome import Welcome
from .compare_dialog import CompareRequest, CompareScreen
from .login import LoginScreen
from .new_session import NewSessionRequest, NewSessionScreen
from .search import SearchScreen
from .simple import ConfirmScreen, RenameScreen
from .switch_model import SwitchModelScreen

TABS_KEY = "ui.open_tabs"
ACTIVE_KEY = "ui.active_tab"
TAB_TITLE = 22
TICK = 0.12  # spinner frame time
SIDEBAR_SETTLE = 0.3  # seconds a sidebar rebuild waits for more while replies stream


class MainScreen(Screen[None]):
    BINDINGS = bindings(MAIN_KEYS)
    # Focus is placed on purpose (the active prompt, or back where a dialog was opened from);
    # auto-focus on resume would grab the sidebar filter before that happens.
    AUTO_FOCUS = ""

    def __init__(
        self,
        client: CopilotClient,
        live: LiveText,
        *,
        start_session: str | None = None,
        start_model: str | None = None,
        show_sidebar: bool = True,
        show_meta: bool = True,
    ) -> None:
        super().__init__()
        use_span_compositor(self)  # scattered changes draw alone (see engine.compositor)
        self.client = client
        self.live = live
        self._start_session = start_session
        self._start_model = start_model
        self._show_sidebar = show_sidebar
        self._show_meta = show_meta
        self._panes: dict[str, ChatPane] = {}
        self._compares: dict[str, CompareTab] = {}  # by group id
        self._compare_of: dict[str, CompareTab] = {}  # by pane session id
        self._compare_marks: dict[str, str | None] = {}  # the mark each compare tab label shows
        self._capture: list[ev.SessionEvent] | None = None  # events while a comparison starts
        self._infos: dict[str, SessionInfo] = {}
        self._errored: set[str] = set()
        self._frame = 0
        self._pane_counter = 0
        self._unsubscribe: Callable[[], None] | None = None
        self._restoring = True
        self._checking_providers = False

    # -- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        with Horizontal(id="body"):
            yield Sidebar(id="sidebar")
            yield TabbedContent(id="tabs")
            yield Welcome(id="welcome")
        yield Footer()

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one("#tabs", TabbedContent)

    @property
    def sidebar(self) -> Sidebar:
        return self.query_one(Sidebar)

    def on_mount(self) -> None:
        self.sidebar.set_class(not self._show_sidebar, "-hidden")
        self._unsubscribe = self.client.on(self._from_service)
        self.set_interval(TICK, self._tick)
        self.start_up()

    def on_unmount(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()

    @work(group="startup")
    async def start_up(self) -> None:
        await self.refresh_sessions()
        try:
            open_tabs = await self.client.get_state(TABS_KEY, []) or []
            active = await self.client.get_state(ACTIVE_KEY)
        except CopilotTuiError:
            open_tabs, active = [], None
        for session_id in open_tabs:
            if isinstance(session_id, str) and session_id.startswith(GROUP_PREFIX):
                await self._open_compare(
                    session_id.removeprefix(GROUP_PREFIX), activate=False, quiet=True
                )
            elif isinstance(session_id, str) and session_id in self._infos:
                await self._open(session_id, activate=False)
        if self._start_session:
            await self._open_or_create(self._start_session, self._start_model)
        elif isinstance(active, str) and active in self._panes:
            self.tabs.active = self._panes[active].id or ""
        elif isinstance(active, str) and active.removeprefix(GROUP_PREFIX) in self._compares:
            self.tabs.active = self._compares[active.removeprefix(GROUP_PREFIX)].id or ""
        self._restoring = False
        self.post_message(StartupDone())
        self._save_tabs()
        self._on_active_changed()
        if not self._panes and not self._compares:
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
        await self._open(session_id)

    # -- service events ------------------------------------------------------------------

    def _from_service(self, event: ev.SessionEvent) -> None:
        """Runs inside service tasks: buffer text, post a message, nothing more."""
        route_event(self.live, event, self.post_message)

    @on(StreamDirty)
    def _stream_dirty(self, message: StreamDirty) -> None:
        pane = self._panes.get(message.session_id)
        if pane is not None and pane.is_mounted:
            pane.conversation.text_arrived()
        compare = self._compare_of.get(message.session_id)
        if compare is not None:
            compare.text_arrived(message.session_id)

    @on(ServiceEvent)
    def _service_event(self, message: ServiceEvent) -> None:
        event = message.event
        sid = event.session_id
        pane = self._panes.get(sid)
        if pane is not None and pane.is_mounted:
            pane.handle_event(event)
        compare = self._compare_of.get(sid)
        if compare is not None:
            compare.handle_event(event)
        elif self._capture is not None:
            self._capture.extend(keep_text(event, self.live))
        kind = event.type
        if kind == ev.TURN_START:
            self._errored.discard(sid)
            self._set_mark(sid, "streaming")
        elif kind == ev.SESSION_STATUS and event.data.get("state") in ("streaming", "waiting"):
            self._set_mark(sid, event.data.state)
            if sid == self.active_session_id:
                self.query_one(TopBar).note = event.data.get("status") or ""
        elif kind == ev.SESSION_ERROR:
            self._errored.add(sid)
            if (
                pane is None
                and compare is None
                and self._capture is None
                and not self._grouped(sid)
            ):
                self.notify(
                    f"{self._title_of(sid)}: {event.data.message}", severity="error", markup=False
                )
        elif kind == ev.SESSION_IDLE:
            message_id = event.data.get("message_id")
            if message_id:
                self.live.finish(sid, message_id)
            if sid in self._errored:
                self._set_mark(sid, "error")
            elif sid not in self._shown_sessions() and event.data.get("status") == "complete":
                self._set_mark(sid, "unread")
            else:
                self._set_mark(sid, None)
            if sid == self.active_session_id:
                self.query_one(TopBar).note = ""
            self.refresh_sessions_soon()
        elif kind in (ev.SESSION_CREATED, ev.TITLE_CHANGED, ev.MODEL_CHANGE):
            if kind == ev.TITLE_CHANGED and sid in self._infos:
                self._infos[sid].title = event.data.title
                self._relabel(sid)
            if kind == ev.MODEL_CHANGE and sid in self._infos:
                self._infos[sid].model = event.data.model
            self._update_topbar()
            self.refresh_sessions_soon()
        elif kind == ev.SESSION_DELETED:
            if pane is not None:
                self._close(sid)
            self._infos.pop(sid, None)
            self.refresh_sessions_soon()

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
        self._infos = {s.session_id: s for s in sessions}
        self.sidebar.set_sessions(sessions, groups)
        for sid in self._panes:
            self._relabel(sid)
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

    def _title_of(self, sid: str) -> str:
        info = self._infos.get(sid)
        return one_line(info.title) if info and info.title else sid

    # -- marks ---------------------------------------------------------------------------

    def _set_mark(self, sid: str, state: str | None) -> None:
        self.sidebar.set_mark(sid, state)
        self._relabel(sid)

    def _tab_label(self, sid: str) -> Content:
        label = Text.assemble(mark(self.sidebar.get_mark(sid), self._frame), " ")
        info = self._infos.get(sid)
        title = Text(one_line(info.title) if info and info.title else "(untitled)")
        if info is not None and info.group_id:  # a comparison's pane: its model tells it apart
            title = Text(f"{one_line(info.model).rsplit('/', 1)[-1]} · {title.plain}")
        title.truncate(TAB_TITLE, overflow="ellipsis")
        label.append_text(title)
        return Content.from_rich_text(label)

    def _relabel(self, sid: str, *, spin: bool = False) -> None:
        pane = self._panes.get(sid)
        if pane is None or not pane.is_mounted or pane.id is None:
            return
        try:
            tab = self.tabs.get_tab(pane.id)
        except (NoMatches, ValueError):
            return
        set_tab_label(tab, self._tab_label(sid), spin=spin)

    def _tick(self) -> None:
        """A spinner frame, in its own paint turn: the sidebar and the tab bar span the screen,
        so sharing a frame with a pane would repaint everything in between."""
        paint_turns(self.app).request(self, self._spin, "spin")

    def _spin(self) -> None:
        streaming = [sid for sid in self._panes if self.sidebar.get_mark(sid) == "streaming"]
        self._frame += 1
        self.sidebar.tick(self._frame)
        for sid in streaming:
            self._relabel(sid, spin=True)
        for tab in self._compares.values():
            if tab.state() is not None or self._compare_marks.get(tab.group_id) is not None:
                self._relabel_compare(tab, spin=True)

    def _compare_label(self, tab: CompareTab) -> Content:
        label = Text.assemble(mark(tab.state(), self._frame), " ⚖ ")
        title = Text(one_line(tab.comparison.title) or "(comparison)")
        title.truncate(TAB_TITLE, overflow="ellipsis")
        label.append_text(title)
        return Content.from_rich_text(label)

    def _relabel_compare(self, tab: CompareTab, *, spin: bool = False) -> None:
        self._compare_marks[tab.group_id] = tab.state()
        if not tab.is_mounted or tab.id is None:
            return
        try:
            set_tab_label(self.tabs.get_tab(tab.id), self._compare_label(tab), spin=spin)
        except (NoMatches, ValueError):
            pass

    def _grouped(self, sid: str) -> bool:
        """A comparison's pane: its errors show in the compare view, not as a notice."""
        info = self._infos.get(sid)
        return info is not None and info.group_id is not None

    def _shown_sessions(self) -> set[str]:
        """Sessions on screen now: the active conversation, or the active comparison's panes."""
        compare = self.active_compare
        if compare is not None:
            return set(compare.session_ids)
        sid = self.active_session_id
        return {sid} if sid else set()

    # -- tabs ----------------------------------------------------------------------------

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

    def _tab_panes(self) -> list[TabPane]:
        return [p for p in self.tabs.query(TabPane) if isinstance(p, (ChatPane, CompareTab))]

    async def _open(
        self,
        sid: str,
        *,
        activate: bool = True,
        message_id: str | None = None,
        seq: int | None = None,
    ) -> None:
        pane = self._panes.get(sid)
        if pane is None:
            try:
                session = await self.client.resume_session(sid)
            except CopilotTuiError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            self._pane_counter += 1
            pane = ChatPane(
                session,
                self.live,
                self._tab_label(sid),
                id=f"pane-{self._pane_counter}",
                show_meta=self._show_meta,
            )
            self._panes[sid] = pane
            await self.tabs.add_pane(pane)
            pane.set_visible(False)
            self._relabel(sid)
        if activate and pane.id:
            self.tabs.active = pane.id
            self._on_active_changed()
        if message_id:
            pane.reveal(message_id, seq)
        self._save_tabs()

    def _close(self, sid: str) -> None:
        pane = self._panes.pop(sid, None)
        if pane is None or pane.id is None:
            return
        self.tabs.remove_pane(pane.id)
        self._save_tabs()
        self.call_after_refresh(self._on_active_changed)

    async def _open_compare(
        self, group_id: str, *, activate: bool = True, quiet: bool = False
    ) -> None:
        tab = self._compares.get(group_id)
        if tab is None:
            try:
                comparison = await self.client.open_comparison(group_id)
            except CopilotTuiError as exc:
                if not quiet:
                    self.notify(str(exc), severity="error", markup=False)
                return
            tab = await self._add_compare(comparison, fresh=False)
        if activate and tab.id:
            self.tabs.active = tab.id
            self._on_active_changed()
        self._save_tabs()

    async def _add_compare(
        self, comparison: Comparison, *, fresh: bool, early: list[ev.SessionEvent] | None = None
    ) -> CompareTab:
        """Mount a compare tab; ``early`` events (sent before it existed) are replayed first."""
        self._pane_counter += 1
        tab = CompareTab(
            comparison,
            self.live,
            "⚖",
            id=f"pane-{self._pane_counter}",
            show_meta=self._show_meta,
            fresh=fresh,
        )
        self._compares[comparison.group_id] = tab
        for sid in tab.session_ids:
            self._compare_of[sid] = tab
        for event in early or []:
            tab.handle_event(event)
        await self.tabs.add_pane(tab)
        tab.set_visible(False)
        self._relabel_compare(tab)
        return tab

    def _close_compare(self, group_id: str) -> None:
        tab = self._compares.pop(group_id, None)
        if tab is None or tab.id is None:
            return
        for sid in tab.session_ids:
            if self._compare_of.get(sid) is tab:
                del self._compare_of[sid]
        self.tabs.remove_pane(tab.id)
        self._save_tabs()
        self.call_after_refresh(self._on_active_changed)

    @on(TabbedContent.TabActivated, "#tabs")
    @on(TabbedContent.Cleared, "#tabs")
    def _tab_activated(self) -> None:
        self._on_active_changed()

    def _update_empty(self) -> None:
        """With no tab open the main area offers a prompt instead of a blank space."""
        empty = not self._panes and not self._compares
        if empty != self.has_class("-empty"):
            self.set_class(empty, "-empty")
            if empty:
                self._refresh_welcome()
                if not self._restoring and self.app.screen is self:
                    self.query_one(Welcome).focus_input()

    def _refresh_welcome(self) -> None:
        """Show what the service knows now; if no model is known to answer, check the providers
        (in the background: the welcome is drawn first and updated as each one answers)."""
        ready = self.client.readiness
        self.query_one(Welcome).show(ready)
        if not ready.confirmed and not self._checking_providers:
            self.check_providers()

    @work(group="readiness")
    async def check_providers(self) -> None:
        self._checking_providers = True
        welcome = self.query_one(Welcome)
        try:
            async with contextlib.aclosing(self.client.watch_readiness()) as updates:
                async for ready in updates:
                    welcome.show(ready)
        finally:
            self._checking_providers = False

    @on(Prompt.Submitted)
    def _welcome_submitted(self, event: Prompt.Submitted) -> None:
        if event.prompt.id != "welcome-prompt":
            return
        event.stop()
        ready = self.query_one(Welcome).ready
        if ready.model:
            self.start_from_welcome(ready.model, event.text)
        elif ready.checking:
            self.notify(
                "Still checking which providers can answer: press enter again in a moment.",
                markup=False,
            )
        else:
            self.action_new_session()

    @work(group="welcome", exclusive=True)
    async def start_from_welcome(self, model: str, text: str) -> None:
        prompt = self.query_one(Welcome).prompt
        try:
            session = await self.client.create_session(model)
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False, timeout=8)
            return
        prompt.clear()
        await self.refresh_sessions()
        await self._open(session.session_id)
        pane = self._panes.get(session.session_id)
        if pane is not None:
            pane.prompt.remember(text)
            pane.send(text)

    def _on_active_changed(self) -> None:
        self._update_empty()
        active = self.active_pane
        compare = self.active_compare
        for pane in self._panes.values():
            if pane.is_mounted:
                pane.set_visible(pane is active)
        for tab in self._compares.values():
            if tab.is_mounted:
                tab.set_visible(tab is compare)
        for sid in self._shown_sessions():
            if self.sidebar.get_mark(sid) == "unread":
                self._set_mark(sid, None)
        self._update_topbar()
        if not self._restoring:
            self._save_active()

    def _update_topbar(self) -> None:
        bar = self.query_one(TopBar)
        compare = self.active_compare
        if compare is not None:
            comparison = compare.comparison
            bar.session_id = f"{len(comparison.panes)} models"
            bar.session_title = f"⚖ {comparison.title}"
            bar.model = ", ".join(comparison.models)
            bar.note = ""
            return
        sid = self.active_session_id
        info = self._infos.get(sid) if sid else None
        bar.session_id = sid or ""
        bar.session_title = info.title if info else ""
        bar.model = info.model if info else ""
        pane = self.active_pane
        bar.note = (pane.session.status_note or "") if pane else ""

    @work(group="save-tabs", exclusive=True)
    async def _save_tabs(self) -> None:
        if self._restoring:
            return
        order = []
        for tab in self.tabs.query("ContentTab"):
            for sid, pane in self._panes.items():
                if pane.id and tab.id and tab.id.endswith(pane.id):
                    order.append(sid)
            for group_id, compare in self._compares.items():
                if compare.id and tab.id and tab.id.endswith(compare.id):
                    order.append(group_option(group_id))
        try:
            await self.client.set_state(TABS_KEY, order)
        except CopilotTuiError:
            pass

    @work(group="save-active", exclusive=True)
    async def _save_active(self) -> None:
        compare = self.active_compare
        active = group_option(compare.group_id) if compare is not None else self.active_session_id
        try:
            await self.client.set_state(ACTIVE_KEY, active)
        except CopilotTuiError:
            pass

    # -- messages from widgets and dialogs ------------------------------------------------

    @on(OpenSession)
    async def _open_session(self, message: OpenSession) -> None:
        await self._open(message.session_id, message_id=message.message_id, seq=message.seq)

    @on(OpenComparison)
    async def _open_comparison(self, message: OpenComparison) -> None:
        await self._open_compare(message.group_id)

    @on(SessionAction)
    def _session_action(self, message: SessionAction) -> None:
        if message.action == "new":
            self.action_new_session()
        elif message.session_id and message.session_id.startswith(GROUP_PREFIX):
            self._group_action(message.action, message.session_id.removeprefix(GROUP_PREFIX))
        elif message.session_id and message.action == "rename":
            self.rename(message.session_id)
        elif message.session_id and message.action == "delete":
            self.delete(message.session_id)

    # -- actions -------------------------------------------------------------------------

    def _dialog(self, dialog: Screen[Any], callback: Callable[[Any], None] | None = None) -> None:
        """Push a dialog. Focus is cleared first, so coming back never re-focuses a widget in a
        tab that was left (that would switch the tab back); the active prompt gets it instead."""
        previous = self.focused
        in_sidebar = previous is not None and self.sidebar in previous.ancestors_with_self
        self.set_focus(None)

        def done(result: Any) -> None:
            if callback is not None:
                callback(result)
            if self.has_class("-empty"):
                self._refresh_welcome()  # a dialog may have checked the providers, or logged in
            if (
                in_sidebar
                and previous is not None
                and previous.is_attached
                and not self.sidebar.has_class("-hidden")
            ):
                self.call_after_refresh(previous.focus)
            else:
                self.call_after_refresh(self._refocus)

        self.app.push_screen(dialog, done)

    def _refocus(self) -> None:
        if self.focused is None:
            self.action_focus_prompt()

    def action_toggle_sidebar(self) -> None:
        sidebar = self.sidebar
        sidebar.toggle_class("-hidden")
        if sidebar.has_class("-hidden") and sidebar.has_focus_within:
            self.action_focus_prompt()

    def action_focus_filter(self) -> None:
        self.sidebar.remove_class("-hidden")
        self.sidebar.focus_filter()

    def action_focus_prompt(self) -> None:
        pane = self.active_pane
        if pane is not None:
            pane.prompt.focus()
        elif (compare := self.active_compare) is not None:
            compare.focus_prompt()
        elif self.has_class("-empty"):
            self.query_one(Welcome).focus_input()

    def action_login(self) -> None:
        self._dialog(LoginScreen(self.client))

    @work(group="login")
    async def action_logout(self) -> None:
        try:
            removed = await self.client.logout_copilot()
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.notify(
            "Logged out of GitHub Copilot." if removed else "Not logged in to GitHub Copilot.",
            markup=False,
        )

    def action_new_session(self) -> None:
        def created(request: NewSessionRequest | None) -> None:
            if request is not None:
                self.create_session(request, hold_keys(self.app))

        self._dialog(NewSessionScreen(self.client), created)

    @work(group="create")
    async def create_session(
        self, request: NewSessionRequest, release_keys: Callable[[], None] = lambda: None
    ) -> None:
        """Create and open it; keys typed meanwhile wait for its prompt."""
        try:
            session = await self.client.create_session(
                request.model, request.session_id, request.system_message
            )
            await self.refresh_sessions()
            await self._open(session.session_id)
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False, timeout=8)
        finally:
            self.call_after_refresh(release_keys)

    def action_open_session(self) -> None:
        commands = [
            SimpleCommand(
                (info.title or "(untitled)").replace("[", "(").replace("]", ")"),
                self._opener(info.session_id),
                f"{info.session_id} · {info.model}",
            )
            for info in self._infos.values()
        ]
        self.app.search_commands(commands, placeholder="Open session…")

    def _opener(self, sid: str) -> Callable[[], None]:
        def open_it() -> None:
            self.post_message(OpenSession(sid))

        return open_it

    def action_search(self) -> None:
        def picked(result: OpenSession | None) -> None:
            if result is not None:
                self.post_message(result)

        self._dialog(SearchScreen(self.client), picked)

    def action_close_tab(self) -> None:
        sid = self.active_session_id
        if sid is not None:
            self._close(sid)
        elif (compare := self.active_compare) is not None:
            self._close_compare(compare.group_id)

    def _move(self, step: int) -> None:
        panes = self._tab_panes()
        if not panes:
            return
        active = self.tabs.active_pane
        index = panes.index(active) if active in panes else 0
        target = panes[(index + step) % len(panes)]
        if target.id:
            self.tabs.active = target.id

    def action_prev_tab(self) -> None:
        self._move(-1)

    def action_next_tab(self) -> None:
        self._move(1)

    def action_goto_tab(self, number: int) -> None:
        panes = self._tab_panes()
        if 0 < number <= len(panes) and panes[number - 1].id:
            self.tabs.active = panes[number - 1].id or ""

    def action_cancel_reply(self) -> None:
        compare = self.active_compare
        if compare is not None:
            compare.action_cancel_pane()
            return
        pane = self.active_pane
        if pane is None:
            return
        if pane.session.busy:
            self.abort(pane)
        elif not pane.prompt.has_focus:
            pane.prompt.focus()

    @work(group="abort")
    async def abort(self, pane: ChatPane) -> None:
        await pane.session.abort()

    def action_copy_reply(self) -> None:
        pane = self.active_pane
        text = pane.conversation.last_reply() if pane else None
        if not text:
            self.notify("No reply to copy yet.", markup=False)
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied the last reply ({len(text)} characters).", markup=False)

    def action_copy_code(self) -> None:
        pane = self.active_pane
        blocks = pane.conversation.code_blocks() if pane else []
        if not blocks:
            self.notify("No code block in this conversation.", markup=False)
            return
        if len(blocks) == 1:
            self._copy_block(blocks[0])
            return
        commands = []
        for i, block in enumerate(blocks, 1):
            first = one_line(block.splitlines()[0] if block.strip() else "(empty)")[:60]
            name = f"{i}. {first}".replace("[", "(").replace("]", ")")
            commands.append(
                SimpleCommand(name, self._block_copier(block), f"{len(block.splitlines())} lines")
            )
        self.app.search_commands(commands, placeholder="Copy which code block? (newest first)")

    def _block_copier(self, block: str) -> Callable[[], None]:
        return lambda: self._copy_block(block)

    def _copy_block(self, block: str) -> None:
        self.app.copy_to_clipboard(block)
        self.notify(f"Copied a code block ({len(block.splitlines())} lines).", markup=False)

    def action_switch_model(self) -> None:
        pane = self.active_pane
        if pane is None:
            return
        session = pane.session

        def picked(model: str | None) -> None:
            if model and model != session.model:
                self.set_model(session.session_id, model)

        self._dialog(SwitchModelScreen(self.client, session.model), picked)

    @work(group="model")
    async def set_model(self, sid: str, model: str) -> None:
        try:
            session = await self.client.resume_session(sid)
            await session.set_model(model)
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.notify(f"Model is now {one_line(model)}.", markup=False)

    def action_rename_current(self) -> None:
        sid = self.active_session_id
        if sid:
            self.rename(sid)

    def rename(self, sid: str) -> None:
        info = self._infos.get(sid)

        def renamed(title: str | None) -> None:
            if title is not None:
                self.do_rename(sid, title)

        self._dialog(RenameScreen(info.title if info else ""), renamed)

    @work(group="rename")
    async def do_rename(self, sid: str, title: str) -> None:
        try:
            await self.client.rename_session(sid, title)
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)

    def delete(self, sid: str) -> None:
        def confirmed(yes: bool | None) -> None:
            if yes:
                self.do_delete(sid)

        self._dialog(
            ConfirmScreen(f"Delete “{self._title_of(sid)}” and all its messages?"), confirmed
        )

    @work(group="delete")
    async def do_delete(self, sid: str) -> None:
        try:
            await self.client.delete_session(sid)
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)

    # -- comparisons ---------------------------------------------------------------------

    def action_new_comparison(self) -> None:
        def chosen(request: CompareRequest | None) -> None:
            if request is not None:
                self.start_comparison(request)

        self._dialog(CompareScreen(self.client), chosen)

    @work(group="compare")
    async def start_comparison(self, request: CompareRequest) -> None:
        """Start it and show it; events of its panes that arrive before the tab exists are kept."""
        self._capture = []
        try:
            comparison = await self.client.compare(
                request.panes, request.prompt, request.system_message
            )
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False, timeout=10)
            return
        finally:
            early, self._capture = self._capture or [], None
        sessions = {p.session_id for p in comparison.panes}
        tab = await self._add_compare(
            comparison, fresh=True, early=[e for e in early if e.session_id in sessions]
        )
        if tab.id:
            self.tabs.active = tab.id
            self._on_active_changed()
        self._save_tabs()
        await self.refresh_sessions()

    def _group_action(self, action: str, group_id: str) -> None:
        if action == "delete":
            title = next(
                (t.comparison.title for t in self._compares.values() if t.group_id == group_id),
                None,
            )
            title = title or self.sidebar.group_title(group_id)

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self.delete_comparison(group_id)

            self._dialog(
                ConfirmScreen(
                    f"Delete the comparison “{one_line(title)}” and its panes' sessions?"
                ),
                confirmed,
            )
        elif action == "rename":
            self.notify("A comparison keeps the title of its first prompt.", markup=False)

    @work(group="delete")
    async def delete_comparison(self, group_id: str) -> None:
        self._close_compare(group_id)
        try:
            await self.client.delete_comparison(group_id, sessions=True)
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)
        await self.refresh_sessions()
