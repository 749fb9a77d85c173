"""Run the real app headless and print the wall-clock time of its first frame, then exit.

"First frame": the main screen has listed the stored sessions and restored tabs, and the
frame after that has been drawn (checked every 5 ms, so up to 5 ms late).
"""

from __future__ import annotations

import time

T_START = time.time()

import asyncio  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402

from copilot_tui import CopilotClient  # noqa: E402
from copilot_tui.ui.app import CopilotApp  # noqa: E402
from copilot_tui.ui.screens.main import MainScreen  # noqa: E402

T_IMPORTED = time.time()


class _Probe(CopilotApp):
    def on_mount(self) -> None:
        self._timer = self.set_interval(0.005, self._check)

    def _check(self) -> None:
        screen = self.screen
        if isinstance(screen, MainScreen) and not screen.restoring:
            self._timer.stop()
            screen.call_after_refresh(self._report)

    def _report(self) -> None:
        result = {
            "first_frame": time.time(),
            "imported": T_IMPORTED,
            "started": T_START,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
        self.exit(0, message=None)
        self._result_line = json.dumps(result)


async def _run(config: str, data: str) -> None:
    client = CopilotClient(config_path=config, data_dir=data)
    await client.start()
    app = _Probe(client)
    try:
        await app.run_async(headless=True, size=(200, 50))
    finally:
        await client.stop()
    print(app._result_line)


if __name__ == "__main__":
    asyncio.run(_run(sys.argv[1], sys.argv[2]))
