"""Paging buttons: only the asker pages, clicks are acknowledged before searching, and the buttons expire."""

from __future__ import annotations

from typing import Any

from bot.discord.failures import APOLOGY
from bot.discord.paging import NEXT_ID, NOT_YOURS, PREVIOUS_ID
from tests.discord.conftest import RunningBot, StartBot
from tests.discord.fake_discord import RecordedCall
from tests.discord.limits import embed_limit_violations
from tests.discord.payloads import STRANGER, button_press, movie_command

EPHEMERAL = 64
DEFERRED_UPDATE = 6


def _buttons(components: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {b["custom_id"]: b for row in components for b in row["components"]}


async def _results_message(bot: RunningBot, results: int = 3) -> dict[str, Any]:
    payload = movie_command("astronauts in orbit", results=results)
    await bot.fake.dispatch("INTERACTION_CREATE", payload)
    [post] = await bot.fake.wait_for_call("POST", f"/webhooks/1000/{payload['token']}")
    assert post.query.get("wait") in {"1", "true"}
    [message] = [m for m in bot.fake.messages.values() if m["embeds"] == post.body["embeds"]]
    return message


async def _press(bot: RunningBot, message: dict[str, Any], custom_id: str, **kwargs: Any) -> RecordedCall:
    payload = button_press(message, custom_id, **kwargs)
    await bot.fake.dispatch("INTERACTION_CREATE", payload)
    [call] = await bot.fake.wait_for_call("POST", f"/interactions/{payload['id']}/")
    return call


async def _page(bot: RunningBot, message: dict[str, Any], custom_id: str) -> dict[str, Any]:
    """Click as the asker: the click is deferred (type 6) first, then the message is edited in place."""
    payload = button_press(message, custom_id)
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
    assert buttons[NEXT_ID]["disabled"] is False
    assert buttons[PREVIOUS_ID]["disabled"] is True


async def test_next_and_previous_update_the_message_in_place(bot: RunningBot) -> None:
    message = await _results_message(bot, results=3)

    edit = await _page(bot, message, NEXT_ID)
    embed = edit["embeds"][0]
    assert embed["description"].startswith("**4. ")
    assert "Results 4–6" in embed["footer"]["text"]
    assert embed_limit_violations(embed) == []
    assert _buttons(edit["components"])[PREVIOUS_ID]["disabled"] is False

    edit = await _page(bot, message, PREVIOUS_ID)
    assert edit["embeds"][0]["description"].startswith("**1. ")
    assert [c[2] for c in bot.search.calls] == [0, 3, 0]
    assert {c[1] for c in bot.search.calls} == {3}


async def test_last_page_disables_next(bot: RunningBot) -> None:
    catalog_size = len(bot.search.movies)  # 19: pages of 10 end after the second
    message = await _results_message(bot, results=10)
    edit = await _page(bot, message, NEXT_ID)

    assert edit["embeds"][0]["description"].count("\n\n") == catalog_size - 10 - 1
    assert _buttons(edit["components"])[NEXT_ID]["disabled"] is True


async def test_someone_else_gets_an_ephemeral_note_and_the_page_stays(bot: RunningBot) -> None:
    message = await _results_message(bot)
    call = await _press(bot, message, NEXT_ID, user=STRANGER)

    assert call.body["type"] == 4
    assert call.body["data"]["flags"] == EPHEMERAL
    assert call.body["data"]["content"] == NOT_YOURS
    assert len(bot.search.calls) == 1


async def test_paging_works_in_direct_messages(bot: RunningBot) -> None:
    payload = movie_command("astronauts in orbit", results=2, in_dm=True)
    await bot.fake.dispatch("INTERACTION_CREATE", payload)
    [post] = await bot.fake.wait_for_call("POST", f"/webhooks/1000/{payload['token']}")
    message = bot.fake.messages[max(bot.fake.messages)]
    press = button_press(message, NEXT_ID, in_dm=True)
    await bot.fake.dispatch("INTERACTION_CREATE", press)
    [edit] = await bot.fake.wait_for_call("PATCH", f"/webhooks/1000/{press['token']}/messages/@original")
    assert edit.body["embeds"][0]["description"].startswith("**3. ")
    assert post.body["embeds"][0]["description"].startswith("**1. ")


async def test_a_crash_while_paging_gets_an_ephemeral_apology_after_the_deferral(bot: RunningBot) -> None:
    message = await _results_message(bot)
    bot.search.fail_with = RuntimeError("index went away")
    press = button_press(message, NEXT_ID)
    await bot.fake.dispatch("INTERACTION_CREATE", press)
    [apology] = await bot.fake.wait_for_call("POST", f"/webhooks/1000/{press['token']}")
    [callback] = bot.fake.calls_to("POST", f"/interactions/{press['id']}/")
    assert callback.body["type"] == DEFERRED_UPDATE
    assert bot.fake.calls.index(callback) < bot.fake.calls.index(apology)
    assert apology.body["content"] == APOLOGY and apology.body["flags"] == EPHEMERAL
    assert not bot.fake.calls_to("PATCH", press["token"])  # the results stay as they were


async def test_buttons_are_disabled_when_the_view_times_out(start_bot: StartBot) -> None:
    bot = await start_bot(pager_timeout=0.2)
    message = await _results_message(bot)

    [edit] = await bot.fake.wait_for_call("PATCH", f"/messages/{message['id']}")
    buttons = _buttons(edit.body["components"])
    assert buttons and all(b["disabled"] for b in buttons.values())


async def test_single_page_answers_have_no_buttons(bot: RunningBot) -> None:
    payload = movie_command("astronauts in orbit", results=10)
    bot.search.movies = bot.search.movies[:4]
    await bot.fake.dispatch("INTERACTION_CREATE", payload)
    [post] = await bot.fake.wait_for_call("POST", f"/webhooks/1000/{payload['token']}")
    assert not post.body.get("components")


async def test_buttons_expire_through_the_latest_click_after_paging(start_bot: StartBot) -> None:
    bot = await start_bot(pager_timeout=1.5)
    message = await _results_message(bot)
    press = button_press(message, NEXT_ID)
    await bot.fake.dispatch("INTERACTION_CREATE", press)

    # The first edit shows page two; the second, through the same click's token, disables the buttons.
    _, expiry = await bot.fake.wait_for_call("PATCH", f"/webhooks/1000/{press['token']}/messages/@original", 2)
    buttons = _buttons(expiry.body["components"])
    assert buttons and all(b["disabled"] for b in buttons.values())
    assert bot.fake.messages[message["id"]]["components"] == expiry.body["components"]
