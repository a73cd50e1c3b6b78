"""Fixtures that run the real bot against the Bot API emulator, with the fake search behind it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from bot.telegram.app import build_application, run_telegram
from bot.telegram.context import TelegramApp
from core.search_port import MovieSearch
from core.settings import load_settings
from tests.fakes import FakeMovieSearch
from tests.telegram.emulator import WAIT_SECONDS, BotApiEmulator

TOKEN = "123456:TEST-secret-token-value"


@dataclass
class RunningBot:
    emulator: BotApiEmulator
    search: FakeMovieSearch
    application: TelegramApp
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def settled(self) -> None:
        """Wait until every update fetched so far is fully handled, the error handler included."""
        async with asyncio.timeout(WAIT_SECONDS):
            await self.application.update_queue.join()  # PTB marks an update done after its error handler

    async def shut_down(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 10)


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator(TOKEN)
    await emulator.start()
    yield emulator
    await emulator.close()


@pytest.fixture
def search() -> FakeMovieSearch:
    return FakeMovieSearch()


StartBot = Callable[..., Awaitable[RunningBot]]


@pytest.fixture
async def start_bot(emulator: BotApiEmulator, search: FakeMovieSearch) -> AsyncIterator[StartBot]:
    """Start the real bot, optionally with another search or other settings (`RATE_LIMIT`, say), and wait until
    it polls; every bot still running is shut down after the test. `RunningBot.search` is the search given when
    that is a `FakeMovieSearch`, else the `search` fixture's (the test keeps its own reference to what it passed).
    """
    started: list[RunningBot] = []

    async def start(movies: MovieSearch | None = None, **settings: object) -> RunningBot:
        config = load_settings(TELEGRAM_TOKEN=TOKEN, TELEGRAM_BASE_URL=emulator.base_url, **settings)
        application = build_application(config, movies if movies is not None else search)
        stop = asyncio.Event()
        mark = emulator.mark()
        task = asyncio.create_task(run_telegram(application, stop))
        fake = movies if isinstance(movies, FakeMovieSearch) else search
        started.append(bot := RunningBot(emulator, fake, application, stop, task))
        await emulator.wait_for("deleteWebhook", after=mark)  # polling starts right after
        return bot

    yield start
    for bot in started:
        if not bot.task.done():
            await bot.shut_down()


@pytest.fixture
async def bot(start_bot: StartBot) -> RunningBot:
    return await start_bot()
