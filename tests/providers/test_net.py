"""The HTTP client's own network layer: TLS, reuse of kept-alive connections, clear errors."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import trustme

from copilot_tui.providers.http import make_http_client
from copilot_tui.providers.net import AsyncioBackend
from tests.conftest import write_config
from tests.provider_support import failed_turn
from tests.servers.openai_server import FakeOpenAI, Script


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _https_fake(ca: trustme.CA, name: str = "127.0.0.1") -> FakeOpenAI:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(name).configure_cert(context)
    return FakeOpenAI(tls=context)


@pytest.fixture
def https_fake(ca: trustme.CA) -> Iterator[FakeOpenAI]:
    with _https_fake(ca) as fake:
        yield fake


def _trust(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The client trusts ``ca``, the way a user points at a proxy's CA."""
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))


@pytest.fixture
def trusted(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _trust(ca, tmp_path, monkeypatch)


@asynccontextmanager
async def _serving(
    handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[int]:
    """A throwaway asyncio server on 127.0.0.1; yields its port."""
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


def test_the_client_runs_on_the_asyncio_backend() -> None:
    """If an httpx release moves where the backend lives, this says so instead of going slow."""
    http = make_http_client()
    assert isinstance(http._transport._pool._network_backend, AsyncioBackend)  # type: ignore[attr-defined]


async def test_a_reply_streams_over_tls(
    tmp_path: Path, https_fake: FakeOpenAI, trusted: None
) -> None:
    from copilot_tui import CopilotClient

    text = "secure words arrive in order " * 40
    https_fake.script("gpt-4o-mini", Script(text=text, delay=0.001))
    cfg = write_config(tmp_path / "c.toml", https_fake.base_url)
    async with CopilotClient(config_path=cfg, data_dir=tmp_path / "d") as client:
        session = await client.create_session()
        first = await session.send_and_wait("one", timeout=30)
        second = await session.send_and_wait("two", timeout=30)  # on the kept-alive TLS connection
    assert https_fake.base_url.startswith("https://")
    assert first.content == text and second.content == text
    assert len(https_fake.requests_for("gpt-4o-mini")) == 2


@pytest.mark.parametrize("case", ["unknown CA", "wrong host"])
async def test_an_untrusted_certificate_is_one_clear_sentence(
    tmp_path: Path, ca: trustme.CA, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    from copilot_tui import CopilotClient

    if case == "unknown CA":
        _trust(trustme.CA(), tmp_path, monkeypatch)
        fake = _https_fake(ca)
    else:
        _trust(ca, tmp_path, monkeypatch)
        fake = _https_fake(ca, name="models.example.com")
    with fake:
        cfg = write_config(tmp_path / "c.toml", fake.base_url)
        async with CopilotClient(config_path=cfg, data_dir=tmp_path / "d") as client:
            error, saved = await failed_turn(client, "lab/gpt-4o-mini")
    message = str(error)
    assert message.startswith(
        f"The TLS certificate of 127.0.0.1:{fake.port} (lab) is not trusted: "
    )
    assert (
        ("unable to get local issuer certificate" in message)
        if case == "unknown CA"
        else ("mismatch" in message.lower())
    )
    assert "\n" not in message and "Traceback" not in message
    assert saved.status == "error"


async def test_a_kept_alive_connection_the_server_closed_is_not_reused() -> None:
    """Servers drop idle keep-alive connections; the next request must open a new one, not fail."""
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok")
        await writer.drain()
        await asyncio.sleep(0.05)  # then close it while the client holds it in its pool
        writer.close()

    async with _serving(handle) as port, make_http_client() as http:
        first = await http.get(f"http://127.0.0.1:{port}/")
        await asyncio.sleep(0.3)
        second = await http.get(f"http://127.0.0.1:{port}/")
    assert (first.text, second.text) == ("ok", "ok")
    assert connections == 2


@pytest.mark.skipif(not hasattr(asyncio, "eager_task_factory"), reason="Python 3.12 and later")
async def test_connects_under_an_eager_task_factory() -> None:
    """Textual runs the app's loop with eager tasks; some Pythons' happy eyeballs fail there."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()

    loop = asyncio.get_running_loop()
    loop.set_task_factory(asyncio.eager_task_factory)  # type: ignore[attr-defined]
    try:
        async with _serving(handle) as port, make_http_client() as http:
            for host in ("127.0.0.1", "localhost"):
                assert (await http.get(f"http://{host}:{port}/")).text == "ok"
    finally:
        loop.set_task_factory(None)


async def test_a_slow_reader_stops_the_socket_instead_of_buffering_everything() -> None:
    """A consumer that does not read holds at most about a megabyte in memory, and gets it all."""
    body = bytes(range(256)) * (16 * 1024)  # 4 MiB

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        writer.close()

    backend = AsyncioBackend()
    async with _serving(handle) as port:
        stream = await backend.connect_tcp("127.0.0.1", port, timeout=5)
        await stream.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", timeout=5)
        await asyncio.sleep(0.5)  # the server sends all of it; nobody reads
        held = len(stream._reader.buffer)  # type: ignore[attr-defined]
        received = bytearray()
        while chunk := await stream.read(65536, timeout=5):
            received += chunk
        await stream.aclose()
    assert held < 2 * 1024 * 1024
    assert received.endswith(body)


async def test_tls_to_a_server_that_closes_at_once_fails_at_once() -> None:
    """An overloaded or filtered server drops the connection before the handshake: say so now,
    not after the connect timeout."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    async with _serving(handle) as port, make_http_client() as http:
        started = asyncio.get_running_loop().time()
        with pytest.raises(httpx.ConnectError):
            await http.get(f"https://127.0.0.1:{port}/", timeout=httpx.Timeout(60.0))
        assert (
            asyncio.get_running_loop().time() - started < 30
        )  # a ConnectError, long before the timeout


@pytest.mark.parametrize("host", ["api..example.com", "x" * 64 + ".example.com"])
@pytest.mark.usefixtures("quick_retries")
async def test_a_host_name_that_cannot_be_encoded_is_a_clear_sentence(
    tmp_path: Path, host: str
) -> None:
    """IDNA refuses empty or over-long labels before any lookup: a typo in base_url, not a crash."""
    from copilot_tui import CopilotClient

    cfg = write_config(tmp_path / "c.toml", f"http://{host}/v1")
    async with CopilotClient(config_path=cfg, data_dir=tmp_path / "d") as client:
        error, saved = await failed_turn(client, "lab/gpt-4o-mini")
    assert str(error).startswith("Could not find the host") and "DNS lookup failed" in str(error)
    assert saved.status == "error"


def test_refused_on_every_address_of_a_name_reads_as_refused() -> None:
    """A name with several addresses (``localhost``: ::1 and 127.0.0.1) that all refuse comes
    back from asyncio as one plain OSError joining their texts; it must still say "refused"."""
    import errno

    from copilot_tui.providers.net import _connect_failure

    refused, unreachable = errno.ECONNREFUSED, errno.ENETUNREACH
    both = OSError(
        f"Multiple exceptions: [Errno {refused}] Connect call failed ('::1', 9, 0, 0), "
        f"[Errno {refused}] Connect call failed ('127.0.0.1', 9)"
    )
    mixed = OSError(
        f"Multiple exceptions: [Errno {unreachable}] Network is unreachable, "
        f"[Errno {refused}] Connect call failed ('127.0.0.1', 9)"
    )
    assert _connect_failure(both).startswith("connection refused")
    assert _connect_failure(ConnectionRefusedError(refused, "Connect call failed")).startswith(
        "connection refused"
    )
    assert not _connect_failure(mixed).startswith("connection refused")
