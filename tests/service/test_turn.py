"""A turn's steps, run directly against a real OpenAI-compatible server and a real store:
retried before its first word, never after; stopped mid-stream or failed after some text, it
keeps that text."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from copilot_tui import CopilotClient
from copilot_tui import events as ev
from copilot_tui.service.bus import EventBus
from copilot_tui.service.turn import History, Prompt, Turn
from tests.servers.openai_server import FakeOpenAI, Script


async def _turn(
    client: CopilotClient, prompt: str = "hi"
) -> tuple[Turn, list[ev.SessionEvent], asyncio.Event]:
    """A turn of a new session, its events, and a flag raised by its second text event."""
    session = await client.create_session("lab/gpt-4o-mini")
    rt = client.runtime
    bus: EventBus[ev.SessionEvent] = EventBus("test")
    seen: list[ev.SessionEvent] = []
    two_pieces = asyncio.Event()

    def record(event: ev.SessionEvent) -> None:
        seen.append(event)
        if [e.type for e in seen].count(ev.MESSAGE_DELTA) == 2:
            two_pieces.set()

    bus.on(record)
    history = History(rt.store, session.session_id)
    turn = Turn(rt, session.info, bus, history, Prompt(uuid.uuid4().hex, prompt, None))
    return turn, seen, two_pieces


def _types(seen: list[ev.SessionEvent]) -> list[str]:
    return [e.type for e in seen]


@pytest.mark.usefixtures("quick_retries")
async def test_retried_before_the_first_word(client: CopilotClient, fake: FakeOpenAI) -> None:
    fake.script("gpt-4o-mini", Script(status=503), Script(chunks=["one ", "two"]))
    turn, seen, _ = await _turn(client)
    await turn.run()
    assert turn.reply.status == "complete" and turn.reply.content == "one two"
    assert len(fake.requests_for("gpt-4o-mini")) == 2
    notes = [e.data.status for e in seen if e.type == ev.SESSION_STATUS and e.data.status]
    assert any(n.startswith("retrying in") for n in notes), notes
    assert _types(seen).count(ev.SESSION_IDLE) == 1 and _types(seen)[-1] == ev.SESSION_IDLE
    stored = await client.runtime.store.get_message(turn.reply.id)
    assert stored is not None and stored.content == "one two" and stored.status == "complete"
    assert turn.state == "idle" and not turn.live


@pytest.mark.usefixtures("quick_retries")
async def test_an_error_after_some_text_keeps_it_and_is_not_retried(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    fake.script("gpt-4o-mini", Script(chunks=["one ", "two ", "three"], drop_after=2))
    turn, seen, _ = await _turn(client)
    await turn.run()
    assert len(fake.requests_for("gpt-4o-mini")) == 1  # text had arrived: no second attempt
    assert turn.reply.status == "error" and turn.reply.content == "one two "
    [error] = [e for e in seen if e.type == ev.SESSION_ERROR]
    assert error.data.had_text and "\n" not in error.data.message
    [idle] = [e for e in seen if e.type == ev.SESSION_IDLE]
    assert idle.data.status == "error" and not idle.data.aborted
    stored = await client.runtime.store.get_message(turn.reply.id)
    assert stored is not None and stored.status == "error" and stored.content == "one two "
    assert stored.error == error.data.message


async def test_stopped_mid_stream_keeps_the_text(client: CopilotClient, fake: FakeOpenAI) -> None:
    fake.script("gpt-4o-mini", Script(chunks=["one ", "two ", "three"], hold_at=2))
    turn, seen, two_pieces = await _turn(client)
    task = asyncio.create_task(turn.run())
    try:
        await asyncio.wait_for(two_pieces.wait(), 30)
        assert turn.live and turn.state == "streaming"
        turn.stopping = True
        task.cancel()
        await asyncio.wait({task})
    finally:
        fake.release()
    assert not task.cancelled()  # a stop asked for ends the turn, not its task
    assert turn.reply.status == "aborted" and turn.reply.content == "one two "
    [idle] = [e for e in seen if e.type == ev.SESSION_IDLE]
    assert idle.data.aborted and idle.data.status == "aborted"
    assert ev.SESSION_ERROR not in _types(seen)
    stored = await client.runtime.store.get_message(turn.reply.id)
    assert stored is not None and stored.status == "aborted" and stored.content == "one two "
    assert turn.state == "idle" and not turn.live


async def test_progress_is_live_then_final(client: CopilotClient, fake: FakeOpenAI) -> None:
    fake.script("gpt-4o-mini", Script(chunks=["one ", "two ", "three"], hold_at=2, usage=False))
    turn, _, two_pieces = await _turn(client)
    task = asyncio.create_task(turn.run())
    try:
        await asyncio.wait_for(two_pieces.wait(), 30)
        live = turn.progress()
        assert live.output_tokens == 2 and live.tokens_estimated and live.queued == 0.0
        assert live.ttft is not None and live.duration is not None and live.ttft <= live.duration
        assert turn.text == "one two "
    finally:
        fake.release()
    await task
    final = turn.progress()
    assert final is turn.reply.stats and final.output_tokens == 3
    assert turn.text == turn.reply.content == "one two three"


async def test_a_turn_stopped_before_it_began_still_ends_once(client: CopilotClient) -> None:
    turn, seen, _ = await _turn(client)
    turn.end_unstarted()
    assert _types(seen) == [ev.SESSION_IDLE]
    assert seen[0].data.aborted and seen[0].data.message_id is None
    assert seen[0].data.turn_id == turn.id


async def test_a_turn_cancelled_mid_stream_ends_once(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    """Cancelled from outside (the client stopping), not stopped: the cancel goes on up, the
    text is kept as aborted, and the one idle event is the turn's own."""
    fake.script("gpt-4o-mini", Script(chunks=["one ", "two ", "three"], hold_at=2))
    turn, seen, two_pieces = await _turn(client)
    task = asyncio.create_task(turn.run())
    try:
        await asyncio.wait_for(two_pieces.wait(), 30)
        task.cancel()
        await asyncio.wait({task})
    finally:
        fake.release()
    assert task.cancelled()
    turn.end_unstarted()  # what the session's worker does with a cancelled turn: nothing here
    assert _types(seen).count(ev.SESSION_IDLE) == 1
    assert turn.reply.status == "aborted" and turn.reply.content == "one two "


async def test_history_is_read_once_then_kept(client: CopilotClient, fake: FakeOpenAI) -> None:
    """The second turn's request carries the first turn without reading the store again."""
    turn, _, _ = await _turn(client, "first")
    await turn.run()
    history = History(client.runtime.store, turn.user.session_id)
    messages = await history.messages()
    assert [m.content for m in messages] == ["first", "Echo: first"]
    history.add(turn.user, turn.reply)
    assert len(await history.messages()) == 4  # kept here, not read again
    history.forget()
    assert len(await history.messages()) == 2  # read again: the store's truth
