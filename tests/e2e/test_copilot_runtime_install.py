"""The test command's Copilot runtime: installed where the tests look, and the SDK drives it."""

from __future__ import annotations

from pathlib import Path


async def test_sdk_starts_the_project_runtime(copilot_runtime: Path, tmp_path: Path) -> None:
    from copilot import CopilotClient
    from copilot._cli_version import CLI_VERSION

    client = CopilotClient(use_logged_in_user=False, base_directory=str(tmp_path / "home"))
    await client.start()
    try:
        assert (await client.ping("hello")).message.endswith("hello")
        status = await client.get_status()
        assert status.version == CLI_VERSION  # the SDK's pinned runtime, not any other
    finally:
        await client.stop()


def test_readme_and_ci_run_the_same_command() -> None:
    root = Path(__file__).resolve().parents[2]
    line = root.joinpath("README.md").read_text().splitlines()[4]
    assert "@github/copilot@1.0.102" in line and line in root.joinpath(".ci/run").read_text()
