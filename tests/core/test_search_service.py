"""SearchService on an in-memory index and a model-free encoder: what a search answers (best match, full records,
pages, hints, bad input), and its threads (ranking never on the loop, a lone query in one hop, the index closed
after the searches in progress). No torch, no real index, nothing private replaced."""

from __future__ import annotations

import asyncio
import threading

import pytest

from core.bootstrap import search_service_for
from core.domain import Candidates
from core.embedding.batcher import BatcherClosed
from core.errors import IndexUnavailable, InvalidQuery, ShuttingDown
from core.index.port import RetrievalRequest
from core.models import Movie
from core.query_text import MAX_RESULTS
from core.search_service import WARM_UP_PASSES, WARM_UP_QUERIES, SearchService
from tests.embedding.fake_encoder import BagOfWordsEncoder
from tests.fakes import SAMPLE_MOVIES, FakeMovieIndex

MARTIAN = "tt3659388"
MARTIAN_QUERY = "an astronaut presumed dead after a storm on Mars is left behind by his crew"


def service_on(index: FakeMovieIndex) -> SearchService:
    return search_service_for(index, BagOfWordsEncoder())  # the encoder FakeMovieIndex embeds its movies with


@pytest.fixture
def index() -> FakeMovieIndex:
    return FakeMovieIndex()


async def test_the_best_match_comes_first_with_its_full_record(index: FakeMovieIndex) -> None:
    service = service_on(index)
    try:
        results = await service.search(MARTIAN_QUERY, limit=3)
    finally:
        await service.aclose()
    assert results.query == MARTIAN_QUERY
    assert [h.rank for h in results.hits] == [1, 2, 3]
    best = results.hits[0]
    assert best.movie == next(m for m in SAMPLE_MOVIES if m.imdb_id == MARTIAN)  # the whole record, not facts
    scores = [h.score for h in results.hits]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert results.has_more


async def test_the_blocking_path_answers_like_the_async_one(index: FakeMovieIndex) -> None:
    service = service_on(index)
    try:
        via_loop = await service.search(MARTIAN_QUERY, limit=5)
        direct = service.search_sync(MARTIAN_QUERY, limit=5)
    finally:
        await service.aclose()
    assert direct.hits == via_loop.hits


def test_pages_follow_on_without_overlap_and_the_last_says_so(index: FakeMovieIndex) -> None:
    service = service_on(index)
    first = service.search_sync("space mission astronaut", limit=3)
    second = service.search_sync("space mission astronaut", limit=3, offset=3)
    last = service.search_sync("space mission astronaut", limit=3, offset=6)
    everything = service.search_sync("space mission astronaut", limit=10)
    assert [h.rank for h in second.hits] == [4, 5, 6]
    assert [h.movie for h in (*first.hits, *second.hits, *last.hits)] == [h.movie for h in everything.hits]
    assert len(everything.hits) == len(SAMPLE_MOVIES)
    assert first.has_more and second.has_more
    assert not last.has_more and len(last.hits) == len(SAMPLE_MOVIES) - 6


def test_limits_are_clamped_to_what_can_be_shown(index: FakeMovieIndex) -> None:
    service = service_on(index)
    assert len(service.search_sync("space", limit=0).hits) == 1
    service.search_sync("space", limit=10_000)
    assert index.requests[-1].limit >= 1
    assert service.search_sync("space", offset=10 * MAX_RESULTS).hits == ()


def test_unusable_text_is_refused_before_the_index_is_asked(index: FakeMovieIndex) -> None:
    service = service_on(index)
    for text in ("", "   ", "?!…"):
        with pytest.raises(InvalidQuery):
            service.search_sync(text)
    assert index.requests == []


def test_a_decade_reaches_the_index_as_a_year_hint_and_lifts_films_from_it() -> None:
    twins = (Movie("tt0000001", "Harbour Lights", 1985, "A fisherman and his daughter run a lighthouse."),
             Movie("tt0000002", "Harbour Nights", 2012, "A fisherman and his daughter run a lighthouse."))
    index = FakeMovieIndex(twins)
    service = service_on(index)
    results = service.search_sync("80s film about a fisherman who runs a lighthouse with his daughter")
    assert index.requests[-1].year_range == (1980, 1989)
    assert results.hits[0].movie.imdb_id == "tt0000001"
    assert service.search_sync("2010s film about a fisherman and a lighthouse").hits[0].movie.imdb_id == "tt0000002"


