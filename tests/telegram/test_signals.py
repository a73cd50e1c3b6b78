"""`movie-bot serve` with TELEGRAM_TOKEN set: SIGINT or SIGTERM stops the bot cleanly, with exit code 0.

Runs serve's real loop in this process with the fake search in place of the index, so both signals can be
checked quickly; tests/test_serve.py covers SIGTERM on a real process with the real index.
"""

from __future__ import annotations

import signal

import pytest

from bot import serve
from core.settings import load_settings
from tests.fakes import FakeMovieSearch
from tests.serve_signals import send_and_wait, serving
from tests.telegram.conftest import TOKEN
from tests.telegram.emulator import BotApiEmulator


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_a_stop_signal_ends_serve_with_exit_code_0(
    emulator: BotApiEmulator, monkeypatch: pytest.MonkeyPatch, signum: signal.Signals
) -> None:
    search = FakeMovieSearch()
    monkeypatch.setattr(serve, "build_search_service", lambda settings: search)
    settings = load_settings(TELEGRAM_TOKEN=TOKEN, TELEGRAM_BASE_URL=emulator.base_url, DISCORD_TOKEN="")
    async with serving(settings) as running:
        mark = emulator.mark()
        await emulator.wait_for("deleteWebhook")  # polling is about to start
        emulator.send_text("/movie astronaut stranded on Mars")
        await emulator.wait_for("sendMessage", after=mark)
        code = await send_and_wait(running, signum)
    assert code == 0
    assert search.warm_ups == 1  # asked of the fresh service, before any user's search
    assert search.closed
