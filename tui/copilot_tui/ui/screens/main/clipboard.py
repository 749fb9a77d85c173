"""Copying the last reply, or one code block, of the active conversation."""

from __future__ import annotations

from collections.abc import Callable

from textual.command import SimpleCommand

from ...safe import one_line
from .core import MainCore


class ClipboardActions(MainCore):
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
