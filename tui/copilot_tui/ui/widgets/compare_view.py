"""A comparison as one tab: a pane per model side by side, a shared prompt underneath.

Each pane's body is the ordinary Conversation, fed from the screen's one feed of session
events exactly like a chat tab, so several panes streaming cost what several conversations cost
and nothing more. The headers (status, live stats, fastest marks) are drawn from the service's
Pane objects when a pane's turn changes and on a slow tick, rather than per token, and repaint
without a layout pass because their height never changes. From the Comparison itself the tab
takes only what no session event says: stats settled after a turn, and the end of a round.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.message import Message as TMessage
from textual.reactive import var
from textual.widget import Widget
from textual.widgets import TabPane

from ... import events as ev
from ...errors import CopilotTuiError
from ...service.compare import COMPARE_DONE, PANE_UPDATED, CompareEvent, Comparison, Pane
from ...types import Message
from ..engine.paint import paint_turns
from ..keymap import COMPARE_KEYS, bindings
from ..messages import OpenSession
from ..safe import one_line
from ..votes import VoteChoice
from ..workspace import Workspace
from .agent_activity import AgentActivity
from .conversation import Conversation
from .outline import Entry
from .prompt import Prompt

STATS_TICK = 0.25  # seconds between header repaints while a pane runs
RECENT = 16  # messages per pane read when a stored comparison opens; the rest as it scrolls
STAR = "★"

_STATUS: dict[str, tuple[str, str]] = {
    "idle": ("· idle", "dim"),
    "waiting": ("… waiting", "bold yellow"),
    "streaming": ("● streaming", "bold green"),
    "done": ("✓ done", "bold green"),
    "aborted": ("⊘ stopped", "bold yellow"),
    "error": ("✗ failed", "bold red"),
}


def grid_shape(panes: int) -> tuple[int, int]:
    """Columns and rows: side by side up to three, then two rows (2x2, 3x2, 4x2)."""
    if panes <= 3:
        return max(panes, 1), 1
    return (panes + 1) // 2, 2


def seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f}ms" if value < 1 else f"{value:.1f}s"


def header_text(
    pane: Pane, *, fastest_ttft: bool = False, fastest_total: bool = False, blind: bool = False
) -> Text:
    """Three short lines (they fit a quarter of a wide terminal): state, times, tokens.

    A failed pane says so here and its error once, under the reply (with the text that came
    before the failure); an error here too took the lines that text needed in a small pane. ``blind``
    leaves out the token count (its counting can tell the provider) and keeps the rate.
    """
    word, style = _STATUS.get(pane.status, (pane.status, ""))
    status = Text(word, style=style)
    if pane.status_note and pane.status in ("waiting", "streaming"):
        status.append(f"  {one_line(pane.status_note)}", style="dim italic")
    wins = [name for name, won in (("first token", fastest_ttft), ("total", fastest_total)) if won]
    if wins:
        status.append(f"  {STAR} fastest {' and '.join(wins)}", style="bold yellow")
    times = Text()
    times.append("ttft ", style="dim")
    times.append(seconds(pane.ttft))
    if fastest_ttft:
        times.append(STAR, style="bold yellow")
    times.append("   total ", style="dim")
    times.append(seconds(pane.duration))
    if fastest_total:
        times.append(STAR, style="bold yellow")
    tokens = Text()
    count = pane.output_tokens
    if not blind:
        tokens.append(f"{'~' if pane.tokens_estimated and count else ''}{count or 0}")
        tokens.append(" tok   ", style="dim")
    tokens.append(rate(pane))
    return Text("\n").join([status, times, tokens])


def rate(pane: Pane) -> str:
    """Tokens per second, once there is enough of a reply for the figure to mean something."""
    tps = pane.tokens_per_second
    live = pane.status in ("waiting", "streaming")
    if not tps or (live and (pane.duration or 0) - (pane.ttft or 0) < 0.25):
        return "– tok/s"
    return f"{tps:.1f} tok/s"


class PaneHeader(Widget):
    """Status and stats of one pane; a fixed height, so repainting never re-lays the screen.

    Lines are cut, not wrapped, so the numbers stay where the eye expects them; an error wraps.
    """

    def __init__(self) -> None:
        super().__init__(classes="pane-header")
        self._text = Text()

    def render(self) -> Text:
        return self._text

    def show(self, text: Text, *, error: bool = False) -> None:
        if text.plain != self._text.plain or text.spans != self._text.spans:
            self._text = text
            self.set_class(error, "-error")
            self.refresh()


class ComparePaneView(Vertical):
    """One model's column: header and conversation. Events wait in a buffer until history is in
    (events from before the view existed are in that history, or in the live text)."""

    @dataclass
    class Asking(TMessage):
        """An agent pane asks permission: the tab selects it and focuses the question."""

        view: ComparePaneView

    @dataclass
    class Answered(TMessage):
        """The question this pane asked was answered: the prompt takes the keys again."""

        view: ComparePaneView

    def __init__(self, pane: Pane, workspace: Workspace, *, show_meta: bool, name: str) -> None:
        super().__init__(classes="compare-pane")
        self.pane = pane
        self._workspace = workspace
        self._show_meta = show_meta
        self._buffer: list[ev.SessionEvent] | None = []
        self._loaded_ids: set[str] = set()
        self.first_text = True  # the first text of a turn changes the header (ttft)
        self.header = PaneHeader()
        self.conversation = Conversation(pane.session_id, workspace.live, show_meta=show_meta)
        self.relabel(name)
        self.styles.visibility = "hidden"  # until its turn to show (see load)

    def relabel(self, name: str) -> None:
        self.border_title = Text(one_line(name))

    def compose(self) -> ComposeResult:
        yield self.header
        yield self.conversation
        if self.pane.session.mode == "agent":
            yield AgentActivity(self.pane.session)

    @property
    def session_id(self) -> str:
        return self.pane.session_id

    @property
    def loaded(self) -> bool:
        return self._buffer is None

    @work(group="history")
    async def load(self, fresh: bool) -> None:
        """Show the pane's history. A comparison started here a moment ago has none but its
        first turn, which the workspace holds (events may have come before this view)."""
        messages: list[Message] = []
        outline: list[Entry] | None = None
        if not fresh:
            try:
                messages, rows = await asyncio.gather(
                    self.pane.session.get_messages(limit=RECENT),
                    self.pane.session.get_outline(),
                )
                outline = [Entry(*row) for row in rows]
            except CopilotTuiError as exc:
                self.notify(str(exc), severity="error", markup=False)
        # Panes appear and fill one per frame: eight at once are one first paint of the whole
        # grid and one long layout (150-185 ms, measured).
        await paint_turns(self.app).wait(self, "load", first=True)
        self.styles.visibility = "visible"
        if fresh:
            messages = self._workspace.turn_messages(self.session_id)
        self.conversation.load(
            messages,
            turn=self._workspace.turn(self.session_id),
            outline=outline,
            fetch=self.pane.session.get_messages_between if outline is not None else None,
        )
        self._loaded_ids = {m.id for m in messages}
        buffered, self._buffer = self._buffer or [], None
        for event in buffered:
            self.handle_event(event)
        self.conversation.text_arrived()

    def handle_event(self, event: ev.SessionEvent) -> None:
        if event.type == ev.TURN_START:
            self.first_text = True
        if self._buffer is not None:
            self._buffer.append(event)
            return
        if (
            event.type in (ev.USER_MESSAGE, ev.TURN_START)
            and event.data.get("message_id") in self._loaded_ids
        ):
            return  # already read from the store
        self.conversation.handle_event(event)
        if event.type in (ev.TOOL_START, ev.TOOL_COMPLETE):
            self.conversation.show_tool_call(event.data.tool, event.data.get("message_id") or "")
        for activity in self.query(AgentActivity):
            had_focus = activity.has_focus
            activity.handle_event(event)
            if event.type == ev.PERMISSION_REQUESTED and not self.conversation.paused:
                self.post_message(self.Asking(self))  # the tab selects this pane, y/a/n answer
            elif event.type == ev.PERMISSION_COMPLETED and had_focus:
                self.post_message(self.Answered(self))

    def text_arrived(self) -> None:
        if self._buffer is None:
            self.conversation.text_arrived()


class CompareTab(TabPane):
    """The compare view. It talks to the service only through its Comparison."""

    BINDINGS = bindings(COMPARE_KEYS)

    selected: var[int] = var(0)
    maximised: var[bool] = var(False)

    @dataclass
    class VoteRequested(TMessage):
        """The person wants to vote: the screen asks how (a dialog), then calls record_vote."""

        tab: CompareTab

    @dataclass
    class Voted(TMessage):
        """A verdict was recorded: the sidebar may show the models now."""

        group_id: str

    @dataclass
    class Changed(TMessage):
        """Something a header shows changed (posted at most once per frame)."""

        tab: CompareTab

    def __init__(
        self,
        comparison: Comparison,
        workspace: Workspace,
        title: object,
        *,
        id: str,
        show_meta: bool = True,
        fresh: bool = False,
    ) -> None:
        super().__init__(title, id=id)  # type: ignore[arg-type]
        self.comparison = comparison
        self._show_meta = show_meta
        self._fresh = fresh
        self._visible = False
        self._change_posted = False
        self._unsubscribe: Callable[[], None] | None = None
        self.views = [
            ComparePaneView(
                p, workspace, show_meta=show_meta and not comparison.hidden, name=self.pane_name(p)
            )
            for p in comparison.shown_order  # blind: by letter, never in the order given
        ]
        self._by_session = {v.session_id: v for v in self.views}
        self.prompt = Prompt(id="compare-prompt")
        self.prompt.placeholder = (
            "Follow-up to every pane…  (enter send · esc stop pane · alt+x stop all)"
        )
        if comparison.last_prompt:
            self.prompt.sent = [comparison.last_prompt]

    @property
    def group_id(self) -> str:
        return self.comparison.group_id

    def pane_name(self, pane: Pane) -> str:
        name = self.comparison.name_of(pane)
        return name if self.comparison.blind else f"{pane.index + 1} · {name}"

    @property
    def session_ids(self) -> list[str]:
        return list(self._by_session)

    def compose(self) -> ComposeResult:
        columns, rows = grid_shape(len(self.views))
        grid = Container(id="compare-grid")
        grid.styles.grid_size_columns = columns
        grid.styles.grid_size_rows = rows
        with grid:
            yield from self.views
        yield self.prompt

    def on_mount(self) -> None:
        self._unsubscribe = self.comparison.on(self._from_comparison)
        for view in self.views:
            view.load(self._fresh)
        self.set_interval(STATS_TICK, self._tick)
        self.watch_selected(self.selected)
        self.refresh_headers()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Focus never switches tabs; focusing a pane's conversation selects that pane."""
        event.prevent_default()  # else TabPane's own handler still runs and switches tabs
        for i, view in enumerate(self.views):
            if view in event.widget.ancestors_with_self:
                self.selected = i
                return

    # -- events --------------------------------------------------------------------------

    def _from_comparison(self, event: CompareEvent) -> None:
        """Runs inside service tasks. Only the comparison's own events matter here; its panes'
        session events reach the tab through the screen's feed (``handle_event``)."""
        if event.type not in (PANE_UPDATED, COMPARE_DONE):
            return
        if not self._change_posted or event.type == COMPARE_DONE:
            self._change_posted = True  # the marks appear now, even if a repaint is pending
            self.post_message(self.Changed(self))

    @on(Changed)
    def _changed(self, message: Changed) -> None:
        message.stop()
        self._change_posted = False
        self.refresh_headers(in_turn=True)

    def handle_event(self, event: ev.SessionEvent) -> None:
        """One event of a pane's session, from the screen's single feed."""
        view = self._by_session.get(event.session_id)
        if view is None:
            return
        view.handle_event(event)
        if event.type != ev.MESSAGE and self.is_mounted:
            self._request_header(view)

    def text_arrived(self, session_id: str) -> None:
        view = self._by_session.get(session_id)
        if view is None:
            return
        view.text_arrived()
        if view.first_text and self.is_mounted:  # the first token: the header shows its ttft
            view.first_text = False
            self._request_header(view)

    def _request_header(self, view: ComparePaneView) -> None:
        paint_turns(self.app).request(view.header, partial(self._show_header, view), "stats")

    def _tick(self) -> None:
        if self._visible and self.comparison.busy:
            self.refresh_headers(in_turn=True)

    def refresh_headers(self, *, in_turn: bool = False) -> None:
        """Show every pane's figures: now, or (``in_turn``) one header per paint turn, since
        eight headers repainting together cost 6-16 ms of one frame while panes stream."""
        turns = paint_turns(self.app) if in_turn else None
        for view in self.views:
            if turns is None:
                self._show_header(view)
            else:
                turns.request(view.header, partial(self._show_header, view), "stats")

    def _show_header(self, view: ComparePaneView) -> None:
        comparison = self.comparison
        marks = len(comparison.answered) >= 2
        i = view.pane.index
        view.header.show(
            header_text(
                view.pane,
                fastest_ttft=marks and i == comparison.fastest_ttft,
                fastest_total=marks and i == comparison.fastest_total,
                blind=comparison.hidden,
            ),
            error=view.pane.status == "error",
        )

    # -- showing -------------------------------------------------------------------------

    def set_visible(self, visible: bool) -> None:
        """Hidden panes only buffer; a maximised pane hides (and pauses) the others."""
        self._visible = visible
        for i, view in enumerate(self.views):
            view.conversation.paused = not visible or (self.maximised and i != self.selected)
        if visible:
            self.refresh_headers()
            asking = next((v for v in self.views if v.pane.session.pending_permissions), None)
            if asking is not None:  # a question asked while the tab was hidden takes the keys
                self.post_message(ComparePaneView.Asking(asking))
            else:
                self.prompt.focus()

    def watch_selected(self, selected: int) -> None:
        for i, view in enumerate(self.views):
            view.set_class(i == selected, "-selected")
        if self.maximised:
            self.set_visible(self._visible)

    def watch_maximised(self, maximised: bool) -> None:
        if not self.is_mounted:
            return
        grid = self.query_one("#compare-grid", Container)
        grid.set_class(maximised, "-max")
        columns, rows = (1, 1) if maximised else grid_shape(len(self.views))
        grid.styles.grid_size_columns = columns
        grid.styles.grid_size_rows = rows
        self.set_visible(self._visible)

    # -- actions -------------------------------------------------------------------------

    def _step(self, step: int) -> None:
        conversation_focused = any(self.screen.focused is v.conversation for v in self.views)
        self.selected = (self.selected + step) % len(self.views)
        if conversation_focused:
            self.views[self.selected].conversation.focus()

    def action_next_pane(self) -> None:
        self._step(1)

    def action_prev_pane(self) -> None:
        self._step(-1)

    def action_cancel_pane(self) -> None:
        pane = self.views[self.selected].pane
        if pane.busy:
            self.abort(pane.index)
        elif not self.prompt.has_focus:
            self.prompt.focus()

    def action_cancel_all(self) -> None:
        if self.comparison.busy:
            self.abort(None)

    @work(group="abort")
    async def abort(self, index: int | None) -> None:
        try:
            if index is None:
                await self.comparison.abort_all()
            else:
                await self.comparison.abort(index)
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)
        self.refresh_headers()

    def action_continue_pane(self) -> None:
        """Carry on with the selected pane's session as an ordinary conversation tab."""
        if self.comparison.hidden:  # the tab would name the model
            self.notify("Vote first (f5): the models stay hidden until then.", markup=False)
            return
        self.post_message(OpenSession(self.views[self.selected].session_id))

    @on(ComparePaneView.Asking)
    def _asking(self, message: ComparePaneView.Asking) -> None:
        """An agent pane asks permission: select it, and y / a / n answer at once. A question
        already being answered keeps the keys: the next one comes when it is answered."""
        message.stop()
        if any(a.has_focus and a.asking is not None for a in self.query(AgentActivity)):
            return
        self.selected = self.views.index(message.view)
        for activity in message.view.query(AgentActivity):
            activity.focus()

    @on(ComparePaneView.Answered)
    def _answered(self, message: ComparePaneView.Answered) -> None:
        message.stop()
        asking = next((v for v in self.views if v.pane.session.pending_permissions), None)
        if asking is not None:  # another pane is waiting: its question next
            self.post_message(ComparePaneView.Asking(asking))
        else:
            self.prompt.focus()

    # -- votes ---------------------------------------------------------------------------

    def action_vote(self) -> None:
        comparison = self.comparison
        if comparison.busy:
            self.notify("Wait until every pane has finished answering, then vote.", markup=False)
            return
        if not comparison.answered and not any(p.error for p in comparison.panes):
            self.notify("Nothing to vote on yet.", markup=False)
            return
        self.post_message(self.VoteRequested(self))

    def vote_choices(self) -> list[tuple[str, str]]:
        """Each pane as (the name a vote uses, what the vote dialog shows), in view order."""
        comparison = self.comparison
        return [
            (
                comparison.letters[p.index] if comparison.blind else str(p.index + 1),
                self.pane_name(p),
            )
            for p in comparison.shown_order
        ]

    @work(group="vote")
    async def record_vote(self, choice: VoteChoice) -> None:
        """``choice`` names panes as :meth:`vote_choices` does."""
        was_hidden = self.comparison.hidden
        try:
            vote = await self.comparison.vote(
                ranking=choice.ranking, tie=choice.tie, all_bad=choice.all_bad
            )
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        for view in self.views:
            view.relabel(self.pane_name(view.pane))
            view.conversation.show_meta = self._show_meta  # replies from now on name their model
        self.refresh_headers()
        if vote.verdict == "ranked":
            best = ", ".join(self.pane_name(self.comparison.panes[i]) for i in vote.ranking[0])
            said = f"best: {best}"
        else:
            said = "a tie" if vote.verdict == "tie" else "all bad"
        reveal = " Models revealed." if was_hidden else ""
        self.notify(f"Vote recorded ({said}).{reveal}", markup=False)
        self.post_message(self.Voted(self.group_id))

    def action_maximise(self) -> None:
        self.maximised = not self.maximised

    def focus_prompt(self) -> None:
        self.prompt.focus()

    # -- follow-ups ----------------------------------------------------------------------

    @on(Prompt.Submitted)
    def _submitted(self, event: Prompt.Submitted) -> None:
        event.stop()
        if event.prompt is not self.prompt:
            return
        text = event.text
        event.prompt.remember(text)
        event.prompt.clear()
        self.send(text)

    @work(group="send")
    async def send(self, text: str) -> None:
        try:
            await self.comparison.send(text)
        except CopilotTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)
            self.prompt.restore(text)
        self.refresh_headers()
