"""Files sent with a prompt: read once, checked (kind, size), named by their content's hash.

Text and code go to the model as context inside the prompt; images go in each provider's own
format, and only to models that take them. Limits keep one careless ``--attach`` from sending
a whole log file or a photo larger than any API accepts.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from ..errors import CopilotTuiError
from ..files import FileTooLarge, NotRegularFile, read_regular
from ..types import Attachment

MAX_TEXT = 256 * 1024  # bytes per text file: about 64k tokens of code
MAX_IMAGE = 5 * 1024 * 1024  # bytes per image: Anthropic's limit, the lowest of the APIs
MAX_FILES = 20
IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def image_type(data: bytes) -> str | None:
    for magic, mime in IMAGE_MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def read_attachment(path: str | os.PathLike[str]) -> Attachment:
    """A file as an attachment, or one sentence saying why it cannot be one."""
    p = Path(path).expanduser()
    try:
        data = read_regular(p, limit=MAX_IMAGE)
    except FileNotFoundError:
        raise CopilotTuiError(f"Cannot attach {p}: no such file.") from None
    except NotRegularFile as exc:
        raise CopilotTuiError(f"Cannot attach {p}: it is {exc.kind}, not a file.") from None
    except FileTooLarge:
        raise CopilotTuiError(
            f"Cannot attach {p}: it is {_size(p.stat().st_size)}; an attachment can be at most "
            f"{_size(MAX_IMAGE)} (an image) or {_size(MAX_TEXT)} (text)."
        ) from None
    except OSError as exc:
        raise CopilotTuiError(f"Cannot attach {p}: {exc.strerror or exc}.") from None
    sha = hashlib.sha256(data).hexdigest()
    mime = image_type(data)
    if mime is not None:
        return Attachment(p.name, "image", mime, len(data), sha, data)
    if b"\x00" in data:
        raise CopilotTuiError(
            f"Cannot attach {p}: it is neither text nor an image (PNG, JPEG, GIF or WebP)."
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise CopilotTuiError(f"Cannot attach {p}: it is not UTF-8 text.") from None
    if len(data) > MAX_TEXT:
        raise CopilotTuiError(
            f"Cannot attach {p}: it is {_size(len(data))} of text; a text attachment can be at "
            f"most {_size(MAX_TEXT)}."
        )
    return Attachment(p.name, "text", "text/plain", len(data), sha, data)


def read_attachments(paths: Sequence[str | os.PathLike[str] | Attachment]) -> list[Attachment]:
    if len(paths) > MAX_FILES:
        raise CopilotTuiError(f"At most {MAX_FILES} files can be attached to one prompt.")
    return [p if isinstance(p, Attachment) else read_attachment(p) for p in paths]


def with_text(prompt: str, attachments: Sequence[Attachment]) -> str:
    """The prompt as the model reads it: each text file after it, fenced, under its name."""
    parts = [prompt]
    for a in attachments:
        if a.kind == "text" and a.data is not None:
            body = a.data.decode("utf-8", errors="replace")
            fence = "````" if "```" in body else "```"
            parts.append(f"File {a.name}:\n{fence}\n{body.rstrip()}\n{fence}")
    return "\n\n".join(parts)
