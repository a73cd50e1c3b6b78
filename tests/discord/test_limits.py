"""Abuse limits on Discord: RATE_LIMIT per user, for slash commands and button presses alike, answered with an
ephemeral note saying when to try again, and the shared cap on pending searches answered with a polite "busy"."""

from __future__ import annotations

import re
from typing import Any

from bot.discord.buttons import NEXT_LABEL, NOT_YOURS
from core.search_guard import BUSY_MESSAGE, BoundedSearch
from tests.discord.conftest import StartBot
from tests.discord.fake_discord import FakeDiscord, RecordedCall
from tests.discord.payloads import STRANGER, button_press, movie_command, select_choice
from tests.discord.test_paging import button_id
from tests.discord.test_similar import menu
from tests.fakes import FakeMovieSearch, GatedSearch

EPHEMERAL = 64
MESSAGE = 4
DEFERRED_WITH_THINKING = 5
DEFERRED_UPDATE = 6


async def first_answer(fake: FakeDiscord, payload: dict[str, Any]) -> RecordedCall:
    await fake.dispatch("INTERACTION_CREATE", payload)
    [callback] = await fake.wait_for_call("POST", f"/interactions/{payload['id']}/")
    return callback


def wait_in(refusal: RecordedCall) -> int:
    """The seconds an ephemeral "slow down" note asks the user to wait."""
    assert refusal.body["type"] == MESSAGE and refusal.body["data"]["flags"] == EPHEMERAL, refusal.body
    found = re.search(r"try again in (\d+) seconds", refusal.body["data"]["content"])
    assert found, refusal.body
    return int(found[1])


async def test_a_user_over_the_limit_gets_an_ephemeral_note_with_the_wait(start_bot: StartBot) -> None:
    bot = await start_bot(movies=FakeMovieSearch(), RATE_LIMIT="2/1h")
    for _ in range(2):
        assert (await first_answer(bot.fake, movie_command("astronaut on Mars"))).body["type"] == DEFERRED_WITH_THINKING

    assert 3590 <= wait_in(await first_answer(bot.fake, movie_command("lunar mission"))) <= 3600

    other = await first_answer(bot.fake, movie_command("lunar mission", user=STRANGER))
    assert other.body["type"] == DEFERRED_WITH_THINKING
    await bot.fake.wait_for_call("POST", "/webhooks/1000/", count=3)
    assert [q for q, _, _ in bot.search.calls] == ["astronaut on Mars", "astronaut on Mars", "lunar mission"]


async def test_button_presses_count_with_the_users_searches(start_bot: StartBot) -> None:
    bot = await start_bot(RATE_LIMIT="3/1h")
    message = await bot.ask(movie_command("astronauts in orbit", results=3))  # search 1
    next_page = button_press(message, button_id(message, NEXT_LABEL))
    assert (await first_answer(bot.fake, next_page)).body["type"] == DEFERRED_UPDATE  # search 2
    await bot.fake.wait_for_call("PATCH", f"/webhooks/1000/{next_page['token']}/messages/@original")
    like = select_choice(message, menu(message)["custom_id"], [menu(message)["options"][0]["value"]])
    assert (await first_answer(bot.fake, like)).body["type"] == DEFERRED_WITH_THINKING  # search 3
    await bot.fake.wait_for_call("POST", f"/webhooks/1000/{like['token']}")

    refused = (button_press(message, button_id(message, NEXT_LABEL)),
               select_choice(message, menu(message)["custom_id"], [menu(message)["options"][1]["value"]]),
               movie_command("lunar mission"))
    for payload in refused:
        assert 3590 <= wait_in(await first_answer(bot.fake, payload)) <= 3600
    assert (len(bot.search.calls), len(bot.search.similar_calls)) == (2, 1)
    for payload in refused:  # the one answer each got was the note: no page edited, no results posted
        assert [c.method for c in bot.fake.calls if payload["token"] in c.path or payload["id"] in c.path] == ["POST"]

    other = button_press(message, button_id(message, NEXT_LABEL), user=STRANGER)
    assert (await first_answer(bot.fake, other)).body["data"]["content"] == NOT_YOURS  # not a slow-down note


async def test_past_the_pending_cap_a_search_gets_a_polite_busy(start_bot: StartBot) -> None:
    gated = GatedSearch()
    bot = await start_bot(movies=BoundedSearch(gated, max_pending=1), RATE_LIMIT="off")
    first = movie_command("astronaut on Mars")
    await first_answer(bot.fake, first)
    await gated.wait_started(1)

    second = movie_command("lunar mission", user=STRANGER)
    await first_answer(bot.fake, second)
    [busy] = await bot.fake.wait_for_call("POST", f"/webhooks/1000/{second['token']}")
    assert busy.body["content"] == BUSY_MESSAGE and busy.body["flags"] == EPHEMERAL

    gated.gate.set()
    [results] = await bot.fake.wait_for_call("POST", f"/webhooks/1000/{first['token']}")
    assert "The Martian" in results.body["embeds"][0]["description"]
