"""`movie-bot serve` as deployed: a real process, the real index and encoder, both chat adapters at once.

It answers on Telegram and Discord (local emulators), then a SIGTERM, as a deploy sends, ends it with exit 0.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import MARTIAN_QUERY
from tests.discord.fake_discord import FakeDiscord
from tests.discord.payloads import movie_command
from tests.telegram.emulator import BotApiEmulator

if TYPE_CHECKING:
    from core.ingest import IngestReport

pytestmark = pytest.mark.slow

TELEGRAM_TOKEN = "424242:serve-test-telegram-token-secret"
DISCORD_TOKEN = "MTAwMA.serve-test-discord-token.secret"


async def test_serve_answers_on_both_chats_and_stops_cleanly_on_sigterm(
    built: tuple[Path, IngestReport], tmp_path: Path
) -> None:
    root, _ = built
    telegram = BotApiEmulator(TELEGRAM_TOKEN)
    await telegram.start()
    async with FakeDiscord() as discord_fake:
        env = os.environ | {
            "INDEX_PATH": str(root / "index"), "QDRANT_URL": "", "LOG_LEVEL": "DEBUG",
            "TELEGRAM_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_BASE_URL": telegram.base_url,
            "DISCORD_TOKEN": DISCORD_TOKEN, "DISCORD_API_BASE": discord_fake.base_url,
        }
        log_path = tmp_path / "serve.log"
        with log_path.open("wb") as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "serve", env=env, cwd=tmp_path,
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
            )
            try:
                await telegram.wait_for("deleteWebhook")
                mark = telegram.mark()
                telegram.send_text(f"/movie {MARTIAN_QUERY}")
                sent = await telegram.wait_for("sendMessage", after=mark)
                assert "The Martian" in sent.params["text"]

                async with asyncio.timeout(60):
                    await discord_fake.identified.wait()
                await discord_fake.dispatch("INTERACTION_CREATE", movie_command(MARTIAN_QUERY))
                followups = await discord_fake.wait_for_call("POST", "/webhooks/")
                assert "The Martian" in json.dumps(followups[0].body)

                proc.send_signal(signal.SIGTERM)
                async with asyncio.timeout(30):
                    code = await proc.wait()
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
                await telegram.close()
    output = log_path.read_text(encoding="utf-8", errors="replace")
    assert code == 0, output[-3000:]
    assert TELEGRAM_TOKEN not in output
    assert DISCORD_TOKEN not in output
