"""Regenerate, edit and fork: the conversation as a tree, on a real server and SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot_tui import CopilotClient
from copilot_tui import events as ev
from copilot_tui.errors import CopilotTuiError, SessionExists
from copilot_tui.store import Store
from tests.servers.openai_server import FakeOpenAI, Script

MODEL = "gpt-4o-mini"


def sent(fake: FakeOpenAI) -> list[list[tuple[str, str]]]:
    """What each request to the model carried: (role, content) per message."""
    return [
        [(m["role"], m["content"]) for m in r["body"]["messages"]] for r in fake.requests_for(MODEL)
    ]


async def test_regenerate_keeps_the_earlier_reply_as_a_version(
    client: CopilotClient, fake: FakeOpenAI, data_dir: Path
) -> None:
    fake.script(MODEL, Script(text="first"), Script(text="second"), Script(text="third"))
    s = await client.create_session(model=f"lab/{MODEL}")
    await s.send_and_wait("Name a colour")
    seen: list[ev.SessionEvent] = []
    s.on(seen.append)
    reply = await s.regenerate_and_wait()
    assert reply.content == "second" and reply.version == 2 and reply.versions == 2
    # the same prompt went again, without the earlier reply
    assert sent(fake)[-1] == [("user", "Name a colour")]
    types = [e.type for e in seen]
    assert ev.BRANCH_CHANGED in types and ev.USER_MESSAGE not in types
    assert [m.content for m in await s.get_messages()] == ["Name a colour", "second"]
    # what a long conversation lays itself out by is the active branch too
    outline = await s.get_outline()
    assert [row[1] for row in outline] == [m.id for m in await s.get_messages()]
    first, last = outline[0][0], outline[-1][0]
    window = await s.get_messages_between(first, last)
    assert [m.content for m in window] == ["Name a colour", "second"]
    versions = await s.versions(reply.id)
    assert [v.content for v in versions] == ["first", "second"]
    # back to the first version, and a follow-up continues from it
    assert (await s.step_version(reply.id, -1)) is not None
    assert [m.content for m in await s.get_messages()] == ["Name a colour", "first"]
    assert await s.step_version(versions[0].id, -1) is None  # already the oldest
    await s.send_and_wait("Why?")
    assert sent(fake)[-1] == [("user", "Name a colour"), ("assistant", "first"), ("user", "Why?")]
    assert await s.count_branches() == 2
    info = await client.get_session_info(s.session_id)
    assert info.message_count == 4
    # a new process sees the same tree
    store = Store(data_dir)
    try:
        assert [m.content for m in store.get_messages(s.session_id)] == [
            "Name a colour",
            "first",
            "Why?",
            "third",
        ]
        assert len(store.get_tree(s.session_id)) == 5
    finally:
        store.close()


async def test_editing_an_earlier_prompt_branches_and_keeps_the_original(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    s = await client.create_session(model=f"lab/{MODEL}", system_message="Be brief")
    await s.send_and_wait("one")
    await s.send_and_wait("two")
    await s.send_and_wait("three")
    two = (await s.get_messages())[2]
    assert two.content == "two"
    reply = await s.edit_and_wait(two.id, "deux")
    assert reply.content == "Echo: deux"
    assert sent(fake)[-1] == [
        ("system", "Be brief"),
        ("user", "one"),
        ("assistant", "Echo: one"),
        ("user", "deux"),
    ]
    shown = await s.get_messages()
    assert [m.content for m in shown] == ["one", "Echo: one", "deux", "Echo: deux"]
    assert (shown[2].version, shown[2].versions) == (2, 2)
    # the original branch is intact and reachable, down to its last reply
    await s.select_version(two.id)
    assert [m.content for m in await s.get_messages()] == [
        "one",
        "Echo: one",
        "two",
        "Echo: two",
        "three",
        "Echo: three",
    ]
    # search finds only what is on the active branch
    assert [h.message_id for h in await client.search("deux")] == []
    await s.step_version(two.id, +1)
    assert [h.snippet for h in await client.search("deux")] != []
    assert await s.count_branches() == 2


async def test_the_first_prompt_can_be_edited(client: CopilotClient, fake: FakeOpenAI) -> None:
    s = await client.create_session(model=f"lab/{MODEL}")
    await s.send_and_wait("hello")
    first = (await s.get_messages())[0]
    await s.edit_and_wait(first.id, "bonjour")
    assert [m.content for m in await s.get_messages()] == ["bonjour", "Echo: bonjour"]
    assert [v.content for v in await s.versions(first.id)] == ["hello", "bonjour"]


async def test_bad_branch_requests_are_one_sentence(client: CopilotClient) -> None:
    s = await client.create_session(model=f"lab/{MODEL}")
    with pytest.raises(CopilotTuiError, match="no reply to regenerate"):
        await s.regenerate()
    with pytest.raises(CopilotTuiError, match="has no prompt"):
        await s.edit("nope", "text")
    with pytest.raises(CopilotTuiError, match="empty"):
        await s.edit("nope", "  ")


async def test_fork_copies_the_active_branch_up_to_a_message(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    s = await client.create_session(model=f"lab/{MODEL}", system_message="sys")
    await s.send_and_wait("a")
    await s.send_and_wait("b")
    fork = await client.fork_session(s.session_id, at=2, model="lab/other", new_session_id="f1")
    assert fork.session_id == "f1" and fork.model == "lab/other"
    assert fork.info.system_message == "sys" and fork.title.endswith("(fork)")
    assert [m.content for m in await fork.get_messages()] == ["a", "Echo: a"]
    reply = await fork.send_and_wait("c")
    assert reply.content == "Echo: c"
    body = fake.requests_for("other")[-1]["body"]
    assert [m["content"] for m in body["messages"]] == ["sys", "a", "Echo: a", "c"]
    # the original is untouched
    assert len(await s.get_messages()) == 4
    whole = await client.fork_session(s.session_id)
    assert len(await whole.get_messages()) == 4 and whole.model == f"lab/{MODEL}"
    with pytest.raises(SessionExists):
        await client.fork_session(s.session_id, new_session_id="f1")


async def test_parameters_persist_and_reach_an_openai_server(
    client: CopilotClient, fake: FakeOpenAI, data_dir: Path
) -> None:
    s = await client.create_session(model=f"lab/{MODEL}", params={"temperature": 1.5})
    await s.set_params(top_p=0.5, seed=11, max_tokens=20, context_size=4096)
    await s.send_and_wait("hi")
    body = fake.requests_for(MODEL)[-1]["body"]
    assert body == {
        "model": MODEL,
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": 20,
        "temperature": 1.5,
        "top_p": 0.5,
        "seed": 11,
    }  # no context size: an OpenAI server has none per request
    await s.set_params(seed=None)
    store = Store(data_dir)
    try:
        info = store.get_session(s.session_id)
        assert info is not None
        assert info.params.to_dict() == {
            "temperature": 1.5,
            "top_p": 0.5,
            "max_tokens": 20,
            "context_size": 4096,
        }
        assert info.params.describe() == "temp 1.5 · top_p 0.5 · max 20 · ctx 4096"
    finally:
        store.close()
    with pytest.raises(CopilotTuiError, match=r"^Temperature must be a number from 0.0 to 2.0"):
        await s.set_params(temperature=3)
    with pytest.raises(CopilotTuiError, match="^Unknown parameter 'topp'"):
        await client.create_session(model=f"lab/{MODEL}", params={"topp": 1})
