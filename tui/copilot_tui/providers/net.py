"""Sockets for the HTTP client on asyncio's own transports.

httpx's default network layer goes through anyio, which per read enters a cancel scope, maps
exceptions through two context managers and takes the socket off epoll and back on (it pauses
reading after every chunk). A streamed reply is many small reads, so with a hundred streams that
was a sixth of the process's CPU. This backend keeps a buffer filled by an asyncio protocol and
reads from it, with a plain timer for the timeout; TLS is asyncio's own (no in-memory BIO copy
per read). It plugs into httpcore's documented network-backend interface.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
import sys
from collections.abc import Iterable
from typing import Any

import httpcore
from httpcore import AsyncNetworkBackend, AsyncNetworkStream

SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)

#: Stop reading from the socket while this much is buffered and unread (a slow consumer).
HIGH_WATER = 1 << 20


class _Reader(asyncio.Protocol):
    """Collects what arrives; wakes the one waiting read."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.drained: asyncio.Future[None] | None = None
        self.paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > HIGH_WATER and self.transport is not None and not self.paused:
            self.paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self._wake()
        self.resume_writing()

    def pause_writing(self) -> None:
        if self.drained is None:
            self.drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self.drained is not None:
            if not self.drained.done():
                self.drained.set_result(None)
            self.drained = None

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def take(self, max_bytes: int) -> bytes:
        data = bytes(self.buffer[:max_bytes])
        del self.buffer[:max_bytes]
        if self.paused and len(self.buffer) <= HIGH_WATER // 4 and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        return data


async def _within(
    future: asyncio.Future[Any], timeout: float | None, error: type[Exception], what: str
) -> None:
    """Await ``future``, raising ``error`` after ``timeout`` seconds (a timer, not a task)."""
    if timeout is None:
        await future
        return
    loop = asyncio.get_running_loop()

    def expire() -> None:
        if not future.done():
            future.set_exception(error(what))

    timer = loop.call_later(timeout, expire)
    try:
        await future
    finally:
        timer.cancel()


#: httpcore's names for extra info -> asyncio's
_EXTRA_INFO = {
    "client_addr": "sockname",
    "server_addr": "peername",
    "ssl_object": "ssl_object",
    "socket": "socket",
}


class AsyncioStream(AsyncNetworkStream):
    def __init__(self, transport: asyncio.Transport, reader: _Reader) -> None:
        self._transport = transport
        self._reader = reader

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        reader = self._reader
        if not reader.buffer and not reader.eof:
            reader.waiter = asyncio.get_running_loop().create_future()
            try:
                await _within(reader.waiter, timeout, httpcore.ReadTimeout, "timed out reading")
            finally:
                reader.waiter = None
        if reader.buffer:
            return reader.take(max_bytes)
        if reader.error is not None:
            raise httpcore.ReadError(str(reader.error) or type(reader.error).__name__)
        return b""  # the peer closed: httpcore reads this as "server disconnected"

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        # after the peer's close a TLS transport is not "closing" yet but drops what is written
        if self._transport.is_closing() or self._reader.eof:
            raise httpcore.WriteError("the connection is closed")
        self._transport.write(buffer)
        if self._reader.drained is not None:
            await _within(
                asyncio.shield(self._reader.drained),
                timeout,
                httpcore.WriteTimeout,
                "timed out writing",
            )
        if self._reader.error is not None:
            raise httpcore.WriteError(str(self._reader.error) or type(self._reader.error).__name__)

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        if self._reader.eof or self._transport.is_closing() or self._reader.buffer:
            # A server that closes at once (overloaded, filtered, a tunnel with nothing behind
            # it) would leave the handshake waiting out its timeout; bytes before the handshake
            # are not TLS.
            self._transport.close()
            raise httpcore.ConnectError("the server closed the connection before the TLS handshake")
        try:
            async with asyncio.timeout(timeout):  # no extra task: the close cannot slip in between
                transport = await loop.start_tls(
                    self._transport, self._reader, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            self._transport.close()
            raise httpcore.ConnectTimeout("timed out in the TLS handshake") from None
        except (OSError, ssl.SSLError, ConnectionError) as exc:
            self._transport.close()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        if transport is None:  # the peer went away during the handshake
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        self._reader.transport = transport
        return AsyncioStream(transport, self._reader)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # httpcore asks before reusing a pooled connection
            return bool(self._reader.buffer) or self._reader.eof
        name = _EXTRA_INFO.get(info)
        if name is None:
            return None
        try:
            return self._transport.get_extra_info(name)
        except AttributeError:  # a closed TLS transport has let go of its protocol
            return None


def _connect_failure(exc: OSError) -> str:
    """The OS error's text; "connection refused" when every address refused (asyncio then
    joins their errors into one plain OSError, losing the type)."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, ConnectionRefusedError) or (
        text.startswith("Multiple exceptions")
        and text.count(f"[Errno {errno.ECONNREFUSED}]") == text.count("[Errno ")
    ):
        return f"connection refused ({text})"
    return text


def _eyeballs_work(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether this Python's happy eyeballs can be used on this loop.

    Python 3.11's can leak a socket or fail an assertion when attempts end together. Up to
    3.12.7 and in 3.13.0 it fails an assertion on every connection under an eager task factory,
    which Textual installs on 3.12 and later.
    """
    if sys.version_info < (3, 12):
        return False
    if loop.get_task_factory() is None:
        return True
    return sys.version_info >= (3, 13, 1) or (3, 12, 8) <= sys.version_info < (3, 13)


class AsyncioBackend(AsyncNetworkBackend):
    """httpcore network backend on asyncio transports."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = (local_address, 0) if local_address else None
        # Happy eyeballs (RFC 8305): a host whose IPv6 route is broken falls back to IPv4 in
        # a quarter second instead of waiting out the connect timeout.
        delay = 0.25 if _eyeballs_work(loop) else None
        opening = loop.create_connection(
            _Reader, host, port, local_addr=local, happy_eyeballs_delay=delay
        )
        return await self._connect(opening, timeout, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        return await self._connect(
            loop.create_unix_connection(_Reader, path), timeout, socket_options
        )

    async def _connect(
        self, opening: Any, timeout: float | None, options: Iterable[SocketOption] | None
    ) -> AsyncioStream:
        try:
            async with asyncio.timeout(timeout):
                transport, reader = await opening
        except TimeoutError:
            raise httpcore.ConnectTimeout("timed out connecting") from None
        except OSError as exc:  # refused, unreachable, name not resolved (socket.gaierror)
            raise httpcore.ConnectError(_connect_failure(exc)) from exc
        except (UnicodeError, ValueError) as exc:  # a host name IDNA cannot encode ("api..x.com")
            raise httpcore.ConnectError(f"name resolution failed: {exc}") from exc
        sock: socket.socket | None = transport.get_extra_info("socket")
        try:
            if sock is not None:
                for option in options or ():
                    sock.setsockopt(*option)
        except OSError as exc:
            transport.close()
            raise httpcore.ConnectError(f"a socket option was refused: {exc}") from exc
        return AsyncioStream(transport, reader)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
