"""The SSE decoder and the OpenAI stream parser, including arbitrary chunk boundaries."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copilot_tui.errors import ProviderError
from copilot_tui.providers.openai import OpenAIStreamParser
from copilot_tui.providers.sse import decode_all


def test_sse_rules() -> None:
    raw = b": comment\r\nevent: custom\r\ndata: line1\r\ndata:line2\r\n\r\ndata: solo\n\nid: 3\nretry: 5\n\ndata\n\n"
    events = decode_all([raw])
    assert [(e.event, e.data) for e in events] == [
        ("custom", "line1\nline2"),
        ("message", "solo"),
        ("message", ""),
    ]


def test_unterminated_event_is_dropped() -> None:
    assert decode_all([b"data: whole\n\ndata: cut"]) == decode_all([b"data: whole\n\n"])


def openai_stream(pieces: list[str], usage: bool = True) -> bytes:
    out = [b'data: {"choices":[],"prompt_filter_results":[{"prompt_index":0}]}\n\n']
    out.append(b'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":null}}]}\n\n')
    for p in pieces:
        chunk = {
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": p},
                    "content_filter_results": {"hate": {"filtered": False}},
                }
            ]
        }
        out.append(b"data: " + json.dumps(chunk, ensure_ascii=False).encode() + b"\n\n")
    out.append(b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n')
    if usage:
        out.append(b'data: {"choices":null,"usage":{"prompt_tokens":3,"completion_tokens":4}}\n\n')
    out.append(b"data: [DONE]\n\n")
    return b"".join(out)


def parse(chunks: list[bytes]) -> tuple[str, OpenAIStreamParser, list]:
    parser = OpenAIStreamParser("lab")
    out = []
    for c in chunks:
        out.extend(parser.feed(c))
    out.extend(parser.close())
    return "".join(c.text for c in out), parser, out


def test_quirks_and_usage() -> None:
    text, parser, out = parse([openai_stream(["Hel", "lo ", "wörld 🌍"])])
    assert text == "Hello wörld 🌍" and parser.complete
    assert [c.usage.output_tokens for c in out if c.usage] == [4]


def test_error_object_mid_stream_keeps_text_before_it() -> None:
    parser = OpenAIStreamParser("lab")
    got = []
    with pytest.raises(ProviderError, match="overloaded"):
        for c in parser.feed(
            b'data: {"choices":[{"delta":{"content":"part"}}]}\n\ndata: {"error":{"message":"overloaded"}}\n\n'
        ):
            got.append(c.text)
    assert got == ["part"]


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=12),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=30),
)
def test_any_split_yields_the_same_text(pieces: list[str], cuts: list[int]) -> None:
    raw = openai_stream(pieces)
    points = sorted({c % (len(raw) + 1) for c in cuts})
    chunks = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]
    text, parser, _ = parse(chunks)
    assert text == "".join(pieces) and parser.complete


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=10))
def test_arbitrary_bytes_raise_only_provider_errors(chunks: list[bytes]) -> None:
    try:
        parse(chunks)
    except ProviderError:
        pass
