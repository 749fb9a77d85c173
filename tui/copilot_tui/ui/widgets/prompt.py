"""The multi-line prompt: enter sends, several keys insert a newline, up recalls."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.message import Message
from textual.widgets import TextArea

from ..keymap import PROMPT_KEYS, bindings

_OWN_ACTIONS = frozenset({"send", "newline", "recall"})


class Prompt(TextArea):
    BINDINGS = bindings(PROMPT_KEYS)

    @dataclass
    class Submitted(Message):
        prompt: Prompt
        text: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="prompt", soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self.sent: list[str] = []
        self._recall_index: int | None = None
        self.placeholder = "Message…  (enter send · shift+enter / ctrl+j newline · esc stop)"

    async def _on_key(self, event: events.Key) -> None:
        """Run the prompt's own keys here, in order with the typed characters.

        As priority bindings they would run ahead of characters still queued for this widget,
        so "hi" + enter arriving in one read (fast typing, a remote terminal) sent an empty prompt.
        """
        keys = self._bindings.copy()
        keys.apply_keymap(self.app._keymap)
        for binding in keys.key_to_bindings.get(event.key, ()):
            if binding.action in _OWN_ACTIONS:
                event.stop()
                event.prevent_default()
                await self.run_action(binding.action)
                return
        await super()._on_key(event)

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
        if self.sent and (not self.text or self._recall_index is not None) and self.cursor_location[0] == 0:
            index = len(self.sent) if self._recall_index is None else self._recall_index
            index = max(0, index - 1)
            self._recall_index = index
            self.load_text(self.sent[index])
            self.move_cursor(self.document.end)
            return
        self.action_cursor_up()

    def remember(self, text: str) -> None:
        if not self.sent or self.sent[-1] != text:
            self.sent.append(text)

    def restore(self, text: str) -> None:
        """Give back a prompt that failed before any reply, unless something new was typed."""
        if not self.text.strip():
            self.load_text(text)
            self.move_cursor(self.document.end)
