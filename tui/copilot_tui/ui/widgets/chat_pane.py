"""A tab holding one session: its conversation and its prompt.

The prompt shows the session's draft from the workspace and writes every edit back to it, so
the text survives a tab switch, a closed tab and a restart (the screen saves drafts).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from textual import events, on, work
from textual.app import ComposeResult
from textual.widgets import TabPane, TextArea

from ... import events as ev
from ...errors import CopilotTuiError
from ...service import Session
from ..messages import PromptSubmitted
from ..workspace import Change, Compose, ComposeChanged, DraftChanged, Workspace
from .agent_activity import AgentActivity
from .conversation import Conversation, MessageView
from .prompt import Prompt

AT_PATH = re.compile(r"(?:^|\s)@(\S+)")


def at_paths(text: str) -> list[str]:
    """Files named in the prompt as ``@path`` (those that exist), to attach."""
    return [m for m in AT_PATH.findall(text) if os.path.isfile(os.path.expanduser(m))]


RECENT = 40  # messages mounted when a session opens; older ones load on scroll up
OLDER_BATCH = 40
# Older pages are drawn on their own thread, so they never queue behind (or ahead of) live text.
HISTORY_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="history")


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
        self._pending_reveal: tuple[str, int | None] | None = None
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
            messages = await self.session.get_messages(limit=RECENT + 1)
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        has_older = len(messages) > RECENT
        messages = messages[-RECENT:]
        self.prompt.sent = [m.content for m in messages if m.role == "user"]
        self.conversation.load(
            messages, has_older=has_older, turn=self._workspace.turn(self.session_id)
        )
        if self._pending_reveal:
            message_id, seq = self._pending_reveal
            self._pending_reveal = None
            # once the loaded messages are laid out, or the jump lands short of the match
            self.call_after_refresh(self.reveal, message_id, seq)

    @on(Conversation.NeedOlder)
    def _need_older(self, event: Conversation.NeedOlder) -> None:
        event.stop()
        self.load_older(event.before_seq, None)

    @work(group="older")
    async def load_older(self, before_seq: int, until_seq: int | None) -> None:
        """Load the batch before ``before_seq``; with ``until_seq``, everything back to it."""
        try:
            if until_seq is None:
                messages = await self.session.get_messages(
                    limit=OLDER_BATCH + 1, before_seq=before_seq
                )
                has_older = len(messages) > OLDER_BATCH
                messages = messages[-OLDER_BATCH:]
            else:
                messages = await self.session.get_messages(before_seq=before_seq)
                keep = [m for m in messages if m.seq >= until_seq - 2]
                has_older = len(keep) < len(messages)
                messages = keep
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        conversation = self.conversation
        views = [
            MessageView(m, show_meta=conversation.show_meta)
            for m in messages
            if m.role in ("user", "assistant")
        ]
        widths = self._message_widths()
        if widths:
            # Draw the page in a thread: laid out on the event loop, 40 Markdown replies froze
            # the screen for up to a second per page.
            app = self.app
            jobs = [
                (v.prerendered, widths.get("user" if v.message.role == "user" else "reply"))
                for v in views
            ]

            def draw() -> None:
                for prerendered, width in jobs:
                    if width:
                        prerendered.prepare(width, app.console, app.console_options)

            await asyncio.get_running_loop().run_in_executor(HISTORY_POOL, draw)
            if not self.is_attached:
                return
        conversation.prepend(messages, has_older=has_older, views=views)

    def _message_widths(self) -> dict[str, int]:
        """The content width of user and reply messages now on screen, by role class."""
        widths: dict[str, int] = {}
        for view in reversed(self.conversation.children):  # the newest: a few views, not all
            if not isinstance(view, MessageView):
                continue
            for role in ("user", "reply"):
                if role not in widths and view.has_class(role) and view.size.width > 0:
                    widths[role] = view.size.width
            if len(widths) == 2:
                break
        return widths

    def reveal(self, message_id: str, seq: int | None) -> None:
        """Scroll to a message, loading older history first when it is not shown yet."""
        conversation = self.conversation
        if conversation.reveal(message_id):
            return
        oldest = conversation.oldest_seq
        if oldest is None:
            self._pending_reveal = (message_id, seq)
            return
        if seq is not None and seq < oldest:
            self.load_older(oldest, seq)
            self.call_after_refresh(
                lambda: self.set_timer(0.1, lambda: conversation.reveal(message_id))
            )

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
