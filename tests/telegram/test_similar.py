"""`/similar`, "Like #n" buttons and buttons that survive a restart, against the Bot API emulator."""

from __future__ import annotations

import asyncio

import pytest

from bot.reply_text import UNREADABLE, WEAK_HINT, WEAK_NOTE
from bot.telegram.app import build_application, run_telegram
from bot.telegram.buttons import BACK_LABEL, MORE_LABEL, LikePress, QueryPage, SimilarPage, decode_press, encode_press
from bot.telegram.handlers import INLINE_UNREADABLE, SIMILAR_USAGE
from bot.telegram.presses import EXPIRED_BUTTON
from bot.telegram.render import render_results
from core.models import MatchQuality, MovieHit, SearchResults
from core.settings import load_settings
from tests.fakes import SAMPLE_MOVIES
from tests.telegram.conftest import TOKEN, RunningBot
from tests.telegram.emulator import ApiCall
from tests.telegram.telegram_html import telegram_html_problems
from tests.telegram.test_e2e import GROUP_ID, buttons, in_chat, search_in_private

MARTIAN = SAMPLE_MOVIES[0]
PAGE_LABELS = (BACK_LABEL, MORE_LABEL)


async def similar_in_private(bot: RunningBot, title: str = "the martain") -> ApiCall:
    return await search_in_private(bot, f"/similar {title}")


async def press(bot: RunningBot, call: ApiCall, data: str, method: str) -> tuple[ApiCall, ApiCall]:
    """Press a button on the message `call` sent; the press's answer and the `method` call it led to."""
    mark = bot.emulator.mark()
    bot.emulator.press_button(call.result, data)
    reply = await bot.emulator.wait_for(method, after=mark)
    answer = await bot.emulator.wait_for("answerCallbackQuery", after=mark)
    return answer, reply


async def test_similar_resolves_a_misspelled_title_and_leaves_the_film_out(bot: RunningBot) -> None:
    reply = await similar_in_private(bot)
    text = reply.params["text"]
    assert text.startswith("Films like <b>The Martian (2015)</b>:")
    assert "<b>The Martian</b>" not in text and text.count("<b>") == 6
    assert bot.search.similar_calls == [("the martain", 5, 0)]
    assert bot.search.calls == []
    assert telegram_html_problems(text) == []


@pytest.mark.parametrize("command", ["/similar", "/similar   "])
async def test_similar_without_a_title_explains_itself(bot: RunningBot, command: str) -> None:
    reply = await search_in_private(bot, command)
    assert reply.params["text"] == SIMILAR_USAGE
    assert bot.search.similar_calls == []


async def test_an_unknown_title_gets_the_cores_friendly_message(bot: RunningBot) -> None:
    reply = await similar_in_private(bot, "zzyzx qwv")
    assert "could not find a film" in reply.params["text"]


async def test_similar_in_groups_answers_only_its_own_bot(bot: RunningBot) -> None:
    emulator = bot.emulator
    mark = emulator.mark()
    emulator.send_text("/similar@SomeOtherBot Interstellar", chat_id=GROUP_ID, chat_type="group")
    emulator.send_text(f"/similar@{emulator.username} Interstellar", chat_id=GROUP_ID, chat_type="group")
    reply = await emulator.wait_for("sendMessage", after=mark, where=in_chat(GROUP_ID))
    await bot.settled()
    assert reply.params["text"].startswith("Films like <b>Interstellar (2014)</b>:")
    assert len(emulator.successful("sendMessage", after=mark)) == 1
    assert bot.search.similar_calls == [("Interstellar", 5, 0)]


async def test_help_mentions_similar(bot: RunningBot) -> None:
    reply = await search_in_private(bot, "/help")
    assert "<code>/similar The Martian</code>" in reply.params["text"]


