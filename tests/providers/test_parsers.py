"""The stream parsers: any chunking and any bytes (property tests), and how one read's events
come out of them."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copilot_tui.errors import ProtocolError, ProviderError
from copilot_tui.providers.anthropic import AnthropicStreamParser
from copilot_tui.providers.http import join_text
from copilot_tui.providers.ndjson import NDJSONDecoder
from copilot_tui.providers.ollama import OllamaStreamParser
from copilot_tui.providers.openai import OpenAIStreamParser

pieces = st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=8)


def ollama_stream(texts: list[str]) -> bytes:
    lines = [
        json.dumps(
            {"model": "m", "message": {"role": "assistant", "content": t}, "done": False},
            ensure_ascii=False,
        )
        for t in texts
    ]
    lines.append(
        json.dumps(
            {
                "model": "m",
                "message": {"role": "assistant", "content": ""},
                "done": True,
                "done_reason": "stop",
                "prompt_eval_count": 3,
                "eval_count": len(texts),
            }
        )
    )
    return ("\n".join(lines) + "\n").encode()


def anthropic_stream(texts: list[str]) -> bytes:
    def ev(name: str, payload: dict) -> str:
        return f"event: {name}\r\ndata: {json.dumps({'type': name, **payload}, ensure_ascii=False)}\r\n\r\n"

    out = [
        ev("message_start", {"message": {"usage": {"input_tokens": 4, "output_tokens": 1}}}),
        ev("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        ev("ping", {}),
    ]
    out += [
        ev("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": t}})
        for t in texts
    ]
    out += [
        ev("content_block_stop", {"index": 0}),
        ev("message_delta", {"delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 9}}),
        ev("message_stop", {}),
    ]
    return "".join(out).encode()


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def run(parser: AnthropicStreamParser | OllamaStreamParser, chunks: list[bytes]) -> str:
    text = []
    for chunk in chunks:
        text += [c.text for c in parser.feed(chunk)]
    text += [c.text for c in parser.close()]
    return "".join(text)


@settings(max_examples=200)
@given(pieces, st.lists(st.integers(min_value=0, max_value=10_000), max_size=20))
def test_ndjson_any_split_gives_the_same_text(texts: list[str], cuts: list[int]) -> None:
    data = ollama_stream(texts)
    parser = OllamaStreamParser("ollama")
    assert run(parser, split_at(data, cuts)) == "".join(texts)
    assert parser.complete


@settings(max_examples=200)
@given(pieces, st.lists(st.integers(min_value=0, max_value=10_000), max_size=20))
def test_anthropic_any_split_gives_the_same_text(texts: list[str], cuts: list[int]) -> None:
    data = anthropic_stream(texts)
    parser = AnthropicStreamParser("anthropic")
    assert run(parser, split_at(data, cuts)) == "".join(texts)
    assert parser.complete


def test_split_inside_a_multibyte_character() -> None:
    data = ollama_stream(["€uro 🦙"])
    cut = data.index("€".encode()) + 1  # between the bytes of one character
    assert run(OllamaStreamParser("o"), [data[:cut], data[cut:]]) == "€uro 🦙"
    data = anthropic_stream(["€uro 🦙"])
    cut = data.index("🦙".encode()) + 2
    assert run(AnthropicStreamParser("a"), [data[:cut], data[cut:]]) == "€uro 🦙"


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=64), max_size=8))
def test_ndjson_arbitrary_bytes_raise_only_provider_errors(chunks: list[bytes]) -> None:
    try:
        run(OllamaStreamParser("o"), chunks)
        decoder = NDJSONDecoder("o")
        for c in chunks:
            list(decoder.feed(c))
        decoder.close()
    except ProviderError:
        pass


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=64), max_size=8))
def test_anthropic_arbitrary_bytes_raise_only_provider_errors(chunks: list[bytes]) -> None:
    try:
        run(AnthropicStreamParser("a"), chunks)
    except ProviderError:
        pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "type",
                    "delta",
                    "text",
                    "message",
                    "usage",
                    "error",
                    "done",
                    "content",
                    "index",
                    "content_block",
                    "stop_reason",
                    "input_tokens",
                    "output_tokens",
                    "eval_count",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=300)
@given(
    st.lists(json_values, max_size=6),
    st.sampled_from(["message_start", "content_block_delta", "message_delta", "error", "x"]),
)
def test_parsers_survive_arbitrary_json_shapes(values: list, name: str) -> None:
    sse = "".join(f"event: {name}\ndata: {json.dumps(v)}\n\n" for v in values).encode()
    nd = "".join(json.dumps(v) + "\n" for v in values).encode()
    for parser, data in ((AnthropicStreamParser("a"), sse), (OllamaStreamParser("o"), nd)):
        try:
            run(parser, [data])
        except ProviderError:
            pass


def _openai_events(*payloads: object) -> bytes:
    return b"".join(b"data: " + json.dumps(p).encode() + b"\n\n" for p in payloads)


def _text(t: str) -> dict:
    return {"choices": [{"index": 0, "delta": {"content": t}, "finish_reason": None}]}


def test_one_read_of_text_events_is_one_chunk_in_order_with_the_rest() -> None:
    parser = OpenAIStreamParser("lab")
    data = _openai_events(
        _text("a"),
        _text("b"),
        _text("c"),
        {"choices": [{"delta": {}, "finish_reason": "stop"}]},
        {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 3}},
    )
    out = list(join_text(parser.feed(data)))
    assert [(c.text, c.pieces, c.finish_reason) for c in out[:2]] == [
        ("abc", 3, None),
        ("", 1, "stop"),
    ]
    assert out[2].usage is not None and out[2].usage.output_tokens == 3 and len(out) == 3


def test_text_before_a_bad_event_in_the_same_read_comes_out_before_the_error() -> None:
    parser = OpenAIStreamParser("lab")
    chunks = join_text(
        parser.feed(_openai_events(_text("kept "), _text("too")) + b"data: {not json\n\n")
    )
    first = next(chunks)
    assert (first.text, first.pieces) == ("kept too", 2)
    with pytest.raises(ProtocolError, match="malformed"):
        next(chunks)
