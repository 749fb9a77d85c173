"""Agent sessions on the Copilot runtime (BYOK against the fake OpenAI server): a tool reads a
real file, asks permission first, and the reply says what it read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from copilot_tui import CopilotClient
from copilot_tui import events as ev
from copilot_tui.types import PermissionRequest
from tests.conftest import write_config
from tests.servers.openai_server import FakeOpenAI, Script

# the module's tests share one client, and so one runtime process
pytestmark = [pytest.mark.usefixtures("copilot_runtime"), pytest.mark.asyncio(loop_scope="module")]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "notes.txt").write_text("the secret word is pumpkin\n")
    (folder / "more.txt").write_text("and the other one is turnip\n")
    return folder


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(runtime_env: Path, server: FakeOpenAI) -> AsyncIterator[CopilotClient]:
    config = write_config(runtime_env / "cfg" / "config.toml", server.base_url)
    async with CopilotClient(config_path=config, data_dir=runtime_env / "data") as c:
        yield c


@pytest.fixture
def client(shared: CopilotClient, fake: FakeOpenAI) -> CopilotClient:
    return shared


def read_then_answer(fake: FakeOpenAI, *paths: Path) -> None:
    fake.script(
        "gpt-4o-mini",
        *(Script(tool_calls=[("view", {"path": str(p)})]) for p in paths),
        Script(echo_tool=True),
    )


async def test_an_agent_reads_a_file_after_asking(
    client: CopilotClient, fake: FakeOpenAI, workdir: Path
) -> None:
    read_then_answer(fake, workdir / "notes.txt")
    asked: list[PermissionRequest] = []

    def allow(request: PermissionRequest) -> str:
        asked.append(request)
        return "approve-once"

    s = await client.create_session(mode="agent", cwd=workdir, on_permission_request=allow)
    events: list[ev.SessionEvent] = []
    s.on(events.append)
    reply = await s.send_and_wait("what is in notes.txt?", timeout=60)
    assert reply.content == "Read: the secret word is pumpkin\n"
    (request,) = asked
    assert request.kind == "read" and request.tool_name == "view"
    assert str(workdir / "notes.txt") in request.summary
    kinds = [e.type for e in events]
    assert kinds.index(ev.TOOL_START) < kinds.index(ev.PERMISSION_REQUESTED)
    assert kinds.index(ev.PERMISSION_COMPLETED) < kinds.index(ev.TOOL_COMPLETE)
    done = next(e for e in events if e.type == ev.TOOL_COMPLETE).data.tool
    assert done.name == "view" and done.status == "done" and "pumpkin" in (done.result or "")
    # the agent got the runtime's tools; the model saw the file through one
    first = fake.requests[0]["body"]
    names = [(t.get("function") or t).get("name") for t in first.get("tools") or []]
    assert "view" in names
    assert fake.requests[-1]["body"]["messages"][-1]["role"] == "tool"
    # the mode and directory are kept with the session
    (info,) = [i for i in await client.list_sessions() if i.session_id == s.session_id]
    assert info.mode == "agent" and info.cwd == str(workdir)


async def test_a_denied_read_never_reaches_the_model(
    client: CopilotClient, fake: FakeOpenAI, workdir: Path
) -> None:
    read_then_answer(fake, workdir / "notes.txt")
    s = await client.create_session(
        mode="agent", cwd=workdir, on_permission_request=lambda r: "reject"
    )
    tools: list[ev.SessionEvent] = []
    s.on(lambda e: tools.append(e) if e.type == ev.TOOL_COMPLETE else None)
    reply = await s.send_and_wait("what is in notes.txt?", timeout=60)
    assert "pumpkin" not in reply.content
    assert tools[0].data.tool.status == "failed"
    sent = str([r["body"]["messages"] for r in fake.requests])
    assert "pumpkin" not in sent


async def test_allowed_for_the_session_is_not_asked_again(
    client: CopilotClient, fake: FakeOpenAI, workdir: Path
) -> None:
    read_then_answer(fake, workdir / "notes.txt", workdir / "more.txt")
    asked: list[PermissionRequest] = []

    async def once_for_all(request: PermissionRequest) -> str:
        asked.append(request)
        return "approve-for-session"

    s = await client.create_session(mode="agent", cwd=workdir, on_permission_request=once_for_all)
    reply = await s.send_and_wait("read both", timeout=60)
    assert reply.content == "Read: and the other one is turnip\n"
    assert len(asked) == 1  # the second read of the same tool went through without asking


async def test_without_a_handler_the_request_waits_for_an_answer(
    client: CopilotClient, fake: FakeOpenAI, workdir: Path
) -> None:
    """What the UI does: the request is an event, the session waits, the answer lets it go."""
    read_then_answer(fake, workdir / "notes.txt")
    s = await client.create_session(mode="agent", cwd=workdir)

    def answer(event: ev.SessionEvent) -> None:
        if event.type == ev.PERMISSION_REQUESTED:
            assert s.state == "waiting" or s.pending_permissions
            assert s.answer_permission(event.data.request_id, "approve-once")

    s.on(answer)
    reply = await s.send_and_wait("what is in notes.txt?", timeout=60)
    assert reply.content == "Read: the secret word is pumpkin\n"
    assert s.pending_permissions == []


async def test_agent_mode_needs_an_existing_directory(
    client: CopilotClient, tmp_path: Path
) -> None:
    from copilot_tui.errors import CopilotTuiError

    with pytest.raises(CopilotTuiError, match="does not exist"):
        await client.create_session(mode="agent", cwd=tmp_path / "nowhere")
    with pytest.raises(CopilotTuiError, match='"chat" or "agent"'):
        await client.create_session(mode="robot")  # type: ignore[arg-type]


async def test_agents_compared_each_work_on_their_own_copy(
    client: CopilotClient, fake: FakeOpenAI, workdir: Path
) -> None:
    for model in ("gpt-4o-mini", "demo"):
        fake.script(
            model, Script(tool_calls=[("view", {"path": "notes.txt"})]), Script(echo_tool=True)
        )
    asked: list[PermissionRequest] = []

    def allow(request: PermissionRequest) -> str:
        asked.append(request)
        return "approve-once"

    comparison = await client.compare(
        ["lab/gpt-4o-mini", "lab/demo"],
        "what is in notes.txt?",
        mode="agent",
        cwd=workdir,
        on_permission_request=allow,
    )
    await comparison.wait(timeout=90)
    cwds = [p.session.cwd for p in comparison.panes]
    assert len(set(cwds)) == 2 and all(c and str(workdir) not in c for c in cwds)
    for pane, cwd in zip(comparison.panes, cwds, strict=True):
        assert pane.session.mode == "agent" and pane.status == "done", pane.error
        assert "pumpkin" in pane.text and pane.tool_calls == 1
        assert (Path(cwd) / "notes.txt").read_text() == "the secret word is pumpkin\n"
        assert pane.to_dict()["stats"]["tool_calls"] == 1
    assert len(asked) == 2 and {a.session_id for a in asked} == {
        p.session_id for p in comparison.panes
    }
    # the copies go with the comparison's sessions; the original folder stays
    await client.delete_comparison(comparison.group_id, sessions=True)
    assert not any(Path(c).exists() for c in cwds if c) and (workdir / "notes.txt").exists()


async def test_a_folder_too_big_to_copy_is_one_sentence(
    client: CopilotClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from copilot_tui.service import compare
    from copilot_tui.service.compare import InvalidComparison

    big = tmp_path / "big"
    big.mkdir()
    for i in range(4):
        (big / f"f{i}.txt").write_text("x")
    monkeypatch.setattr(compare, "MAX_COPY_FILES", 3)
    with pytest.raises(InvalidComparison, match="too big to copy once per pane"):
        await client.compare(["lab/gpt-4o-mini", "lab/demo"], "hi", mode="agent", cwd=big)
    assert await client.list_comparisons() == [] or all(
        g.title != "hi" for g in await client.list_comparisons()
    )
