"""HTTP plumbing shared by the providers: the client, error mapping and readable messages."""

from __future__ import annotations

import json
import re
import socket
import ssl
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import httpx

from .. import errors as E
from ..redact import redact, remember_secret
from ..text import clean_text
from .base import StreamChunk
from .body import ENCODINGS, MAX_DOCUMENT, MAX_ERROR_BODY, iter_body, read_body

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=30.0, pool=None)

_WAIT_RE = re.compile(
    r"(?:retry after|try again in|wait)\s+(\d+(?:\.\d+)?)\s*(seconds?|s\b|minutes?|hours?)",
    re.IGNORECASE,
)
_CONTEXT_RE = re.compile(
    r"context[ _]length|context window|maximum context|too many tokens|prompt is too long|"
    r"tokens? limit|exceeds? the (?:maximum|context)|input is too long|too large",
    re.IGNORECASE,
)


SECRET_HEADERS = ("authorization", "x-api-key", "api-key")


async def remember_credentials(request: httpx.Request) -> None:
    """Request hook: every credential sent is remembered so error text quoting it is masked."""
    for name in SECRET_HEADERS:
        value = request.headers.get(name)
        if value:
            # without "Bearer " / "token ": masking the credential masks the header value too,
            # and a reply ending in "Bearer" is not held back as the start of a secret
            remember_secret(value.split(" ", 1)[-1])


def make_http_client() -> httpx.AsyncClient:
    """One pooled client for every provider: connections are reused across sessions."""
    from .net import AsyncioBackend  # imports httpcore, which httpx itself imports only here

    limits = httpx.Limits(max_connections=256, max_keepalive_connections=32)
    transport = httpx.AsyncHTTPTransport(limits=limits)
    # httpx has no argument for httpcore's network backend; its pool keeps it here. (If a
    # release moves it, the client still works on the default backend, only slower.)
    pool = getattr(transport, "_pool", None)
    if hasattr(pool, "_network_backend"):
        pool._network_backend = AsyncioBackend()  # type: ignore[union-attr]
    return httpx.AsyncClient(
        timeout=DEFAULT_TIMEOUT,
        transport=transport,
        follow_redirects=False,
        headers={"Accept-Encoding": ENCODINGS},  # only what body.py decodes in bounded steps
        event_hooks={"request": [remember_credentials]},
    )


def host_of(url: str | httpx.URL) -> str:
    try:
        u = httpx.URL(str(url))
        return f"{u.host}:{u.port}" if u.port else u.host
    except Exception:
        return str(url)


def parse_wait_seconds(text: str) -> float | None:
    match = _WAIT_RE.search(text or "")
    if not match:
        return None
    value, unit = float(match.group(1)), match.group(2).lower()
    if unit.startswith("minute"):
        value *= 60
    elif unit.startswith("hour"):
        value *= 3600
    return value


def retry_after_header(headers: httpx.Headers) -> float | None:
    for name in ("retry-after", "x-ratelimit-timeremaining"):
        raw = headers.get(name)
        if raw:
            try:
                return max(0.0, float(raw))
            except ValueError:
                continue
    return None


def error_fields(body: Any) -> tuple[str | None, str | None]:
    """(message, code) from the common JSON error shapes of OpenAI, Anthropic, Ollama, GitHub."""
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, str):
            return err, body.get("code") if isinstance(body.get("code"), str) else None
        if isinstance(err, dict):
            msg = err.get("message") or body.get("message") or err.get("details")
            code = err.get("code") or err.get("type") or body.get("code")
            return (str(msg) if msg else None), (str(code) if code else None)
    return None, None


def _tidy(message: str, limit: int = 300) -> str:
    """One line of at most ``limit`` characters; secrets are masked before it is shortened."""
    message = " ".join(redact(clean_text(message)).split())
    return message if len(message) <= limit else message[: limit - 3] + "..."


def _sentence(text: str) -> str:
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


