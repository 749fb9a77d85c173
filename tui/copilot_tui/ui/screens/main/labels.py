"""Tab labels: a mark, then the session's title (a comparison's pane: its model first)."""

from __future__ import annotations

from rich.text import Text
from textual.content import Content

from ...safe import one_line
from ...widgets.marks import mark
from ...workspace import Workspace

TAB_TITLE = 22  # cells of title a tab shows


def session_label(workspace: Workspace, session_id: str, frame: int) -> Content:
    label = Text.assemble(mark(workspace.mark(session_id), frame), " ")
    info = workspace.info(session_id)
    title = Text(one_line(info.title) if info is not None and info.title else "(untitled)")
    if info is not None and info.group_id:  # a comparison's pane: its model tells it apart
        title = Text(f"{one_line(info.model).rsplit('/', 1)[-1]} · {title.plain}")
    title.truncate(TAB_TITLE, overflow="ellipsis")
    label.append_text(title)
    return Content.from_rich_text(label)


def group_label(workspace: Workspace, group_id: str, title: str, frame: int) -> Content:
    label = Text.assemble(mark(workspace.group_mark(group_id, live_only=True), frame), " ⚖ ")
    text = Text(one_line(title) or "(comparison)")
    text.truncate(TAB_TITLE, overflow="ellipsis")
    label.append_text(text)
    return Content.from_rich_text(label)
