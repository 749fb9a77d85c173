"""Steering a conversation from the keyboard: regenerate, versions, edit, fork, parameters,
attachments."""

from __future__ import annotations

from textual import work

from ....errors import CopilotTuiError
from ....service import Session
from ....types import Attachment
from ...safe import one_line
from ...workspace import Compose
from ..steer import AttachScreen, ForkRequest, ForkScreen, ParamsScreen, PickPromptScreen
from .dialogs import DialogHost


class SteerFlows(DialogHost):
    def _steered(self) -> Session | None:
        """The session the steering keys act on: the tab's, or a comparison's selected pane."""
        pane = self.active_pane
        if pane is not None:
            return pane.session
        compare = self.active_compare
        if compare is not None and compare.views:
            if compare.comparison.hidden:  # its model would show
                self.notify("Vote first (f6): the models stay hidden until then.", markup=False)
                return None
            return self.client.live_session(compare.views[compare.selected].session_id)
        return None

    def _idle(self, session: Session) -> bool:
        if session.busy:
            self.notify("Wait for the reply to end (esc stops it).", markup=False)
            return False
        return True

    @work(group="steer")
    async def action_regenerate(self) -> None:
        pane = self.active_pane
        if pane is None:
            self.notify("Regenerate works in a conversation tab.", markup=False)
            return
        if not self._idle(pane.session):
            return
        try:
            await pane.session.regenerate()
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)

    @work(group="steer")
    async def action_step_version(self, step: int) -> None:
        """Previous or next version of the newest message that has several (a regenerated
        reply, an edited prompt)."""
        pane = self.active_pane
        if pane is None or not self._idle(pane.session):
            return
        try:
            messages = await pane.session.get_messages()
            target = next((m for m in reversed(messages) if m.versions > 1), None)
            if target is None:
                self.notify("Every message here has one version.", markup=False)
                return
            moved = await pane.session.step_version(target.id, step)
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        if moved is None:
            end = "first" if step < 0 else "last"
            self.notify(
                f"Already the {end} version ({target.version}/{target.versions}).", markup=False
            )

    @work(group="steer")
    async def action_edit_prompt(self) -> None:
        pane = self.active_pane
        if pane is None or not self._idle(pane.session):
            return
        session = pane.session
        prompts = [m for m in await session.get_messages() if m.role == "user"]
        if not prompts:
            self.notify("No prompt to edit yet.", markup=False)
            return

        def picked(message_id: str | None) -> None:
            at = next((i for i, m in enumerate(prompts) if m.id == message_id), None)
            if at is None:
                return
            message = prompts[at]
            compose = self.workspace.compose(session.session_id)
            self.workspace.set_compose(
                session.session_id,
                Compose(message.id, f"prompt {at + 1} of {len(prompts)}", compose.files),
            )
            self.workspace.set_draft(session.session_id, message.content)
            pane.prompt.focus()

        self._dialog(PickPromptScreen(prompts), picked)

    def cancel_edit(self, session_id: str) -> bool:
        """Escape while editing an earlier prompt: back to a plain send."""
        compose = self.workspace.compose(session_id)
        if compose.editing is None:
            return False
        self.workspace.set_compose(session_id, Compose(files=compose.files))
        self.workspace.set_draft(session_id, "")
        return True

    def action_fork(self) -> None:
        session = self._steered()
        if session is None:
            return
        if not self._idle(session):
            return
        count = session.info.message_count

        def chosen(request: ForkRequest | None) -> None:
            if request is not None:
                self.fork(session.session_id, request)

        self._dialog(ForkScreen(self.client, session.model, count), chosen)

    @work(group="fork")
    async def fork(self, session_id: str, request: ForkRequest) -> None:
        try:
            fork = await self.client.fork_session(session_id, at=request.at, model=request.model)
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        await self.refresh_sessions()
        await self.open_session(fork.session_id)
        kept = fork.info.message_count
        self.notify(f"Forked: {kept} message{'s' if kept != 1 else ''} on {one_line(fork.model)}.")

    def action_params(self) -> None:
        session = self._steered()
        if session is None:
            return
        defaults = self.client.params_for(session.model)

        def chosen(values: dict[str, float | int | None] | None) -> None:
            if values is not None:
                self.set_params(session, values)

        self._dialog(ParamsScreen(session.params, defaults), chosen)

    @work(group="params")
    async def set_params(self, session: Session, values: dict[str, float | int | None]) -> None:
        try:
            params = await session.set_params(**values)
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        shown = params.describe() or "the defaults"
        self.notify(f"Parameters: {shown}.", markup=False)

    def action_attach(self) -> None:
        pane = self.active_pane
        if pane is None:
            self.notify("Attach works in a conversation tab.", markup=False)
            return
        sid = pane.session_id

        def chosen(picked: tuple[str, Attachment] | None) -> None:
            if picked is None:
                return
            path, attachment = picked
            compose = self.workspace.compose(sid)
            files = (*compose.files, (path, attachment.chip()))
            self.workspace.set_compose(sid, Compose(compose.editing, compose.editing_label, files))
            pane.prompt.focus()

        self._dialog(AttachScreen(), chosen)
