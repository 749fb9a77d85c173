"""Property tests: the config loader and id validation never fail with anything but their own errors."""

from __future__ import annotations

import re
from pathlib import Path

import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from copilot_tui.config import parse_config
from copilot_tui.errors import ConfigError, InvalidSessionId, UnknownModel
from copilot_tui.ids import split_model_ref, validate_session_id

ID_RE = re.compile(r"[A-Za-z0-9._-]{1,128}")
PATH = Path("/tmp/fuzz-config.toml")

toml_scalars = st.one_of(
    st.text(max_size=20), st.integers(), st.booleans(), st.floats(allow_nan=False)
)
toml_values = st.recursive(
    toml_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
key_names = st.sampled_from(
    [
        "type",
        "base_url",
        "api_key",
        "models",
        "headers",
        "max_concurrency",
        "timeout",
        "bogus",
        "default_model",
        "providers",
        "keys",
        "ui",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_config_raises_only_config_error(text: str) -> None:
    try:
        parse_config(text, PATH)
    except ConfigError as exc:
        assert str(PATH) in str(exc)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        key_names,
        st.one_of(
            toml_values,
            st.dictionaries(
                st.text(min_size=1, max_size=8),
                st.dictionaries(key_names, toml_values, max_size=4),
                max_size=2,
            ),
        ),
        max_size=4,
    )
)
def test_structured_configs_raise_only_config_error(doc: dict) -> None:
    try:
        text = tomli_w.dumps(doc)
    except (TypeError, ValueError):
        return
    try:
        parse_config(text, PATH)
    except ConfigError:
        pass


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(st.text(max_size=140), st.from_regex(ID_RE, fullmatch=True), st.integers(), st.none())
)
def test_session_id_validation(value: object) -> None:
    ok = isinstance(value, str) and bool(ID_RE.fullmatch(value)) and value not in {".", ".."}
    try:
        assert validate_session_id(value) == value and ok
    except InvalidSessionId as exc:
        assert not ok
        assert "\n" not in str(exc) and len(str(exc)) < 200


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_model_refs(ref: str) -> None:
    try:
        provider, model = split_model_ref(ref, "lab")
    except UnknownModel:
        return
    assert provider and model
