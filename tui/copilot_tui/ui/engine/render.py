"""Rich renderables for messages (Markdown for replies, literal text for everything else), and
``Prerendered``, which renders one of them once per width and keeps the lines.

Textual's own wrapper for a Rich renderable renders it twice per layout (once to measure the
height, once to paint) and again after any refresh. A Markdown reply with code and a table
costs tens of milliseconds per render at 2,000 tokens, so finished content is rendered once per
width, possibly in a worker thread before it is shown, and layout and paint reuse the lines.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

from markdown_it import MarkdownIt
from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.markdown import Markdown
from rich.measure import Measurement
from rich.segment import Segment
from rich.text import Text
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual

from ...types import Message, ReplyStats, Sampling
from ..safe import clean, one_line
from . import internals
from .access import current_app

CODE_THEME = "monokai"
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n(.*?)^ {0,3}\1[`~]*[ \t]*$", re.M | re.S)


_parsers = threading.local()


class _Markdown(Markdown):
    """Rich Markdown with one parser per thread: building a MarkdownIt parser costs more than
    parsing a paragraph, and a streaming reply creates one Markdown per block and per flush.

    It sets what Rich's ``__init__`` sets instead of calling it (see internals.MARKDOWN)."""

    def __init__(self, markup: str) -> None:
        parser = getattr(_parsers, "parser", None)
        if parser is None:
            parser = _parsers.parser = MarkdownIt().enable("strikethrough").enable("table")
        self.markup = markup
        self.parsed = parser.parse(markup)
        self.code_theme = CODE_THEME
        self.justify = None
        self.style = "none"
        self.hyperlinks = False
        self.inline_code_lexer = None
        self.inline_code_theme = CODE_THEME


def markdown(text: str) -> Markdown:
    """Reply Markdown; hyperlinks off so a link shows its address instead of a terminal link."""
    if internals.available(internals.MARKDOWN):
        return _Markdown(clean(text))
    return Markdown(
        clean(text), code_theme=CODE_THEME, hyperlinks=False, inline_code_theme=CODE_THEME
    )


def code_blocks(text: str) -> list[str]:
    """The fenced code blocks of a Markdown text, in order."""
    return [m.group(2).rstrip("\n") for m in _FENCE.finditer(text)]


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def version_mark(message: Message) -> str:
    """``‹ 2/3 ›`` on a message that has other versions (regenerated, edited), else nothing."""
    return f"\u2039 {message.version}/{message.versions} \u203a" if message.versions > 1 else ""


def meta_text(
    model: str | None,
    stats: ReplyStats,
    status: str,
    error: str | None,
    *,
    version: str = "",
) -> Text:
    """One line under a reply: its version, model, parameters, ttft, tokens, tokens/s,
    duration, and how it ended."""
    parts: list[str] = [version] if version else []
    if model:
        parts.append(one_line(model))
    if stats.params:
        try:
            parts.append(Sampling.parse(stats.params).describe())
        except ValueError:
            pass
    if stats.ttft is not None:
        parts.append(f"ttft {_seconds(stats.ttft)}")
    if stats.output_tokens:
        approx = "~" if stats.tokens_estimated else ""
        parts.append(f"{approx}{stats.output_tokens} tokens")
    tps = stats.tokens_per_second
    if tps:
        parts.append(f"{tps:.1f} tok/s")
    if stats.duration is not None:
        parts.append(_seconds(stats.duration))
    line = Text(" · ".join(parts), style="dim")
    if status == "aborted":
        line.append("  ⊘ stopped", style="bold yellow")
    elif status == "interrupted":
        line.append("  ⊘ interrupted (the app closed while it streamed)", style="bold yellow")
    elif status == "error":
        line.append("  ✗ ", style="bold red")
        line.append(one_line(error or "the reply failed"), style="red")
    return line


def user_renderable(text: str, message: Message | None = None) -> RenderableType:
    head = Text("You", style="bold")
    items: list[RenderableType] = [head, Text(clean(text))]
    if message is not None:
        if message.versions > 1:
            head.append(f"  {version_mark(message)}", style="dim")
        if message.attachments:
            chips = Text()
            for a in message.attachments:
                if chips:
                    chips.append(" ")
                chips.append(f" {clean(a.chip())} ", style="reverse dim")
            items.append(chips)
    return Group(*items)


