"""`movie-bot serve`: run every chat adapter whose token is set, side by side in one event loop.

The search service is built once (in a worker thread, on first use) and shared; SIGTERM and SIGINT set one
stop event that every adapter watches, so a deploy's stop signal ends the process cleanly with exit code 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from core.bootstrap import build_search_service
from core.models import SearchResults
from core.search_port import MovieSearch
from core.settings import Settings

logger = logging.getLogger(__name__)


class SharedSearch:
    """Builds the search service once for all adapters and closes it when the last adapter lets go."""

    def __init__(self, build: Callable[[], MovieSearch]) -> None:
        self._build = build
        self._service: MovieSearch | None = None
        self._users = 0
        self._lock = asyncio.Lock()

    async def acquire(self) -> MovieSearch:
        async with self._lock:
            if self._service is None:
                self._service = await asyncio.to_thread(self._build)
            self._users += 1
            return _Lease(self)

    async def release(self) -> None:
        async with self._lock:
            self._users -= 1
            if self._users <= 0 and self._service is not None:
                service, self._service = self._service, None
                await service.aclose()

    @property
    def service(self) -> MovieSearch:
        assert self._service is not None
        return self._service


class _Lease:
    """What an adapter holds: searches go to the shared service, `aclose` only gives the lease back."""

    def __init__(self, owner: SharedSearch) -> None:
        self._owner = owner
        self._closed = False

    async def search(self, query: str, *, limit: int = 5, offset: int = 0) -> SearchResults:
        return await self._owner.service.search(query, limit=limit, offset=offset)

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._owner.release()


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
    shared = SharedSearch(lambda: build_search_service(settings))
    factory: Callable[[], Awaitable[MovieSearch]] = shared.acquire
    runners: list[Coroutine[Any, Any, None]] = []
    if settings.telegram_token is not None:
        from bot.telegram.app import build_application, run_telegram

        runners.append(run_telegram(build_application(settings, factory), stop))
    if settings.discord_token is not None:
        from bot.discord.client import build_client, run_discord

        token = settings.discord_token.get_secret_value()
        runners.append(run_discord(build_client(settings, factory), token, stop))
    tasks = [asyncio.create_task(r) for r in runners]
    failed = False
    try:
        for finished in asyncio.as_completed(tasks):
            try:
                await finished
            except Exception:
                logger.exception("a chat adapter stopped with an error; stopping the others")
                failed = True
            stop.set()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    logger.info("stopped")
    return 1 if failed else 0
