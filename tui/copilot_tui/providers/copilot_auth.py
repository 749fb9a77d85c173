"""GitHub Copilot sign-in: the OAuth device flow, the saved GitHub token, and the Copilot token.

The long-lived GitHub token lives in one file (mode 0600) in the user data dir, never in the
config, the session store, logs or exports. It is exchanged for a short-lived Copilot token that
is refreshed before it expires, with one refresh shared by every session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .. import errors as E
from ..config import default_data_dir
from ..files import NotRegularFile, read_regular
from .http import error_from_response, fetch

CLIENT_ID = "Iv1.b507a08c87ecfe98"  # the OAuth app of the Copilot editor plugins
GITHUB_URL = "https://github.com"
TOKEN_URL = "https://api.github.com/copilot_internal/v2/token"
DEFAULT_API_URL = "https://api.githubcopilot.com"
EDITOR_VERSION = "vscode/1.104.3"
EDITOR_PLUGIN_VERSION = "copilot-chat/0.26.7"
USER_AGENT = "GitHubCopilotChat/0.26.7"
API_VERSION = "2025-04-01"
TOKEN_FILE_NAME = "copilot-github-token.json"
LOGIN_FIX = "run: copilot-tui login copilot"
PLAN_URL = "https://github.com/settings/copilot"
ACCESS_FIX = f"check that this GitHub account has a Copilot plan ({PLAN_URL}) and that your organization allows it"


def editor_headers(editor_version: str = EDITOR_VERSION) -> dict[str, str]:
    """Identify the client the way Copilot's editor integrations do."""
    return {
        "Editor-Version": editor_version,
        "Editor-Plugin-Version": EDITOR_PLUGIN_VERSION,
        "User-Agent": USER_AGENT,
        "X-GitHub-Api-Version": API_VERSION,
    }


# -- the saved GitHub token --------------------------------------------------------------