def error_from_response(
    status: int,
    headers: httpx.Headers,
    body_bytes: bytes,
    *,
    provider: str,
    model: str | None = None,
) -> E.ProviderError:
    """Map an HTTP error reply to a ProviderError with one readable sentence.

    The body may have been cut at a size limit: a secret it quotes is masked before anything
    else, including a start of one at the very end.
    """
    text = redact(body_bytes.decode("utf-8", errors="replace"), cut=True)
    content_type = headers.get("content-type", "")
    message: str | None = None
    code: str | None = None
    try:
        message, code = error_fields(json.loads(text))
    except ValueError:
        if "html" in content_type or text.lstrip().lower().startswith(("<!doctype", "<html")):
            message = None
        elif text.strip():
            message = _tidy(text, 200)
    detail = f": {_sentence(_tidy(message))}" if message else "."
    retry_after = retry_after_header(headers) or parse_wait_seconds(message or "")
    kw: dict[str, Any] = {"status_code": status, "code": code, "retry_after": retry_after}
    who = provider
    if status == 401:
        return E.AuthenticationError(f"{who} rejected the API key (401 Unauthorized){detail}", **kw)
    if status == 403:
        return E.PermissionDenied(f"{who} refused access (403 Forbidden){detail}", **kw)
    if status == 404:
        what = f"model {model!r}" if model else "the requested resource"
        return E.ModelNotFound(f"{who} does not know {what} (404 Not Found){detail}", **kw)
    if status == 413 or (
        status == 400 and (code == "context_length_exceeded" or _CONTEXT_RE.search(message or ""))
    ):
        return E.ContextTooLong(
            f"The conversation is too long for this model ({status}){detail} Start a new session or switch to a model with a larger context.",
            **kw,
        )
    if status == 429:
        if code in {"insufficient_quota"}:
            return E.QuotaExceeded(f"{who} says the account is out of quota (429){detail}", **kw)
        wait = f" Retry after {round(retry_after)} seconds." if retry_after else ""
        limit_type = headers.get("x-ratelimit-type", "")
        if limit_type.lower().endswith("byday"):
            # A daily quota is gone: waiting minutes will not help, so never retry it.
            return E.QuotaExceeded(
                f"{who} daily request limit for this model is used up (429, per day){detail}{wait}",
                **kw,
            )
        if limit_type.lower().endswith("byminute"):
            return E.RateLimitError(
                f"{who} per-minute rate limit reached (429, per minute){detail}{wait}", **kw
            )
        if code and "weekly" in code:
            return E.RateLimitError(
                f"{who} weekly rate limit reached (429){detail}{wait}", retryable=False, **kw
            )
        return E.RateLimitError(f"{who} is rate limiting requests (429){detail}{wait}", **kw)
    if status >= 500:
        retryable = status in (502, 503, 504, 529)  # 529: Anthropic "overloaded"
        reason = httpx.codes.get_reason_phrase(status) or "Server Error"
        return E.ServerError(
            f"{who} had a server error ({status} {reason}){detail}", retryable=retryable, **kw
        )
    return E.BadRequest(f"{who} rejected the request ({status}){detail}", **kw)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """An exception and its causes: async httpx hides the OS error inside."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def _chain_text(exc: BaseException) -> str:
    """The messages of an exception and its causes."""
    parts = []
    for cur in _chain(exc):
        parts.append(str(cur))
        if isinstance(cur, socket.gaierror):
            parts.append("name resolution")
        if isinstance(cur, ConnectionRefusedError):
            parts.append("refused")
    return " ".join(parts).lower()


def _cert_failure(exc: BaseException) -> str | None:
    """Why certificate verification failed, if that is what stopped the connection."""
    for cur in _chain(exc):
        if isinstance(cur, ssl.SSLCertVerificationError):
            return cur.verify_message or "verification failed"
    return None


def error_from_transport(
    exc: httpx.HTTPError,
    *,
    provider: str,
    url: str | httpx.URL,
    started: bool,
    answered: bool = False,
) -> E.ProviderError:
    """Map httpx transport failures to NetworkError/IncompleteReply with a readable sentence.

    ``answered``: the server had sent its response head. Only a stream it answered and then
    closed before any text counts as EarlyClose (a server that drops concurrent streams); a
    connection dropped before any answer is an ordinary network error (a full accept queue).
    """
    host = host_of(url)
    if isinstance(exc, httpx.ConnectTimeout):
        return E.NetworkError(f"Timed out connecting to {provider} at {host}.")
    if isinstance(exc, httpx.ConnectError):
        text = _chain_text(exc)
        failed = _cert_failure(exc)
        if failed is not None:
            return E.NetworkError(
                f"The TLS certificate of {host} ({provider}) is not trusted: {failed}. If a proxy "
                "re-signs traffic, point SSL_CERT_FILE at its CA certificate.",
                retryable=False,  # it will not change by trying again
            )
        if (
            "name or service" in text
            or "nodename" in text
            or "getaddrinfo" in text
            or "name resolution" in text
        ):
            return E.NetworkError(
                f"Could not find the host {host} for {provider} (DNS lookup failed)."
            )
        if "refused" in text:
            return E.NetworkError(f"Could not connect to {provider} at {host}: connection refused.")
        return E.NetworkError(f"Could not connect to {provider} at {host}.")
    if isinstance(exc, httpx.ReadTimeout):
        if started:
            return E.IncompleteReply(
                f"{provider} stopped sending in the middle of the reply (read timed out).",
                retryable=False,
            )
        return E.NetworkError(f"{provider} at {host} did not answer in time (read timed out).")
    if isinstance(exc, httpx.TimeoutException):
        return E.NetworkError(f"The request to {provider} at {host} timed out.")
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
        if started:
            return E.IncompleteReply(
                f"The connection to {provider} dropped in the middle of the reply.", retryable=False
            )
        if answered:
            return E.EarlyClose(
                f"The stream from {provider} at {host} was closed before the reply started."
            )
        return E.NetworkError(f"The connection to {provider} at {host} closed before it answered.")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return E.ProviderUnavailable(f"The URL for {provider} is not valid: {url}.")
    return E.NetworkError(f"Network error talking to {provider} at {host}: {type(exc).__name__}.")


@asynccontextmanager
async def open_stream(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    provider: str,
    model: str | None = None,
    headers: dict[str, str] | None = None,
    json_body: Any = None,
    timeout: httpx.Timeout | None = None,
) -> AsyncIterator[httpx.Response]:
    """POST/GET with a streamed body; non-2xx and transport errors become ProviderErrors."""
    try:
        request = http.build_request(
            method, url, headers=headers, json=json_body, timeout=timeout or http.timeout
        )
        response = await http.send(request, stream=True)
    except httpx.HTTPError as exc:
        raise error_from_transport(exc, provider=provider, url=url, started=False) from None
    try:
        if response.status_code >= 400:
            body = await read_error_body(response, provider=provider)
            raise error_from_response(
                response.status_code, response.headers, body, provider=provider, model=model
            )
        yield response
    finally:
        await response.aclose()


async def read_error_body(response: httpx.Response, *, provider: str) -> bytes:
    """The first MAX_ERROR_BODY decoded bytes of a body read only for its message; never raises:
    a body that breaks off or is corrupt still has its start worded."""
    data = bytearray()
    try:
        async for piece in iter_body(response, provider=provider, limit=MAX_ERROR_BODY, cut=True):
            data += piece
    except (httpx.HTTPError, E.ProtocolError):
        pass
    return bytes(data)


async def read_non_stream(response: httpx.Response, *, provider: str, url: str) -> bytes:
    """A 2xx body that is not an event stream: a JSON one is read whole up to MAX_DOCUMENT (it
    may be a complete reply), anything else only its first MAX_ERROR_BODY, enough to word it."""
    if "json" not in response.headers.get("content-type", "").lower():
        return await read_error_body(response, provider=provider)
    try:
        return await read_body(response, provider=provider, limit=MAX_DOCUMENT)
    except httpx.HTTPError as exc:
        raise error_from_transport(exc, provider=provider, url=url, started=False) from None


async def fetch(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    provider: str,
    headers: dict[str, str] | None = None,
    data: dict[str, str] | None = None,
    timeout: float | httpx.Timeout | None = None,
    limit: int = MAX_DOCUMENT,
) -> tuple[httpx.Response, bytes]:
    """A request whose body is read with limits: at most ``limit`` bytes of a 2xx (more is an
    error), the first MAX_ERROR_BODY of anything else. The caller words the status."""
    try:
        request = http.build_request(
            method,
            url,
            headers=headers,
            data=data,
            timeout=timeout if timeout is not None else http.timeout,
        )
        response = await http.send(request, stream=True)
    except httpx.HTTPError as exc:
        raise error_from_transport(exc, provider=provider, url=url, started=False) from None
    try:
        if response.status_code >= 400:
            return response, await read_error_body(response, provider=provider)
        try:
            return response, await read_body(response, provider=provider, limit=limit)
        except httpx.HTTPError as exc:
            raise error_from_transport(exc, provider=provider, url=url, started=False) from None
    finally:
        await response.aclose()


async def get_json(
    http: httpx.AsyncClient,
    url: str,
    *,
    provider: str,
    headers: dict[str, str] | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> Any:
    """GET a JSON document (at most MAX_DOCUMENT bytes); errors become ProviderErrors."""
    response, body = await fetch(
        http, "GET", url, provider=provider, headers=headers, timeout=timeout
    )
    if response.status_code >= 400:
        raise error_from_response(response.status_code, response.headers, body, provider=provider)
    try:
        return json.loads(body)
    except ValueError:
        raise E.ProtocolError(
            f"{provider} returned something that is not JSON from {url}."
        ) from None
    except RecursionError:
        raise E.ProtocolError(f"{provider} returned JSON nested too deeply from {url}.") from None


class StreamParser(Protocol):
    """An incremental decoder of one wire format: bytes in, reply chunks out."""

    @property
    def complete(self) -> bool: ...  # the stream's own end marker arrived

    @property
    def events(self) -> int: ...  # how many events/lines were decoded so far

    def feed(self, data: bytes) -> Iterable[StreamChunk]: ...

    def close(self) -> Iterable[StreamChunk]: ...


def join_text(chunks: Iterable[StreamChunk]) -> Iterator[StreamChunk]:
    """The chunks of one piece of body, runs of plain text joined into one chunk.

    A server that flushes each event on its own sends one event per HTTP chunk, and httpx hands
    those over one by one; but a proxy that buffers (nginx and most corporate ones), a server
    that batches, or a body without chunked framing read while the client is behind, puts many
    events in one piece. Everything after the parser (the session, its events, the UI) then pays
    per piece, not per event. A chunk carrying anything else is passed on as it is, in order,
    and the text before a bad event still comes out before its error.
    """
    text: list[str] = []
    try:
        for chunk in chunks:
            if (
                chunk.text
                and chunk.usage is None
                and chunk.finish_reason is None
                and chunk.status is None
                and not chunk.extra
            ):
                text.append(chunk.text)
                continue
            if text:
                yield _text_chunk(text)
                text = []
            yield chunk
    except E.ProviderError:
        if text:
            yield _text_chunk(text)
        raise
    if text:
        yield _text_chunk(text)


def _text_chunk(text: list[str]) -> StreamChunk:
    return (
        StreamChunk(text=text[0], pieces=1)
        if len(text) == 1
        else StreamChunk(text="".join(text), pieces=len(text))
    )


async def read_stream(
    response: httpx.Response, parser: StreamParser, *, provider: str, url: str, end_marker: str
) -> AsyncIterator[StreamChunk]:
    """Feed a streamed body to ``parser`` and yield its chunks.

    A connection lost mid-body and a body that stops before its end marker both raise, so the
    caller keeps the partial text and marks it; nothing ends silently short.
    """
    started = False
    try:
        async for raw in iter_body(response, provider=provider):
            for chunk in join_text(parser.feed(raw)):
                started = started or bool(chunk.text)
                yield chunk
    except httpx.HTTPError as exc:
        raise error_from_transport(
            exc, provider=provider, url=url, started=started, answered=True
        ) from None
    for chunk in join_text(parser.close()):
        yield chunk
    if not parser.complete:
        if not started:
            # Nothing was lost yet: like a refused connection, worth the pre-first-word retry
            # (llama.cpp-style servers answer 200 and then close a second concurrent stream).
            what = "without sending anything" if parser.events == 0 else "before the reply started"
            raise E.EarlyClose(f"The stream from {provider} ended {what}.")
        raise E.IncompleteReply(
            f"The stream from {provider} ended in the middle of the reply without {end_marker}."
        )
