"""Every hostile input as `/movie description:…` through discord.py against the fake Discord: a deferred
results embed within Discord's limits, or an ephemeral explanation; no error reaches the command tree."""

from __future__ import annotations

import logging

import pytest

from tests.discord.conftest import TOKEN, StartBot
from tests.discord.limits import embed_limit_violations
from tests.discord.payloads import movie_command
from tests.hostile_inputs import QUERIES, assert_fit_for_a_person

EPHEMERAL = 64
DEFERRED_WITH_THINKING = 5
MESSAGE = 4


async def test_every_hostile_description(start_bot: StartBot, caplog: pytest.LogCaptureFixture) -> None:
    bot = await start_bot(RATE_LIMIT="off")  # one user sends the whole corpus
    caplog.set_level(logging.INFO)
    for case in QUERIES:
        payload = movie_command(case.text)
        await bot.fake.dispatch("INTERACTION_CREATE", payload)
        [first] = await bot.fake.wait_for_call("POST", f"/interactions/{payload['id']}/")
        if case.searches:
            assert first.body["type"] == DEFERRED_WITH_THINKING, (case.name, first.body)
            [followup] = await bot.fake.wait_for_call("POST", f"/webhooks/1000/{payload['token']}")
            [embed] = followup.body["embeds"]
            assert embed_limit_violations(embed) == [], case.name
            assert "imdb.com/title/" in embed["description"], case.name
            assert_fit_for_a_person(embed["title"] + embed["description"], TOKEN)
            assert not followup.body.get("content"), case.name  # mentions could only ping from content
        else:
            assert first.body["type"] == MESSAGE and first.body["data"]["flags"] == EPHEMERAL, (case.name, first.body)
            assert_fit_for_a_person(first.body["data"]["content"], TOKEN)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    assert len(bot.search.calls) == sum(case.searches for case in QUERIES)
