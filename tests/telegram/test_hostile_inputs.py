"""Every hostile input through the real Telegram stack against the Bot API emulator (which checks HTML like
Telegram does): as /movie, as private text and in inline mode, each gets a valid reply or a deliberate
silence, and no handler error reaches PTB's error handler."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.telegram.handlers import SORRY
from tests.hostile_inputs import PLATFORM, QUERIES, assert_fit_for_a_person
from tests.telegram.conftest import TOKEN, RunningBot, StartBot
from tests.telegram.test_e2e import in_chat

GROUP_ID = -100777


@pytest.fixture
async def open_bot(start_bot: StartBot) -> RunningBot:
    return await start_bot(RATE_LIMIT="off")


@pytest.fixture(autouse=True)
def errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.INFO)
    yield
    problems = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not problems, [r.getMessage() for r in problems]


def check_reply(call: Any, expect: str, name: str = "") -> None:
    text = call.params["text"]
    assert call.ok and text != SORRY, name
    assert_fit_for_a_person(text, TOKEN)
    assert ("imdb.com/title/" in text) == (expect == "results"), f"{name}: {text[:200]}"


async def reply_to(bot: RunningBot, text: str, chat_id: int, chat_type: str = "private") -> Any:
    mark = bot.emulator.mark()
    bot.emulator.send_text(text, chat_id=chat_id, chat_type=chat_type, user_id=abs(chat_id))
    return await bot.emulator.wait_for("sendMessage", after=mark, where=in_chat(chat_id))


async def test_as_a_movie_command(open_bot: RunningBot) -> None:
    """One bot for the whole corpus (starting one per case is most of the cost); each case in its own chat."""
    for n, case in enumerate(QUERIES):
        reply = await reply_to(open_bot, f"/movie {case.text}", 10_000 + n)
        check_reply(reply, case.expect, case.name)
    assert all(c.ok for c in open_bot.emulator.calls if c.method == "sendMessage")


async def test_as_private_text(open_bot: RunningBot) -> None:
    for n, case in enumerate(QUERIES):
        if not case.text.strip() or case.text.startswith("/"):
            continue  # Telegram delivers no blank messages; commands are the case above
        check_reply(await reply_to(open_bot, case.text, 20_000 + n), case.expect, case.name)


async def test_in_inline_mode(open_bot: RunningBot) -> None:
    emulator = open_bot.emulator
    for n, case in enumerate(QUERIES):
        mark = emulator.mark()
        emulator.inline_query(case.text, user_id=30_000 + n)
        answer = await emulator.wait_for("answerInlineQuery", after=mark)  # the emulator checked each article
        if case.searches:
            assert answer.json("results"), case.name
            for article in answer.json("results"):
                assert_fit_for_a_person(article["input_message_content"]["message_text"], TOKEN)
        else:
            assert answer.json("results") == [], case.name
            assert answer.json("button")["start_parameter"] == "help"


@pytest.mark.parametrize("case", [c for c in PLATFORM if "telegram" in c], ids=lambda c: c["name"])
async def test_platform_cases(open_bot: RunningBot, case: dict[str, Any]) -> None:
    spec = case["telegram"]
    emulator = open_bot.emulator
    chat_id, chat_type = (GROUP_ID, "group") if spec["chat"] == "group" else (5004, "private")
    if "edit_to" in spec:
        mark = emulator.mark()
        original = emulator.send_text(spec["send"], chat_id=chat_id, chat_type=chat_type, user_id=5004)
        check_reply(await emulator.wait_for("sendMessage", after=mark, where=in_chat(chat_id)), "results")
        searches = len(open_bot.search.calls)
        mark = emulator.mark()
        emulator.edit_text(original, spec["edit_to"])
    else:
        mark = emulator.mark()
        emulator.send_text(spec["send"], chat_id=chat_id, chat_type=chat_type, user_id=5004)
        searches = len(open_bot.search.calls)
    # Updates are fetched in order: once a later message is answered, the case was fetched; settled() then
    # waits until every fetched update is handled (handlers run concurrently, so not necessarily in order).
    later = await reply_to(open_bot, "/help", chat_id, chat_type)
    await open_bot.settled()
    replies = [c for c in emulator.successful("sendMessage", after=mark) if c is not later]
    if spec["expect"] == "silence":
        assert replies == []
        assert len(open_bot.search.calls) == searches
    else:
        [reply] = replies
        check_reply(reply, spec["expect"])
