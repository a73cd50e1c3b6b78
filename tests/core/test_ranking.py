import json
from dataclasses import dataclass
from pathlib import Path

from core.domain import Candidates, MovieFacts, movie_facts
from core.genres import genre_mask
from core.query_intent import parse_intent
from core.ranking import DEFAULT_WEIGHTS, Ranker, RankingWeights


@dataclass(frozen=True)
class Film:
    """What the index knows of a film for ranking; `at` scores it as a candidate."""

    imdb_id: str
    year: int
    people: tuple[str, ...] = ()
    votes: int = 50
    title: str = ""

    def at(self, dense: float, sparse: float) -> tuple[MovieFacts, float, float]:
        payload = {"imdb_id": self.imdb_id, "title": self.title or f"Title {self.imdb_id}", "year": self.year,
                   "vote_count": self.votes, "cast": self.people}
        return movie_facts(payload), dense, sparse


A = Film("tt0000001", 1985, people=("Tom Hanks",))
B = Film("tt0000002", 2012)
C = Film("tt0000003", 1999, people=("Meg Ryan",))


# Retrievers always return a crowd of weak matches; ranking normalises each signal against it.
CROWD = [Film(f"tt10000{i:02d}", 2000).at(0.30 + i * 0.001, i % 3) for i in range(40)]


def candidates() -> list[tuple[MovieFacts, float, float]]:
    """B is ahead on both signals, A close behind, C far behind."""
    return [B.at(0.60, 7.0), A.at(0.57, 6.0), C.at(0.40, 5.0), *CROWD]


def order(query: str, cands: list[tuple[MovieFacts, float, float]]) -> list[str]:
    return [r.imdb_id for r in Ranker().rank(parse_intent(query), Candidates.of(cands), 10)]


def test_plain_query_follows_the_retrievers() -> None:
    assert order("a man and a volleyball", candidates())[:3] == [B.imdb_id, A.imdb_id, C.imdb_id]


def test_a_named_actor_lifts_the_movie_with_that_actor() -> None:
    assert order("that tom hanks movie on an island", candidates())[0] == A.imdb_id


def test_a_surname_alone_lifts_it_too() -> None:
    assert order("the hanks one with the volleyball", candidates())[0] == A.imdb_id


def test_a_decade_lifts_movies_from_it() -> None:
    assert order("an 80s film about a volleyball", candidates())[0] == A.imdb_id


def test_a_lexical_zero_does_not_sink_the_best_meaning_match() -> None:
    assert order("shark at the beach", [A.at(0.70, 0.0), B.at(0.35, 2.0), C.at(0.30, 1.0), *CROWD])[0] == A.imdb_id


def test_scores_are_in_unit_range_and_fall_with_rank() -> None:
    ranked = Ranker().rank(parse_intent("meg ryan 1999"), Candidates.of(candidates()), 10)
    scores = [r.score for r in ranked]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert len({r.imdb_id for r in ranked}) == len(ranked) == 10


def test_a_query_nothing_fits_shows_low_scores() -> None:
    weak = [B.at(0.12, 0.0), A.at(0.10, 0.0)]
    assert Ranker().rank(parse_intent("qwzx plorf"), Candidates.of(weak), 10)[0].score < 0.3


def test_no_candidates_gives_no_results() -> None:
    assert Ranker().rank(parse_intent("anything"), Candidates.of([]), 5) == []


def test_a_typed_title_wins_with_or_without_its_accents() -> None:
    suite = Film("tt0900387", 2014, title="Suite Française")
    cands = [B.at(0.60, 9.0), suite.at(0.45, 8.0), A.at(0.50, 1.0), *CROWD]
    assert order("Suite Française", cands)[0] == suite.imdb_id
    assert order("suite francaise", cands)[0] == suite.imdb_id


def test_a_title_phrase_inside_a_description_does_not_count() -> None:
    business = Film("tt0097336", 1989, title="Family Business")
    query = "aging mafia boss gets shot and his quiet son ends up taking over the family business"
    assert order(query, [B.at(0.60, 7.0), business.at(0.50, 7.0), *CROWD])[0] == B.imdb_id


def test_popularity_breaks_near_ties_but_not_a_clear_plot_match() -> None:
    famous = Film("tt0000009", 2001, votes=8000)
    assert order("a plot", [B.at(0.60, 5.0), famous.at(0.59, 5.0), *CROWD])[0] == famous.imdb_id
    assert order("a plot", [B.at(0.70, 9.0), famous.at(0.45, 2.0), *CROWD])[0] == B.imdb_id


def test_candidates_of_an_index_rank_the_described_film_first() -> None:
    from core.index.port import RetrievalRequest
    from core.sparse import SparseEncoder
    from tests.embedding.fake_encoder import BagOfWordsEncoder
    from tests.fakes import FakeMovieIndex

    query = "astronaut left behind on Mars by his crew after a storm"
    intent = parse_intent(query)
    request = RetrievalRequest(BagOfWordsEncoder().encode([intent.dense_text])[0], SparseEncoder().query(query), 5)
    cands = FakeMovieIndex().retrieve(request)
    assert len(cands) >= 5 and (cands.sparse > 0).any()
    ranked = Ranker().rank(intent, cands, 3)
    assert ranked[0].imdb_id == "tt3659388"
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)


def test_a_misspelled_surname_still_lifts_the_movie() -> None:
    assert order("that movie with tom hankss on an island", candidates())[0] == A.imdb_id


def test_a_genre_word_lifts_films_of_that_genre() -> None:
    cartoon = Film("tt0000009", 2001, title="Fish Tale")
    payload_facts, dense, sparse = cartoon.at(0.59, 6.9)
    animated = payload_facts._replace(genres=genre_mask(["Animation"]))
    cands = [B.at(0.60, 7.0), (animated, dense, sparse), *CROWD]
    assert order("a story about a fish", cands)[0] == B.imdb_id
    assert order("an animated story about a fish", cands)[0] == cartoon.imdb_id


def test_the_sequel_lifts_a_later_entry() -> None:
    first = Film("tt0000010", 1990, title="Home Alone")
    second = Film("tt0000011", 1992, title="Home Alone 2: Lost in New York")
    cands = [first.at(0.60, 7.0), second.at(0.57, 6.5), *CROWD]
    assert order("kid left behind by his family at christmas", cands)[0] == first.imdb_id
    assert order("the sequel where the kid left behind at christmas", cands)[0] == second.imdb_id


def test_a_title_resolved_by_the_caller_counts_as_named() -> None:
    ranked = Ranker().rank(parse_intent("jurasic prk"), Candidates.of(candidates()), 3, titled_ids={C.imdb_id})
    assert ranked[0].imdb_id == C.imdb_id


def test_weights_come_from_the_file_and_fall_back_when_it_is_not_one(tmp_path: Path) -> None:
    good = tmp_path / "w.json"
    good.write_text(json.dumps({"weights": {"dense": 1.0, "popularity": 0.5}}))
    assert RankingWeights.load(good).as_dict()["popularity"] == 0.5
    assert RankingWeights.load(good).as_dict()["title"] == 0.0
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert RankingWeights.load(bad) == RankingWeights.of(DEFAULT_WEIGHTS)
    assert RankingWeights.load(tmp_path / "missing.json") == RankingWeights.of(DEFAULT_WEIGHTS)
