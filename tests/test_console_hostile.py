"""Every hostile input through the console chat: a results reply or a friendly explanation, never a crash."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.console import reply_to
from core.models import SearchResults
from tests.fakes import FakeMovieSearch
from tests.hostile_inputs import HostileQuery, assert_fit_for_a_person, each_query


def sync_search(fake: FakeMovieSearch) -> Callable[[str], SearchResults]:
    def search(query: str) -> SearchResults:
        return asyncio.run(fake.search(query))

    return search


@each_query()
def test_the_console_searches_or_explains(case: HostileQuery) -> None:
    fake = FakeMovieSearch()
    reply = reply_to(f"/movie {case.text}", sync_search(fake))
    assert reply is not None  # only /quit ends the chat
    assert_fit_for_a_person(reply)
    assert ("imdb.com/title/" in reply) == case.searches
