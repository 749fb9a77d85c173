"""A tab holding one session: its conversation and its prompt.

The prompt shows the session's draft from the workspace and writes every edit back to it, so
the text survives a tab switch, a closed tab and a restart (the screen saves drafts).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual import events, on, work
from textual.app import ComposeResult
from textual.widgets import TabPane, TextArea

from ... import events as ev
from ...errors import CopilotTuiError
from ...service import Session
from ..messages import PromptSubmitted
from ..workspace import Change, DraftChanged, Workspace
from .agent_activity import AgentActivity
from .conversation import Conversation
from .outline import Entry
from .prompt import Prompt

RECENT = 16  # messages read when a session opens; the rest as the view moves over them


class ChatPane(TabPane):
    def __init__(
        self,
        session: Session,
        workspace: Workspace,
        title: object,
        *,
        id: str,
        show_meta: bool = True,
    ) -> None:
        super().__init__(title, id=id)  # type: ignore[arg-type]
        self.session = session
        self._workspace = workspace
        self._show_meta = show_meta
        self._pending_reveal: str | None = None
        self._loaded = False
        self._unsubscribe: Callable[[], None] | None = None

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Focus never switches tabs: a late focus event from a tab just left would switch back.

        Textual runs the base class handler too unless the default is prevented."""
        event.prevent_default()

    @property
    def session_id(self) -> str:
        return self.session.session_id

    def compose(self) -> ComposeResult:
        yield Conversation(self.session_id, self._workspace.live, show_meta=self._show_meta)
        if self.session.mode == "agent":
            yield AgentActivity(self.session)
        yield Prompt()

    @property
    def conversation(self) -> Conversation:
        return self.query_one(Conversation)

    @property
    def prompt(self) -> Prompt:
        return self.query_one(Prompt)

    def on_mount(self) -> None:
        self._show_draft(self._workspace.draft(self.session_id))
        self._unsubscribe = self._workspace.subscribe(self._changed)
        self.load_history()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def _changed(self, change: Change) -> None:
        """A draft set elsewhere (a prompt handed back after a failed send) shows here."""
        if isinstance(change, DraftChanged) and change.session_id == self.session_id:
            self._show_draft(change.text)

    def _show_draft(self, text: str) -> None:
        prompt = self.prompt
        if prompt.text != text:
            prompt.load_text(text)
            prompt.move_cursor(prompt.document.end)

    @on(TextArea.Changed)
    def _edited(self, event: TextArea.Changed) -> None:
        event.stop()
        if event.text_area is self.prompt:
            self._workspace.set_draft(self.session_id, self.prompt.text)

    @work(group="history")
    async def load_history(self) -> None:
        try:
            messages, outline = await asyncio.gather(
                self.session.get_messages(limit=RECENT), self.session.get_outline()
            )
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.prompt.sent = [m.content for m in messages if m.role == "user"]
        reveal, self._pending_reveal = self._pending_reveal, None
        self.conversation.load(
            messages,
            turn=self._workspace.turn(self.session_id),
            outline=[Entry(*row) for row in outline],
            fetch=self.session.get_messages_between,
            reveal=reveal,
        )
        self._loaded = True

    def reveal(self, message_id: str, seq: int | None) -> None:
        """Scroll to a message (once the history is read, when it is not yet)."""
        if not self._loaded:
            self._pending_reveal = message_id
            return
        self.conversation.reveal(message_id)

    def handle_event(self, event: ev.SessionEvent) -> None:
        """One event of this session, from the screen's single feed (before the pane is
        mounted, its history, read when it mounts, has what the event said)."""
        if not self.is_mounted:
            return
        self.conversation.handle_event(event)
        if event.type in (ev.TOOL_START, ev.TOOL_COMPLETE):
            self.conversation.show_tool_call(event.data.tool, event.data.get("message_id") or "")
        for activity in self.query(AgentActivity):
            activity.handle_event(event)
            if event.type == ev.PERMISSION_REQUESTED and not self.conversation.paused:
                activity.focus()  # y / a / n answer it at once
            elif event.type == ev.PERMISSION_COMPLETED and activity.has_focus:
                self.prompt.focus()

    def text_arrived(self, session_id: str) -> None:
        if self.is_mounted:
            self.conversation.text_arrived()

    @on(Prompt.Page)
    def _page(self, event: Prompt.Page) -> None:
        event.stop()
        if event.direction < 0:
            self.conversation.action_page_up()
        else:
            self.conversation.action_page_down()

    @on(Prompt.Submitted)
    def _submitted(self, event: Prompt.Submitted) -> None:
        event.stop()
        text = event.text
        event.prompt.remember(text)
        event.prompt.clear()
        self.post_message(PromptSubmitted(self.session_id, text))
        self.send(text)

    @work(group="send")
    async def send(self, text: str) -> None:
        try:
            await self.session.send(text)
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)
            self.prompt.restore(text)

    def set_visible(self, visible: bool) -> None:
        """Hidden panes only buffer; showing one renders what arrived meanwhile, once."""
        self.conversation.paused = not visible
        if visible:
            asking = [a for a in self.query(AgentActivity) if a.asking is not None]
            (asking[0] if asking else self.prompt).focus()
