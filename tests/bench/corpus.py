"""Realistic Markdown replies for benchmarks: prose, lists, fenced code and a table."""

from __future__ import annotations

import random
import re

_PARAGRAPHS = [
    "Virtual environments keep each project's dependencies apart, so upgrading a library for one "
    "project never breaks another. Python ships the `venv` module for this, and most tools detect "
    "an active environment on their own.",
    "When the interpreter starts inside an environment, `sys.prefix` points at it and `pip` installs "
    "into its `site-packages`. Deactivating simply restores the previous `PATH`.",
    "For reproducible builds, pin exact versions in a lock file and install with `--require-hashes`; "
    "this protects you from a compromised mirror as well as from surprise upgrades.",
]
_LIST = """
1. Create it: `python -m venv .venv`
2. Activate it:
   - Linux and macOS: `source .venv/bin/activate`
   - Windows: `.venv\\Scripts\\activate`
3. Install what you need: `pip install -r requirements.txt`
"""
_CODE = '''
```python
import subprocess
import sys
from pathlib import Path


def make_env(path: Path) -> None:
    """Create a virtual environment and upgrade pip inside it."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    pip = path / "bin" / "pip"
    subprocess.run([str(pip), "install", "--upgrade", "pip"], check=True)


if __name__ == "__main__":
    make_env(Path(".venv"))
```
'''
_TABLE = """
| command | what it does | notes |
|---|---|---|
| `python -m venv .venv` | creates the environment | once per project |
| `pip freeze > req.txt` | records versions | commit it |
| `deactivate` | leaves the environment | any shell |
"""
_BLOCKS = [*_PARAGRAPHS, _LIST, _CODE, _TABLE]
_TOKEN = re.compile(r"\s*\S+|\s+")


def reply_text(min_tokens: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    parts: list[str] = ["## Answer\n"]
    count = 2
    while count < min_tokens:
        block = rng.choice(_BLOCKS)
        parts.append(block.strip("\n") + "\n")
        count += len(_TOKEN.findall(block))
    return "\n".join(parts)


def reply_tokens(n: int, seed: int = 0) -> list[str]:
    """Exactly ``n`` word-sized tokens (whitespace kept with the following word)."""
    return _TOKEN.findall(reply_text(n + 50, seed))[:n]
