"""`movie-bot serve`: run every chat adapter whose token is set, side by side in one event loop.

With PORT set, an HTTP server (bot.http_server) starts first and answers `/healthz` while the rest warms up; it
also carries `/search` (SEARCH_API) and Telegram's webhook (TELEGRAM_WEBHOOK_URL). Without any token, serve
opens the console chat on a terminal; on a platform (no terminal) it exits 2, so a misspelled secret shows up
as a failed deploy instead of a worker that quietly did nothing.

The search service is built once, in a worker thread, handed to each adapter as a constructor argument, and
closed once when they have all stopped. It is wrapped in `BoundedSearch`, so every adapter shares one cap on
searches waiting at once (MAX_QUEUED_SEARCHES).

Shutdown rule: SIGTERM and SIGINT set one stop event that every adapter watches. Intake stops at once (Telegram
polls no more; the Discord gateway closes). Telegram updates already fetched and Discord interactions already
received are still answered. Whatever has not finished when SHUTDOWN_SECONDS (less a margin to close the index)
have passed, a reply waiting out a flood limit included, is cancelled and dropped, with a warning in the log.
The process then exits 0: a deploy's stop is not a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from bot.http_server import HttpFront
from core.bootstrap import build_search_service
from core.search_guard import BoundedSearch
from core.search_port import MovieSearch
from core.settings import Settings

logger = logging.getLogger(__name__)

# Of SHUTDOWN_SECONDS, kept back for cancelling what is left and closing the index.
CLOSE_MARGIN_SECONDS = 1.0

NO_TOKEN = "No TELEGRAM_TOKEN or DISCORD_TOKEN is set, so no chat adapter can start."


def serve(settings: Settings, console: Callable[[Settings], int]) -> int:
    if settings.qdrant_url is not None and importlib.util.find_spec("qdrant_client") is None:
        sys.stderr.write(
            "QDRANT_URL is set, but the Qdrant client is not installed: `pip install 'movie-bot[server]'`, or build "
            "the image with `--build-arg QDRANT_CLIENT=on`.\n"
        )
        return 2
    if settings.telegram_token is None and settings.discord_token is None and not settings.search_api:
        if not sys.stdin.isatty():
            sys.stderr.write(
                f"{NO_TOKEN} Set one of them (on fly.io: `fly secrets set TELEGRAM_TOKEN=...`; on railway: the "
                "service's Variables) and check its spelling. Not opening the console chat: there is no terminal.\n"
            )
            return 2
        sys.stderr.write(f"{NO_TOKEN} Opening the local console chat instead.\n")
        return console(settings)
    return asyncio.run(run_adapters(settings))


async def run_adapters(settings: Settings, stop: asyncio.Event | None = None) -> int:
    stop = stop or asyncio.Event()
    front = HttpFront(settings, stop)  # a bad webhook setting fails here, before anything starts
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await front.start()
        service = await asyncio.to_thread(build_search_service, settings)
        service.warm_up_soon()  # in the background: the first users' searches then find it done
        search: MovieSearch = BoundedSearch(service, settings.max_queued_searches)
        front.index_ready(service, search)
        grace = max(settings.shutdown_seconds - CLOSE_MARGIN_SECONDS, settings.shutdown_seconds / 2)
        try:
            return await _run_until_stopped(_adapters(settings, search, stop, front, grace), stop, grace)
        finally:
            await search.aclose()
    finally:
        await front.close()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        logger.info("stopped")


def _adapters(
    settings: Settings, search: MovieSearch, stop: asyncio.Event, front: HttpFront, grace: float
) -> list[Coroutine[Any, Any, None]]:
    runners: list[Coroutine[Any, Any, None]] = []
    if settings.telegram_token is not None:
        from bot.telegram.app import build_application, run_telegram

        application = build_application(settings, search)
        if front.webhook is not None:
            front.webhook.application = application
        runners.append(run_telegram(
            application, stop, webhook=front.webhook.config if front.webhook is not None else None,
            startup_retry_seconds=settings.startup_retry_seconds, report=front.health.reporter("telegram"),
        ))
    if settings.discord_token is not None:
        from bot.discord.client import build_client, run_discord

        token = settings.discord_token.get_secret_value()
        runners.append(run_discord(
            build_client(settings, search), token, stop, startup_retry_seconds=settings.startup_retry_seconds,
            drain_seconds=grace, report=front.health.reporter("discord"),
        ))
    if not runners:  # SEARCH_API alone: the seed's HTTP service, no chat
        runners.append(_until(stop))
    return runners


async def _until(stop: asyncio.Event) -> None:
    await stop.wait()


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