async def test_like_button_answers_with_a_new_message_and_keeps_the_list(bot: RunningBot) -> None:
    first = await search_in_private(bot)
    second_hit = decode_press(buttons(first)["Like #2"])
    assert isinstance(second_hit, LikePress)
    answer, reply = await press(bot, first, buttons(first)["Like #2"], "sendMessage")

    assert "text" not in answer.params
    assert bot.emulator.calls.index(answer) < bot.emulator.calls.index(reply)
    assert bot.search.similar_calls == [(second_hit.imdb_id, 5, 0)]
    liked = next(m for m in SAMPLE_MOVIES if m.imdb_id == second_hit.imdb_id)
    assert reply.params["text"].startswith(f"Films like <b>{liked.title} ({liked.year})</b>:")
    assert reply.json("reply_parameters")["message_id"] == first.result["message_id"]
    assert not bot.emulator.successful("editMessageText")  # the list it came from stays as it was


async def test_a_similar_list_pages_in_place_by_the_films_id(bot: RunningBot) -> None:
    first = await similar_in_private(bot)
    more = buttons(first)[MORE_LABEL]
    assert decode_press(more) == SimilarPage(MARTIAN.imdb_id, 5)
    _, edit = await press(bot, first, more, "editMessageText")
    assert edit.params["text"].startswith("Results 6–6, films like <b>The Martian (2015)</b>:")
    assert bot.search.similar_calls[-1] == (MARTIAN.imdb_id, 5, 5)


async def restart(bot: RunningBot) -> RunningBot:
    """Stop the bot and start a new one on the same emulator: nothing in memory survives."""
    await bot.shut_down()
    mark = bot.emulator.mark()
    settings = load_settings(TELEGRAM_TOKEN=TOKEN, TELEGRAM_BASE_URL=bot.emulator.base_url)
    application = build_application(settings, bot.search)
    stop = asyncio.Event()
    task = asyncio.create_task(run_telegram(application, stop))
    await bot.emulator.wait_for("deleteWebhook", after=mark)
    return RunningBot(bot.emulator, bot.search, application, stop, task)


async def test_buttons_sent_before_a_restart_still_work(bot: RunningBot) -> None:
    first = await search_in_private(bot)
    liked = await similar_in_private(bot)
    bot = await restart(bot)
    try:
        _, page_two = await press(bot, first, buttons(first)[MORE_LABEL], "editMessageText")
        assert page_two.params["text"].startswith("Results 6–7 for <i>astronaut stranded on Mars</i>")
        _, similar_two = await press(bot, liked, buttons(liked)[MORE_LABEL], "editMessageText")
        assert similar_two.params["text"].startswith("Results 6–6, films like")
        _, like = await press(bot, first, buttons(first)["Like #1"], "sendMessage")
        assert like.params["text"].startswith("Films like <b>The Martian (2015)</b>:")
    finally:
        await bot.shut_down()


FORGED = [
    "l:", "l:tt12", "l:tt3659388x", "l:TT3659388", "l:tt3659388 ", "s:tt3659388:50", "s:tt3659388:-1",
    "s:tt3659388:05", "s:tt3659388", "q:50:mars", "q:5:", "q:5: mars", "q:٥:mars", "q:5:" + "m" * 61,
    "s:tt3659388:5:extra", "l:tt\u0661\u0662\u0663\u0664\u0665",
    "q:0:well formed but not on this message", "l:tt7777777", "s:tt3659388:5",  # not among its buttons
]


@pytest.mark.parametrize("data", FORGED)
async def test_forged_or_malformed_presses_get_a_polite_answer_and_no_search(bot: RunningBot, data: str) -> None:
    first = await search_in_private(bot)
    mark = bot.emulator.mark()
    bot.emulator.press_button(first.result, data)
    answer = await bot.emulator.wait_for("answerCallbackQuery", after=mark)
    await bot.settled()
    assert answer.params["text"] == EXPIRED_BUTTON
    sent = [c for c in bot.emulator.calls[mark:] if c.method != "getUpdates"]
    assert sent == [answer]
    assert len(bot.search.calls) == 1 and bot.search.similar_calls == []


async def test_a_well_formed_press_for_a_film_no_longer_in_the_catalog_is_answered_politely(
    bot: RunningBot,
) -> None:
    first = await search_in_private(bot)
    first.result["reply_markup"]["inline_keyboard"][0][0]["callback_data"] = "l:tt0000001"  # as sent then
    _, reply = await press(bot, first, "l:tt0000001", "sendMessage")
    assert "could not find a film" in reply.params["text"]
    await bot.settled()
    assert len(bot.emulator.successful("sendMessage")) == 2  # the list and the note; no apology


