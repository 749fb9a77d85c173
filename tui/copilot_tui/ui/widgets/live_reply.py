"""The reply that is streaming now: finished Markdown blocks frozen, only the tail re-rendered.

One widget, not one per block: the compositor's work per frame grows with the widgets on
screen, and side-by-side panes multiply it. A paragraph or code fence that is complete is
rendered once into lines (per width); each flush re-renders only the open tail, so the cost of a
frame does not grow with the reply.

The Markdown work of a flush (parsing and rendering new blocks and the tail) runs in the render
thread; the event loop only splits text and swaps lines in. While one render is in flight, new
text waits and goes in the next one, so a pane that cannot keep up renders less often, never
queues work.

While its conversation follows the end, the reply shows only its last ``window`` lines, at
the height of the view: growing then changes neither the layout nor the scroll position, so a
flush repaints this one widget instead of re-arranging the screen and scrolling the pane
(together about eight times the cost). Scrolling up shows the whole reply again.
"""

from __future__ import annotations

import asyncio

from rich.console import Console, ConsoleOptions
from rich.text import Text
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual
from textual.widget import Widget

from ..engine.paint import paint_turns
from ..engine.render import RENDER_POOL, Prerendered, markdown
from ..engine.tuning import CollectorPause
from ..safe import one_line

_BLANK = Strip([])


def lead_blanks(lines: list[Strip]) -> int:
    """Blank lines a block's render starts with (Rich puts one before a list); the join below
    adds the one blank line between blocks that a full render has."""
    n = 0
    while n < len(lines) and not lines[n].cell_length:  # a code block's padding row has width
        n += 1
    return n


class _LiveVisual(Visual):
    """Frozen blocks, a blank line between them as in a full render, the tail, the note line."""

    def __init__(self) -> None:
        self.blocks: list[Prerendered] = []
        self.tail: Prerendered | None = None
        self.note = Prerendered(Text("▍ waiting…", style="dim"))
        self.window: int | None = None  # show only the last lines, this many
        self._frozen_width = -1
        self._frozen: list[Strip] = []  # the blocks' lines at _frozen_width, joined
        self._frozen_count = 0

    def _frozen_lines(self, width: int) -> list[Strip]:
        if width != self._frozen_width:
            self._frozen_width, self._frozen, self._frozen_count = width, [], 0
        for block in self.blocks[self._frozen_count :]:
            lines = block.lines(width)
            lines = lines[lead_blanks(lines) :]
            if not lines:
                continue
            if self._frozen:
                self._frozen.append(_BLANK)
            self._frozen.extend(lines)
        self._frozen_count = len(self.blocks)
        return self._frozen

    def _tail(self, width: int) -> tuple[list[Strip], int]:
        """The tail's lines and how many leading blank lines to skip."""
        if self.tail is None:
            return [], 0
        tail = self.tail.lines(width)
        return tail, lead_blanks(tail)

    def lines(self, width: int) -> list[Strip]:
        lines = self._frozen_lines(width)
        if self.tail is not None:
            tail, skip = self._tail(width)
            tail = tail[skip:]
            if tail:
                lines = [*lines, _BLANK, *tail] if lines else tail
        return [*lines, *self.note.lines(width)]

    def height(self, width: int) -> int:
        frozen = len(self._frozen_lines(width))
        lines, skip = self._tail(width)
        tail = len(lines) - skip
        gap = 1 if frozen and tail else 0
        return frozen + gap + tail + len(self.note.lines(width))

    def shown_height(self, width: int) -> int:
        height = self.height(width)
        return height if self.window is None else min(height, self.window)

    def hidden_lines(self, width: int) -> int:
        """Lines above the window (0 when the whole reply shows)."""
        return self.height(width) - self.shown_height(width)

    def line_at(self, y: int, width: int) -> Strip:
        """One line, without building the whole list: painting costs what is visible."""
        frozen = self._frozen_lines(width)
        if y < len(frozen):
            return frozen[y]
        y -= len(frozen)
        tail, skip = self._tail(width)
        if len(tail) > skip:
            if frozen:
                if y == 0:
                    return _BLANK
                y -= 1
            if y < len(tail) - skip:
                return tail[y + skip]
            y -= len(tail) - skip
        note = self.note.lines(width)
        return note[y] if 0 <= y < len(note) else _BLANK

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return container_width

    def get_height(self, rules: RulesMap, width: int) -> int:
        return self.shown_height(width) if width > 0 else 0

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        if width <= 0:
            return []
        rich_style = style.rich_style
        top = self.hidden_lines(width)
        lines = self.lines(width)[top : None if height is None else top + height]
        return [line.apply_style(rich_style) for line in lines] if rich_style else lines


