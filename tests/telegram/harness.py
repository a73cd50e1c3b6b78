"""Start the real Telegram bot against the emulator with settings a test chooses (RATE_LIMIT, say)."""

from __future__ import annotations

import asyncio

from bot.telegram.app import build_application, run_telegram
from core.search_port import MovieSearch
from core.settings import load_settings
from tests.fakes import FakeMovieSearch
from tests.telegram.conftest import TOKEN, RunningBot
from tests.telegram.emulator import BotApiEmulator


async def start_bot(emulator: BotApiEmulator, search: MovieSearch, **settings: object) -> RunningBot:
    """A running bot; the caller shuts it down (`RunningBot.shut_down`). Its `search` is the one given when that
    is a `FakeMovieSearch`, else a spare fake (the test keeps its own reference to what it passed)."""
    config = load_settings(TELEGRAM_TOKEN=TOKEN, TELEGRAM_BASE_URL=emulator.base_url, **settings)
    application = build_application(config, search)
    stop = asyncio.Event()
    task = asyncio.create_task(run_telegram(application, stop))
    mark = emulator.mark()
    await emulator.wait_for("deleteWebhook", after=mark)  # polling starts right after
    fake = search if isinstance(search, FakeMovieSearch) else FakeMovieSearch()
    return RunningBot(emulator, fake, application, stop, task)