async def test_a_replayed_press_is_harmless(bot: RunningBot) -> None:
    first = await similar_in_private(bot)
    more = buttons(first)[MORE_LABEL]
    mark = bot.emulator.mark()
    bot.emulator.press_button(first.result, more)
    await bot.emulator.wait_for("editMessageText", after=mark)
    bot.emulator.press_button(first.result, more)  # the same page again: Telegram says "not modified"
    await bot.emulator.wait_for("editMessageText", after=mark, status=400)
    await bot.settled()
    assert not bot.emulator.successful("sendMessage", after=mark)  # no apology: nothing failed


async def test_an_unreadable_query_gets_an_honest_reply_in_chat_and_inline(bot: RunningBot) -> None:
    bot.search.quality = MatchQuality.UNREADABLE
    reply = await search_in_private(bot, "/movie 电影 火星 救援")
    assert reply.params["text"] == UNREADABLE and "reply_markup" not in reply.params
    mark = bot.emulator.mark()
    bot.emulator.inline_query("电影 火星 救援")
    answer = await bot.emulator.wait_for("answerInlineQuery", after=mark)
    assert answer.json("results") == []
    assert answer.json("button")["text"] == INLINE_UNREADABLE


async def test_weak_matches_are_marked_in_chat_and_inline(bot: RunningBot) -> None:
    bot.search.quality = MatchQuality.WEAK
    reply = await search_in_private(bot, "/movie a film about a thing")
    assert WEAK_NOTE in reply.params["text"].split("\n")[0]
    assert reply.params["text"].endswith(f"<i>{WEAK_HINT}</i>")
    mark = bot.emulator.mark()
    bot.emulator.inline_query("a film about a thing")
    answer = await bot.emulator.wait_for("answerInlineQuery", after=mark)
    assert all(a["description"].startswith("weak match · ") for a in answer.json("results"))


# Rendering, without the network.

def results(*, quality: MatchQuality = MatchQuality.GOOD, similar: bool = False) -> SearchResults:
    hits = tuple(MovieHit(i + 1, m, 0.3) for i, m in enumerate(SAMPLE_MOVIES[1:4]))
    return SearchResults("火星 救援" if quality is MatchQuality.UNREADABLE else "q", hits, 1.0, quality=quality,
                         similar_to=MARTIAN if similar else None)


def test_an_unreadable_query_gets_the_honest_answer_alone() -> None:
    text, markup = render_results(results(quality=MatchQuality.UNREADABLE))
    assert text == UNREADABLE
    assert "English" in text and markup is None


def test_weak_matches_are_marked_and_come_with_a_hint() -> None:
    text, markup = render_results(results(quality=MatchQuality.WEAK))
    lines = text.split("\n")
    assert lines[0] == f"Results for <i>q</i>. {WEAK_NOTE}"
    assert lines[-1] == f"<i>{WEAK_HINT}</i>"
    assert text.count("<b>") == 3 and telegram_html_problems(text) == []
    assert markup is not None


@pytest.mark.parametrize(("query", "by_query"), [("é" * 29, True), ("é" * 30, False)])
def test_a_query_pages_by_itself_only_if_it_fits_at_every_offset(query: str, by_query: bool) -> None:
    page = SearchResults(query, results().hits, 1.0, offset=5, has_more=True)
    _, markup = render_results(page, "AbCd_-12")
    assert markup is not None
    paging = {b.text: b.callback_data for row in markup.inline_keyboard for b in row if b.text in PAGE_LABELS}
    assert all(isinstance(data, str) and len(data.encode()) <= 64 for data in paging.values())
    if by_query:
        assert paging == {BACK_LABEL: f"q:0:{query}", MORE_LABEL: f"q:8:{query}"}
    else:
        assert paging == {BACK_LABEL: "more:AbCd_-12:0", MORE_LABEL: "more:AbCd_-12:8"}
    assert encode_press(QueryPage("é" * 30, 5)) == "q:5:" + "é" * 30  # fits, alone
    assert encode_press(QueryPage("é" * 31, 5)) is None
