"""Rich renderables for messages: Markdown for replies, literal text for everything else."""

from __future__ import annotations

import re

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.text import Text

from ...types import Message, ReplyStats
from ..safe import clean, one_line

CODE_THEME = "monokai"
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n(.*?)^ {0,3}\1[`~]*[ \t]*$", re.M | re.S)


def markdown(text: str) -> Markdown:
    """Reply Markdown; hyperlinks off so a link shows its address instead of a terminal link."""
    return Markdown(clean(text), code_theme=CODE_THEME, hyperlinks=False)


def code_blocks(text: str) -> list[str]:
    """The fenced code blocks of a Markdown text, in order."""
    return [m.group(2).rstrip("\n") for m in _FENCE.finditer(text)]


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def meta_text(model: str | None, stats: ReplyStats, status: str, error: str | None) -> Text:
    """One line under a reply: model, ttft, tokens, tokens/s, duration, and how it ended."""
    parts: list[str] = []
    if model:
        parts.append(one_line(model))
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


def user_renderable(text: str) -> RenderableType:
    return Group(Text("You", style="bold"), Text(clean(text)))


def reply_renderable(message: Message, *, show_meta: bool = True) -> RenderableType:
    items: list[RenderableType] = []
    if message.content.strip():
        items.append(markdown(message.content))
    elif message.status == "complete":
        items.append(Text("(empty reply)", style="dim italic"))
    if show_meta or message.status in ("error", "aborted", "interrupted"):
        items.append(meta_text(message.model, message.stats, message.status, message.error))
    return Group(*items)