def token_path(explicit: str | Path | None = None, data_dir: Path | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    return (data_dir or default_data_dir()) / TOKEN_FILE_NAME


def load_github_token(path: Path) -> str | None:
    try:
        data = json.loads(read_regular(path, limit=1024 * 1024).decode("utf-8"))
    except NotRegularFile as exc:  # a FIFO would block the read forever: refuse it
        raise E.ProviderUnavailable(
            f"The saved GitHub login {path} is {exc.kind}, not a regular file."
        ) from None
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    token = data.get("github_token") if isinstance(data, dict) else None
    return token if isinstance(token, str) and token else None


def save_github_token(path: Path, token: str) -> None:
    """Write atomically; the file is created 0600 so the token is never readable by others."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"github_token": token, "saved_at": int(time.time())}, fh)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def delete_github_token(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


# -- the device flow ---------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class DeviceCode:
    device_code: str
    user_code: str
    verification_uri: str
    expires_in: int
    interval: int


class LoginError(E.AuthenticationError):
    """The device flow did not end with a token (declined, expired, refused)."""


async def _post_form(http: httpx.AsyncClient, url: str, data: dict[str, str]) -> dict[str, Any]:
    response, body = await fetch(
        http,
        "POST",
        url,
        provider="GitHub",
        data=data,
        headers={"Accept": "application/json"},
        timeout=30.0,
    )
    if response.status_code >= 400:
        raise error_from_response(response.status_code, response.headers, body, provider="GitHub")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise E.ProtocolError(f"GitHub returned something that is not JSON from {url}.") from None
    if not isinstance(payload, dict):
        raise E.ProtocolError(f"GitHub returned an unexpected reply from {url}.")
    return payload


async def request_device_code(
    http: httpx.AsyncClient,
    *,
    github_url: str = GITHUB_URL,
    client_id: str = CLIENT_ID,
    scope: str = "read:user",
) -> DeviceCode:
    payload = await _post_form(
        http,
        f"{github_url.rstrip('/')}/login/device/code",
        {"client_id": client_id, "scope": scope},
    )
    if payload.get("error"):
        raise LoginError(
            f"GitHub refused to start the login: {payload.get('error_description') or payload['error']}."
        )
    try:
        return DeviceCode(
            device_code=str(payload["device_code"]),
            user_code=str(payload["user_code"]),
            verification_uri=str(
                payload.get("verification_uri") or f"{github_url.rstrip('/')}/login/device"
            ),
            expires_in=int(payload.get("expires_in") or 900),
            interval=max(0, int(payload.get("interval", 5))),
        )
    except (KeyError, TypeError, ValueError):
        raise E.ProtocolError("GitHub's device code reply is missing fields.") from None


async def poll_for_token(
    http: httpx.AsyncClient,
    code: DeviceCode,
    *,
    github_url: str = GITHUB_URL,
    client_id: str = CLIENT_ID,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Poll until the user approves; every answer is HTTP 200, so the ``error`` field decides."""
    url = f"{github_url.rstrip('/')}/login/oauth/access_token"
    data = {
        "client_id": client_id,
        "device_code": code.device_code,
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
    }
    interval = code.interval
    deadline = clock() + code.expires_in
    while True:
        await sleep(interval)
        payload = await _post_form(http, url, data)
        token = payload.get("access_token")
        error = payload.get("error")
        if isinstance(token, str) and token and not error:
            return token
        if error == "authorization_pending":
            pass
        elif error == "slow_down":
            new = payload.get("interval")
            interval = (
                int(new)
                if isinstance(new, (int, float)) and not isinstance(new, bool)
                else interval + 5
            )
        elif error == "expired_token":
            raise LoginError("The login code expired before it was approved; run the login again.")
        elif error == "access_denied":
            raise LoginError("The login was declined on GitHub.")
        else:
            detail = payload.get("error_description") or error or "no token in the reply"
            raise LoginError(f"GitHub did not complete the login: {detail}.")
        if clock() > deadline:
            raise LoginError("The login code expired before it was approved; run the login again.")


async def device_login(
    http: httpx.AsyncClient,
    on_code: Callable[[DeviceCode], Any],
    *,
    github_url: str = GITHUB_URL,
    client_id: str = CLIENT_ID,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> str:
    """Run the whole flow: ``on_code`` shows the code and URL (it may be a coroutine function)."""
    code = await request_device_code(http, github_url=github_url, client_id=client_id)
    shown = on_code(code)
    if asyncio.iscoroutine(shown):
        await shown
    return await poll_for_token(http, code, github_url=github_url, client_id=client_id, sleep=sleep)


# -- the short-lived Copilot token -------------------------------------------------------


@dataclass(slots=True, frozen=True)
class CopilotToken:
    token: str
    expires_at: float
    refresh_at: float  # when to fetch a new one (clock time)
    api_url: str
    sku: str | None = None


def refresh_time(now: float, expires_at: float, refresh_in: float | None) -> float:
    """The earlier of ``refresh_in - 60`` and ``expires_at - 300``: trusting one alone caused refresh storms."""
    by_expiry = expires_at - 300
    return min(now + refresh_in - 60, by_expiry) if refresh_in else by_expiry


class CopilotTokenManager:
    """Exchanges the GitHub token for Copilot tokens; concurrent callers share one refresh."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        github_token: Callable[[], str | None],
        *,
        token_url: str = TOKEN_URL,
        headers: dict[str, str] | None = None,
        api_url: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.http = http
        self.github_token = github_token
        self.token_url = token_url
        self.headers = headers if headers is not None else editor_headers()
        self.api_url = api_url
        self.clock = clock
        self.exchanges = 0
        self._token: CopilotToken | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> CopilotToken:
        current = self._token
        if current is not None and self.clock() < current.refresh_at:
            return current
        return await self.refresh(current)

    async def refresh(self, stale: CopilotToken | None) -> CopilotToken:
        """Replace ``stale``; if another caller already replaced it, use theirs."""
        async with self._lock:
            if self._token is not None and self._token is not stale:
                return self._token
            self._token = await self._exchange()
            return self._token

    def forget(self) -> None:
        self._token = None

    async def _exchange(self) -> CopilotToken:
        github_token = self.github_token()
        if not github_token:
            raise E.ProviderUnavailable(f"Not logged in to GitHub Copilot; {LOGIN_FIX}.")
        headers = {
            **self.headers,
            "Authorization": f"token {github_token}",
            "Accept": "application/json",
        }
        self.exchanges += 1
        response, body = await fetch(
            self.http, "GET", self.token_url, provider="GitHub", headers=headers, timeout=15.0
        )
        if response.status_code in (401, 403, 404):
            base = error_from_response(
                response.status_code, response.headers, body[:4096], provider="GitHub"
            )
            detail = str(base).split(":", 1)[1].strip() if ":" in str(base) else ""
            if response.status_code == 401:
                raise E.AuthenticationError(
                    f"GitHub rejected the saved Copilot login (401){': ' + detail if detail else '.'} Log in again: {LOGIN_FIX}.",
                    status_code=401,
                )
            raise E.PermissionDenied(
                f"No Copilot access for this account or token ({response.status_code}){': ' + detail if detail else '.'}"
                f" Check the plan at {PLAN_URL}, or log in again: {LOGIN_FIX}.",
                status_code=response.status_code,
            )
        if response.status_code >= 400:
            raise error_from_response(
                response.status_code, response.headers, body, provider="GitHub"
            )
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            payload = None
        if not isinstance(payload, dict) or not isinstance(payload.get("token"), str):
            raise E.ProtocolError("GitHub's Copilot token reply has no token.")
        now = self.clock()
        expires_at = _num(payload.get("expires_at")) or now + 1500
        refresh_in = _num(payload.get("refresh_in"))
        endpoints = payload.get("endpoints")
        if not isinstance(endpoints, dict):
            endpoints = {}
        api = self.api_url or endpoints.get("api") or DEFAULT_API_URL
        sku = payload.get("sku") if isinstance(payload.get("sku"), str) else None
        return CopilotToken(
            payload["token"],
            expires_at,
            refresh_time(now, expires_at, refresh_in),
            str(api).rstrip("/"),
            sku,
        )


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
