"""A slow search shows "typing", answers its "More results" button at once, and holds up no other chat.

"Slow" is a search held on a gate the test opens, so nothing here depends on timing.
"""

from __future__ import annotations

import pytest

from bot.telegram.render import MORE_LABEL
from tests.fakes import GatedSearch
from tests.telegram.conftest import RunningBot
from tests.telegram.emulator import USER_ID
from tests.telegram.test_e2e import buttons, in_chat

OTHER_CHAT = 2002


@pytest.fixture
def search() -> GatedSearch:
    return GatedSearch()


async def test_a_slow_search_types_and_other_chats_are_answered_meanwhile(bot: RunningBot) -> None:
    gated = bot.search
    assert isinstance(gated, GatedSearch)
    emulator = bot.emulator
    mark = emulator.mark()
    try:
        emulator.send_text("/movie astronaut stranded on Mars")
        await gated.wait_started(1)
        typing = await emulator.wait_for("sendChatAction", after=mark)
        assert typing.params["action"] == "typing"

        emulator.send_text("/help", chat_id=OTHER_CHAT)  # served while the first search is still running
        help_reply = await emulator.wait_for("sendMessage", after=mark, where=in_chat(OTHER_CHAT))
        assert "<code>/movie" in help_reply.params["text"]
        assert emulator.successful("sendMessage", after=mark) == [help_reply]
    finally:
        gated.gate.set()  # also when a check fails, so the bot can shut down
    reply = await emulator.wait_for("sendMessage", after=mark, where=in_chat(USER_ID))
    assert "<b>The Martian</b>" in reply.params["text"]


async def test_more_results_is_answered_before_a_slow_search(bot: RunningBot) -> None:
    gated = bot.search
    assert isinstance(gated, GatedSearch)
    gated.gate.set()
    mark = bot.emulator.mark()
    bot.emulator.send_text("/movie astronaut stranded on Mars")
    first = await bot.emulator.wait_for("sendMessage", after=mark)

    gated.gate.clear()
    mark = bot.emulator.mark()
    bot.emulator.press_button(first.result, buttons(first)[MORE_LABEL])
    await gated.wait_started(2)
    await bot.emulator.wait_for("answerCallbackQuery", after=mark)  # the client's spinner stops now
    assert not bot.emulator.successful("editMessageText", after=mark)

    gated.gate.set()
    edit = await bot.emulator.wait_for("editMessageText", after=mark)
    assert edit.params["text"].startswith("Results 6–7 for")
