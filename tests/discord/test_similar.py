"""`/similar`, the "More like…" menu, and components that survive a restart, against the fake Discord."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bot.discord.buttons import LIKE_PLACEHOLDER, NEXT_LABEL
from bot.discord.render import render_results
from bot.reply_text import STALE_BUTTON, UNREADABLE, WEAK_HINT, WEAK_NOTE
from core.models import MatchQuality, MovieHit, SearchResults
from tests.discord.conftest import RunningBot, StartBot
from tests.discord.limits import embed_limit_violations
from tests.discord.payloads import STRANGER, button_press, movie_command, select_choice, similar_command
from tests.discord.test_paging import button_id
from tests.fakes import SAMPLE_MOVIES, GatedSearch

DEFERRED_WITH_THINKING = 5
DEFERRED_UPDATE = 6
MESSAGE = 4
EPHEMERAL = 64
MARTIAN = SAMPLE_MOVIES[0]
LONG_QUERY = "astronauts aboard a station in orbit face trouble when the oxygen runs out and nobody answers"


def menu(message: dict[str, Any]) -> dict[str, Any]:
    [select] = [c for row in message["components"] for c in row["components"] if c["type"] == 3]
    return select


async def choose(bot: RunningBot, message: dict[str, Any], value: str, **kwargs: Any) -> dict[str, Any]:
    payload = select_choice(message, menu(message)["custom_id"], [value], **kwargs)
    return await bot.ask(payload)


async def page(bot: RunningBot, message: dict[str, Any], label: str = NEXT_LABEL) -> dict[str, Any]:
    press = button_press(message, button_id(message, label))
    await bot.fake.dispatch("INTERACTION_CREATE", press)
    [edit] = await bot.fake.wait_for_call("PATCH", f"/webhooks/1000/{press['token']}/messages/@original")
    [callback] = bot.fake.calls_to("POST", f"/interactions/{press['id']}/")
    assert callback.body["type"] == DEFERRED_UPDATE
    embed: dict[str, Any] = edit.body["embeds"][0]
    return embed


async def polite_refusal(bot: RunningBot, payload: dict[str, Any]) -> str:
    """Dispatch a press that must be refused: its one answer is an ephemeral note, and nothing is searched."""
    searches = (len(bot.search.calls), len(bot.search.similar_calls))
    await bot.fake.dispatch("INTERACTION_CREATE", payload)
    [answer] = await bot.fake.wait_for_call("POST", f"/interactions/{payload['id']}/")
    assert answer.body["type"] == MESSAGE and answer.body["data"]["flags"] == EPHEMERAL
    assert not bot.fake.calls_to("PATCH", payload["token"])
    assert (len(bot.search.calls), len(bot.search.similar_calls)) == searches
    content: str = answer.body["data"]["content"]
    return content


async def test_similar_names_the_film_leaves_it_out_and_offers_more(bot: RunningBot) -> None:
    message = await bot.ask(similar_command("the martain"))
    [embed] = message["embeds"]
    assert embed["title"] == "Films like The Martian (2015)"
    assert "The Martian" not in embed["description"] and embed["description"].startswith("**1. ")
    assert embed_limit_violations(embed) == []
    assert bot.search.similar_calls == [("the martain", 5, 0)]
    options = menu(message)["options"]
    assert menu(message)["placeholder"] == LIKE_PLACEHOLDER
    assert len(options) == 5 and all(o["value"].startswith("tt") for o in options)
    assert options[0]["label"].startswith("1. ")


async def test_a_slow_similar_is_deferred_before_it_returns(start_bot: StartBot) -> None:
    slow = GatedSearch(SAMPLE_MOVIES)
    bot = await start_bot(movies=slow)
    payload = similar_command("Alien")
    await bot.fake.dispatch("INTERACTION_CREATE", payload)
    [callback] = await bot.fake.wait_for_call("POST", f"/interactions/{payload['id']}/")
    await slow.wait_started(1)
    assert callback.body["type"] == DEFERRED_WITH_THINKING
    assert not bot.fake.calls_to("POST", f"/webhooks/1000/{payload['token']}")  # the search is still running
    slow.gate.set()
    [post] = await bot.fake.wait_for_call("POST", f"/webhooks/1000/{payload['token']}")
    assert post.body["embeds"][0]["title"] == "Films like Alien (1979)"


async def test_an_unknown_title_gets_the_cores_message(bot: RunningBot) -> None:
    payload = similar_command("zzyzx qwv")
    await bot.fake.dispatch("INTERACTION_CREATE", payload)
    [note] = await bot.fake.wait_for_call("POST", f"/webhooks/1000/{payload['token']}")
    assert "could not find a film" in note.body["content"]


async def test_an_empty_title_is_refused_before_deferring(bot: RunningBot) -> None:
    payload = similar_command("   ")
    await bot.fake.dispatch("INTERACTION_CREATE", payload)
    [answer] = await bot.fake.wait_for_call("POST", f"/interactions/{payload['id']}/")
    assert answer.body["type"] == MESSAGE and answer.body["data"]["flags"] == EPHEMERAL
    assert bot.search.similar_calls == []


async def test_more_like_a_result_answers_with_a_new_message(bot: RunningBot) -> None:
    results = await bot.ask(movie_command("astronaut stranded on Mars"))
    chosen = menu(results)["options"][1]["value"]
    liked = await choose(bot, results, chosen, user=STRANGER)  # anyone may ask for films like a result
    assert bot.search.similar_calls == [(chosen, 5, 0)]
    title = next(m.title for m in bot.search.movies if m.imdb_id == chosen)
    assert liked["embeds"][0]["title"].startswith(f"Films like {title}")
    assert liked["id"] != results["id"]
    assert bot.fake.messages[results["id"]]["embeds"] == results["embeds"]  # the list stays
    assert f":{STRANGER['id']}:" in button_id(liked, NEXT_LABEL)  # the new list is the chooser's to page


async def test_a_similar_list_pages_by_the_films_id(bot: RunningBot) -> None:
    message = await bot.ask(similar_command("Interstellar"))
    embed = await page(bot, message)
    assert embed["title"] == "Films like Interstellar (2014)"
    assert embed["description"].startswith("**6. ")
    assert bot.search.similar_calls[-1] == ("tt0816692", 5, 5)


async def test_components_sent_before_a_restart_still_work(start_bot: StartBot) -> None:
    bot = await start_bot()
    results = await bot.ask(movie_command("astronauts in orbit", results=3))
    liked = await bot.ask(similar_command("Alien"))
    await bot.shut_down()

    bot = await start_bot()  # a new process: nothing in memory survives
    assert (await page(bot, results))["description"].startswith("**4. ")
    assert (await page(bot, liked))["description"].startswith("**6. ")
    again = await choose(bot, results, menu(results)["options"][0]["value"])
    assert again["embeds"][0]["title"].startswith("Films like ")
    assert bot.search.calls[-1] == ("astronauts in orbit", 3, 3)


async def test_a_long_query_pages_until_a_restart_then_asks_to_search_again(start_bot: StartBot) -> None:
    bot = await start_bot()
    results = await bot.ask(movie_command(LONG_QUERY, results=2))
    assert LONG_QUERY not in button_id(results, NEXT_LABEL)  # too long for a custom id: a saved key
    assert (await page(bot, results))["description"].startswith("**3. ")
    await bot.shut_down()

    bot = await start_bot()
    assert await polite_refusal(bot, button_press(results, button_id(results, NEXT_LABEL))) == STALE_BUTTON


def with_component(message: dict[str, Any], custom_id: str, kind: int = 2) -> dict[str, Any]:
    """The message as a forger would present it: one of its components carries `custom_id`."""
    forged = copy.deepcopy(message)
    forged["components"][-1]["components"][-1]["custom_id"] = custom_id
    if kind == 3:
        forged["components"][0]["components"][0]["custom_id"] = custom_id
    return forged


@pytest.mark.parametrize("custom_id", [
    "movie:next",  # a button of the build before persistent components
    "movie:previous",
    "garbage",
    "",
    "mb:q:2001:99:5:astronauts",  # offset out of range
    "mb:q:2001:5:0:astronauts",  # page size out of range
    "mb:q:2001:5:11:astronauts",
    "mb:s:2001:0:5:tt12",  # not an IMDb id
    "mb:s:2001:0:5:tt3659388 ",
    "mb:k:2001:0:5:AAAAAAAA",  # a key nobody saved
    "mb:k:2001:0:5:short",
    "mb:q:2001:5:5: ",
    "mb:x:2001:5:5:astronauts",
    "mb:q:2001:5:5",
])
async def test_old_forged_or_malformed_buttons_get_a_polite_answer(bot: RunningBot, custom_id: str) -> None:
    message = await bot.ask(movie_command("astronauts in orbit", results=3))
    forged = with_component(message, custom_id)
    assert await polite_refusal(bot, button_press(forged, custom_id)) == STALE_BUTTON


async def test_a_press_on_a_button_the_message_does_not_have_is_refused(bot: RunningBot) -> None:
    message = await bot.ask(movie_command("astronauts in orbit", results=3))
    assert await polite_refusal(bot, button_press(message, "mb:q:2001:3:3:something else")) == STALE_BUTTON


@pytest.mark.parametrize("values", [["javascript:alert(1)"], ["tt3659388", "tt0816692"], [], ["tt1"],
                                    ["tt0062622"]])  # a real film, but not one of this list's options
async def test_forged_menu_choices_get_a_polite_answer(bot: RunningBot, values: list[str]) -> None:
    message = await bot.ask(movie_command("astronauts in orbit", results=3))
    payload = select_choice(message, menu(message)["custom_id"], values)
    assert await polite_refusal(bot, payload) == STALE_BUTTON


async def test_a_replayed_press_just_shows_the_same_page_again(bot: RunningBot) -> None:
    message = await bot.ask(movie_command("astronauts in orbit", results=3))
    first = await page(bot, message)
    second = await page(bot, message)  # the same custom id again, as a replay would send it
    assert first == second
    assert [c[2] for c in bot.search.calls] == [0, 3, 3]


async def test_a_film_no_longer_in_the_catalog_gets_the_cores_message(bot: RunningBot) -> None:
    message = await bot.ask(movie_command("astronauts in orbit", results=3))
    menu(message)["options"][0]["value"] = "tt0000001"  # offered when the list was sent
    payload = select_choice(message, menu(message)["custom_id"], ["tt0000001"])
    await bot.fake.dispatch("INTERACTION_CREATE", payload)
    [note] = await bot.fake.wait_for_call("POST", f"/webhooks/1000/{payload['token']}")
    assert "could not find a film" in note.body["content"]


# Rendering, without the network.

def results(quality: MatchQuality) -> SearchResults:
    hits = tuple(MovieHit(i + 1, m, 0.3) for i, m in enumerate(SAMPLE_MOVIES[1:4]))
    return SearchResults("q", hits, 1.0, quality=quality)


def test_weak_matches_are_marked_with_a_hint() -> None:
    embed = render_results(results(MatchQuality.WEAK)).to_dict()
    assert embed["description"].startswith(f"*{WEAK_NOTE}*\n\n**1. ")
    assert embed["footer"]["text"].startswith(WEAK_HINT)
    assert embed_limit_violations(embed) == []


def test_an_unreadable_query_gets_the_honest_answer_alone() -> None:
    embed = render_results(results(MatchQuality.UNREADABLE)).to_dict()
    assert embed["description"] == UNREADABLE
    assert "**1." not in embed["description"]
