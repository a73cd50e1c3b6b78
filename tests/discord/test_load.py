"""A small run of the chat load benchmark through discord.py and the fake Discord: every /movie of many users
searching at once is acknowledged once and answered exactly once."""

from __future__ import annotations

from collections import Counter

import pytest

from scripts.bench.chat_load import drive_discord
from tests.discord.conftest import RunningBot
from tests.secrets_scan import logs_scanned_for_secrets  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("logs_scanned_for_secrets")


async def test_every_search_of_many_users_is_answered_exactly_once(bot: RunningBot) -> None:
    result = await drive_discord(bot.fake, users=10, per_user=3)
    assert result.missing == 0 and result.without_results == 0
    assert result.answered_exactly_once(), result.summary()
    callbacks = Counter(c.path for c in bot.fake.calls if c.method == "POST" and c.path.startswith("/interactions/"))
    assert len(callbacks) == 30 and set(callbacks.values()) == {1}  # one acknowledgement each
    assert len(bot.search.calls) == 30
