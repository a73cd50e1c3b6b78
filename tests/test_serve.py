"""`movie-bot serve` as deployed: a real process, the real index and encoder, both chat adapters at once.

It answers on Telegram and Discord (local emulators), then a SIGTERM, as a deploy sends, ends it with exit 0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from scripts.bench.chat_load import DISCORD_TOKEN, TELEGRAM_TOKEN, read_log, serving_with_fakes, stop_serving
from tests.conftest import MARTIAN_QUERY
from tests.discord.payloads import movie_command

if TYPE_CHECKING:
    from core.ingest import IngestReport

pytestmark = pytest.mark.slow

STOP_GUARD_SECONDS = 30.0  # a bound for a hung process, not a speed requirement


async def test_serve_answers_on_both_chats_and_stops_cleanly_on_sigterm(
    built: tuple[Path, IngestReport], tmp_path: Path
) -> None:
    root, _ = built
    async with serving_with_fakes(root / "index", tmp_path, LOG_LEVEL="DEBUG") as serving:
        telegram, discord = serving.telegram, serving.discord
        mark = telegram.mark()
        telegram.send_text(f"/movie {MARTIAN_QUERY}")
        sent = await telegram.wait_for("sendMessage", after=mark)
        assert "The Martian" in sent.params["text"]

        await discord.dispatch("INTERACTION_CREATE", movie_command(MARTIAN_QUERY))
        followups = await discord.wait_for_call("POST", "/webhooks/")
        assert "The Martian" in json.dumps(followups[0].body)

        code, _ = await stop_serving(serving.proc, within=STOP_GUARD_SECONDS)
    output = read_log(serving.log)
    assert code == 0, output[-3000:]
    assert TELEGRAM_TOKEN not in output
    assert DISCORD_TOKEN not in output
