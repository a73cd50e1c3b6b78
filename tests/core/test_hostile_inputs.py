"""Every hostile input through core: clean_query and the search service (the fake, and the real service over
the fixture index) either search or explain, in bounded time, and never leave text a reply cannot carry."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.bootstrap import open_search_service
from core.errors import InvalidQuery
from core.ingest import IngestReport
from core.query_text import MAX_QUERY_CHARS, clean_query
from tests.conftest import settings_for
from tests.fakes import GUARD_SECONDS, FakeMovieSearch
from tests.hostile_inputs import PLATFORM, QUERIES, HostileQuery, assert_fit_for_a_person, each_query


def test_the_corpus_is_big_enough_and_covers_both_outcomes() -> None:
    assert len(QUERIES) + len(PLATFORM) >= 40
    assert {c.expect for c in QUERIES} == {"results", "explain"}
    assert len({c.name for c in QUERIES}) == len(QUERIES)


@each_query()
def test_clean_query_searches_or_explains(case: HostileQuery) -> None:
    if case.searches:
        cleaned = clean_query(case.text)
        assert 0 < len(cleaned) <= MAX_QUERY_CHARS
        assert cleaned == cleaned.strip()
        assert_fit_for_a_person(cleaned)
        assert clean_query(cleaned) == cleaned  # cleaning twice changes nothing (adapters may pre-clean)
    else:
        with pytest.raises(InvalidQuery) as caught:
            clean_query(case.text)
        assert_fit_for_a_person(caught.value.user_message)


@each_query()
async def test_the_search_port_searches_or_explains(case: HostileQuery) -> None:
    search = FakeMovieSearch()
    async with asyncio.timeout(GUARD_SECONDS):  # a guard against a hang, not a speed requirement
        if case.searches:
            results = await search.search(case.text)
            assert results.hits
            assert_fit_for_a_person(results.query)
        else:
            with pytest.raises(InvalidQuery):
                await search.search(case.text)


@pytest.mark.slow
async def test_the_real_service_searches_or_explains(built: tuple[Path, IngestReport]) -> None:
    """One service (one event loop) for the whole corpus: the real model and index behind each case."""
    root, _ = built
    with open_search_service(settings_for(root / "index")) as service:
        for case in QUERIES:
            async with asyncio.timeout(GUARD_SECONDS):  # a guard against a hang, not a speed requirement
                if case.searches:
                    results = await service.search(case.text, limit=5)
                    assert 0 <= len(results.hits) <= 5, case.name
                    assert all(0.0 <= hit.score <= 1.0 for hit in results.hits), case.name
                    assert_fit_for_a_person(results.query)
                else:
                    with pytest.raises(InvalidQuery):
                        await service.search(case.text)
