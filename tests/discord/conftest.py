"""Fixtures that run the real discord.py client against the local fake of Discord."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.discord.api_base import apply_api_base
from bot.discord.client import MovieBotClient, build_client, run_discord
from core.models import Movie
from core.search_port import MovieSearch
from core.settings import Settings
from tests.discord.fake_discord import FakeDiscord
from tests.fakes import SAMPLE_MOVIES, FakeMovieSearch

TOKEN = "MTAwMA.fake-bot-token.never-log-me"
DEFERRED_WITH_THINKING = 5

EXTRA_MOVIES: tuple[Movie, ...] = tuple(
    Movie(f"tt90000{i:02d}", f"Space Station {i}", 2000 + i,
          f"Astronauts aboard station {i} face trouble in orbit.")
    for i in range(12)
)


@dataclass
class RunningBot:
    fake: FakeDiscord
    search: Any  # the search behind the bot: the `search` fixture's FakeMovieSearch unless the test gave another
    client: MovieBotClient
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def ask(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a command or a menu choice; the message its followup posted, after checking the interaction was
        deferred (with "thinking…") before that followup."""
        await self.fake.dispatch("INTERACTION_CREATE", payload)
        [post] = await self.fake.wait_for_call("POST", f"/webhooks/1000/{payload['token']}")
        [callback] = self.fake.calls_to("POST", f"/interactions/{payload['id']}/")
        assert callback.body["type"] == DEFERRED_WITH_THINKING
        assert self.fake.calls.index(callback) < self.fake.calls.index(post)
        posted = [m for m in self.fake.messages.values() if m["embeds"] == post.body["embeds"]]
        return max(posted, key=lambda message: int(message["id"]))

    async def shut_down(self) -> None:
        self.stop.set()
        async with asyncio.timeout(10):
            await self.task


StartBot = Callable[..., Awaitable[RunningBot]]


@pytest.fixture(autouse=True)
def official_api_afterwards() -> Iterator[None]:
    """The API redirect is process-wide; put it back so no other test talks to the fake by accident."""
    yield
    apply_api_base(None)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
def search() -> FakeMovieSearch:
    return FakeMovieSearch(SAMPLE_MOVIES + EXTRA_MOVIES)


@pytest.fixture
async def start_bot(fake: FakeDiscord, search: FakeMovieSearch) -> AsyncIterator[StartBot]:
    """Start the bot (optionally with a guild, another search or other settings such as `RATE_LIMIT`) and wait
    until it has identified."""
    started: list[RunningBot] = []

    async def start(
        *, guild_id: int | None = None, movies: MovieSearch | None = None, **settings: object
    ) -> RunningBot:
        backend = movies if movies is not None else search
        fake.identified.clear()  # a second start in one test is a restart: wait for its own IDENTIFY
        client = build_client(Settings(DISCORD_API_BASE=fake.base_url, DISCORD_GUILD_ID=guild_id, **settings),
                              backend)
        stop = asyncio.Event()
        task = asyncio.create_task(run_discord(client, TOKEN, stop))
        bot = RunningBot(fake, backend, client, stop, task)
        started.append(bot)
        async with asyncio.timeout(10):
            while not fake.identified.is_set():
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        return bot

    yield start
    for bot in started:
        if not bot.task.done():
            await bot.shut_down()


@pytest.fixture
async def bot(start_bot: StartBot) -> RunningBot:
    return await start_bot()
