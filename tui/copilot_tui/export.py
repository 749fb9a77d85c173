"""Session exports: verbatim text, never credentials."""

from __future__ import annotations

import json

from .types import Message, SessionInfo


def export_markdown(info: SessionInfo, messages: list[Message]) -> str:
    lines = [
        f"# {info.title or info.session_id}",
        "",
        f"- id: `{info.session_id}`",
        f"- model: `{info.model}`",
        "",
    ]
    if info.system_message:
        lines += ["## System", "", info.system_message, ""]
    for m in messages:
        heading = (
            "User" if m.role == "user" else f"Assistant ({m.model})" if m.model else "Assistant"
        )
        if m.status != "complete":
            heading += f" [{m.status}]"
        lines += [f"## {heading}", "", m.content, ""]
        if m.error:
            lines += [f"> {m.error}", ""]
    return "\n".join(lines)


def export_json(
    info: SessionInfo,
    messages: list[Message],
    tree: list[tuple[Message, bool]] | None = None,
) -> str:
    """``messages``: the active branch; ``tree``: every message of every branch (each with
    ``parent_id`` and whether it is on the active branch)."""
    doc: dict[str, object] = {
        "session": info.to_dict(),
        "messages": [m.to_dict() for m in messages],
    }
    if tree is not None:
        doc["tree"] = [{**m.to_dict(), "active": active} for m, active in tree]
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