def test_a_named_director_lifts_the_film_they_made() -> None:
    plot = "Two rival chefs open restaurants on the same street."
    rivals = (Movie("tt0000003", "Kitchen Wars", 2001, plot, directors=("Agnes Varda",), vote_count=900),
              Movie("tt0000004", "Street Food", 2001, plot, directors=("Werner Herzog",), vote_count=100))
    service = service_on(FakeMovieIndex(rivals))
    assert service.search_sync("rival chefs open restaurants").hits[0].movie.title == "Kitchen Wars"  # more votes
    assert service.search_sync("werner herzog film about rival chefs").hits[0].movie.title == "Street Food"


def test_a_movie_the_index_no_longer_holds_is_left_out_of_the_page() -> None:
    class Forgetful(FakeMovieIndex):
        def movies(self, imdb_ids: list[str]) -> list[Movie]:  # type: ignore[override]
            return [m for m in super().movies(imdb_ids) if m.imdb_id != MARTIAN]

    service = service_on(Forgetful())
    hits = service.search_sync(MARTIAN_QUERY, limit=3).hits
    assert MARTIAN not in {h.movie.imdb_id for h in hits}
    assert len(hits) == 2


async def test_a_lone_search_is_encoded_and_ranked_in_one_worker_thread(index: FakeMovieIndex) -> None:
    service = service_on(index)
    try:
        await service.warmed()  # its searches run on the ranking thread
        index.threads.clear()
        results = await service.search("astronaut stranded on mars")
    finally:
        await service.aclose()
    assert results.query == "astronaut stranded on mars"
    (thread,) = index.threads
    assert thread.startswith("query-encoder")


async def test_concurrent_searches_rank_off_the_loop_on_at_most_two_threads(index: FakeMovieIndex) -> None:
    service = service_on(index)
    queries = [f"film number {i} about a heist" for i in range(40)]
    try:
        await service.warmed()
        index.threads.clear()
        results = await asyncio.gather(*(service.search(q) for q in queries))
    finally:
        await service.aclose()
    assert [r.query for r in results] == queries
    names = set(index.threads)
    assert len(index.threads) == len(queries)
    assert threading.current_thread().name not in names
    assert all(n.startswith(("query-encoder", "search-rank")) for n in names)
    assert any(n.startswith("search-rank") for n in names)  # batched queries rank beside the encoder


async def test_aclose_closes_the_index_once_after_the_search_in_progress() -> None:
    gate = threading.Event()
    index = FakeMovieIndex(gate=gate)
    service = service_on(index)
    try:
        lone = asyncio.create_task(service.search("slow one"))
        assert await asyncio.to_thread(index.retrieving.wait, 10)
        closing = asyncio.create_task(service.aclose())
        await asyncio.sleep(0.05)
        assert index.closes == 0  # the search holds the index
        gate.set()
        await closing
        await service.aclose()
    finally:
        gate.set()
    assert index.closes == 1
    assert index.retrievals_at_close == [1]  # closed after the retrieval in progress finished
    with pytest.raises(BatcherClosed) as closed:
        await lone
    # A person whose search was cut off by a deploy's stop is told to ask again, with no internals.
    assert isinstance(closed.value, ShuttingDown) and "again" in closed.value.user_message
    with pytest.raises(ShuttingDown):
        await service.search("after the stop")
    with pytest.raises(ShuttingDown):
        await service.similar("The Martian")


class SpellingEncoder(BagOfWordsEncoder):
    """The fake encoder, with a vocabulary to repair typos against (as the ONNX encoder's tokenizer has)."""

    def vocabulary(self) -> list[str]:
        return ["astronaut", "presumed", "storm", "behind", "crew", "after", "dead", "left"]


async def test_typos_are_repaired_for_the_retrievers_once_the_speller_is_built(index: FakeMovieIndex) -> None:
    typed = MARTIAN_QUERY.replace("astronaut", "astronuat").replace("presumed", "presumd")
    plain = service_on(index)
    service = search_service_for(index, SpellingEncoder())
    try:
        assert plain.speller() is None  # an encoder that cannot list its words: nothing repaired
        first = await service.search(typed, limit=1)  # asks for the speller, answers without waiting for it
        assert first.query == typed
        speller = service.speller()
        assert speller is not None and speller.repair(typed)[1] == ["astronaut", "presumed"]
        repaired = service.search_sync(typed, limit=3)
        assert repaired.query == typed
        assert repaired.hits[0].movie.imdb_id == MARTIAN
        assert repaired.hits == service.search_sync(MARTIAN_QUERY, limit=3).hits
    finally:
        await plain.aclose()
        await service.aclose()


