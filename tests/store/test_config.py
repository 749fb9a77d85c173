"""Config loading, validation with file and line, and `config set`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from copilot_tui.config import load_config, parse_value, set_value
from copilot_tui.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text)
    return p


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    cfg = load_config(tmp_path / "none.toml")
    assert not cfg.exists and cfg.providers == {} and cfg.default_model is None


def test_full_shape(tmp_path: Path) -> None:
    cfg = load_config(
        write(
            tmp_path,
            """
default_model = "lab/gpt-4o-mini"
[providers.lab]
type = "openai"
base_url = "http://127.0.0.1:8000/v1"
api_key_env = "LAB_API_KEY"
models = ["gpt-4o-mini"]
headers = { "X-Team" = "a" }
max_concurrency = 4
[keys]
new_session = "ctrl+t"
""",
        )
    )
    lab = cfg.providers["lab"]
    assert (lab.type, lab.base_url, lab.models, lab.headers, lab.max_concurrency) == (
        "openai",
        "http://127.0.0.1:8000/v1",
        ["gpt-4o-mini"],
        {"X-Team": "a"},
        4,
    )
    assert cfg.default_provider == "lab" and cfg.keys == {"new_session": "ctrl+t"}


@pytest.mark.parametrize(
    ("text", "line", "phrase"),
    [
        (
            'default_model = "a/b"\n[providers.a]\ntype = "openai"\nbase_urll = "x"\n',
            4,
            "unknown key 'base_urll'",
        ),
        ('[providers.a]\ntype = "carrier-pigeon"\n', 2, "type must be one of"),
        ('colour = "red"\n', 1, "unknown key 'colour'"),
        ('[providers.a]\ntype = "openai"\nmax_concurrency = 0\n', 3, "at least 1"),
        ("x = [\n", None, "invalid TOML"),
        ("a = 1\nb = = 2\n", 2, "invalid TOML"),
        ('default_model = "nomodel"\n', 1, "PROVIDER/MODEL"),
        ('[ui]\nfont = "x"\n', 2, "unknown key 'font'"),
        ('[params."lab/m"]\nseed = 1\ntop_p = 7\n', 3, "params.lab/m.top_p must be a number"),
        ("[params.lab]\ntemp = 1\n", 2, "unknown parameter 'params.lab.temp'"),
    ],
)
def test_errors_name_file_and_line(
    tmp_path: Path, text: str, line: int | None, phrase: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    msg = str(info.value)
    assert phrase in msg and str(path) in msg
    if line is not None:
        assert info.value.line == line and f"{path}:{line}:" in msg


def test_set_validates_and_writes_atomically(tmp_path: Path) -> None:
    path = write(tmp_path, '[providers.lab]\ntype = "openai"\n')
    set_value(path, "providers.lab.max_concurrency", parse_value("3"))
    set_value(path, "default_model", parse_value("lab/gpt"))
    cfg = load_config(path)
    assert cfg.providers["lab"].max_concurrency == 3 and cfg.default_model == "lab/gpt"
    before = path.read_text()
    with pytest.raises(ConfigError, match="unknown key"):
        set_value(path, "providers.lab.nonsense", 1)
    assert path.read_text() == before  # an invalid change is never written


def test_api_key_in_readable_file_warns(tmp_path: Path) -> None:
    path = write(tmp_path, '[providers.lab]\ntype = "openai"\napi_key = "sk-secret"\n')
    os.chmod(path, 0o644)
    assert any("chmod 600" in w for w in load_config(path).warnings)
    os.chmod(path, 0o600)
    assert load_config(path).warnings == []


def test_parse_value() -> None:
    assert parse_value("3") == 3 and parse_value("true") is True and parse_value('["a"]') == ["a"]
    assert parse_value("http://x/v1") == "http://x/v1"


def test_generation_defaults_by_provider_and_model(tmp_path: Path) -> None:
    text = '[params.lab]\ntemperature = 0.4\nseed = 1\n[params."lab/m"]\ntemperature = 0.9\n'
    cfg = load_config(write(tmp_path, text))
    assert cfg.params["lab"].to_dict() == {"temperature": 0.4, "seed": 1}
    assert cfg.params["lab/m"].over(cfg.params["lab"]).to_dict() == {"temperature": 0.9, "seed": 1}
