"""`/movie` end to end: the real discord.py client against the fake Discord, checking the recorded calls."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
import pytest

from bot.discord.client import build_client, run_discord
from bot.discord.failures import APOLOGY
from core.errors import IndexUnavailable
from core.models import Movie
from core.query_text import MAX_QUERY_CHARS
from core.settings import Settings
from tests.discord.conftest import TOKEN, RunningBot, StartBot
from tests.discord.fake_discord import FakeDiscord, RecordedCall
from tests.discord.limits import embed_limit_violations
from tests.discord.payloads import movie_command
from tests.fakes import FakeMovieSearch

EPHEMERAL = 64


def _interaction_calls(bot: RunningBot, payload: dict[str, Any]) -> list[RecordedCall]:
    """The calls answering one interaction: its callback and the webhook calls made with its token."""
    return [c for c in bot.fake.calls if payload["id"] in c.path or payload["token"] in c.path]


async def _ask(bot: RunningBot, payload: dict[str, Any]) -> list[RecordedCall]:
    await bot.fake.dispatch("INTERACTION_CREATE", payload)
    await bot.fake.wait_for_call("POST", f"/webhooks/1000/{payload['token']}")
    return _interaction_calls(bot, payload)


async def test_defers_first_then_follows_up_with_a_results_embed(bot: RunningBot) -> None:
    payload = movie_command("astronaut stranded on Mars", results=3)
    calls = await _ask(bot, payload)

    assert [c.method for c in calls] == ["POST", "POST"]
    assert calls[0].path.endswith("/callback") and calls[0].body["type"] == 5
    followup = calls[1].body
    embed = followup["embeds"][0]
    assert "astronaut stranded on Mars" in embed["title"]
    assert "[The Martian (2015)](https://www.imdb.com/title/tt3659388/)" in embed["description"]
    assert "score " in embed["description"]
    assert embed["description"].count("\n\n") == 2  # three entries
    assert embed_limit_violations(embed) == []
    assert bot.search.calls == [("astronaut stranded on Mars", 3, 0)]


async def test_results_default_to_five(bot: RunningBot) -> None:
    await _ask(bot, movie_command("a mission in space"))
    assert bot.search.calls == [("a mission in space", 5, 0)]


async def test_works_in_direct_messages(bot: RunningBot) -> None:
    calls = await _ask(bot, movie_command("lunar mission troubles", in_dm=True))
    assert calls[0].body["type"] == 5
    assert "Apollo 13" in calls[1].body["embeds"][0]["description"]


async def test_extreme_catalog_entries_still_fit_every_limit(start_bot: StartBot) -> None:
    huge = tuple(
        Movie(f"tt{i:07d}", ("Mars **bold** [link](x) 🚀 " * 400) + str(i), 2000 + i,
              ("astronaut Mars\n# heading\n> quote `code` " + "é̃🚀" * 3000) * 3)
        for i in range(10)
    )
    bot = await start_bot(movies=FakeMovieSearch(huge))
    calls = await _ask(bot, movie_command("astronaut on Mars " * 50, results=10))

    embed = calls[1].body["embeds"][0]
    assert embed_limit_violations(embed) == []
    assert embed["description"].count("https://www.imdb.com/title/") == 10


async def test_empty_description_gets_an_ephemeral_explanation_without_searching(bot: RunningBot) -> None:
    payload = movie_command("   \u200b  ")
    await bot.fake.dispatch("INTERACTION_CREATE", payload)
    [call] = await bot.fake.wait_for_call("POST", f"/interactions/{payload['id']}/")

    assert call.body["type"] == 4
    assert call.body["data"]["flags"] == EPHEMERAL
    assert "Describe the movie" in call.body["data"]["content"]
    assert bot.search.calls == []


async def test_too_long_description_gets_an_ephemeral_explanation(bot: RunningBot) -> None:
    payload = movie_command("space " * MAX_QUERY_CHARS)
    await bot.fake.dispatch("INTERACTION_CREATE", payload)
    [call] = await bot.fake.wait_for_call("POST", f"/interactions/{payload['id']}/")

    assert call.body["type"] == 4 and call.body["data"]["flags"] == EPHEMERAL
    assert f"under {MAX_QUERY_CHARS:,}" in call.body["data"]["content"]
    assert bot.search.calls == []


async def test_a_crash_after_deferring_still_answers_and_logs_the_traceback(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot.search.fail_with = RuntimeError("embedding model exploded")
    caplog.set_level(logging.DEBUG)
    calls = await _ask(bot, movie_command("astronaut on Mars"))

    assert calls[0].body["type"] == 5
    assert calls[1].body["content"] == APOLOGY
    failures = [r for r in caplog.records if r.name == "bot.discord.failures"]
    assert failures and failures[0].exc_info is not None
    assert "embedding model exploded" in caplog.text
    assert TOKEN not in caplog.text


async def test_a_user_facing_error_after_deferring_shows_its_message(bot: RunningBot) -> None:
    bot.search.fail_with = IndexUnavailable("The movie index is not built yet; try again later.")
    calls = await _ask(bot, movie_command("astronaut on Mars"))

    assert calls[0].body["type"] == 5
    assert calls[1].body["content"] == "The movie index is not built yet; try again later."


async def test_commands_sync_globally_without_a_guild(bot: RunningBot) -> None:
    [sync] = bot.fake.calls_to("PUT", "/commands")
    assert sync.path == "/applications/1000/commands"
    command, similar = sync.body
    assert command["name"] == "movie"
    assert similar["name"] == "similar" and set(similar["contexts"]) >= {0, 1}
    [title] = similar["options"]
    assert (title["name"], title["type"], title["required"]) == ("title", 3, True)
    options = {o["name"]: o for o in command["options"]}
    assert options["description"]["type"] == 3 and options["description"]["required"] is True
    results = options["results"]
    assert (results["type"], results["min_value"], results["max_value"]) == (4, 1, 10)
    assert not results.get("required", False)
    assert set(command["contexts"]) >= {0, 1}  # guild channels and DMs with the bot


async def test_commands_sync_to_the_configured_guild_only(start_bot: StartBot) -> None:
    bot = await start_bot(guild_id=4000)
    [sync] = bot.fake.calls_to("PUT", "/commands")
    assert sync.path == "/applications/1000/guilds/4000/commands"
    assert [c["name"] for c in sync.body] == ["movie", "similar"]


async def test_rest_and_gateway_go_to_the_configured_base_with_the_token(bot: RunningBot) -> None:
    assert bot.fake.identify_payload is not None and bot.fake.identify_payload["token"] == TOKEN
    assert bot.fake.calls[0].headers["Authorization"] == f"Bot {TOKEN}"


async def test_stop_closes_the_client_and_leaves_the_search_to_its_owner(bot: RunningBot) -> None:
    await bot.shut_down()
    assert bot.client.is_closed()
    assert not bot.search.closed  # serve built it and closes it once every adapter has stopped
    assert bot.task.exception() is None


async def test_a_gateway_reconnect_does_not_sync_commands_again(bot: RunningBot) -> None:
    await bot.fake.drop_connection()
    async with asyncio.timeout(10):
        await bot.fake.resumed.wait()

    assert bot.fake.connections == 2
    assert len(bot.fake.calls_to("PUT", "/commands")) == 1
    calls = await _ask(bot, movie_command("astronaut on Mars"))
    assert calls[0].body["type"] == 5


async def test_a_rejected_token_ends_run_discord_with_login_failure(fake: FakeDiscord) -> None:
    fake.reject_token = True
    client = build_client(Settings(DISCORD_API_BASE=fake.base_url, DISCORD_GUILD_ID=None), FakeMovieSearch())
    with pytest.raises(discord.LoginFailure):
        await run_discord(client, TOKEN, asyncio.Event())
    assert client.is_closed()
