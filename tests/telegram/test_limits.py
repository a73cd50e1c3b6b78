"""Abuse limits on Telegram: RATE_LIMIT per user for commands, private text and inline mode, with a polite note
saying when to try again; the shared cap on pending searches answers "busy"."""

from __future__ import annotations

import re

import pytest

from bot.telegram.handlers import SORRY
from core.search_guard import BUSY_MESSAGE, BoundedSearch
from tests.fakes import GatedSearch
from tests.telegram.conftest import RunningBot, StartBot
from tests.telegram.emulator import USER_ID
from tests.telegram.test_e2e import in_chat
from tests.telegram.test_similar import buttons, press

OTHER_USER = 3003
GROUP_ID = -100500


@pytest.fixture
async def limited(start_bot: StartBot) -> RunningBot:
    return await start_bot(RATE_LIMIT="2/1h")


def wait_in_reply(text: str) -> int:
    found = re.search(r"try again in (\d+) seconds?", text)
    assert found, text
    return int(found[1])


async def ask(bot: RunningBot, text: str, *, user_id: int = USER_ID, chat_id: int | None = None) -> str:
    mark = bot.emulator.mark()
    chat = chat_id if chat_id is not None else user_id
    bot.emulator.send_text(text, chat_id=chat, user_id=user_id, chat_type="private" if chat > 0 else "group")
    reply = await bot.emulator.wait_for("sendMessage", after=mark, where=in_chat(chat))
    return reply.params["text"]


async def test_a_user_over_the_limit_is_told_when_to_try_again_and_nothing_is_searched(limited: RunningBot) -> None:
    assert "The Martian" in await ask(limited, "/movie astronaut stranded on Mars")
    assert "The Martian" in await ask(limited, "astronaut stranded on Mars")  # private text counts too
    note = await ask(limited, "/movie lunar mission")
    assert 3590 <= wait_in_reply(note) <= 3600
    assert note != SORRY
    note = await ask(limited, "a spaceship intercepts a distress signal")
    assert wait_in_reply(note) > 3000
    assert len(limited.search.calls) == 2

    # Others are not affected, and usage text costs nothing.
    assert "The Martian" in await ask(limited, "/movie astronaut stranded on Mars", user_id=OTHER_USER)
    assert "/movie" in await ask(limited, "/movie")
    assert len(limited.search.calls) == 3


async def test_another_bots_command_stays_silent_even_over_the_limit(limited: RunningBot) -> None:
    for query in ("/movie one", "/movie two"):
        await ask(limited, query)
    mark = limited.emulator.mark()
    limited.emulator.send_text("/movie@OtherBot three", chat_id=GROUP_ID, chat_type="group")
    assert "/movie" in await ask(limited, "/help", chat_id=GROUP_ID)  # handled after the command above
    assert len(limited.emulator.successful("sendMessage", after=mark)) == 1  # the help only


async def test_inline_mode_is_limited_on_its_own_and_paging_is_free(limited: RunningBot) -> None:
    emulator = limited.emulator
    for _ in range(2):
        mark = emulator.mark()
        emulator.inline_query("astronaut stranded on Mars")
        answer = await emulator.wait_for("answerInlineQuery", after=mark)
        assert answer.json("results")
    mark = emulator.mark()
    emulator.inline_query("astronaut stranded on Mars", offset="2")  # scrolling the answer: not a search
    assert (await emulator.wait_for("answerInlineQuery", after=mark)).json("results")

    mark = emulator.mark()
    emulator.inline_query("lunar mission")
    refused = await emulator.wait_for("answerInlineQuery", after=mark)
    assert refused.json("results") == []
    assert re.fullmatch(r"Too many searches: try again in \d+ s", refused.json("button")["text"])
    assert refused.params["cache_time"] in (0, "0")
    assert "The Martian" in await ask(limited, "/movie astronaut stranded on Mars")  # chat searches still free


async def test_rate_limit_off_lets_every_search_through(start_bot: StartBot) -> None:
    bot = await start_bot(RATE_LIMIT="off")
    for _ in range(8):
        assert "The Martian" in await ask(bot, "/movie astronaut stranded on Mars")


async def test_past_the_pending_cap_a_search_gets_a_polite_busy(start_bot: StartBot) -> None:
    gated = GatedSearch()
    bot = await start_bot(BoundedSearch(gated, max_pending=1))
    emulator = bot.emulator
    try:
        mark = emulator.mark()
        emulator.send_text("/movie astronaut stranded on Mars")
        await gated.wait_started(1)
        assert await ask(bot, "/movie lunar mission", user_id=OTHER_USER) == BUSY_MESSAGE
        gated.gate.set()
        reply = await emulator.wait_for("sendMessage", after=mark, where=in_chat(USER_ID))
        assert "The Martian" in reply.params["text"]
        assert "The Martian" in await ask(bot, "/movie astronaut stranded on Mars", user_id=OTHER_USER)
    finally:
        gated.gate.set()  # so the shutdown after the test does not wait on the held search


async def test_button_presses_count_as_searches(limited: RunningBot) -> None:
    mark = limited.emulator.mark()
    limited.emulator.send_text("/movie astronaut stranded on Mars")
    first = await limited.emulator.wait_for("sendMessage", after=mark)
    like = buttons(first)["Like #2"]
    _, reply = await press(limited, first, like, "sendMessage")  # the second search of two allowed
    assert reply.params["text"].startswith("Films like")
    mark = limited.emulator.mark()
    limited.emulator.press_button(first.result, like)
    answer = await limited.emulator.wait_for("answerCallbackQuery", after=mark)
    assert wait_in_reply(answer.params["text"]) > 3000
    assert len(limited.search.similar_calls) == 1
