"""The multi-line prompt: enter sends, several keys insert a newline, up recalls."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.message import Message
from textual.widgets import TextArea

from ..engine.access import run_bindings_first
from ..keymap import PROMPT_KEYS, bindings, effective_key


class Prompt(TextArea):
    BINDINGS = bindings(PROMPT_KEYS)

    @dataclass
    class Submitted(Message):
        prompt: Prompt
        text: str

    @dataclass
    class Page(Message):
        """Page up or down (-1, 1) in the prompt: the conversation above scrolls."""

        direction: int

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id, classes="prompt", soft_wrap=True, show_line_numbers=False, tab_behavior="focus"
        )
        self.sent: list[str] = []
        self._recall_index: int | None = None
        self.placeholder = "Message…  (enter send · shift+enter / ctrl+j newline · esc stop)"

    async def on_key(self, event: events.Key) -> None:
        """Run the prompt's key bindings (its own and the editor's) here, in order with the
        typed characters.

        Bindings run apart from the widget's queue of keys: as priority bindings ahead of the
        characters still queued ("hi" + enter in one read, from fast typing or a remote
        terminal, sent an empty prompt), as plain ones after them (backspace in the same read
        deleted the characters typed after it). An action that declines (scrolling sideways,
        say) leaves the key to the screen's bindings, as Textual would.
        """
        if await run_bindings_first(self, event, self._own_keys):
            event.stop()
            event.prevent_default()

    def _own_keys(self) -> dict[str, str]:
        """The prompt's keys (key -> action) with the user's keymap applied."""
        overrides = getattr(self.app, "keymap_overrides", {})
        return {
            key.strip(): spec.action
            for spec in PROMPT_KEYS
            for key in effective_key(spec, overrides).split(",")
        }

    def action_send(self) -> None:
        text = self.text
        if not text.strip():
            return
        self._recall_index = None
        self.post_message(self.Submitted(self, text))

    def action_newline(self) -> None:
        start, end = self.selection
        self.replace("\n", start, end, maintain_selection_offset=False)

    def action_recall(self) -> None:
        """Up in an empty prompt (or while stepping through history) recalls earlier prompts."""
        if (
            self.sent
            and (not self.text or self._recall_index is not None)
            and self.cursor_location[0] == 0
        ):
            index = len(self.sent) if self._recall_index is None else self._recall_index
            index = max(0, index - 1)
            self._recall_index = index
            self.load_text(self.sent[index])
            self.move_cursor(self.document.end)
            return
        self.action_cursor_up()

    def action_recall_next(self) -> None:
        """Down while stepping through history goes forward again, past the newest to empty."""
        if (
            self._recall_index is not None
            and self.cursor_location[0] == self.document.line_count - 1
        ):
            index = self._recall_index + 1
            if index >= len(self.sent):
                self._recall_index = None
                self.load_text("")
            else:
                self._recall_index = index
                self.load_text(self.sent[index])
                self.move_cursor(self.document.end)
            return
        self.action_cursor_down()

    def action_page(self, direction: int) -> None:
        self.post_message(self.Page(direction))

    def remember(self, text: str) -> None:
        if not self.sent or self.sent[-1] != text:
            self.sent.append(text)

    def restore(self, text: str) -> None:
        """Give back a prompt that failed before any reply, unless something new was typed."""
        if not self.text.strip():
            self.load_text(text)
            self.move_cursor(self.document.end)
