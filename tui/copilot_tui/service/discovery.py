"""Providers that need no config: what a fresh machine can use without the user writing TOML."""

from __future__ import annotations

import importlib.util

from ..config import Config, ProviderConfig
from ..providers.local_gguf import SMOLLM2_DIST, SMOLLM2_FILE, bundled_smollm2

__all__ = ["SMOLLM2_DIST", "SMOLLM2_FILE", "bundled_smollm2", "default_model", "implicit_providers", "local_engine_installed"]


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