class LiveReply(Widget):
    DEFAULT_CSS = "LiveReply { height: auto; }"

    def __init__(self, message_id: str, model: str | None, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="reply live")
        self.message_id = message_id
        self.model = model
        self.auto_links = False  # links render as text; skip restyling every line per flush
        self._frozen_upto = 0  # text before this offset lives in frozen blocks
        self._scan_pos = 0  # complete lines before this offset were scanned
        self._fence: str | None = None  # the open code fence marker while inside one
        self._shown = ""  # the tail text rendered now
        self._note = ""
        self._visual = _LiveVisual()
        self._height = -1
        self._in_flight = False
        self._waiting: str | None = None  # text that arrived while a render was in flight
        self._retry_pending = False  # a retry is due once the widget has a width
        self._installed_upto = 0  # text before this offset is in the blocks on screen
        self._cursor = Prerendered(Text("▍", style="dim"))

    def render(self) -> Visual:
        return self._visual

    def render_line(self, y: int) -> Strip:
        """Only the lines on screen are styled and handed over, not the whole reply."""
        width = self.size.width
        line = self._visual.line_at(y + self._visual.hidden_lines(width), width)
        style = self.visual_style.rich_style
        return line.apply_style(style) if style else line

    def on_mount(self) -> None:
        CollectorPause.begin()

    def on_unmount(self) -> None:
        CollectorPause.end()

    @property
    def ready(self) -> bool:
        return self.is_mounted

    def _boundary(self, text: str) -> int | None:
        """The last offset after which a new block starts (blank line or closed fence)."""
        pos, found = self._scan_pos, None
        while (nl := text.find("\n", pos)) >= 0:
            line = text[pos:nl].strip()
            if self._fence is not None:
                if line.startswith(self._fence) and not line.strip(self._fence[0]):
                    self._fence = None
                    found = nl + 1
            elif line.startswith(("```", "~~~")):
                marker = line[:3]
                self._fence = marker[0] * (len(line) - len(line.lstrip(marker[0])))
            elif not line and pos > self._frozen_upto:
                found = nl + 1
            pos = nl + 1
        self._scan_pos = pos
        return found

    def show_text(self, text: str) -> None:
        """Bring the widget up to ``text`` (the whole reply so far)."""
        if self._in_flight:
            self._waiting = text
            return
        if self.content_region.width <= 0:
            # Not laid out yet. Parsed now, the blocks would be rendered later by the painting
            # itself, on the event loop: the whole text at once when a reply starts fast.
            self._waiting = text
            if not self._retry_pending:
                self._retry_pending = True
                self.set_timer(0.05, self._retry)
            return
        blocks: list[str] = []
        boundary = self._boundary(text)
        if boundary is not None and boundary > self._frozen_upto:
            block = text[self._frozen_upto : boundary]
            self._frozen_upto = boundary
            if block.strip():
                blocks.append(block)
        tail = text[self._frozen_upto :]
        if text and not self._note and self._visual.note is not self._cursor:
            self._visual.note = self._cursor  # drawn once per width, not once per flush
        if tail == self._shown and not blocks:
            return
        self._shown = tail
        width = self.content_region.width
        self._in_flight = True
        app = self.app
        future = asyncio.get_running_loop().run_in_executor(
            RENDER_POOL, _render, blocks, tail, width, app.console, app.console_options
        )
        upto = self._frozen_upto
        future.add_done_callback(lambda done: self._rendered(done, upto))

    def _retry(self) -> None:
        self._retry_pending = False
        if self._waiting is not None and not self._in_flight:
            text, self._waiting = self._waiting, None
            self.show_text(text)

    def _rendered(
        self, future: asyncio.Future[tuple[list[Prerendered], Prerendered | None]], upto: int
    ) -> None:
        if future.cancelled() or not self.is_attached:
            self._in_flight = False
            return
        result = future.result()
        # the new lines go on screen in this pane's turn; until then no other render starts
        paint_turns(self.app).request(self, lambda: self._take(result, upto), "text")

    def _take(self, result: tuple[list[Prerendered], Prerendered | None], upto: int) -> None:
        self._in_flight = False
        self._installed_upto = upto
        self._install(*result)
        if self._waiting is not None:
            text, self._waiting = self._waiting, None
            self.show_text(text)

    def _install(self, blocks: list[Prerendered], tail: Prerendered | None) -> None:
        self._visual.blocks.extend(blocks)
        self._visual.tail = tail
        self._changed()

    def set_note(self, note: str | None) -> None:
        self._note = note or ""
        label = f"▍ {one_line(note)}" if note else "▍"
        self._visual.note = Prerendered(Text(label, style="dim italic"))
        self._changed()

    def set_window(self, rows: int | None) -> None:
        """Show only the last ``rows`` lines (None: all of them)."""
        if rows != self._visual.window:
            self._visual.window = rows
            self._changed()

    @property
    def window(self) -> int | None:
        return self._visual.window

    def hidden_lines(self) -> int:
        width = self.content_region.width
        return self._visual.hidden_lines(width) if width > 0 else 0

    @property
    def installed_upto(self) -> int:
        """Offset of the reply text up to which finished blocks are on screen."""
        return self._installed_upto

    def frozen_lines(self, width: int) -> list[Strip]:
        """The finished blocks' lines at ``width`` (blank lines between blocks included)."""
        return list(self._visual._frozen_lines(width))

    def prepare_blocks(self, width: int, console: Console, options: ConsoleOptions) -> None:
        """Render the finished blocks at another width (from a render thread)."""
        for block in list(self._visual.blocks):
            block.prepare(width, console, options)

    def _changed(self) -> None:
        """Repaint; lay out again only when the height changed (a layout re-arranges the screen)."""
        width = self.content_region.width
        height = self._visual.shown_height(width) if width > 0 else -1
        self.refresh(layout=height != self._height or height < 0)
        self._height = height


def _render(
    blocks: list[str], tail: str, width: int, console: Console, options: ConsoleOptions
) -> tuple[list[Prerendered], Prerendered | None]:
    """Parse and render at ``width`` new blocks and the tail (in the render thread)."""
    done = [Prerendered(markdown(block)) for block in blocks]
    rest = Prerendered(markdown(tail)) if tail.strip() else None
    for item in (*done, rest):
        if item is not None:
            item.prepare(width, console, options)
    return done, rest
