"""copilot-tui: many LLM conversations at once, from Python, the command line or the terminal UI."""

from .errors import (
    ConfigError,
    CopilotTuiError,
    InvalidSessionId,
    ProviderError,
    SessionExists,
    SessionNotFound,
    StoreError,
    UnknownModel,
    UnknownProvider,
)
from .events import SessionEvent
from .service import CopilotClient, Session
from .types import Message, ModelInfo, SessionInfo

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "CopilotClient",
    "CopilotTuiError",
    "InvalidSessionId",
    "Message",
    "ModelInfo",
    "ProviderError",
    "Session",
    "SessionEvent",
    "SessionExists",
    "SessionInfo",
    "SessionNotFound",
    "StoreError",
    "UnknownModel",
    "UnknownProvider",
    "__version__",
]
