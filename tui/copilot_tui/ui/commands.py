"""Command palette: every action of the app, plus one entry per session to open it."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from .keymap import APP_KEYS, COMPARE_KEYS, MAIN_KEYS, KeySpec, display_key
from .messages import OpenSession
from .safe import one_line

# Actions worth listing (tab jumps are left out: "Next tab" covers them).
_ACTIONS = [spec for spec in (*MAIN_KEYS, *APP_KEYS) if not spec.id.startswith("main.tab_")]
# Rare actions with no key of their own: the palette is their way in.
_UNBOUND = [
    ("Log in to GitHub Copilot", "screen.login"),
    ("Log out of GitHub Copilot", "screen.logout"),
]


class ActionCommands(Provider):
    """The app's actions with their current keys (a compare view's too, while one is shown)."""

    def _entries(self) -> list[tuple[str, KeySpec, str]]:
        keymap: dict[str, str] = getattr(self.app, "keymap_overrides", {})
        specs = list(_ACTIONS)
        if getattr(self.screen, "active_compare", None) is not None:
            specs += COMPARE_KEYS
        return [
            (spec.description, spec, display_key(keymap.get(spec.id, spec.key))) for spec in specs
        ]

    async def _run(self, spec: KeySpec) -> None:
        if spec in COMPARE_KEYS:
            compare = getattr(self.screen, "active_compare", None)
            if compare is not None:
                await self.app.run_action(spec.action, compare)
            return
        target = "app" if spec.action in ("help", "quit") else "screen"
        await self.app.run_action(f"{target}.{spec.action}")

    async def discover(self) -> Hits:
        for name, spec, key in self._entries():
            yield DiscoveryHit(Content(name), partial(self._run, spec), help=key)
        for name, action in _UNBOUND:
            yield DiscoveryHit(Content(name), partial(self.app.run_action, action))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, spec, key in self._entries():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self._run, spec), help=key)
        for name, action in _UNBOUND:
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self.app.run_action, action))


class SessionCommands(Provider):
    """'Open: <title>' for each session (fuzzy over title, id and model)."""

    def _sessions(self) -> list[tuple[str, str, str]]:
        workspace = getattr(self.screen, "workspace", None)
        infos = workspace.sessions if workspace is not None else {}
        return [
            (one_line(i.title) or "(untitled)", i.session_id, one_line(i.model))
            for i in infos.values()
        ]

    def _open(self, session_id: str) -> None:
        self.screen.post_message(OpenSession(session_id))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, session_id, model in self._sessions():
            text = f"Open: {title}"
            score = max(matcher.match(text), matcher.match(session_id) * 0.9)
            if score > 0:
                yield Hit(
                    score,
                    Content(text),
                    partial(self._open, session_id),
                    help=f"{session_id} · {model}",
                )
