"""`movie-bot serve`: run every chat adapter whose token is set, side by side in one event loop.

The search service is built once, in a worker thread, handed to each adapter as a constructor argument, and
closed once when they have all stopped. SIGTERM and SIGINT set one stop event that every adapter watches, so a
deploy's stop signal ends the process cleanly with exit code 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from core.bootstrap import build_search_service
from core.search_port import MovieSearch
from core.settings import Settings

logger = logging.getLogger(__name__)


def serve(settings: Settings, console: Callable[[Settings], int]) -> int:
    if settings.telegram_token is None and settings.discord_token is None:
        sys.stderr.write(
            "No TELEGRAM_TOKEN or DISCORD_TOKEN is set, so no chat adapter can start. "
            "Opening the local console chat instead.\n"
        )
        return console(settings)
    return asyncio.run(run_adapters(settings))


async def run_adapters(settings: Settings, stop: asyncio.Event | None = None) -> int:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        search: MovieSearch = await asyncio.to_thread(build_search_service, settings)
        try:
            return await _run_until_stopped(_adapters(settings, search, stop), stop)
        finally:
            await search.aclose()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        logger.info("stopped")


def _adapters(settings: Settings, search: MovieSearch, stop: asyncio.Event) -> list[Coroutine[Any, Any, None]]:
    runners: list[Coroutine[Any, Any, None]] = []
    if settings.telegram_token is not None:
        from bot.telegram.app import build_application, run_telegram

        runners.append(run_telegram(build_application(settings, search), stop))
    if settings.discord_token is not None:
        from bot.discord.client import build_client, run_discord

        token = settings.discord_token.get_secret_value()
        runners.append(run_discord(build_client(settings, search), token, stop))
    return runners


async def _run_until_stopped(runners: list[Coroutine[Any, Any, None]], stop: asyncio.Event) -> int:
    """Run the adapters; when one ends (a stop signal, or an error), stop the others. 1 if any failed."""
    tasks = [asyncio.create_task(r) for r in runners]
    failed = False
    for finished in asyncio.as_completed(tasks):
        try:
            await finished
        except Exception:
            logger.exception("a chat adapter stopped with an error; stopping the others")
            failed = True
        stop.set()
    return 1 if failed else 0