def reply_renderable(message: Message, *, show_meta: bool = True) -> RenderableType:
    items: list[RenderableType] = []
    if message.content.strip():
        items.append(markdown(message.content))
    elif message.status == "complete":
        items.append(Text("(empty reply)", style="dim italic"))
    version = version_mark(message)
    if not show_meta and version and message.status == "complete":
        items.append(Text(version, style="dim"))  # which version, without the figures
    elif show_meta or message.status in ("error", "aborted", "interrupted"):
        items.append(
            meta_text(
                message.model,
                message.stats,
                message.status,
                message.error,
                version=version,
            )
        )
    return Group(*items)


# Rendering is pure Python, so threads do not add CPU; they keep the event loop responsive (it
# gets the GIL back at every switch interval). One thread for what the user waits for (live
# text, the end of a reply), one for full re-renders that only polish what is already shown,
# so those never queue ahead of live text.
RENDER_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render")
# (The switch interval these threads need is set while the app runs: see tuning.)
POLISH_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render-polish")


def render_lines(
    renderable: RenderableType, width: int, console: Console, options: ConsoleOptions
) -> list[Strip]:
    """Lines of a renderable at ``width``, exactly as Textual would draw it, without the base style."""
    segments = console.render(renderable, options.update(width=width, height=None, highlight=False))
    return [
        Strip(line)
        for line in Segment.split_and_crop_lines(
            segments, width, include_new_lines=False, pad=False
        )
    ]


class Prerendered(Visual):
    """A Rich renderable drawn once per width; the last two widths are kept.

    The base style (background, colour from CSS) is applied per paint, which Strip caches, so
    the result is the same as Textual's own rendering. ``prepare`` may run in a worker thread.
    """

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable
        self._lines: dict[int, list[Strip]] = {}
        self._lock = threading.Lock()

    def prepare(self, width: int, console: Console, options: ConsoleOptions) -> list[Strip]:
        with self._lock:
            lines = self._lines.get(width)
            if lines is None:
                lines = render_lines(self.renderable, width, console, options)
                if len(self._lines) >= 2:
                    self._lines.pop(next(iter(self._lines)))
                self._lines[width] = lines
            return lines

    def has(self, width: int) -> bool:
        """Drawn at ``width`` already."""
        return width in self._lines

    def seed(self, lines: dict[int, list[Strip]]) -> None:
        """Use lines drawn elsewhere (per width) until ``rerender`` replaces them."""
        with self._lock:
            self._lines = dict(lines)

    def rerender(self, width: int, console: Console, options: ConsoleOptions) -> list[Strip]:
        lines = render_lines(self.renderable, width, console, options)
        with self._lock:
            self._lines[width] = lines
        return lines

    def lines(self, width: int) -> list[Strip]:
        lines = self._lines.get(width)
        if lines is None:
            app = current_app()
            lines = self.prepare(width, app.console, app.console_options)
        return lines

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        app = current_app()
        options = app.console_options.update_width(container_width)
        return min(Measurement.get(app.console, options, self.renderable).maximum, container_width)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return len(self.lines(width)) if width > 0 else 0

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        if width <= 0:
            return []
        rich_style = style.rich_style
        lines = self.lines(width)
        if height is not None:
            lines = lines[:height]
        return [line.apply_style(rich_style) for line in lines] if rich_style else list(lines)


# The languages replies fence most often. A lexer compiles its regular expressions on first
# use (python ~30 ms, sql ~55 ms): in the middle of several streaming replies that was a pause.
WARM_LANGUAGES = (
    "python",
    "bash",
    "json",
    "javascript",
    "typescript",
    "toml",
    "yaml",
    "diff",
    "go",
    "rust",
    "sql",
)


def warm_up(console: Console, options: ConsoleOptions) -> None:
    """Render a reply with a fence per common language, a list and a table, and throw it away:
    the parser, the lexers and Rich's table code are ready before the first real reply."""
    fences = "\n".join(f"```{lang}\nx\n```\n" for lang in WARM_LANGUAGES)
    sample = f"# Title\n\nSome *text* and `code`.\n\n- one\n  - two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n{fences}"
    render_lines(markdown(sample), 60, console, options)
