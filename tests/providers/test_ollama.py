"""The ollama provider against a fake Ollama speaking NDJSON on /api/chat."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot_tui import errors as E
from copilot_tui.providers.ollama import ollama_base_url
from tests.provider_support import client_for, failed_turn, turn
from tests.servers.base import Script
from tests.servers.ollama_server import FakeOllama


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


@pytest.fixture
def ollama(server: FakeOllama) -> FakeOllama:
    server.reset()
    return server


def config(fake: FakeOllama, **extra: str) -> str:
    lines = ["[providers.ol]", 'type = "ollama"', f'base_url = "{fake.url}"']
    return "\n".join(lines + [f"{k} = {v}" for k, v in extra.items()]) + "\n"


async def test_streamed_reply_and_final_line_usage(ollama: FakeOllama, tmp_path: Path) -> None:
    ollama.script("llama3.2:latest", Script(text="Grüße aus 🦙 land", byte_split=3))
    async with client_for(tmp_path, config(ollama, num_ctx="8192")) as client:
        msg = await turn(client, "ol/llama3.2:latest")
    assert msg.content == "Grüße aus 🦙 land"
    assert msg.status == "complete"
    assert msg.stats.input_tokens == 26 and msg.stats.output_tokens == 4
    body = ollama.requests_to("/api/chat")[-1]["body"]
    assert body["stream"] is True and body["options"]["num_ctx"] == 8192


async def test_models_from_api_tags(ollama: FakeOllama, tmp_path: Path) -> None:
    async with client_for(tmp_path, config(ollama)) as client:
        (status,) = await client.provider_statuses(refresh=True)
    assert status.usable
    assert [m.id for m in status.models] == ["ol/llama3.2:latest", "ol/qwen3:8b"]


async def test_host_from_ollama_host_without_scheme(
    ollama: FakeOllama, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{ollama.port}")
    async with client_for(tmp_path, '[providers.ol]\ntype = "ollama"\n') as client:
        msg = await turn(client, "ol/qwen3:8b", "ping")
    assert msg.content == "Echo: ping"


@pytest.mark.parametrize(
    ("value", "url"),
    [
        (None, "http://127.0.0.1:11434"),
        ("example.org", "http://example.org:11434"),
        ("example.org:8080", "http://example.org:8080"),
        ("0.0.0.0:11434", "http://127.0.0.1:11434"),
        ("https://ollama.example.org", "https://ollama.example.org:443"),
        ("http://[::1]:11434/", "http://[::1]:11434"),
    ],
)
def test_ollama_host_forms(value: str | None, url: str) -> None:
    assert ollama_base_url(value) == url


async def test_unreachable_status_names_the_host(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with client_for(
        tmp_path, f'[providers.ol]\ntype = "ollama"\nbase_url = "http://127.0.0.1:{port}"\n'
    ) as client:
        (status,) = await client.provider_statuses(refresh=True)
    assert not status.usable
    assert status.reason == f"not reachable at http://127.0.0.1:{port}"
    assert "ollama serve" in (status.fix or "")


async def test_unknown_model_error_from_http_404(ollama: FakeOllama, tmp_path: Path) -> None:
    async with client_for(tmp_path, config(ollama, models='["missing:latest"]')) as client:
        exc, _ = await failed_turn(client, "ol/missing:latest")
    assert isinstance(exc, E.ModelNotFound)
    assert "try pulling it first" in str(exc)


async def test_error_line_mid_stream_keeps_partial_text(ollama: FakeOllama, tmp_path: Path) -> None:
    ollama.script("llama3.2:latest", Script(text="alpha beta gamma", error_at=2))
    async with client_for(tmp_path, config(ollama)) as client:
        exc, reply = await failed_turn(client, "ol/llama3.2:latest")
    assert "unexpected EOF" in str(exc)
    assert reply.content == "alpha beta"
    assert len(ollama.requests_to("/api/chat")) == 1


async def test_stream_without_done_line_is_incomplete(ollama: FakeOllama, tmp_path: Path) -> None:
    ollama.script("llama3.2:latest", Script(text="alpha beta gamma", truncate_at=1))
    async with client_for(tmp_path, config(ollama)) as client:
        exc, reply = await failed_turn(client, "ol/llama3.2:latest")
    assert isinstance(exc, E.IncompleteReply)
    assert reply.content == "alpha"


@pytest.mark.usefixtures("quick_retries")
async def test_503_then_success(ollama: FakeOllama, tmp_path: Path) -> None:
    ollama.script(
        "llama3.2:latest",
        Script(status=503, error_body='{"error":"server busy"}'),
        Script(text="fine"),
    )
    async with client_for(tmp_path, config(ollama)) as client:
        msg = await turn(client, "ol/llama3.2:latest")
    assert msg.content == "fine"
    assert len(ollama.requests_to("/api/chat")) == 2


async def test_max_concurrency(ollama: FakeOllama, tmp_path: Path) -> None:
    ollama.script("qwen3:8b", Script(text="x y", hold_until_active=3))
    async with client_for(tmp_path, config(ollama, max_concurrency="3")) as client:
        sessions = [await client.create_session(model="ol/qwen3:8b") for _ in range(6)]
        replies = await asyncio.gather(*(s.send_and_wait("go", timeout=30) for s in sessions))
    assert {r.content for r in replies} == {"x y"}
    assert ollama.max_active == 3


async def test_session_parameters_go_in_options(ollama: FakeOllama, tmp_path: Path) -> None:
    """Temperature, top_p, seed, the reply cap and the context size, in Ollama's own names."""
    params = {"temperature": 0.3, "top_p": 0.8, "seed": 42, "max_tokens": 64, "context_size": 8192}
    async with client_for(tmp_path, config(ollama, num_ctx="2048")) as client:
        session = await client.create_session(model="ol/qwen3:8b", params=params)
        await session.send_and_wait("hi", timeout=30)
    body = ollama.requests_to("/api/chat")[-1]["body"]
    assert body == {
        "model": "qwen3:8b",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "options": {
            "num_predict": 64,
            "temperature": 0.3,
            "top_p": 0.8,
            "seed": 42,
            "num_ctx": 8192,
        },
    }


async def test_an_image_goes_in_images(ollama: FakeOllama, tmp_path: Path) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"\x02" * 8
    (tmp_path / "p.jpg").write_bytes(jpeg)
    async with client_for(tmp_path, config(ollama)) as client:
        session = await client.create_session(model="ol/qwen3:8b")
        await session.send_and_wait("Describe", attachments=[tmp_path / "p.jpg"], timeout=30)
    import base64

    assert ollama.requests_to("/api/chat")[-1]["body"]["messages"] == [
        {"role": "user", "content": "Describe", "images": [base64.b64encode(jpeg).decode()]}
    ]


async def test_the_local_model_refuses_an_image_before_sending(tmp_path: Path) -> None:
    (tmp_path / "p.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    async with client_for(tmp_path, '[providers.local]\ntype = "local"\n') as client:
        session = await client.create_session(model="local/smollm2")
        with pytest.raises(E.CopilotTuiError, match="^local/smollm2 cannot take images"):
            await session.send("hi", attachments=[tmp_path / "p.png"])
        assert await session.get_messages() == []
