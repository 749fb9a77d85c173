"""A tab holding one session: its conversation and its prompt.

The prompt shows the session's draft from the workspace and writes every edit back to it, so
the text survives a tab switch, a closed tab and a restart (the screen saves drafts).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable

from textual import events, on, work
from textual.app import ComposeResult
from textual.widgets import TabPane, TextArea

from ... import events as ev
from ...errors import CopilotTuiError
from ...service import Session
from ..messages import PromptSubmitted
from ..workspace import Change, Compose, ComposeChanged, DraftChanged, Workspace
from .agent_activity import AgentActivity
from .conversation import Conversation
from .outline import Entry
from .prompt import Prompt

AT_PATH = re.compile(r"(?:^|\s)@(\S+)")


def at_paths(text: str) -> list[str]:
    """Files named in the prompt as ``@path`` (those that exist), to attach."""
    return [m for m in AT_PATH.findall(text) if os.path.isfile(os.path.expanduser(m))]


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
        self._show_compose()
        self._unsubscribe = self._workspace.subscribe(self._changed)
        self.load_history()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def _changed(self, change: Change) -> None:
        """A draft set elsewhere (a prompt handed back after a failed send) shows here."""
        if isinstance(change, DraftChanged) and change.session_id == self.session_id:
            self._show_draft(change.text)
        elif isinstance(change, ComposeChanged) and change.session_id == self.session_id:
            self._show_compose()

    def _show_compose(self) -> None:
        """The prompt's frame says what the next send does: edit an earlier prompt (a new
        branch), and which files go with it."""
        compose = self._workspace.compose(self.session_id)
        prompt = self.prompt
        prompt.border_title = (
            f"editing {compose.editing_label}: enter sends it as a new branch · esc cancels"
            if compose.editing
            else None
        )
        prompt.border_subtitle = "  ".join(chip for _, chip in compose.files) or None
        prompt.set_class(compose.editing is not None, "-editing")

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
        if event.type == ev.BRANCH_CHANGED and not event.data.get("turn_id"):
            self.reload()  # another version chosen: the branch shown is another one
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

    @work(group="reload", exclusive=True)
    async def reload(self) -> None:
        """Show the session's active branch afresh (a new conversation view, so nothing of the
        branch shown before stays)."""
        old = self.conversation
        new = Conversation(self.session_id, self._workspace.live, show_meta=self._show_meta)
        new.paused = old.paused
        await self.mount(new, before=old)
        await old.remove()
        self.load_history()

    @on(Prompt.Submitted)
    def _submitted(self, event: Prompt.Submitted) -> None:
        event.stop()
        text = event.text
        event.prompt.remember(text)
        event.prompt.clear()
        compose = self._workspace.compose(self.session_id)
        paths = [path for path, _ in compose.files] + at_paths(text)
        self._workspace.set_compose(self.session_id, Compose())
        self.post_message(PromptSubmitted(self.session_id, text))
        self.send(text, compose.editing, paths, compose)

    @work(group="send")
    async def send(
        self,
        text: str,
        editing: str | None = None,
        paths: list[str] | None = None,
        compose: Compose | None = None,
    ) -> None:
        try:
            if editing is not None:
                await self.session.edit(editing, text)
            else:
                await self.session.send(text, attachments=paths or [])
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)
            self.prompt.restore(text)
            if compose is not None and self._workspace.compose(self.session_id) == Compose():
                self._workspace.set_compose(self.session_id, compose)

    def set_visible(self, visible: bool) -> None:
        """Hidden panes only buffer; showing one renders what arrived meanwhile, once."""
        self.conversation.paused = not visible
        if visible:
            asking = [a for a in self.query(AgentActivity) if a.asking is not None]
            (asking[0] if asking else self.prompt).focus()
