"""Fixtures that run the real bot against the Bot API emulator, with the fake search behind it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.telegram.app import build_application, run_telegram
from bot.telegram.context import TelegramApp
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


@pytest.fixture
async def bot(emulator: BotApiEmulator, search: FakeMovieSearch) -> AsyncIterator[RunningBot]:
    settings = load_settings(TELEGRAM_TOKEN=TOKEN, TELEGRAM_BASE_URL=emulator.base_url)
    application = build_application(settings, search)
    stop = asyncio.Event()
    task = asyncio.create_task(run_telegram(application, stop))
    running = RunningBot(emulator, search, application, stop, task)
    await emulator.wait_for("deleteWebhook")  # polling starts right after
    yield running
    if not running.task.done():
        await running.shut_down()
