"""Regenerate the README screenshots: a scripted headless run against the test server.

python3 scripts/screenshots.py            # writes screenshots/*.svg
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers.openai_server import FakeOpenAI, Script  # noqa: E402

from copilot_tui import CopilotClient  # noqa: E402
from copilot_tui.ui.app import CopilotApp  # noqa: E402
from copilot_tui.ui.screens.main import MainScreen  # noqa: E402

OUT = ROOT / "screenshots"
SIZE = (150, 42)
LONG_ANSWER = (
    "Rust's ownership model rests on three rules:\n\n"
    "1. Each value has a single **owner**.\n2. There can be one mutable borrow *or* many shared ones.\n"
    "3. When the owner goes out of scope, the value is dropped.\n\n"
    "```rust\nfn longest<'a>(x: &'a str, y: &'a str) -> &'a str {\n    if x.len() > y.len() { x } else { y }\n}\n```\n\n"
    "Lifetimes such as `'a` do not change how long anything lives; they let the compiler check "
    "that references never outlive their data. " * 3
)


async def until(condition: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("screenshot scene did not settle")
        await asyncio.sleep(0.02)


async def compare_scene(
    app: CopilotApp, pilot: object, fake: FakeOpenAI, client: CopilotClient
) -> None:
    """Three models on one prompt, all ended: stats, the fastest marked, one failed."""
    fake.script(
        "gpt-4o-mini",
        Script(
            text="**Trofie**: their tight twists hold pesto in every groove.",
            first_delay=0.2,
            delay=0.02,
        ),
    )
    fake.script(
        "slow",
        Script(
            text="Pesto clings best to twisty shapes: "
            + "trofie, fusilli and gemelli hold the sauce in their folds. " * 8,
            first_delay=0.4,
            delay=0.06,
        ),
    )
    fake.script(
        "fail",
        Script(
            status=503,
            error_body='{"error": {"message": "The model is overloaded. Try again later."}}',
        ),
    )
    screen = app.screen
    assert isinstance(screen, MainScreen)
    comparison = await client.compare(
        ["lab/gpt-4o-mini", "lab/slow", "lab/fail"], "Best pasta shape for pesto?"
    )
    await screen.refresh_sessions()
    await screen.open_comparison(comparison.group_id)
    await comparison.wait(timeout=30)
    await asyncio.sleep(0.4)
    app.save_screenshot("compare.svg", str(OUT))
    # a few votes, then the leaderboard with the comparisons still waiting for one
    for winner in ("lab/gpt-4o-mini", "lab/slow", "lab/gpt-4o-mini"):
        fake.script("slow", Script(text="Fusilli."))
        fake.script("fail", Script(text="Penne, honestly."))
        voted = await client.compare(
            ["lab/gpt-4o-mini", "lab/slow", "lab/fail"], "Best pasta for pesto?", tags=["food"]
        )
        await voted.wait(timeout=30)
        await client.vote(voted.group_id, winner=winner)
    fake.script("slow", Script(text="Trofie."))
    waiting = await client.compare(["lab/gpt-4o-mini", "lab/slow"], "Pasta for ragu?", blind=True)
    await waiting.wait(timeout=30)
    await app.run_action("screen.leaderboard")
    await asyncio.sleep(1.0)
    app.save_screenshot("leaderboard.svg", str(OUT))


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    with FakeOpenAI() as fake, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(
            'default_model = "lab/gpt-4o-mini"\n'
            f'[providers.lab]\ntype = "openai"\nbase_url = "{fake.base_url}"\n'
            '[providers.offline]\ntype = "openai"\nbase_url = "http://127.0.0.1:9/v1"\ntimeout = 2\n'
        )
        fake.script("demo", Script(text=LONG_ANSWER, delay=0.03))
        fake.script(
            "slow",
            Script(
                text="Pesto clings best to twisty shapes: "
                + "trofie, fusilli and gemelli hold the sauce in their folds. " * 8,
                delay=0.05,
            ),
        )
        async with CopilotClient(config_path=config, data_dir=Path(tmp) / "data") as client:
            done = await client.create_session("lab/gpt-4o-mini", session_id="user-123-chat")
            await done.send_and_wait("Summarise the plot of Hamlet in one line.")
            rust = await client.create_session("lab/demo", session_id="rust-lifetimes")
            pasta = await client.create_session("lab/slow", session_id="pasta")
            app = CopilotApp(client)
            async with app.run_test(size=SIZE) as pilot:
                await until(lambda: isinstance(app.screen, MainScreen) and not app.screen.restoring)
                screen = app.screen
                assert isinstance(screen, MainScreen)
                for sid in ("user-123-chat", "pasta", "rust-lifetimes"):
                    await screen.open_session(sid)
                await pasta.send("Best pasta shape for pesto?")
                await rust.send("Explain Rust lifetimes with an example")
                await until(
                    lambda: len(app.workspace.live.text(rust.live.id if rust.live else "")) > 420
                )
                await pilot.pause(0.1)
                app.save_screenshot("main.svg", str(OUT))
                await pilot.press("ctrl+n")
                await until(
                    lambda: (
                        bool(app.screen.query("#models"))
                        and app.screen.query_one("#models").option_count > 4
                    )
                )
                await pilot.pause(0.2)
                app.save_screenshot("new-session.svg", str(OUT))
                await pilot.press("escape")
                await pilot.press("f1")
                await pilot.pause(0.2)
                app.save_screenshot("help.svg", str(OUT))
                await pilot.press("escape")
                await client.live_session("pasta").abort()  # type: ignore[union-attr]
                await rust.abort()
                await compare_scene(app, pilot, fake, client)
    print(f"wrote {', '.join(p.name for p in sorted(OUT.glob('*.svg')))} to {OUT}")


if __name__ == "__main__":
    asyncio.run(main())
