"""`movie-bot serve` with DISCORD_TOKEN set: SIGINT or SIGTERM closes the client cleanly, with exit code 0.

Runs serve's real loop in this process with the fake search in place of the index, so both signals can be
checked quickly; tests/test_serve.py covers SIGTERM on a real process with the real index.
"""

from __future__ import annotations

import asyncio
import signal

import pytest

from bot import serve
from core.settings import load_settings
from tests.discord.conftest import TOKEN
from tests.discord.fake_discord import WAIT_SECONDS, FakeDiscord
from tests.discord.payloads import movie_command
from tests.fakes import FakeMovieSearch
from tests.serve_signals import send_and_wait, serving


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_a_stop_signal_ends_serve_with_exit_code_0(
    fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch, signum: signal.Signals
) -> None:
    search = FakeMovieSearch()
    monkeypatch.setattr(serve, "build_search_service", lambda settings: search)
    settings = load_settings(DISCORD_TOKEN=TOKEN, DISCORD_API_BASE=fake.base_url, TELEGRAM_TOKEN="")
    async with serving(settings) as running:
        async with asyncio.timeout(WAIT_SECONDS):
            await fake.identified.wait()
        payload = movie_command("astronaut stranded on Mars")
        await fake.dispatch("INTERACTION_CREATE", payload)
        await fake.wait_for_call("POST", f"/webhooks/1000/{payload['token']}")
        code = await send_and_wait(running, signum)
    assert code == 0
    assert search.closed
