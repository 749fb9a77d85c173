"""What the user does to sessions: create, open, find, rename, delete, switch model, stop."""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.command import CommandPalette

from ....errors import CopilotTuiError
from ...engine.access import hold_keys
from ...messages import OpenSession
from ...safe import one_line
from ...widgets.chat_pane import ChatPane
from ...widgets.prompt import Prompt
from ...widgets.welcome import Welcome
from ..login import LoginScreen
from ..new_session import NewSessionRequest, NewSessionScreen
from ..open_session import SessionProvider, session_commands
from ..search import SearchScreen
from ..simple import ConfirmScreen, RenameScreen
from ..switch_model import SwitchModelScreen
from .dialogs import DialogHost


class SessionFlows(DialogHost):
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
                request.model,
                request.session_id,
                request.system_message,
                mode="agent" if request.cwd else "chat",
                cwd=request.cwd,
            )
            await self.refresh_sessions()
            await self.open_session(session.session_id)
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False, timeout=8)
        finally:
            self.call_after_refresh(release_keys)

    def action_open_session(self) -> None:
        commands = session_commands(
            [
                (info.title, info.session_id, info.model)
                for info in self.workspace.sessions.values()
            ],
            self._opener,
        )
        provider = SessionProvider(self, commands)
        # an instance stands for its class here, as in App.search_commands (see SimpleProvider)
        palette = CommandPalette(providers=[provider], placeholder="Open session…")  # type: ignore[list-item]
        self.app.push_screen(palette)

    def _opener(self, sid: str) -> Callable[[], None]:
        def open_it() -> None:
            self.post_message(OpenSession(sid))

        return open_it

    def action_search(self) -> None:
        def picked(result: OpenSession | None) -> None:
            if result is not None:
                self.post_message(result)

        self._dialog(SearchScreen(self.client), picked)

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
        elif self.cancel_edit(pane.session_id):
            pane.prompt.focus()
        elif not pane.prompt.has_focus:
            pane.prompt.focus()

    @work(group="abort")
    async def abort(self, pane: ChatPane) -> None:
        await pane.session.abort()

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
        info = self.workspace.info(sid)

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

        title = one_line(self.workspace.title(sid))
        self._dialog(ConfirmScreen(f"Delete “{title}” and all its messages?"), confirmed)

    @work(group="delete")
    async def do_delete(self, sid: str) -> None:
        try:
            await self.client.delete_session(sid)
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)

    # -- the welcome's prompt: a first message starts a session --------------------------

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
        await self.open_session(session.session_id)
        pane = self.chat_pane(session.session_id)
        if pane is not None:
            pane.prompt.remember(text)
            pane.send(text)
