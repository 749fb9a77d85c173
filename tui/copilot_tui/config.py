"""TOML configuration: where it lives, what keys it may hold, and a validated view of it."""

from __future__ import annotations

import os
import re
import stat
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import platformdirs
import tomli_w

from .errors import ConfigError, FileWriteError
from .files import FileTooLarge, NotRegularFile, read_regular
from .types import Sampling

APP_NAME = "copilot-tui"
CONFIG_ENV = "COPILOT_TUI_CONFIG"
DATA_ENV = "COPILOT_TUI_DATA_DIR"

TOP_LEVEL_KEYS = {"default_model", "providers", "keys", "ui", "params"}
UI_KEYS = {"theme", "sidebar", "show_meta"}
COMMON_PROVIDER_KEYS = {
    "type",
    "base_url",
    "api_key",
    "api_key_env",
    "models",
    "headers",
    "max_concurrency",
    "max_tokens",
    "timeout",
    "enabled",
}
# Keys only one provider type understands; a key outside COMMON and its type's set is an error.
TYPE_KEYS: dict[str, set[str]] = {
    "openai": {"stream_usage", "runtime"},
    "copilot": {
        "github_url",
        "api_url",
        "token_url",
        "client_id",
        "editor_version",
        "token_file",
        "transport",
    },
    "github-models": {"catalog_url", "api_version"},
    "anthropic": {"anthropic_version", "runtime"},
    "ollama": {"keep_alive", "num_ctx", "runtime"},
    "local": {"context_size", "threads", "engine"},
}


def default_config_path() -> Path:
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def default_data_dir() -> Path:
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


