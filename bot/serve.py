"""`movie-bot serve`: run every chat adapter whose token is set, side by side in one event loop.

The search service is built once, in a worker thread, handed to each adapter as a constructor argument, and
closed once when they have all stopped. It is wrapped in `BoundedSearch`, so every adapter shares one cap on
searches waiting at once (MAX_QUEUED_SEARCHES).

Shutdown rule: SIGTERM and SIGINT set one stop event that every adapter watches. Intake stops at once (Telegram
polls no more; the Discord gateway closes). Telegram updates already fetched are still answered; Discord
interactions in flight are dropped (discord.py closes its HTTP session with the gateway). Whatever has not
finished when SHUTDOWN_SECONDS (less a margin to close the index) have passed, a reply waiting out a flood limit
included, is cancelled and dropped, with a warning in the log. The process then exits 0: a deploy's stop is not
a failure.
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
from core.search_guard import BoundedSearch
from core.search_port import MovieSearch
from core.settings import Settings

logger = logging.getLogger(__name__)

# Of SHUTDOWN_SECONDS, kept back for cancelling what is left and closing the index.
CLOSE_MARGIN_SECONDS = 1.0


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
        service = await asyncio.to_thread(build_search_service, settings)
        search: MovieSearch = BoundedSearch(service, settings.max_queued_searches)
        try:
            grace = max(settings.shutdown_seconds - CLOSE_MARGIN_SECONDS, settings.shutdown_seconds / 2)
            return await _run_until_stopped(_adapters(settings, search, stop), stop, grace)
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


async def _run_until_stopped(runners: list[Coroutine[Any, Any, None]], stop: asyncio.Event, grace: float) -> int:
    """Run the adapters; when one ends (a stop signal, or an error), stop the others, giving them `grace` seconds
    before what is left is cancelled. 1 if any adapter failed."""
    tasks = [asyncio.create_task(r) for r in runners]
    stopped = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([*tasks, stopped], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.set()
        stopped.cancel()
    _, late = await asyncio.wait(tasks, timeout=grace)
    if late:
        logger.warning("%d chat adapter(s) still busy %.1f s after the stop signal; dropping their replies in flight",
                       len(late), grace)
        for task in late:
            task.cancel()
        await asyncio.wait(late, timeout=CLOSE_MARGIN_SECONDS)
    failed = False
    for task in tasks:
        if task.cancelled():
            continue
        error = task.exception()
        if error is not None:
            logger.error("a chat adapter stopped with an error", exc_info=error)
            failed = True
    return 1 if failed else 0
