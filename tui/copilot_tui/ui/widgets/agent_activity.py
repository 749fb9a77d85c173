"""An agent's activity in its pane: each tool call as a compact block in the conversation, above
the reply it serves, and a permission request waiting for the user above the prompt (y: allow
once, a: allow for this session, n: deny).

State lives in the session (its pending requests, the decisions); this widget only shows the
latest and sends the answer back through ``Session.answer_permission``.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from ... import events as ev
from ...service import Session
from ...types import PermissionDecision, PermissionRequest, ToolCall
from ..keymap import AGENT_KEYS, bindings

MARKS = {"running": "\u2026", "done": "\u2713", "failed": "\u2717"}


def tool_line(call: ToolCall) -> Text:
    line = Text(f" {MARKS.get(call.status, '?')} ", style="bold")
    line.append(call.name, style="bold")
    label = call.title or ", ".join(f"{k}={v}" for k, v in list(call.arguments.items())[:2])
    if label:
        line.append(f"  {label}"[:120], style="dim")
    if call.status == "failed" and call.result:
        line.append(f"  {call.result}"[:160], style="red")
    return line


class ToolBlock(Static):
    """One tool call in the conversation: running, then done or failed."""

    def __init__(self, call: ToolCall, *, id: str | None = None) -> None:
        super().__init__(tool_line(call), markup=False, id=id)
        self.call = call

    def show(self, call: ToolCall) -> None:
        self.call = call
        self.set_class(call.status == "failed", "-failed")
        self.update(tool_line(call))


class AgentActivity(Vertical, can_focus=True):
    BINDINGS = bindings(AGENT_KEYS)

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.asking: PermissionRequest | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="agent-ask")

    def on_mount(self) -> None:
        pending = self.session.pending_permissions
        self.asking = pending[0] if pending else None
        self._draw()

    def handle_event(self, event: ev.SessionEvent) -> None:
        kind = event.type
        if kind == ev.PERMISSION_REQUESTED:
            self.asking = event.data.request
        elif kind == ev.PERMISSION_COMPLETED:
            if self.asking is not None and self.asking.request_id == event.data.request_id:
                self.asking = None
        else:
            return
        self._draw()

    def _draw(self) -> None:
        ask = self.query_one("#agent-ask", Static)
        if self.asking is not None:
            who = self.asking.tool_name or self.asking.kind
            text = Text(f" Allow {who}: ", style="bold")
            text.append(self.asking.summary)
            text.append(
                "?   y allow once \u00b7 a allow for this session \u00b7 n deny", style="bold"
            )
            ask.update(text)
        self.set_class(self.asking is not None, "-asking")
        self.display = self.asking is not None

    def action_answer(self, decision: PermissionDecision) -> None:
        if self.asking is not None:
            self.session.answer_permission(self.asking.request_id, decision)
