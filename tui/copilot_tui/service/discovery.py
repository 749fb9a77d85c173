"""Providers that need no config: what a fresh machine can use without the user writing TOML."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from ..config import Config, ProviderConfig
from ..errors import ProviderError
from ..providers.copilot_auth import load_github_token, token_path
from ..providers.local_gguf import SMOLLM2_DIST, SMOLLM2_FILE, bundled_smollm2

__all__ = ["SMOLLM2_DIST", "SMOLLM2_FILE", "bundled_smollm2", "default_model", "implicit_providers", "local_engine_installed"]


def local_engine_installed() -> bool:
    return importlib.util.find_spec("xllamacpp") is not None


# Default models per discovered provider, in order of preference: a Copilot plan first, then
# keys, then the embedded model. Ollama's models are only known once it answers.
DEFAULT_MODELS: tuple[tuple[str, str], ...] = (
    ("copilot", "gpt-4.1"),
    ("openai", "gpt-4o-mini"),
    ("anthropic", "claude-sonnet-4-5"),
    ("github-models", "openai/gpt-4.1"),
    ("local", "smollm2"),
)
# Every service the app can use without a config file; unusable ones stay listed so that
# ``copilot-tui models`` and the model picker can say why and how to fix it.
IMPLICIT_TYPES = ("copilot", "github-models", "openai", "anthropic", "ollama", "local")


def has_credentials(type_name: str, data_dir: Path | None = None) -> bool:
    """Cheap local checks only (a file, environment variables, ``gh`` on PATH): start-up never
    waits on the network or a subprocess; each provider's ``status()`` checks for real."""
    if type_name == "copilot":
        try:
            return load_github_token(token_path(None, data_dir)) is not None
        except ProviderError:  # an unusable token file: listed, and its status says why
            return True
    if type_name == "github-models":
        return bool(os.environ.get("GITHUB_TOKEN")) or shutil.which("gh") is not None
    if type_name == "openai":
        return bool(os.environ.get("OPENAI_API_KEY"))
    if type_name == "anthropic":
        return bool(os.environ.get("ANTHROPIC_API_KEY"))
    return True  # ollama and local are probed by status()


def implicit_providers(config: Config, data_dir: Path | None = None) -> dict[str, ProviderConfig]:
    """Providers to add when the config file names none: all of them, usable or not."""
    if config.providers:
        return {}
    return {name: ProviderConfig(name=name, type=name, implicit=True, data_dir=data_dir) for name in IMPLICIT_TYPES}


def default_model(config: Config, providers: dict[str, ProviderConfig]) -> str | None:
    if config.default_model:
        return config.default_model
    for name, model in DEFAULT_MODELS:
        pc = providers.get(name)
        if pc is None or not pc.implicit or pc.type != name or not has_credentials(name, pc.data_dir):
            continue
        if name == "github-models" and not os.environ.get("GITHUB_TOKEN"):
            continue  # only gh is installed: whether it is logged in is known later
        return f"{name}/{model}"
    for name, pc in providers.items():
        if isinstance(pc.models, list) and pc.models:
            return f"{name}/{pc.models[0]}"
        if isinstance(pc.models, dict) and pc.models:
            return f"{name}/{next(iter(pc.models))}"
    return None
