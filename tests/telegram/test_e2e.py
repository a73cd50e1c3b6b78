"""End to end: the real python-telegram-bot stack over HTTP against the local Bot API emulator."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from bot.telegram.app import build_application, run_telegram
from bot.telegram.buttons import PageStore
from bot.telegram.handlers import SORRY
from bot.telegram.presses import EXPIRED_BUTTON
from bot.telegram.render import BACK_LABEL, MORE_LABEL
from core.errors import ConfigError, IndexUnavailable
from core.models import Movie
from core.query_text import EXAMPLE_QUERY
from core.settings import load_settings
from tests.fakes import SAMPLE_MOVIES, FakeMovieSearch
from tests.telegram.conftest import TOKEN, RunningBot
from tests.telegram.emulator import ApiCall, BotApiEmulator

GROUP_ID = -100200300
LONG_QUERY = "an astronaut is stranded on Mars and grows potatoes to survive"  # over 64 bytes with its prefix


def buttons(call: ApiCall) -> dict[str, str]:
    """Button label to callback data, for a call that carried an inline keyboard."""
    if "reply_markup" not in call.params:
        return {}
    rows = call.json("reply_markup")["inline_keyboard"]
    return {button["text"]: button["callback_data"] for row in rows for button in row}


def in_chat(chat_id: int) -> Any:
    return lambda call: int(call.params["chat_id"]) == chat_id


async def search_in_private(bot: RunningBot, text: str = "/movie astronaut stranded on Mars") -> ApiCall:
    mark = bot.emulator.mark()
    bot.emulator.send_text(text)
    return await bot.emulator.wait_for("sendMessage", after=mark)


async def test_movie_in_private_chat_replies_with_html_results_while_typing(bot: RunningBot) -> None:
    mark = bot.emulator.mark()
    reply = await search_in_private(bot)

    assert reply.params["parse_mode"] == "HTML"
    text = reply.params["text"]
    assert "1. <b>The Martian</b> (2015) · score" in text
    assert '<a href="https://www.imdb.com/title/tt3659388/">IMDb</a>' in text
    assert text.count("<b>") == 5
    assert bot.search.calls == [("astronaut stranded on Mars", 5, 0)]
    assert list(buttons(reply)) == [*(f"Like #{n}" for n in range(1, 6)), MORE_LABEL]
    typing = await bot.emulator.wait_for("sendChatAction", after=mark)
    assert typing.params["action"] == "typing"
    assert bot.emulator.calls.index(typing) < bot.emulator.calls.index(reply)


async def test_more_results_pages_in_place_and_answers_the_button_first(bot: RunningBot) -> None:
    first = await search_in_private(bot)
    mark = bot.emulator.mark()
    bot.emulator.press_button(first.result, buttons(first)[MORE_LABEL])

    edit = await bot.emulator.wait_for("editMessageText", after=mark)
    answer = await bot.emulator.wait_for("answerCallbackQuery", after=mark)
    assert bot.emulator.calls.index(answer) < bot.emulator.calls.index(edit)
    assert "text" not in answer.params
    assert edit.params["message_id"] == str(first.result["message_id"])
    assert edit.params["text"].startswith("Results 6–7 for")
    assert "6. <b>" in edit.params["text"] and "1. <b>" not in edit.params["text"]
    assert list(buttons(edit)) == ["Like #6", "Like #7", BACK_LABEL]  # seven movies in the fake: no third page

    mark = bot.emulator.mark()
    bot.emulator.press_button(edit.result, buttons(edit)[BACK_LABEL])
    back = await bot.emulator.wait_for("editMessageText", after=mark)
    assert back.params["text"] == first.params["text"]
    assert list(buttons(back))[-1] == MORE_LABEL


async def test_double_press_is_harmless(bot: RunningBot) -> None:
    first = await search_in_private(bot)
    more = buttons(first)[MORE_LABEL]
    mark = bot.emulator.mark()
    bot.emulator.press_button(first.result, more)
    await bot.emulator.wait_for("editMessageText", after=mark)
    bot.emulator.press_button(first.result, more)  # same page again: Telegram says "not modified"
    await bot.emulator.wait_for("editMessageText", after=mark, status=400)
    await bot.settled()
    assert not bot.emulator.successful("sendMessage", after=mark)  # no apology: nothing failed


@pytest.mark.parametrize("forge", ["garbage", "", "more:AAAAAAAA:5", "more:{key}:999", "more:{key}:-5",
                                   "more:{key}:٥", "more:{key}:5:extra", "other-chat", "not-offered"])
async def test_stale_forged_or_malformed_buttons_get_a_polite_answer(bot: RunningBot, forge: str) -> None:
    first = await search_in_private(bot, f"/movie {LONG_QUERY}")  # too long for the button: a saved key
    key = buttons(first)[MORE_LABEL].split(":")[1]
    message = first.result
    data = forge.format(key=key)
    if forge == "other-chat":  # a real key, pressed on a message in another chat
        message = {**first.result, "chat": {"id": 555, "type": "private", "first_name": "Eve"}}
        data = buttons(first)[MORE_LABEL]
    if forge == "not-offered":  # a real key of this chat, on a message whose keyboard never offered it
        message = {name: value for name, value in first.result.items() if name != "reply_markup"}
        data = buttons(first)[MORE_LABEL]
    mark = bot.emulator.mark()
    bot.emulator.press_button(message, data)

    answer = await bot.emulator.wait_for("answerCallbackQuery", after=mark)
    assert answer.params["text"] == EXPIRED_BUTTON
    await bot.settled()
    sent = [c for c in bot.emulator.calls[mark:] if c.method != "getUpdates"]
    assert sent == [answer] and bot.search.calls == [(LONG_QUERY, 5, 0)]  # nothing else
    await search_in_private(bot, "/help")  # and the bot is still alive


@pytest.mark.parametrize("pages", [True, False], ids=["saved-query", "expired"])
async def test_a_press_too_old_to_answer_is_still_handled_without_an_apology(bot: RunningBot, pages: bool) -> None:
    first = await search_in_private(bot, f"/movie {LONG_QUERY}")
    if not pages:
        bot.application.bot_data.pages = PageStore()  # as after a restart
    bot.emulator.reject_once("answerCallbackQuery", "query is too old and response timeout expired")
    mark = bot.emulator.mark()
    bot.emulator.press_button(first.result, buttons(first)[MORE_LABEL])

    await bot.emulator.wait_for("answerCallbackQuery", after=mark, status=400)
    await bot.settled()
    assert len(bot.emulator.successful("editMessageText", after=mark)) == (1 if pages else 0)
    assert not bot.emulator.successful("sendMessage", after=mark)  # no apology


async def test_group_commands_for_this_bot_work_and_the_rest_is_ignored(bot: RunningBot) -> None:
    emulator = bot.emulator
    mark = emulator.mark()
    emulator.send_text(f"/movie@{emulator.username} astronaut on Mars", chat_id=GROUP_ID, chat_type="group")
    reply = await emulator.wait_for("sendMessage", after=mark, where=in_chat(GROUP_ID))
    assert "<b>The Martian</b>" in reply.params["text"]
    assert reply.json("reply_parameters")["message_id"] > 0  # in groups the answer quotes the question

    emulator.send_text("/movie@SomeOtherBot astronaut on Mars", chat_id=GROUP_ID, chat_type="group")
    emulator.send_text("astronaut on Mars", chat_id=GROUP_ID, chat_type="group")
    emulator.send_text(f"/help@{emulator.username}", chat_id=GROUP_ID, chat_type="group")
    sentinel = await emulator.wait_for("sendMessage", after=mark,
                                       where=lambda c: "<code>" in c.params["text"])

    replies = emulator.successful("sendMessage", after=mark)
    assert replies == [reply, sentinel]
    assert bot.search.calls == [("astronaut on Mars", 5, 0)]


async def test_plain_text_in_private_chat_is_a_search(bot: RunningBot) -> None:
    reply = await search_in_private(bot, "a crew finds a distress signal from a spaceship")
    assert "<b>Alien</b> (1979)" in reply.params["text"]


@pytest.mark.parametrize("command", ["/movie", "/movie    ", "/start", "/help", "/unknown"])
async def test_usage_with_an_example(bot: RunningBot, command: str) -> None:
    reply = await search_in_private(bot, command)
    assert reply.params["parse_mode"] == "HTML"
    assert f"<code>/movie {EXAMPLE_QUERY}</code>" in reply.params["text"]
    assert f"@{bot.emulator.username}" in reply.params["text"]
    assert bot.search.calls == []


async def test_command_menu_is_registered(bot: RunningBot) -> None:
    commands = (await bot.emulator.wait_for("setMyCommands")).json("commands")
    assert [c["command"] for c in commands] == ["movie", "similar", "help"]


async def test_inline_query_offers_articles(bot: RunningBot) -> None:
    mark = bot.emulator.mark()
    bot.emulator.inline_query("astronaut stranded on Mars")
    answer = await bot.emulator.wait_for("answerInlineQuery", after=mark)
    articles = answer.json("results")
    assert [a["type"] for a in articles] == ["article"] * len(SAMPLE_MOVIES)
    assert articles[0]["title"] == "The Martian (2015)"
    content = articles[0]["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert content["message_text"].startswith("<b>The Martian</b> (2015)")
    assert "next_offset" not in answer.params  # no more pages


@pytest.mark.parametrize("search", [FakeMovieSearch(tuple(
    Movie(f"tt{9000000 + n}", f"Mars mission {n}", 2000 + n, "Astronauts on Mars.") for n in range(23)))])
async def test_inline_query_pages_with_telegram_offsets(bot: RunningBot) -> None:
    mark = bot.emulator.mark()
    bot.emulator.inline_query("mars", offset="10")
    answer = await bot.emulator.wait_for("answerInlineQuery", after=mark)
    assert answer.params["next_offset"] == "20"
    assert [a["id"] for a in answer.json("results")] == [str(n) for n in range(11, 21)]


@pytest.mark.parametrize(("query", "offset"), [("", ""), ("mars", "forged"), ("mars", "9999"), ("!!!", "")])
async def test_inline_query_without_usable_input_gets_an_empty_answer(
    bot: RunningBot, query: str, offset: str
) -> None:
    mark = bot.emulator.mark()
    bot.emulator.inline_query(query, offset)
    answer = await bot.emulator.wait_for("answerInlineQuery", after=mark)
    assert answer.json("results") == []
    assert answer.json("button")["start_parameter"] == "help"


@pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")
async def test_flood_limit_delays_the_reply_instead_of_losing_it(bot: RunningBot) -> None:
    bot.emulator.flood_once("sendMessage", retry_after=1)
    mark = bot.emulator.mark()
    reply = await search_in_private(bot)
    assert "<b>The Martian</b>" in reply.params["text"]
    statuses = [c.status for c in bot.emulator.calls[mark:] if c.method == "sendMessage"]
    assert statuses == [429, 200]
    await search_in_private(bot, "/help")  # anything still queued would be sent before this
    assert len(bot.emulator.successful("sendMessage", after=mark)) == 2  # the reply once, then the help


@pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")
async def test_a_flood_limited_typing_indicator_does_not_hold_up_the_search(bot: RunningBot) -> None:
    bot.emulator.flood_once("sendChatAction", retry_after=30)
    mark = bot.emulator.mark()
    reply = await search_in_private(bot)
    assert "<b>The Martian</b>" in reply.params["text"]
    before_reply = bot.emulator.calls[mark:bot.emulator.calls.index(reply)]
    assert [c.status for c in before_reply if c.method == "sendChatAction"] == [429]
    await search_in_private(bot, "/help")  # the skipped indicator was no error: no apology was sent
    assert not any(c.params.get("text") == SORRY for c in bot.emulator.calls[mark:])


async def test_errors_users_can_act_on_are_shown_as_is(bot: RunningBot) -> None:
    bot.search.fail_with = IndexUnavailable("The movie index is not built yet. Try again later.")
    reply = await search_in_private(bot)
    assert reply.params["text"] == "The movie index is not built yet. Try again later."
    assert "parse_mode" not in reply.params


async def test_unexpected_errors_are_logged_with_traceback_and_hidden_from_users(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bot.search.fail_with = RuntimeError("internal detail: /srv/index shard 7")
    reply = await search_in_private(bot)
    assert reply.params["text"] == SORRY
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert "internal detail" in caplog.text
    ours = [r for r in caplog.records if r.name.startswith("bot.telegram")]
    assert ours and not any(TOKEN in r.getMessage() for r in ours)  # httpx URLs are scrubbed process-wide


async def test_an_inline_query_that_crashes_still_gets_an_answer(bot: RunningBot) -> None:
    bot.search.fail_with = RuntimeError("internal detail")
    mark = bot.emulator.mark()
    bot.emulator.inline_query("astronaut stranded on Mars")
    answer = await bot.emulator.wait_for("answerInlineQuery", after=mark)
    assert answer.json("results") == []
    assert answer.params["cache_time"] in (0, "0")


async def test_stop_shuts_down_cleanly_and_leaves_the_search_to_its_owner(bot: RunningBot) -> None:
    await search_in_private(bot)
    await bot.shut_down()
    assert bot.task.result() is None
    assert not bot.search.closed  # serve built it and closes it once every adapter has stopped


async def test_hostile_catalog_text_is_sent_as_valid_html(emulator: BotApiEmulator) -> None:
    hostile = tuple(
        Movie(f"tt{1000000 + n}", f'<script>alert("x")</script> & Mars {"<b>" * 300}', 1999,
              "Mars & <i>unclosed " + "astronaut & <tag> " * 400)
        for n in range(7)
    )
    application = build_application(load_settings(TELEGRAM_TOKEN=TOKEN, TELEGRAM_BASE_URL=emulator.base_url),
                                    FakeMovieSearch(hostile))
    stop = asyncio.Event()
    task = asyncio.create_task(run_telegram(application, stop))
    try:
        mark = emulator.mark()
        emulator.send_text("/movie Mars astronaut")
        reply = await emulator.wait_for("sendMessage", after=mark)  # the emulator rejects invalid HTML
        assert "&lt;script&gt;" in reply.params["text"]
        emulator.inline_query("Mars astronaut")
        await emulator.wait_for("answerInlineQuery", after=mark)
        assert all(c.ok for c in emulator.calls[mark:])
    finally:
        stop.set()
        await task


async def test_rejected_token_is_a_config_error_that_does_not_quote_it(
    emulator: BotApiEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "999999:WRONG-secret-token"
    search = FakeMovieSearch()
    application = build_application(load_settings(TELEGRAM_TOKEN=wrong, TELEGRAM_BASE_URL=emulator.base_url),
                                    search)
    with pytest.raises(ConfigError) as caught:
        await run_telegram(application, asyncio.Event())
    assert "TELEGRAM_TOKEN" in caught.value.user_message
    assert wrong not in str(caught.value)
    assert not any(wrong in r.getMessage() for r in caplog.records if r.name.startswith("bot.telegram"))
    assert search.calls == [] and not search.closed  # the caller owns the search: the adapter never closes it
    assert emulator.calls[0].method == "getMe" and emulator.calls[0].status == 401
