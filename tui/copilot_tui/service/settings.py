"""The config file as the user edits it: where it is, what it holds (secrets masked), one key set."""

from __future__ import annotations

from pathlib import Path

import tomli_w

from ..config import (
    default_config_path,
    default_data_dir,
    load_config,
    parse_value,
    redacted,
    set_value,
)
from . import discovery

__all__ = ["config_file", "defaults_in_effect", "masked_config", "set_config_value"]


def config_file(path: str | Path | None = None) -> Path:
    return Path(path).expanduser() if path else default_config_path()


def masked_config(path: str | Path | None = None) -> str | None:
    """The config as TOML with secrets masked, or None when the file does not exist."""
    cfg = load_config(config_file(path))
    return tomli_w.dumps(redacted(cfg.raw)) if cfg.exists else None


def set_config_value(path: str | Path | None, key: str, value: str) -> Path:
    """Set a dotted KEY to VALUE (TOML, else plain text); the file written."""
    target = config_file(path)
    set_value(target, key, parse_value(value))
    return target


def defaults_in_effect(path: str | Path | None = None, data_dir: str | Path | None = None) -> str:
    """What a missing config amounts to, as the TOML that would say the same: the providers
    found on this machine and the model a new conversation starts on. No network is asked."""
    cfg = load_config(config_file(path))
    folder = Path(data_dir).expanduser() if data_dir else default_data_dir()
    providers = discovery.implicit_providers(cfg, folder)
    model = discovery.default_model(cfg, providers)
    doc: dict[str, object] = {"default_model": model} if model else {}
    doc["providers"] = {name: {"type": pc.type} for name, pc in providers.items()}
    return tomli_w.dumps(doc)
