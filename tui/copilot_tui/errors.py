"""Exceptions raised by copilot-tui.

Every error a user can cause or meet derives from :class:`CopilotTuiError`, whose ``str()`` is
one readable sentence: the CLI prints it as is and the TUI shows it in the session.
"""

from __future__ import annotations

from .redact import redact
from .text import clean_text


class CopilotTuiError(Exception):
    """Base class: the message is meant for the user."""


class ConfigError(CopilotTuiError):
    """The config file is unreadable, not TOML, or holds an unknown key or value."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = ""
        if path:
            where = f"{path}:{line}: " if line else f"{path}: "
        super().__init__(f"{where}{message}")


class FileWriteError(CopilotTuiError):
    """A file the app writes (config, export) cannot be written; the message names it."""


class StoreError(CopilotTuiError):
    """The session database cannot be opened or written."""


class InvalidSessionId(CopilotTuiError):
    """A custom session id does not match the allowed pattern."""


class SessionExists(CopilotTuiError):
    """create_session() was given an id that is already taken."""


class SessionNotFound(CopilotTuiError):
    """resume/delete/open of an id the store does not know."""


class UnknownProvider(CopilotTuiError):
    """A model reference names a provider that is not configured."""


class UnknownModel(CopilotTuiError):
    """A model reference names a model its provider does not offer."""


class SessionBusy(CopilotTuiError):
    """An operation needs an idle session."""


class ProviderError(CopilotTuiError):
    """A provider failed a request; ``error_type`` follows the SDK's ``session.error`` names.

    ``retryable`` marks failures worth retrying before any reply text arrived (network errors,
    502/503/504, short rate limits); ``retry_after`` is the wait the server asked for, in seconds.
    """

    error_type = "provider"
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        retry_after: float | None = None,
        code: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        # a provider's words: a quoted key is masked, a lone surrogate cannot break a printer
        super().__init__(redact(clean_text(message)))
        self.status_code = status_code
        self.retry_after = retry_after
        self.code = code
        if retryable is not None:
            self.retryable = retryable


class AuthenticationError(ProviderError):
    error_type = "authentication"


class PermissionDenied(ProviderError):
    error_type = "permission"


class RateLimitError(ProviderError):
    error_type = "rate_limit"
    retryable = True


class QuotaExceeded(ProviderError):
    error_type = "quota"


class ModelNotFound(ProviderError):
    error_type = "model_not_found"


class ContextTooLong(ProviderError):
    error_type = "context_length"


class BadRequest(ProviderError):
    error_type = "bad_request"


class ServerError(ProviderError):
    error_type = "server"


class NetworkError(ProviderError):
    error_type = "network"
    retryable = True


class EarlyClose(NetworkError):
    """The server closed the connection, or ended the stream, before the reply's first word:
    retried like any failure before the first word (nothing is lost yet)."""


class ProtocolError(ProviderError):
    """The provider answered with something that is not its wire format."""

    error_type = "protocol"


class IncompleteReply(ProviderError):
    """The stream ended without a finish marker: the partial text is kept."""

    error_type = "incomplete"


class ProviderUnavailable(ProviderError):
    """The provider cannot be used at all (not logged in, package missing, model file missing)."""

    error_type = "unavailable"
