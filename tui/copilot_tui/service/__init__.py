"""The session service: one client, many sessions, concurrent turns, events."""

from .client import CopilotClient
from .session import Session

__all__ = ["CopilotClient", "Session"]
