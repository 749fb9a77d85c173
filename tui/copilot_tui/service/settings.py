"""The config file as the user edits it: where it is, what it holds (secrets masked), one key set."""

from __future__ import annotations

from pathlib import Path

import tomli_w

from ..config import default_config_path, load_config, parse_value, redacted, set_value

__all__ = ["config_file", "masked_config", "set_config_value"]


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
