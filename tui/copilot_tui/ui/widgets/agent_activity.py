"""An agent's activity in its pane: this turn's tool calls as compact lines, and a permission
request waiting for the user (y: allow once, a: allow for this session, n: deny).

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

SHOWN_TOOLS = 5  # the latest tool calls of the turn; older ones scroll off
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


class AgentActivity(Vertical, can_focus=True):
    BINDINGS = bindings(AGENT_KEYS)

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.tools: dict[str, ToolCall] = {}
        self.asking: PermissionRequest | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="agent-tools")
        yield Static(id="agent-ask")

    def on_mount(self) -> None:
        pending = self.session.pending_permissions
        self.asking = pending[0] if pending else None
        self._draw()

    def handle_event(self, event: ev.SessionEvent) -> None:
        kind = event.type
        if kind == ev.TURN_START:
            self.tools.clear()
        elif kind in (ev.TOOL_START, ev.TOOL_COMPLETE):
            call: ToolCall = event.data.tool
            self.tools[call.call_id] = call
        elif kind == ev.PERMISSION_REQUESTED:
            self.asking = event.data.request
        elif kind == ev.PERMISSION_COMPLETED:
            if self.asking is not None and self.asking.request_id == event.data.request_id:
                self.asking = None
        else:
            return
        self._draw()

    def _draw(self) -> None:
        lines = [tool_line(c) for c in list(self.tools.values())[-SHOWN_TOOLS:]]
        self.query_one("#agent-tools", Static).update(Text("\n").join(lines))
        ask = self.query_one("#agent-ask", Static)
        if self.asking is not None:
            who = self.asking.tool_name or self.asking.kind
            text = Text(f" Allow {who}: ", style="bold")
            text.append(self.asking.summary)
            text.append(
                "?   y allow once \u00b7 a allow for this session \u00b7 n deny", style="bold"
            )
            ask.update(text)
        ask.display = self.asking is not None
        self.set_class(self.asking is not None, "-asking")
        self.display = bool(lines) or self.asking is not None

    def action_answer(self, decision: PermissionDecision) -> None:
        if self.asking is not None:
            self.session.answer_permission(self.asking.request_id, decision)
