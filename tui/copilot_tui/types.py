"""Plain data handed across layers: messages, session summaries, models, usage."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]
# streaming: being written now; interrupted: the writer died while streaming.
MessageStatus = Literal["complete", "streaming", "aborted", "error", "interrupted"]
# chat: no tools, our system message; agent: the Copilot runtime's tools in a working directory
SessionMode = Literal["chat", "agent"]
# the Copilot SDK's names for the answers to a permission request
PermissionDecision = Literal["approve-once", "approve-for-session", "reject", "user-not-available"]


@dataclass(slots=True)
class Usage:
    input_tokens: int | None = None
    output_tokens: int | None = None


MIN_RATE_WINDOW = 0.05  # seconds: a burst shorter than this has no meaningful rate


@dataclass(slots=True)
class ReplyStats:
    """Timings of one assistant reply; tokens are the provider's count when it gave one."""

    ttft: float | None = None  # seconds from sending the request to the first text
    duration: float | None = None  # seconds from sending the request to the end
    output_tokens: int | None = None
    input_tokens: int | None = None
    tokens_estimated: bool = False
    queued: float | None = None  # seconds spent waiting for a provider slot before sending

    @property
    def tokens_per_second(self) -> float | None:
        """Output rate after the first token; None when too little was generated to say."""
        if (
            not self.output_tokens
            or self.output_tokens < 2
            or self.duration is None
            or self.ttft is None
        ):
            return None
        gen = self.duration - self.ttft
        return self.output_tokens / gen if gen >= MIN_RATE_WINDOW else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ReplyStats:
        if not data:
            return cls()
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass(slots=True)
class Message:
    id: str
    session_id: str
    role: Role
    content: str
    model: str | None = None
    status: MessageStatus = "complete"
    error: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    stats: ReplyStats = field(default_factory=ReplyStats)
    seq: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stats"] = self.stats.to_dict()
        return data


@dataclass(slots=True)
class SessionInfo:
    session_id: str
    title: str
    model: str
    created_at: float
    updated_at: float
    message_count: int = 0
    system_message: str | None = None
    group_id: str | None = None
    last_status: MessageStatus | None = None
    mode: SessionMode = "chat"
    cwd: str | None = None  # an agent's working directory

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True, frozen=True)
class ModelInfo:
    id: str  # "provider/model"
    name: str
    provider: str
    context_window: int | None = None
    max_output_tokens: int | None = None
    supported: bool = True
    note: str | None = None
    premium: float | None = None  # Copilot: premium requests one prompt costs (0 = included)

    @property
    def model(self) -> str:
        return self.id.split("/", 1)[1]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class ProviderStatus:
    """Whether a configured or discovered provider can be used, and why not."""

    name: str
    type: str
    usable: bool
    reason: str | None = None
    fix: str | None = None
    models: list[ModelInfo] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["models"] = [m.to_dict() for m in self.models]
        return data


@dataclass(frozen=True, slots=True)
class Readiness:
    """Which model a new conversation would start on, and whether that is known or still a guess.

    ``model`` is offered only when its provider answered its status check (``confirmed``) or may
    still (``waiting_for`` names the providers being checked); when no provider can answer it is
    None and ``unusable`` says why and how to fix each.
    """

    model: str | None = None
    confirmed: bool = False
    waiting_for: tuple[str, ...] = ()
    unusable: tuple[ProviderStatus, ...] = ()
    configured: str | None = None  # default_model from the config file, if any

    @property
    def checking(self) -> bool:
        return bool(self.waiting_for)


@dataclass(slots=True)
class GroupInfo:
    """A comparison: sessions that were sent the same prompts side by side."""

    group_id: str
    title: str
    created_at: float
    session_ids: list[str] = field(default_factory=list)
    letters: str = ""  # blind comparisons: pane i is shown as letters[i], names hidden until a vote
    tags: list[str] = field(default_factory=list)
    voted_turns: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Vote:
    """A person's verdict on one prompt of a comparison, with what they judged.

    ``ranking`` lists tiers of pane indices, best first (one tier of several panes is a tie
    among them); panes left out rank below every listed one. ``record`` is a snapshot of the
    prompt, models, system messages, replies and stats, so the leaderboard outlives edits."""

    group_id: str
    turn: int
    verdict: str  # "ranked" | "tie" | "all_bad"
    ranking: list[list[int]]
    record: dict[str, Any]
    created_at: float
    updated_at: float


@dataclass(slots=True)
class ToolCall:
    """One tool an agent runs: started, then done or failed (with the tool's output)."""

    call_id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    title: str | None = None  # the runtime's label, e.g. "Viewing file"
    status: Literal["running", "done", "failed"] = "running"
    result: str | None = None  # the output (shortened), or the error when failed


@dataclass(slots=True)
class PermissionRequest:
    """An agent asks before a tool reads, writes, runs a command or fetches a URL."""

    request_id: str
    kind: str  # the SDK's kinds: "read", "write", "shell", "url", "mcp", "memory", ...
    summary: str  # what the tool means to do, in one line ("Read file: /tmp/notes.txt")
    tool_name: str | None = None  # the tool asking ("view", "bash"), when known
    tool_call_id: str | None = None
    session_id: str = ""