class HeldWarmUp(FakeMovieIndex):
    """The warm-up starts by asking the index to read ahead: here that waits until the test lets it go, so what
    ran before the warm-up can be checked without racing it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = threading.Event()
        self.release = threading.Event()

    def prefetch(self) -> None:
        self.asked.set()
        self.release.wait(timeout=30)
        super().prefetch()


async def test_the_first_search_starts_the_warm_up_without_waiting_for_it() -> None:
    index = HeldWarmUp()
    service = search_service_for(index, SpellingEncoder())
    try:
        first = await service.search(MARTIAN_QUERY, limit=1)
        assert index.threads == ["query-encoder_0"]  # answered while the warm-up was held, before its searches
        assert await asyncio.to_thread(index.asked.wait, 10)  # the first search started the warm-up
        index.release.set()
        await service.warmed()
        assert index.prefetches == 1  # the index was asked to read its files ahead
        # Every warm-up query, each pass, through the whole path on the ranking thread; then the speller is built.
        assert index.threads[1:] == ["search-rank_0"] * len(WARM_UP_QUERIES) * WARM_UP_PASSES
        # The async path repairs typos only with a speller already built: the warm-up built it.
        typed = MARTIAN_QUERY.replace("astronaut", "astronuat").replace("presumed", "presumd")
        assert (await service.search(typed, limit=3)).hits == (await service.search(MARTIAN_QUERY, limit=3)).hits
        assert first.hits[0].movie.imdb_id == MARTIAN
    finally:
        await service.aclose()


async def test_a_failing_warm_up_is_logged_and_searches_go_on(caplog: pytest.LogCaptureFixture) -> None:
    class Flaky(FakeMovieIndex):
        def __init__(self) -> None:
            super().__init__()
            self.fail = False

        def retrieve(self, request: RetrievalRequest) -> Candidates:
            if self.fail:
                raise IndexUnavailable("the index is being rebuilt")
            return super().retrieve(request)

    index = Flaky()
    service = service_on(index)
    try:
        index.fail = True
        await service.warmed()
        index.fail = False
        assert (await service.search(MARTIAN_QUERY, limit=1)).hits[0].movie.imdb_id == MARTIAN
    finally:
        await service.aclose()
    assert any("warm-up stopped early" in r.getMessage() and "being rebuilt" in r.getMessage()
               for r in caplog.records)


async def test_closing_mid_warm_up_stops_it_after_the_search_in_progress_then_closes_the_index_once() -> None:
    gate = threading.Event()
    index = FakeMovieIndex(gate=gate)
    service = service_on(index)
    try:
        service.warm_up_soon()  # as serve does on start; a SIGTERM may come right after
        assert await asyncio.to_thread(index.retrieving.wait, 10)  # a warm-up search holds the index
        closing = asyncio.create_task(service.aclose())
        await asyncio.sleep(0.05)
        assert index.closes == 0  # not under the search in progress
        gate.set()
        await closing
    finally:
        gate.set()
    assert index.closes == 1
    assert index.retrievals_at_close == [1]  # the warm-up ran no further search once closing began


class BrokenVocabularyEncoder(BagOfWordsEncoder):
    """Claims to list its words, then fails to: the speller cannot be built."""

    def vocabulary(self) -> list[str]:
        raise OSError("vocabulary file unreadable")


async def test_a_speller_that_cannot_be_built_is_logged_and_searches_go_on(
    index: FakeMovieIndex, caplog: pytest.LogCaptureFixture
) -> None:
    service = search_service_for(index, BrokenVocabularyEncoder())
    try:
        first = await service.search(MARTIAN_QUERY, limit=1)  # asks for the speller in the ranking thread
        await service.similar("The Martian")  # the one ranking thread runs in order: the build has ended
        second = await service.search(MARTIAN_QUERY, limit=1)
    finally:
        await service.aclose()
    assert first.hits[0].movie.imdb_id == second.hits[0].movie.imdb_id == MARTIAN
    assert any("typo repair is off" in r.getMessage() and "vocabulary file unreadable" in r.getMessage()
               for r in caplog.records)
