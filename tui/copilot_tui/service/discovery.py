"""Providers that need no config: what a fresh machine can use without the user writing TOML."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from ..config import Config, ProviderConfig
from ..errors import ProviderError
from ..providers.copilot_auth import load_github_token, token_path
from ..providers.local_gguf import SMOLLM2_DIST, SMOLLM2_FILE, bundled_smollm2
from ..types import ProviderStatus, Readiness

__all__ = [
    "SMOLLM2_DIST",
    "SMOLLM2_FILE",
    "bundled_smollm2",
    "candidates",
    "default_model",
    "implicit_providers",
    "local_engine_installed",
    "readiness",
]


def local_engine_installed() -> bool:
    return importlib.util.find_spec("xllamacpp") is not None


# Default models per discovered provider, in order of preference: a Copilot plan first, then
# keys, then what runs on this machine. Ollama's models are only known once it answers (None).
PREFERENCE: tuple[tuple[str, str | None], ...] = (
    ("copilot", "gpt-4.1"),
    ("openai", "gpt-4o-mini"),
    ("anthropic", "claude-sonnet-4-5"),
    ("github-models", "openai/gpt-4.1"),
    ("ollama", None),
    ("local", "smollm2"),
)
DEFAULT_MODELS: tuple[tuple[str, str], ...] = tuple((n, m) for n, m in PREFERENCE if m)
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
    if type_name == "local":  # the engine's package and the bundled model, found without importing
        return local_engine_installed() and bundled_smollm2() is not None
    return True  # ollama is probed by status()


def _likely(name: str, pc: ProviderConfig) -> bool:
    """Whether a discovered provider is worth offering before its status check answers."""
    if not has_credentials(name, pc.data_dir):
        return False
    # with only gh installed, whether it is logged in is known later
    return name != "github-models" or bool(os.environ.get("GITHUB_TOKEN"))


def implicit_providers(config: Config, data_dir: Path | None = None) -> dict[str, ProviderConfig]:
    """Providers to add when the config file names none: all of them, usable or not."""
    if config.providers:
        return {}
    return {
        name: ProviderConfig(name=name, type=name, implicit=True, data_dir=data_dir)
        for name in IMPLICIT_TYPES
    }


def default_model(config: Config, providers: dict[str, ProviderConfig]) -> str | None:
    if config.default_model:
        return config.default_model
    for name, model in DEFAULT_MODELS:
        pc = providers.get(name)
        if pc is not None and pc.implicit and pc.type == name and _likely(name, pc):
            return f"{name}/{model}"
    for name, pc in providers.items():
        if isinstance(pc.models, list) and pc.models:
            return f"{name}/{pc.models[0]}"
        if isinstance(pc.models, dict) and pc.models:
            return f"{name}/{next(iter(pc.models))}"
    return None


def candidates(
    config: Config, providers: Mapping[str, ProviderConfig]
) -> list[tuple[str, str | None]]:
    """Where a new conversation's model may come from, best first: the configured default alone,
    else each discovered provider in order of preference, else the configured providers in order.
    A model of None means the provider's first model, known once it answers."""
    if config.default_model:
        name, model = config.default_model.split("/", 1)
        return [(name, model)]
    found = [
        (n, m)
        for n, m in PREFERENCE
        if (pc := providers.get(n)) is not None and pc.implicit and pc.type == n
    ]
    if found:
        return found
    out: list[tuple[str, str | None]] = []
    for name, pc in providers.items():
        listed = list(pc.models) if isinstance(pc.models, (list, dict)) else []
        out.append((name, str(listed[0]) if listed else None))
    return out


def readiness(
    config: Config, providers: Mapping[str, ProviderConfig], statuses: Mapping[str, ProviderStatus]
) -> Readiness:
    """What a new conversation would start on, given the statuses known so far.

    The first candidate that answered wins once every better one has answered too; until then
    the best candidate that may still answer is offered unconfirmed, so the welcome never flips
    from one model to another, and never offers one that is known not to answer.
    """
    chosen: str | None = None
    waiting: list[str] = []
    for name, wanted in candidates(config, providers):
        status = statuses.get(name)
        pc = providers.get(name)
        if status is None and pc is not None:
            waiting.append(name)
            if chosen is None and wanted and (not pc.implicit or _likely(name, pc)):
                chosen = f"{name}/{wanted}"
            continue
        if status is None or not status.usable:
            continue
        ref = (
            f"{name}/{wanted}"
            if wanted
            else next((m.id for m in status.models if m.supported), None)
        )
        if ref is not None:
            return Readiness(
                chosen or ref,
                confirmed=not waiting,
                waiting_for=tuple(waiting),
                unusable=_unusable(config, providers, statuses),
                configured=config.default_model,
            )
    return Readiness(
        chosen,
        confirmed=False,
        waiting_for=tuple(waiting),
        unusable=_unusable(config, providers, statuses),
        configured=config.default_model,
    )


def _unusable(
    config: Config, providers: Mapping[str, ProviderConfig], statuses: Mapping[str, ProviderStatus]
) -> tuple[ProviderStatus, ...]:
    """The providers that cannot answer, in config order; with a configured default only its own."""
    names = [config.default_model.split("/", 1)[0]] if config.default_model else list(providers)
    return tuple(s for n in names if (s := statuses.get(n)) is not None and not s.usable)
