from core.index.port import Candidate
from core.models import Movie
from core.query_intent import parse_intent
from core.ranking import Ranker


def movie(imdb_id: str, year: int, cast: tuple[str, ...] = (), votes: int = 50) -> Movie:
    return Movie(imdb_id, f"Title {imdb_id}", year, "plot", cast=cast, vote_count=votes)


A = movie("tt0000001", 1985, cast=("Tom Hanks",))
B = movie("tt0000002", 2012)
C = movie("tt0000003", 1999, cast=("Meg Ryan",))


def candidates() -> list[Candidate]:
    """B is ahead on both signals, A close behind, C far behind."""
    return [Candidate(B, 0.60, 7.0), Candidate(A, 0.57, 6.0), Candidate(C, 0.40, 5.0)]


def test_plain_query_follows_the_retrievers() -> None:
    ranked = Ranker().rank(parse_intent("a man and a volleyball"), candidates(), 10)
    assert [r.movie for r in ranked] == [B, A, C]


def test_a_named_actor_lifts_the_movie_with_that_actor() -> None:
    ranked = Ranker().rank(parse_intent("that tom hanks movie on an island"), candidates(), 10)
    assert ranked[0].movie == A


def test_a_surname_alone_lifts_it_too() -> None:
    ranked = Ranker().rank(parse_intent("the hanks one with the volleyball"), candidates(), 10)
    assert ranked[0].movie == A


def test_a_decade_lifts_movies_from_it() -> None:
    ranked = Ranker().rank(parse_intent("an 80s film about a volleyball"), candidates(), 10)
    assert ranked[0].movie == A


def test_a_lexical_zero_does_not_sink_the_best_meaning_match() -> None:
    ranked = Ranker().rank(parse_intent("shark at the beach"), [Candidate(A, 0.70, 0.0), Candidate(B, 0.35, 2.0),
                                                                 Candidate(C, 0.30, 1.0)], 10)
    assert ranked[0].movie == A


def test_scores_are_in_unit_range_and_fall_with_rank() -> None:
    ranked = Ranker().rank(parse_intent("meg ryan 1999"), candidates(), 10)
    scores = [r.score for r in ranked]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert len({r.movie.imdb_id for r in ranked}) == 3


def test_a_query_nothing_fits_shows_low_scores() -> None:
    weak = [Candidate(B, 0.12, 0.0), Candidate(A, 0.10, 0.0)]
    assert Ranker().rank(parse_intent("qwzx plorf"), weak, 10)[0].score < 0.3


def test_no_candidates_gives_no_results() -> None:
    assert Ranker().rank(parse_intent("anything"), [], 5) == []
