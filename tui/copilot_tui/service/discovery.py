"""Providers that need no config: what a fresh machine can use without the user writing TOML."""

from __future__ import annotations

import importlib.util
import os
import shutil

from ..config import Config, ProviderConfig
from ..providers.copilot_auth import load_github_token, token_path
from ..providers.local_gguf import SMOLLM2_DIST, SMOLLM2_FILE, bundled_smollm2

__all__ = ["SMOLLM2_DIST", "SMOLLM2_FILE", "bundled_smollm2", "default_model", "implicit_providers", "local_engine_installed"]


def local_engine_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


# Default models per discovered provider, in order of preference: a Copilot plan first, then
# paid keys, then GitHub Models' free tier, then the embedded model.
DEFAULT_MODELS: tuple[tuple[str, str], ...] = (
    ("copilot", "gpt-4.1"),
    ("openai", "gpt-4o-mini"),
    ("anthropic", "claude-sonnet-4-5"),
    ("github-models", "openai/gpt-4.1"),
    ("local", "smollm2"),
)


def implicit_providers(config: Config) -> dict[str, ProviderConfig]:
    """Providers to add when the config file names none.

    Only cheap local checks run here (a file, environment variables, ``gh`` on PATH), so start-up
    never waits on the network or a subprocess; each provider's ``status()`` checks for real.
    """
    if config.providers:
        return {}
    found: dict[str, ProviderConfig] = {}
    if load_github_token(token_path()):
        found["copilot"] = ProviderConfig(name="copilot", type="copilot", implicit=True)
    if os.environ.get("GITHUB_TOKEN") or shutil.which("gh"):
        found["github-models"] = ProviderConfig(name="github-models", type="github-models", implicit=True)
    if os.environ.get("OPENAI_API_KEY"):
        found["openai"] = ProviderConfig(name="openai", type="openai", implicit=True)
    if os.environ.get("ANTHROPIC_API_KEY"):
        found["anthropic"] = ProviderConfig(name="anthropic", type="anthropic", implicit=True)
    found["ollama"] = ProviderConfig(name="ollama", type="ollama", implicit=True)
    found["local"] = ProviderConfig(name="local", type="local", implicit=True)
    return found


def default_model(config: Config, providers: dict[str, ProviderConfig]) -> str | None:
    if config.default_model:
        return config.default_model
    for name, model in DEFAULT_MODELS:
        pc = providers.get(name)
        if pc is not None and pc.implicit and pc.type == name:
            if name == "github-models" and not os.environ.get("GITHUB_TOKEN"):
                continue  # only gh is installed: whether it is logged in is known later
            return f"{name}/{model}"
    for name, pc in providers.items():
        if isinstance(pc.models, list) and pc.models:
            return f"{name}/{pc.models[0]}"
        if isinstance(pc.models, dict) and pc.models:
            return f"{name}/{next(iter(pc.models))}"
    return None
