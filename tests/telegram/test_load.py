"""A small run of the chat load benchmark (scripts/bench/chat_load.py): many users searching at once through
the real Telegram stack, each search answered exactly once. Figures come from the script; none are asserted."""

from __future__ import annotations

import pytest

from scripts.bench.chat_load import RESULTS_MARK, drive_telegram
from tests.secrets_scan import logs_scanned_for_secrets  # noqa: F401  (a fixture)
from tests.telegram.conftest import RunningBot

pytestmark = pytest.mark.usefixtures("logs_scanned_for_secrets")


async def test_every_search_of_many_users_is_answered_exactly_once(bot: RunningBot) -> None:
    result = await drive_telegram(bot.emulator, users=20, per_user=3, settle=bot.settled)
    assert result.missing == 0 and result.without_results == 0
    assert result.answered_exactly_once(), result.summary()
    assert len(bot.search.calls) == 60
    replies = bot.emulator.successful("sendMessage")
    assert len(replies) == 60 and all(RESULTS_MARK in r.params["text"] for r in replies)
