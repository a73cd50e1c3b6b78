"""`movie-bot serve` with DISCORD_TOKEN set: SIGINT or SIGTERM closes the client cleanly, with exit code 0,
after the interactions in flight have replied.

Runs serve's real loop in this process with the fake search in place of the index, so both signals can be
checked quickly; tests/test_serve.py covers SIGTERM on a real process with the real index.
"""

from __future__ import annotations

import asyncio
import logging
import signal

import pytest

from bot import serve
from bot.discord.buttons import NEXT_LABEL
from core.settings import load_settings
from tests.discord.conftest import EXTRA_MOVIES, TOKEN, RunningBot, StartBot
from tests.discord.fake_discord import WAIT_SECONDS, FakeDiscord
from tests.discord.payloads import button_press, movie_command
from tests.discord.test_paging import button_id
from tests.fakes import SAMPLE_MOVIES, FakeMovieSearch, GatedSearch
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


class _Heard(logging.Handler):
    """Sets `event` when a record holding `words` is logged."""

    def __init__(self, words: str, event: asyncio.Event) -> None:
        super().__init__(logging.INFO)
        self.words, self.event = words, event

    def emit(self, record: logging.LogRecord) -> None:
        if self.words in record.getMessage():
            self.event.set()


async def _stop_while_held(bot: RunningBot, held: GatedSearch, caplog: pytest.LogCaptureFixture) -> None:
    """Set the stop event while `held` holds a search, and open the gate only once the client is either waiting
    for the interactions in flight or already closed: the reply then tells which of the two it did."""
    caplog.set_level(logging.INFO, logger="bot.discord.client")
    waiting_or_closed = asyncio.Event()
    bot.task.add_done_callback(lambda _: waiting_or_closed.set())
    heard = _Heard("interaction(s) in flight", waiting_or_closed)
    logging.getLogger("bot.discord.client").addHandler(heard)
    try:
        bot.stop.set()
        async with asyncio.timeout(WAIT_SECONDS):
            await waiting_or_closed.wait()
    finally:
        logging.getLogger("bot.discord.client").removeHandler(heard)
    held.gate.set()
    async with asyncio.timeout(WAIT_SECONDS):
        await bot.task


async def test_a_slash_command_in_flight_when_stop_is_set_still_gets_its_reply(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    held = GatedSearch()
    bot = await start_bot(movies=held)
    payload = movie_command("astronaut stranded on Mars")
    await bot.fake.dispatch("INTERACTION_CREATE", payload)
    await held.wait_started(1)

    await _stop_while_held(bot, held, caplog)
    [followup] = bot.fake.calls_to("POST", f"/webhooks/1000/{payload['token']}")
    assert "The Martian" in followup.body["embeds"][0]["description"]


async def test_a_button_press_in_flight_when_stop_is_set_still_gets_its_reply(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    held = GatedSearch(SAMPLE_MOVIES + EXTRA_MOVIES)
    held.gate.set()
    bot = await start_bot(movies=held)
    message = await bot.ask(movie_command("astronauts in orbit", results=3))

    held.gate.clear()
    press = button_press(message, button_id(message, NEXT_LABEL))
    await bot.fake.dispatch("INTERACTION_CREATE", press)
    await held.wait_started(2)

    await _stop_while_held(bot, held, caplog)
    [edit] = bot.fake.calls_to("PATCH", f"/webhooks/1000/{press['token']}/messages/@original")
    assert edit.body["embeds"][0]["description"].startswith("**4. ")
