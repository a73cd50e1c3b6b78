"""Wiring details: server URLs, a missing token, and the typing indicator during a slow search."""

from __future__ import annotations

import asyncio

import pytest

from bot.telegram import handlers
from bot.telegram.app import api_urls, build_application
from core.errors import ConfigError
from core.settings import load_settings
from tests.fakes import FakeMovieSearch
from tests.telegram.conftest import TOKEN, RunningBot


@pytest.mark.parametrize(
    "base", ["http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/bot/", "http://127.0.0.1:8081"]
)
def test_base_url_gives_matching_api_and_file_urls(base: str) -> None:
    assert api_urls(base) == ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot")


def test_application_uses_the_configured_server() -> None:
    settings = load_settings(TELEGRAM_TOKEN=TOKEN, TELEGRAM_BASE_URL="http://127.0.0.1:8081/bot")
    bot = build_application(settings, FakeMovieSearch()).bot
    assert bot.base_url == f"http://127.0.0.1:8081/bot{TOKEN}"
    assert bot.base_file_url == f"http://127.0.0.1:8081/file/bot{TOKEN}"


def test_missing_token_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_TOKEN"):
        build_application(load_settings(TELEGRAM_TOKEN=""), FakeMovieSearch())


async def test_typing_is_refreshed_while_a_slow_search_runs(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers, "TYPING_REFRESH_SECONDS", 0.01)
    bot.search.delay = 0.3
    mark = bot.emulator.mark()
    bot.emulator.send_text("/movie astronaut")
    reply = await bot.emulator.wait_for("sendMessage", after=mark)
    replied_at = bot.emulator.calls.index(reply)
    assert sum(c.method == "sendChatAction" for c in bot.emulator.calls[mark:replied_at]) >= 2
    await asyncio.sleep(0.05)
    # the indicator stops with the search
    assert not any(c.method == "sendChatAction" for c in bot.emulator.calls[replied_at:])
