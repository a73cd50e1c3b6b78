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
    serving_with_fakes,
    stop_serving,
)

pytestmark = pytest.mark.slow

SHUTDOWN_SECONDS = 3
FLOOD_WAIT = 60  # far longer than SHUTDOWN_SECONDS: only the bound can end the wait in time
SLACK_SECONDS = 5.0  # process exit and interpreter teardown; a guard, far below the flood wait


async def test_sigterm_mid_load_with_a_flood_wait_pending_exits_0_in_time(
    built: tuple[Path, IngestReport], tmp_path: Path
) -> None:
    root, _ = built
    async with serving_with_fakes(root / "index", tmp_path, SHUTDOWN_SECONDS=str(SHUTDOWN_SECONDS),
                                  LOG_LEVEL="DEBUG", QDRANT_API_KEY="qdrant-key-never-logged") as serving:
        telegram = serving.telegram
        assert (await drive_discord(serving.discord, 3, 2)).answered_exactly_once()
        telegram.fail_polls("cut", "502")  # network faults while polling, logged at DEBUG too
        load = asyncio.create_task(drive_telegram(telegram, 30, 5))
        try:
            await telegram.wait_for("sendMessage", where=lambda _: len(telegram.successful("sendMessage")) >= 20)
            telegram.flood_once("sendMessage", retry_after=FLOOD_WAIT)
            await telegram.wait_for("sendMessage", status=429)  # a reply now waits out the flood limit

            code, took = await stop_serving(serving.proc, within=SHUTDOWN_SECONDS + SLACK_SECONDS)
        finally:
            load.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await load
        replies = Counter((c.params["chat_id"], c.params["text"]) for c in telegram.successful("sendMessage"))

    output = read_log(serving.log)
    assert code == 0, output[-3000:]
    assert took < SHUTDOWN_SECONDS + SLACK_SECONDS
    assert "dropping their replies in flight" in output
    stopping = output.index("Application is stopping")
    assert "Traceback" not in output[stopping:]  # cancelled work ends quietly, no framework logs an error
    assert replies and set(replies.values()) == {1}  # nothing answered twice
    for secret in (TELEGRAM_TOKEN, DISCORD_TOKEN, "qdrant-key-never-logged", TELEGRAM_TOKEN.split(":")[1]):
        assert secret not in output
