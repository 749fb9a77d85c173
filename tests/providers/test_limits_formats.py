"""The hard limits of test_limits for the other wire formats: Ollama's NDJSON and Anthropic's
named-event SSE. A bomb, an endless line or endless valid events end the turn with one sentence
naming the limit, the text received so far kept, the connection closed long before the hostile
body is sent, and the CLI's memory bounded. A gzip body of several members is read whole."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from copilot_tui import errors as E
from tests.provider_support import client_for, failed_turn, turn
from tests.providers.test_limits import (
    MAX_RSS_MB,
    one_sentence,
    send_measured,
    served,
    stored_reply,
)
from tests.servers import anthropic_server, ollama_server
from tests.servers.anthropic_server import API_KEY, FakeAnthropic
from tests.servers.base import FakeService, Script
from tests.servers.hostile import (
    ANTHROPIC,
    OLLAMA,
    MiB,
    Wire,
    gzip_bomb,
    gzip_members,
    huge_body,
)
from tests.servers.ollama_server import FakeOllama


@dataclass(frozen=True)
class Service:
    """A fake service speaking ``wire``, and what a client needs to reach it."""

    wire: Wire
    fake: FakeService
    model: str  # the fake's model name
    ref: str  # the client's PROVIDER/MODEL
    config: str
    endless_line: str  # the phrase of the limit on one line or event
    reply: list[bytes]  # a whole valid reply of "one two three", in pieces as flushed


def _ollama_reply(model: str) -> list[bytes]:
    line = ollama_server.line
    words = [
        line({"model": model, "message": {"role": "assistant", "content": w}, "done": False})
        for w in ("one", " two", " three")
    ]
    done = line(
        {
            "model": model,
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 3,
            "eval_count": 3,
        }
    )
    return [*words, done]


def _anthropic_reply() -> list[bytes]:
    event = anthropic_server.event
    words = [
        event(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": w},
            },
        )
        for w in ("one", " two", " three")
    ]
    tail = (
        event("content_block_stop", {"type": "content_block_stop", "index": 0})
        + event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn"},
                "usage": {"output_tokens": 3},
            },
        )
        + event("message_stop", {"type": "message_stop"})
    )
    return [ANTHROPIC.head, *words, tail]


@pytest.fixture(scope="module", params=["ollama", "anthropic"])
def running(request: pytest.FixtureRequest) -> Iterator[Service]:
    if request.param == "ollama":
        with FakeOllama() as fake:
            model = "llama3.2:latest"
            yield Service(
                OLLAMA,
                fake,
                model,
                f"ol/{model}",
                f'[providers.ol]\ntype = "ollama"\nbase_url = "{fake.url}"\n',
                "line longer than 16 MiB",
                _ollama_reply(model),
            )
    else:
        with FakeAnthropic() as fake:
            model = "claude-sonnet-4-5"
            yield Service(
                ANTHROPIC,
                fake,
                model,
                f"claude/{model}",
                f'[providers.claude]\ntype = "anthropic"\nbase_url = "{fake.url}"\n',
                "event longer than 16 MiB",
                _anthropic_reply(),
            )


@pytest.fixture
def service(running: Service, monkeypatch: pytest.MonkeyPatch) -> Service:
    running.fake.reset()
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    return running


def _padded_events(wire: Wire) -> Script:
    """Endless valid text events, each padded to 64 KiB: only the reply's size can stop them."""
    return huge_body(
        1024 * MiB,
        content_type=wire.content_type,
        line=wire.padded(64 * 1024),
        head=wire.head,
        hold_at=None,  # sent until the client closes: held at exactly 64 MiB, both would wait
        make=Script,
    )


def _endless_line(wire: Wire) -> Script:
    """One line (NDJSON) or event (SSE) that never ends."""
    start = b'{"message":{"content":"' if wire is OLLAMA else b"data: "
    return huge_body(
        1024 * MiB,
        content_type=wire.content_type,
        line=b"x" * 64,
        head=wire.head + start,
        make=Script,
    )


CASES = {
    # zeros at ~1000:1, no line end ever: the ratio cap
    "bomb": (lambda w: gzip_bomb(2048 * MiB, wire=w, make=Script), "expands more than 256 times"),
    # valid text events at ~1000:1: the ratio cap, after some text
    "text-bomb": (
        lambda w: gzip_bomb(2048 * MiB, text=True, wire=w, make=Script),
        "expands more than 256 times",
    ),
    # a gzip member per flush, each a compressed run of valid events: the same cap across members
    "member-bomb": (
        lambda w: gzip_members(
            [w.head, w.padded(64 * 1024) * 16],  # runs of JSON whitespace: ~1000:1
            repeat_last=2048,
            hold_at=1 * MiB,
            wire=w,
            make=Script,
        ),
        "expands more than 256 times",
    ),
    "endless-line": (_endless_line, None),
    "endless-events": (_padded_events, "larger than 64 MiB"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_each_limit_is_one_sentence_keeps_the_text_and_closes(
    service: Service, tmp_path: Path, case: str
) -> None:
    build, phrase = CASES[case]
    service.fake.script(service.model, build(service.wire))
    async with client_for(tmp_path, service.config) as client:
        error, reply = await failed_turn(client, service.ref)
    assert isinstance(error, E.ProtocolError)
    message = str(error)
    assert (phrase or service.endless_line) in message and "\n" not in message
    assert reply.status == "error" and reply.error == message
    if case in ("text-bomb", "member-bomb", "endless-events"):
        assert reply.content.startswith("haha")  # what arrived before the limit is kept
    [record] = [r for r in service.fake.requests if "sent" in r]
    record = await asyncio.to_thread(served, record)
    assert record["closed"] and record["sent"] < 256 * MiB


async def test_a_reply_in_several_gzip_members_is_read_whole(
    service: Service, tmp_path: Path
) -> None:
    service.fake.script(service.model, gzip_members(service.reply, wire=service.wire, make=Script))
    async with client_for(tmp_path, service.config) as client:
        reply = await turn(client, service.ref)
    assert reply.status == "complete" and reply.content == "one two three"


def test_the_cli_stops_a_bomb_with_memory_bounded(service: Service, tmp_path: Path) -> None:
    service.fake.script(service.model, gzip_bomb(2048 * MiB, wire=service.wire, make=Script))
    config = tmp_path / "c.toml"
    config.write_text(f'default_model = "{service.ref}"\n' + service.config)
    code, stderr, rss = send_measured(config, tmp_path / "data")
    assert rss < MAX_RSS_MB, f"peak RSS {rss} MB"
    assert code == 1
    assert "expands more than 256 times" in one_sentence(stderr)
    assert stored_reply(tmp_path / "data")[0] == "error"
    [record] = [r for r in service.fake.requests if "sent" in r]
    assert served(record)["closed"]
