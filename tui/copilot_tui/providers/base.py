"""The provider interface: a model list and a stream of reply chunks, nothing about sessions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from ..config import ProviderConfig
from ..types import (
    ModelInfo,
    PermissionDecision,
    PermissionRequest,
    ProviderStatus,
    SessionMode,
    ToolCall,
    Usage,
)

if TYPE_CHECKING:
    from .copilot_sdk import SdkHost


def as_dict(value: object) -> dict[str, Any]:
    """A JSON object from a provider's reply, or an empty one for anything else."""
    return value if isinstance(value, dict) else {}


@dataclass(slots=True)
class ChatImage:
    mime: str  # image/png, image/jpeg, image/gif, image/webp
    data: bytes

    @property
    def base64(self) -> str:
        import base64

        return base64.b64encode(self.data).decode("ascii")


@dataclass(slots=True)
class ChatMessage:
    role: str  # "system" | "user" | "assistant"
    content: str
    images: list[ChatImage] = field(default_factory=list)


def openai_message(m: ChatMessage) -> dict[str, Any]:
    """A message in OpenAI's chat format: images as ``image_url`` parts with a data URL."""
    if not m.images:
        return {"role": m.role, "content": m.content}
    parts: list[dict[str, Any]] = [{"type": "text", "text": m.content}]
    parts += [
        {"type": "image_url", "image_url": {"url": f"data:{i.mime};base64,{i.base64}"}}
        for i in m.images
    ]
    return {"role": m.role, "content": parts}


@dataclass(slots=True)
class ChatRequest:
    model: str  # the provider's own model name (no "provider/" prefix)
    messages: list[ChatMessage]
    max_tokens: int | None = None
    # sampling, sent only by providers whose API takes them (see ``sampling``)
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    context_size: int | None = None  # a local model's context window (Ollama's num_ctx)
    initiator: str = "user"  # "user" for a typed turn
    # for turns on the Copilot runtime, which keeps a session of its own under the same id
    session_id: str = ""
    mode: SessionMode = "chat"
    cwd: str | None = None  # an agent's working directory
    ask_permission: Callable[[PermissionRequest], Awaitable[PermissionDecision]] | None = None


def sampling(request: ChatRequest, *names: str) -> dict[str, Any]:
    """The request's sampling values among ``names`` that are set, by their wire names (the
    same in every API that takes them: ``temperature``, ``top_p``, ``seed``)."""
    values = {name: getattr(request, name) for name in names}
    return {k: v for k, v in values.items() if v is not None}


@dataclass(slots=True)
class StreamChunk:
    """One step of a reply: text, usage, the finish marker, or a progress note for the user."""

    text: str = ""
    usage: Usage | None = None
    finish_reason: str | None = None
    status: str | None = None  # e.g. "loading model", "waiting for the local model"
    extra: dict[str, Any] = field(default_factory=dict)
    pieces: int = 1  # provider events whose text this joins (one piece of body can hold many)
    tool: ToolCall | None = None  # an agent's tool call started or ended


class Provider(ABC):
    """A configured back end. Subclasses raise only :class:`~copilot_tui.errors.ProviderError`.

    ``stream_chat`` must end normally only when the reply is complete; a stream that stops
    early raises ``IncompleteReply`` so the caller keeps the partial text and marks it.
    """

    type: ClassVar[str]
    default_max_concurrency: ClassVar[int | None] = None
    sdk: SdkHost | None = None  # the app's one Copilot runtime, set by whoever made the provider

    def __init__(self, name: str, config: ProviderConfig, http: httpx.AsyncClient) -> None:
        self.name = name
        self.config = config
        self.http = http

    @property
    def max_concurrency(self) -> int | None:
        if self.config.max_concurrency is not None:
            return self.config.max_concurrency
        return self.default_max_concurrency

    @abstractmethod
    async def list_models(self) -> list[ModelInfo]: ...

    @abstractmethod
    def stream_chat(self, request: ChatRequest) -> AsyncIterator[StreamChunk]: ...

    def accepts_images(self, model: str) -> bool:
        """Whether this model takes images; True unless the provider knows it does not."""
        return True

    def byok(self) -> dict[str, str] | None:
        """This provider as the Copilot runtime's "bring your own key" settings (None: it has
        none, so its sessions cannot run on the runtime)."""
        return None

    def uses_runtime(self, request: ChatRequest) -> bool:
        """Whether this turn runs on the Copilot runtime: every agent turn, and every turn of a
        provider configured with ``runtime = "copilot"``."""
        runtime = self.config.extra.get("runtime")
        if runtime not in (None, "copilot"):
            from ..errors import BadRequest

            raise BadRequest(
                f'providers.{self.name}.runtime can only be "copilot" (got {runtime!r}).'
            )
        return request.mode == "agent" or runtime == "copilot"

    def stream_runtime(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        """A turn on the Copilot runtime (the SDK), in this provider's BYOK settings."""
        from .copilot_sdk import stream_on_runtime

        return stream_on_runtime(self, request, self.byok(), None)

    async def status(self) -> ProviderStatus:
        """Whether the provider can be used now; the default asks for the model list."""
        from ..errors import CopilotTuiError

        try:
            models = await self.list_models()
        except CopilotTuiError as exc:
            return ProviderStatus(self.name, self.type, False, reason=str(exc))
        return ProviderStatus(self.name, self.type, True, models=models)

    def unusable(
        self, reason: str, fix: str | None = None, *, said_by: str | None = None
    ) -> ProviderStatus:
        """A status saying why the provider cannot be used and how to fix it, each said once: an
        error's message often already names its fix (``said_by``: the words that show it does)."""
        if fix and (said_by or fix) in reason:
            fix = None
        return ProviderStatus(self.name, self.type, False, reason=reason, fix=fix)

    def model_info(self, model: str, name: str | None = None, **extra: Any) -> ModelInfo:
        return ModelInfo(id=f"{self.name}/{model}", name=name or model, provider=self.name, **extra)

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most providers own nothing
        """Release resources the provider owns (the shared HTTP client is not one of them)."""
