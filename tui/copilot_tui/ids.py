"""Session ids and model references: the two user-typed names that reach SQL, paths and markup."""

from __future__ import annotations

import re
import uuid

from .errors import InvalidSessionId

_SESSION_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def validate_session_id(session_id: object) -> str:
    """Return ``session_id`` if it is 1-128 letters, digits, ``-``, ``_`` or ``.``; raise otherwise."""
    if not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
        shown = repr(session_id)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        raise InvalidSessionId(
            f"Invalid session id {shown}: use 1-128 letters, digits, '-', '_' or '.'."
        )
    if session_id in {".", ".."}:
        raise InvalidSessionId(f"Invalid session id {session_id!r}: '.' and '..' are reserved.")
    return session_id


def new_session_id() -> str:
    return uuid.uuid4().hex[:12]


def split_model_ref(ref: str, default_provider: str | None) -> tuple[str, str]:
    """Split ``PROVIDER/MODEL`` at the first slash; a bare name uses ``default_provider``."""
    ref = ref.strip()
    if "/" in ref:
        provider, model = ref.split("/", 1)
        if provider and model:
            return provider, model
    if default_provider and ref and "/" not in ref:
        return default_provider, ref
    from .errors import UnknownModel

    raise UnknownModel(f"Model {ref!r} is not of the form PROVIDER/MODEL.")
