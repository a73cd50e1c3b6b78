"""Network errors while polling: the bot keeps polling, and every update is answered exactly once, none
skipped (Telegram re-sends what was never confirmed) and none twice."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.secrets_scan import logs_scanned_for_secrets  # noqa: F401  (a fixture)
from tests.telegram.conftest import RunningBot

pytestmark = pytest.mark.usefixtures("logs_scanned_for_secrets")


CHATS = range(7001, 7007)


async def answered_chats(bot: RunningBot, mark: int, expected: int) -> Counter[int]:
    """Chats answered since `mark`, once `expected` replies are in and everything fetched is handled."""
    await bot.emulator.wait_for(
        "sendMessage", after=mark,
        where=lambda _: len(bot.emulator.successful("sendMessage", after=mark)) >= expected,
    )
    await bot.settled()
    return Counter(int(c.params["chat_id"]) for c in bot.emulator.successful("sendMessage", after=mark))


@pytest.mark.parametrize("faults", [("502",), ("cut",), ("cut", "502", "cut")],
                         ids=["bad gateway", "connection cut", "three in a row"])
async def test_polling_resumes_and_answers_each_update_exactly_once(bot: RunningBot, faults: tuple[str, ...]) -> None:
    emulator = bot.emulator
    mark = emulator.mark()
    emulator.fail_polls(*faults)
    for chat in CHATS[:3]:
        emulator.send_text("/movie astronaut stranded on Mars", chat_id=chat, user_id=chat)
    first = await answered_chats(bot, mark, 3)
    for chat in CHATS[3:]:  # and polling carries on after the faults
        emulator.send_text("/movie astronaut stranded on Mars", chat_id=chat, user_id=chat)
    answered = await answered_chats(bot, mark, 6)

    assert first == Counter(CHATS[:3])
    assert answered == Counter(CHATS)  # every chat exactly once
    polls = [c for c in emulator.calls[mark:] if c.method == "getUpdates"]
    assert [c.status for c in polls if not c.ok] == [0 if f == "cut" else 502 for f in faults]
    assert len(bot.search.calls) == len(CHATS)
