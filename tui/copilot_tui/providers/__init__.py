"""Wire formats of the back ends. Nothing here knows about sessions, the store or the UI."""

from __future__ import annotations

import importlib

from .base import ChatMessage, ChatRequest, Provider, StreamChunk

# type name -> "module:Class"; imported lazily so an optional back end costs nothing until used.
PROVIDER_TYPES: dict[str, str] = {
    "openai": "copilot_tui.providers.openai:OpenAIProvider",
    "copilot": "copilot_tui.providers.copilot:CopilotProvider",
    "github-models": "copilot_tui.providers.github_models:GitHubModelsProvider",
    "anthropic": "copilot_tui.providers.anthropic:AnthropicProvider",
    "ollama": "copilot_tui.providers.ollama:OllamaProvider",
    "local": "copilot_tui.providers.local:LocalProvider",
}


def provider_class(type_name: str) -> type[Provider]:
    target = PROVIDER_TYPES[type_name]
    module_name, class_name = target.split(":")
    return getattr(importlib.import_module(module_name), class_name)


__all__ = [
    "ChatMessage",
    "ChatRequest",
    "PROVIDER_TYPES",
    "Provider",
    "StreamChunk",
    "provider_class",
]
