"""Discord's 3-second rule and rate limits: every interaction is acknowledged before the search returns,
however long it takes, and a 429 delays an answer without losing it.

A search "slower than 3 seconds" is one held on a gate the test opens, so nothing here depends on timing.
"""

from __future__ import annotations

from bot.discord.buttons import NEXT_LABEL, NOT_YOURS
from tests.discord.conftest import EXTRA_MOVIES, StartBot
from tests.discord.payloads import STRANGER, button_press, movie_command
from tests.discord.test_paging import button_id
from tests.fakes import SAMPLE_MOVIES, GatedSearch

DEFERRED_WITH_THINKING = 5
DEFERRED_UPDATE = 6
EPHEMERAL = 64


async def test_a_search_slower_than_three_seconds_is_deferred_before_it_returns(start_bot: StartBot) -> None:
    slow = GatedSearch(SAMPLE_MOVIES + EXTRA_MOVIES)
    bot = await start_bot(movies=slow)
    payload = movie_command("astronaut stranded on Mars")
    await bot.fake.dispatch("INTERACTION_CREATE", payload)

    [callback] = await bot.fake.wait_for_call("POST", f"/interactions/{payload['id']}/")
    await slow.wait_started(1)
    assert callback.body["type"] == DEFERRED_WITH_THINKING
    assert not bot.fake.calls_to("POST", f"/webhooks/1000/{payload['token']}")  # search still running

    slow.gate.set()
    [followup] = await bot.fake.wait_for_call("POST", f"/webhooks/1000/{payload['token']}")
    assert "The Martian" in followup.body["embeds"][0]["description"]


async def test_a_slow_page_click_is_deferred_before_the_search_returns(start_bot: StartBot) -> None:
    slow = GatedSearch(SAMPLE_MOVIES + EXTRA_MOVIES)
    slow.gate.set()
    bot = await start_bot(movies=slow)
    message = await bot.ask(movie_command("astronauts in orbit", results=3))

    slow.gate.clear()
    press = button_press(message, button_id(message, NEXT_LABEL))
    await bot.fake.dispatch("INTERACTION_CREATE", press)
    [callback] = await bot.fake.wait_for_call("POST", f"/interactions/{press['id']}/")
    await slow.wait_started(2)
    assert callback.body["type"] == DEFERRED_UPDATE
    assert not bot.fake.calls_to("PATCH", press["token"])

    slow.gate.set()
    [edit] = await bot.fake.wait_for_call("PATCH", f"/webhooks/1000/{press['token']}/messages/@original")
    assert edit.body["embeds"][0]["description"].startswith("**4. ")


async def test_a_rate_limited_followup_is_retried_not_lost(start_bot: StartBot) -> None:
    bot = await start_bot()
    payload = movie_command("astronaut stranded on Mars")
    bot.fake.rate_limit_once("POST", f"/webhooks/1000/{payload['token']}", retry_after=0.05)
    await bot.fake.dispatch("INTERACTION_CREATE", payload)

    limited, retried = await bot.fake.wait_for_call("POST", f"/webhooks/1000/{payload['token']}", count=2)
    assert retried.body == limited.body
    assert "The Martian" in retried.body["embeds"][0]["description"]
    assert any(m["embeds"] == retried.body["embeds"] for m in bot.fake.messages.values())


async def test_each_askers_buttons_page_only_their_own_results(start_bot: StartBot) -> None:
    """A click is routed by its own custom id, which names the asker: only they can page."""
    bot = await start_bot()
    mine = await bot.ask(movie_command("lunar mission troubles", results=2))
    theirs = await bot.ask(movie_command("astronauts in orbit", results=2, user=STRANGER))

    press = button_press(theirs, button_id(theirs, NEXT_LABEL), user=STRANGER)
    await bot.fake.dispatch("INTERACTION_CREATE", press)
    [edit] = await bot.fake.wait_for_call("PATCH", f"/webhooks/1000/{press['token']}/messages/@original")
    assert "astronauts in orbit" in edit.body["embeds"][0]["title"]
    assert bot.fake.messages[theirs["id"]]["embeds"] == edit.body["embeds"]
    assert bot.fake.messages[mine["id"]]["embeds"] == mine["embeds"]

    press = button_press(mine, button_id(mine, NEXT_LABEL), user=STRANGER)  # the stranger clicks the asker's message
    await bot.fake.dispatch("INTERACTION_CREATE", press)
    [refusal] = await bot.fake.wait_for_call("POST", f"/interactions/{press['id']}/")
    assert refusal.body["type"] == 4 and refusal.body["data"]["flags"] == EPHEMERAL
    assert refusal.body["data"]["content"] == NOT_YOURS
    assert bot.fake.messages[mine["id"]]["embeds"] == mine["embeds"]
