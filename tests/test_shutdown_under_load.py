"""SIGTERM in the middle of a load run, while a reply waits out a Telegram flood limit: `movie-bot serve` stops
intake, drops what cannot finish within SHUTDOWN_SECONDS (bot/serve.py states the rule), answers nothing
twice, exits 0 in time. Its whole log, at DEBUG, of the load, the faults (polling cut off, a 429) and the stop,
holds no secret."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from pathlib import Path

import pytest

from core.ingest import IngestReport
from scripts.bench.chat_load import (
    DISCORD_TOKEN,
    TELEGRAM_TOKEN,
    drive_discord,
    drive_telegram,
    read_log,
    serve_env,
    start_serving,
    stop_serving,
    wait_ready,
)
from tests.discord.fake_discord import FakeDiscord
from tests.telegram.emulator import BotApiEmulator

pytestmark = pytest.mark.slow

SHUTDOWN_SECONDS = 3
FLOOD_WAIT = 60  # far longer than SHUTDOWN_SECONDS: only the bound can end the wait in time
SLACK_SECONDS = 5.0  # process exit and interpreter teardown; a guard, far below the flood wait


async def test_sigterm_mid_load_with_a_flood_wait_pending_exits_0_in_time(
    built: tuple[Path, IngestReport], tmp_path: Path
) -> None:
    root, _ = built
    telegram = BotApiEmulator(TELEGRAM_TOKEN)
    await telegram.start()
    log = tmp_path / "serve.log"
    try:
        async with FakeDiscord() as discord:
            env = serve_env(root / "index", telegram, discord, SHUTDOWN_SECONDS=str(SHUTDOWN_SECONDS),
                            LOG_LEVEL="DEBUG", QDRANT_API_KEY="qdrant-key-never-logged")
            proc = await start_serving(env, log, tmp_path)
            try:
                await wait_ready(proc, telegram, discord, log)
                assert (await drive_discord(discord, 3, 2)).answered_exactly_once()
                telegram.fail_polls("cut", "502")  # network faults while polling, logged at DEBUG too
                load = asyncio.create_task(drive_telegram(telegram, 30, 5))
                await telegram.wait_for("sendMessage", where=lambda _: len(telegram.successful("sendMessage")) >= 20)
                telegram.flood_once("sendMessage", retry_after=FLOOD_WAIT)
                await telegram.wait_for("sendMessage", status=429)  # a reply now waits out the flood limit

                code, took = await stop_serving(proc, within=SHUTDOWN_SECONDS + SLACK_SECONDS)
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
            load.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await load
    finally:
        await telegram.close()

    output = read_log(log)
    assert code == 0, output[-3000:]
    assert took < SHUTDOWN_SECONDS + SLACK_SECONDS
    assert "dropping their replies in flight" in output
    stopping = output.index("Application is stopping")
    assert "Traceback" not in output[stopping:]  # cancelled work ends quietly, no framework logs an error
    replies = Counter((c.params["chat_id"], c.params["text"]) for c in telegram.successful("sendMessage"))
    assert replies and set(replies.values()) == {1}  # nothing answered twice
    for secret in (TELEGRAM_TOKEN, DISCORD_TOKEN, "qdrant-key-never-logged", TELEGRAM_TOKEN.split(":")[1]):
        assert secret not in output
