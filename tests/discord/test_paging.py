"""Paging buttons: only the asker pages, clicks are acknowledged before searching, pages are edited in place."""

from __future__ import annotations

from typing import Any

from bot.discord.buttons import NEXT_LABEL, NOT_YOURS, PREVIOUS_LABEL
from bot.discord.failures import APOLOGY
from tests.discord.conftest import RunningBot
from tests.discord.fake_discord import RecordedCall
from tests.discord.limits import embed_limit_violations
from tests.discord.payloads import STRANGER, button_press, movie_command

EPHEMERAL = 64
DEFERRED_UPDATE = 6


def _buttons(components: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Buttons by label (their custom ids carry state, so they change from page to page)."""
    return {b["label"]: b for row in components for b in row["components"] if b["type"] == 2}


def button_id(message: dict[str, Any], label: str) -> str:
    custom_id: str = _buttons(message["components"])[label]["custom_id"]
    return custom_id


async def _results_message(bot: RunningBot, results: int = 3) -> dict[str, Any]:
    return await bot.ask(movie_command("astronauts in orbit", results=results))


async def _press(bot: RunningBot, message: dict[str, Any], custom_id: str, **kwargs: Any) -> RecordedCall:
    payload = button_press(message, custom_id, **kwargs)
    await bot.fake.dispatch("INTERACTION_CREATE", payload)
    [call] = await bot.fake.wait_for_call("POST", f"/interactions/{payload['id']}/")
    return call


async def _page(bot: RunningBot, message: dict[str, Any], label: str) -> dict[str, Any]:
    """Click as the asker: the click is deferred (type 6) first, then the message is edited in place."""
    payload = button_press(message, button_id(message, label))
    await bot.fake.dispatch("INTERACTION_CREATE", payload)
    [edit] = await bot.fake.wait_for_call("PATCH", f"/webhooks/1000/{payload['token']}/messages/@original")
    calls = [c for c in bot.fake.calls if payload["id"] in c.path or payload["token"] in c.path]
    assert [(c.method, c.body.get("type")) for c in calls] == [("POST", DEFERRED_UPDATE), ("PATCH", None)]
    assert bot.fake.messages[message["id"]]["embeds"] == edit.body["embeds"]  # the clicked message changed
    body: dict[str, Any] = edit.body
    return body


async def test_first_page_offers_next_but_not_previous(bot: RunningBot) -> None:
    message = await _results_message(bot)
    buttons = _buttons(message["components"])
    assert buttons[NEXT_LABEL]["disabled"] is False
    assert buttons[PREVIOUS_LABEL]["disabled"] is True


async def test_next_and_previous_update_the_message_in_place(bot: RunningBot) -> None:
    message = await _results_message(bot, results=3)

    edit = await _page(bot, message, NEXT_LABEL)
    embed = edit["embeds"][0]
    assert embed["description"].startswith("**4. ")
    assert "Results 4–6" in embed["footer"]["text"]
    assert embed_limit_violations(embed) == []
    assert _buttons(edit["components"])[PREVIOUS_LABEL]["disabled"] is False

    edit = await _page(bot, message, PREVIOUS_LABEL)
    assert edit["embeds"][0]["description"].startswith("**1. ")
    assert [c[2] for c in bot.search.calls] == [0, 3, 0]
    assert {c[1] for c in bot.search.calls} == {3}


async def test_last_page_disables_next(bot: RunningBot) -> None:
    catalog_size = len(bot.search.movies)  # 19: pages of 10 end after the second
    message = await _results_message(bot, results=10)
    edit = await _page(bot, message, NEXT_LABEL)

    assert edit["embeds"][0]["description"].count("\n\n") == catalog_size - 10 - 1
    assert _buttons(edit["components"])[NEXT_LABEL]["disabled"] is True


async def test_someone_else_gets_an_ephemeral_note_and_the_page_stays(bot: RunningBot) -> None:
    message = await _results_message(bot)
    call = await _press(bot, message, button_id(message, NEXT_LABEL), user=STRANGER)

    assert call.body["type"] == 4
    assert call.body["data"]["flags"] == EPHEMERAL
    assert call.body["data"]["content"] == NOT_YOURS
    assert len(bot.search.calls) == 1


async def test_paging_works_in_direct_messages(bot: RunningBot) -> None:
    payload = movie_command("astronauts in orbit", results=2, in_dm=True)
    await bot.fake.dispatch("INTERACTION_CREATE", payload)
    [post] = await bot.fake.wait_for_call("POST", f"/webhooks/1000/{payload['token']}")
    message = bot.fake.messages[max(bot.fake.messages)]
    press = button_press(message, button_id(message, NEXT_LABEL), in_dm=True)
    await bot.fake.dispatch("INTERACTION_CREATE", press)
    [edit] = await bot.fake.wait_for_call("PATCH", f"/webhooks/1000/{press['token']}/messages/@original")
    assert edit.body["embeds"][0]["description"].startswith("**3. ")
    assert post.body["embeds"][0]["description"].startswith("**1. ")


async def test_a_crash_while_paging_gets_an_ephemeral_apology_after_the_deferral(bot: RunningBot) -> None:
    message = await _results_message(bot)
    bot.search.fail_with = RuntimeError("index went away")
    press = button_press(message, button_id(message, NEXT_LABEL))
    await bot.fake.dispatch("INTERACTION_CREATE", press)
    [apology] = await bot.fake.wait_for_call("POST", f"/webhooks/1000/{press['token']}")
    [callback] = bot.fake.calls_to("POST", f"/interactions/{press['id']}/")
    assert callback.body["type"] == DEFERRED_UPDATE
    assert bot.fake.calls.index(callback) < bot.fake.calls.index(apology)
    assert apology.body["content"] == APOLOGY and apology.body["flags"] == EPHEMERAL
    assert not bot.fake.calls_to("PATCH", press["token"])  # the results stay as they were


async def test_single_page_answers_have_no_buttons(bot: RunningBot) -> None:
    payload = movie_command("astronauts in orbit", results=10)
    bot.search.movies = bot.search.movies[:4]
    await bot.fake.dispatch("INTERACTION_CREATE", payload)
    [post] = await bot.fake.wait_for_call("POST", f"/webhooks/1000/{payload['token']}")
    assert _buttons(post.body["components"]) == {}  # only the "More like…" menu
