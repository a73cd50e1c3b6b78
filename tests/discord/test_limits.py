"""Abuse limits on Discord: RATE_LIMIT per user answered with an ephemeral note saying when to try again, and
the shared cap on pending searches answered with a polite "busy"."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.discord.client import build_client, run_discord
from core.search_guard import BUSY_MESSAGE, BoundedSearch
from core.search_port import MovieSearch
from core.settings import Settings
from tests.discord.conftest import TOKEN
from tests.discord.fake_discord import FakeDiscord, RecordedCall
from tests.discord.payloads import STRANGER, movie_command
from tests.fakes import FakeMovieSearch, GatedSearch

EPHEMERAL = 64
DEFERRED_WITH_THINKING = 5

Start = Callable[..., Any]


@pytest.fixture
async def start(fake: FakeDiscord) -> AsyncIterator[Start]:
    stops: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    async def run(search: MovieSearch, **settings: object) -> None:
        client = build_client(Settings(DISCORD_API_BASE=fake.base_url, **settings), search)
        stop = asyncio.Event()
        stops.append((stop, asyncio.create_task(run_discord(client, TOKEN, stop))))
        async with asyncio.timeout(10):
            await fake.identified.wait()

    yield run
    for stop, task in stops:
        stop.set()
        async with asyncio.timeout(10):
            await task


async def first_answer(fake: FakeDiscord, payload: dict[str, Any]) -> RecordedCall:
    await fake.dispatch("INTERACTION_CREATE", payload)
    [callback] = await fake.wait_for_call("POST", f"/interactions/{payload['id']}/")
    return callback


async def test_a_user_over_the_limit_gets_an_ephemeral_note_with_the_wait(fake: FakeDiscord, start: Start) -> None:
    search = FakeMovieSearch()
    await start(search, RATE_LIMIT="2/1h")
    for _ in range(2):
        assert (await first_answer(fake, movie_command("astronaut on Mars"))).body["type"] == DEFERRED_WITH_THINKING

    refused = await first_answer(fake, movie_command("lunar mission"))
    assert refused.body["type"] == 4 and refused.body["data"]["flags"] == EPHEMERAL
    found = re.search(r"try again in (\d+) seconds", refused.body["data"]["content"])
    assert found and 3590 <= int(found[1]) <= 3600

    other = await first_answer(fake, movie_command("lunar mission", user=STRANGER))
    assert other.body["type"] == DEFERRED_WITH_THINKING
    await fake.wait_for_call("POST", "/webhooks/1000/", count=3)
    assert [q for q, _, _ in search.calls] == ["astronaut on Mars", "astronaut on Mars", "lunar mission"]


async def test_past_the_pending_cap_a_search_gets_a_polite_busy(fake: FakeDiscord, start: Start) -> None:
    gated = GatedSearch()
    await start(BoundedSearch(gated, max_pending=1), RATE_LIMIT="off")
    first = movie_command("astronaut on Mars")
    await first_answer(fake, first)
    await gated.wait_started(1)

    second = movie_command("lunar mission", user=STRANGER)
    await first_answer(fake, second)
    [busy] = await fake.wait_for_call("POST", f"/webhooks/1000/{second['token']}")
    assert busy.body["content"] == BUSY_MESSAGE and busy.body["flags"] == EPHEMERAL

    gated.gate.set()
    [results] = await fake.wait_for_call("POST", f"/webhooks/1000/{first['token']}")
    assert "The Martian" in results.body["embeds"][0]["description"]