@dataclass(slots=True)
class ProviderConfig:
    name: str
    type: str
    base_url: str | None = None
    api_key: str | None = None
    api_key_env: str | None = None
    models: list[str] | dict[str, str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    max_concurrency: int | None = None
    max_tokens: int | None = None
    timeout: float | None = None
    enabled: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    implicit: bool = False  # discovered, not written in the config file
    data_dir: Path | None = None  # the client's data dir, for state a provider keeps (logins)

    def httpx_timeout(self) -> httpx.Timeout | None:
        if self.timeout is None:
            return None
        return httpx.Timeout(
            connect=min(10.0, self.timeout), read=self.timeout, write=30.0, pool=None
        )


@dataclass(slots=True)
class Config:
    path: Path
    default_model: str | None = None
    providers: dict[str, ProviderConfig] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    ui: dict[str, Any] = field(default_factory=dict)
    # generation defaults by provider ("lab") or model ("lab/gpt-4o-mini"); the model's win
    params: dict[str, Sampling] = field(default_factory=dict)
    exists: bool = False
    warnings: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def default_provider(self) -> str | None:
        if self.default_model and "/" in self.default_model:
            return self.default_model.split("/", 1)[0]
        if len(self.providers) == 1:
            return next(iter(self.providers))
        return None


def _line_of(text: str, table: tuple[str, ...], key: str | None) -> int | None:
    """Best-effort line number of ``key`` inside ``[table]`` (or of the table header)."""
    lines = text.splitlines()
    start = 0
    if table:
        dotted = r"\.".join(re.escape(t) for t in table)
        quoted = r"\.".join(rf'(?:{re.escape(t)}|"{re.escape(t)}")' for t in table)
        header = re.compile(rf"^\s*\[\s*(?:{dotted}|{quoted})\s*\]")
        for i, line in enumerate(lines):
            if header.match(line):
                start = i
                if key is None:
                    return i + 1
                break
        else:
            # inline form: providers.lab.key = ... or lab = { ... }
            for i, line in enumerate(lines):
                if re.match(rf"^\s*{re.escape(table[-1])}\s*=", line) or (
                    key and re.match(rf"^\s*{dotted}\.{re.escape(key)}\s*=", line)
                ):
                    return i + 1
            return None
    if key is None:
        return None
    pattern = re.compile(rf'^\s*(?:{re.escape(key)}|"{re.escape(key)}")\s*=')
    for i in range(start, len(lines)):
        if i > start and table and lines[i].lstrip().startswith("["):
            break
        if not table and lines[i].lstrip().startswith("["):
            break
        if pattern.match(lines[i]):
            return i + 1
    return start + 1 if table else None


def _want(
    cond: bool, msg: str, path: Path, text: str, table: tuple[str, ...], key: str | None
) -> None:
    if not cond:
        raise ConfigError(msg, str(path), _line_of(text, table, key))


def parse_config(text: str, path: Path) -> Config:
    """Validate a TOML document; raise ConfigError naming the file and line of the first problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        match = re.search(r"\(at line (\d+), column \d+\)", msg)
        line = int(match.group(1)) if match else None
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg) or "invalid TOML"
        raise ConfigError(f"invalid TOML: {msg}", str(path), line) from None
    cfg = Config(path=path, exists=True, raw=raw)
    for key, value in raw.items():
        _want(
            key in TOP_LEVEL_KEYS,
            f"unknown key {key!r} (known: {', '.join(sorted(TOP_LEVEL_KEYS))})",
            path,
            text,
            (),
            key,
        )
        if key == "default_model":
            _want(
                isinstance(value, str) and "/" in value,
                "default_model must be a string 'PROVIDER/MODEL'",
                path,
                text,
                (),
                key,
            )
            cfg.default_model = value
    providers = raw.get("providers", {})
    _want(isinstance(providers, dict), "[providers] must be a table", path, text, (), "providers")
    for name, table in providers.items():
        where = ("providers", name)
        _want(isinstance(table, dict), f"providers.{name} must be a table", path, text, where, None)
        _want(
            bool(re.fullmatch(r"[A-Za-z0-9._-]+", name)),
            f"provider name {name!r} may only hold letters, digits, '-', '_' and '.'",
            path,
            text,
            where,
            None,
        )
        ptype = table.get("type")
        _want(
            isinstance(ptype, str) and ptype in TYPE_KEYS,
            f"providers.{name}.type must be one of {', '.join(sorted(TYPE_KEYS))} (got {ptype!r})",
            path,
            text,
            where,
            "type",
        )
        allowed = COMMON_PROVIDER_KEYS | TYPE_KEYS[ptype]
        pc = ProviderConfig(name=name, type=ptype)
        for key, value in table.items():
            _want(
                key in allowed,
                f"unknown key {key!r} for a provider of type {ptype!r}",
                path,
                text,
                where,
                key,
            )
            if key in {"base_url", "api_key", "api_key_env"}:
                _want(
                    isinstance(value, str) and value != "",
                    f"providers.{name}.{key} must be a non-empty string",
                    path,
                    text,
                    where,
                    key,
                )
                setattr(pc, key, value)
            elif key == "models":
                ok = (isinstance(value, list) and all(isinstance(v, str) and v for v in value)) or (
                    isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
                )
                _want(
                    ok,
                    f"providers.{name}.models must be a list of names or a table of name = path",
                    path,
                    text,
                    where,
                    key,
                )
                pc.models = value
            elif key == "headers":
                _want(
                    isinstance(value, dict) and all(isinstance(v, str) for v in value.values()),
                    f"providers.{name}.headers must be a table of strings",
                    path,
                    text,
                    where,
                    key,
                )
                pc.headers = dict(value)
            elif key in {"max_concurrency", "max_tokens"}:
                _want(
                    isinstance(value, int) and not isinstance(value, bool) and value >= 1,
                    f"providers.{name}.{key} must be a whole number of at least 1",
                    path,
                    text,
                    where,
                    key,
                )
                setattr(pc, key, value)
            elif key == "timeout":
                _want(
                    isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0,
                    f"providers.{name}.timeout must be a positive number of seconds",
                    path,
                    text,
                    where,
                    key,
                )
                pc.timeout = float(value)
            elif key == "enabled":
                _want(
                    isinstance(value, bool),
                    f"providers.{name}.enabled must be true or false",
                    path,
                    text,
                    where,
                    key,
                )
                pc.enabled = value
            elif key != "type":
                pc.extra[key] = value
        if pc.api_key:
            _check_secret_mode(path, cfg)
        cfg.providers[name] = pc
    keys = raw.get("keys", {})
    _want(
        isinstance(keys, dict) and all(isinstance(v, str) for v in keys.values()),
        "[keys] must map binding ids to key strings",
        path,
        text,
        (),
        "keys",
    )
    cfg.keys = dict(keys)
    ui = raw.get("ui", {})
    _want(isinstance(ui, dict), "[ui] must be a table", path, text, (), "ui")
    for key in ui:
        _want(
            key in UI_KEYS,
            f"unknown key {key!r} in [ui] (known: {', '.join(sorted(UI_KEYS))})",
            path,
            text,
            ("ui",),
            key,
        )
    cfg.ui = dict(ui)
    params = raw.get("params", {})
    _want(isinstance(params, dict), "[params] must be a table", path, text, (), "params")
    for target, table in params.items():
        where = ("params", target)
        _want(
            isinstance(table, dict),
            f"params.{target} must be a table (a provider or PROVIDER/MODEL)",
            path,
            text,
            where,
            None,
        )
        try:
            cfg.params[target] = Sampling.parse(table, f"params.{target}.")
        except ValueError as exc:
            bad = next((k for k in table if f".{k}" in str(exc)), None)
            raise ConfigError(str(exc), str(path), _line_of(text, where, bad)) from None
    if cfg.default_model:
        prov = cfg.default_model.split("/", 1)[0]
        if cfg.providers and prov not in cfg.providers and prov != "local":
            raise ConfigError(
                f"default_model names provider {prov!r}, which is not configured",
                str(path),
                _line_of(text, (), "default_model"),
            )
    return cfg


def _check_secret_mode(path: Path, cfg: Config) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        msg = f"{path} holds an api_key and is readable by other users; run: chmod 600 {path}"
        if msg not in cfg.warnings:
            cfg.warnings.append(msg)


def load_config(path: Path | str | None = None) -> Config:
    """Read the config; a missing file means defaults."""
    p = Path(path).expanduser() if path else default_config_path()
    text = _read_config_text(p)
    if text is None:
        return Config(path=p)
    return parse_config(text, p)


MAX_CONFIG_BYTES = 1024 * 1024


def _read_config_text(p: Path) -> str | None:
    """The config file's text, None if there is none; a FIFO, device or directory is refused
    without opening it for a blocking read."""
    try:
        text = read_regular(p, limit=MAX_CONFIG_BYTES).decode("utf-8")
    except (FileNotFoundError, NotADirectoryError):  # a parent that is a file: no config there
        return None
    except NotRegularFile as exc:
        raise ConfigError(f"is {exc.kind}, not a config file", str(p)) from None
    except FileTooLarge:
        raise ConfigError(
            f"is larger than {MAX_CONFIG_BYTES // 1024} KiB, not a config file", str(p)
        ) from None
    except PermissionError:
        raise ConfigError("cannot be read (permission denied)", str(p)) from None
    except UnicodeDecodeError:
        raise ConfigError("is not UTF-8 text", str(p)) from None
    except OSError as exc:
        raise ConfigError(f"cannot be read ({exc.strerror or exc})", str(p)) from None
    return text


def parse_value(text: str) -> Any:
    """A CLI value: TOML syntax when it parses (numbers, booleans, arrays), else a plain string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def set_value(path: Path, dotted_key: str, value: Any) -> Config:
    """Set ``a.b.c = value`` in the file, validate the result, then write it atomically."""
    text = _read_config_text(path)
    try:
        raw = tomllib.loads(text) if text is not None else {}
    except tomllib.TOMLDecodeError:
        load_config(path)  # raises the precise error
        raise
    parts = [p for p in dotted_key.split(".") if p]
    if not parts:
        raise ConfigError(f"invalid key {dotted_key!r}", str(path))
    node = raw
    for part in parts[:-1]:
        nxt = node.setdefault(part, {})
        if not isinstance(nxt, dict):
            raise ConfigError(f"{part!r} is not a table, cannot set {dotted_key!r}", str(path))
        node = nxt
    node[parts[-1]] = value
    text = tomli_w.dumps(raw)
    cfg = parse_config(text, path)
    try:
        write_atomic(path, text)
    except (FileExistsError, NotADirectoryError):  # from mkdir: a parent is a file
        raise FileWriteError(
            f"Cannot write {path}: its folder {path.parent} is not a directory."
        ) from None
    except OSError as exc:
        raise FileWriteError(
            f"Cannot write {path}: {exc.strerror or type(exc).__name__}."
        ) from None
    return cfg


def write_atomic(path: Path, text: str, mode: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = 0o600
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def redacted(raw: dict[str, Any]) -> dict[str, Any]:
    """A copy of the raw config with secrets masked, for ``config show``."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            out[key] = redacted(value)
        elif key == "api_key" and isinstance(value, str):
            out[key] = "********"
        else:
            out[key] = value
    return out
