"""Hostile answers for the fake OpenAI-compatible server: what a broken or malicious server on
the other end of the wire can send. Each builder returns a :class:`Script` to queue with
``fake.script(model, ...)``; the server sends it in the exact Chat Completions wire format."""

from __future__ import annotations

import json
import random
import string

from tests.servers.openai_server import Script

LONE_SURROGATE = "\ud800"  # json.dumps escapes it as the six characters \ud800, as a server would


def lone_surrogate_reply(before: str = "Hello wor", after: str = "ld, and more.") -> Script:
    """A delta holding ``"\\ud800"``: half of a UTF-16 pair, which no UTF-8 encoder accepts."""
    return Script(chunks=[before[:5], before[5:] + LONE_SURROGATE + after[:3], after[3:]])


def split_pair_reply() -> Script:
    """An emoji whose two UTF-16 halves arrive in two events (each escaped on its own)."""
    return Script(chunks=["smile ", "\ud83d", "\ude00", " done"])


def canary_key(length: int, seed: int = 0) -> str:
    """A fake API key of ``length`` characters, unlike anything else in a test's text."""
    rng = random.Random(seed * 1000 + length)
    return "sk-" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(length - 3))


def key_in_error(key: str, position: int, *, status: int = 401, sep: str = "") -> Script:
    """An error whose message quotes ``key`` starting at ``position`` (``sep`` is put into the
    middle of the key, as a server that wraps or spaces its text would)."""
    half = len(key) // 2
    quoted = key[:half] + sep + key[half:]
    message = "." * position + quoted + " is not a valid key; see the documentation for details."
    return Script(status=status, error_body=json.dumps({"error": {"message": message, "type": "invalid_request_error"}}))


def key_in_reply(key: str, cuts: list[int], *, before: str = "Your key is ", after: str = " and that is all.") -> Script:
    """A reply that repeats ``key``, split into stream events at the offsets ``cuts``."""
    text = before + key + after
    offsets = [0, *(len(before) + c for c in cuts), len(text)]
    return Script(chunks=[text[a:b] for a, b in zip(offsets, offsets[1:], strict=False) if b > a])
