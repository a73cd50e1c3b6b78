from core.index.port import Candidate, Retrieved
from core.models import Movie
from core.query_intent import parse_intent
from core.ranking import Ranker


def movie(imdb_id: str, year: int, cast: tuple[str, ...] = (), votes: int = 50) -> Movie:
    return Movie(imdb_id, f"Title {imdb_id}", year, "plot", cast=cast, vote_count=votes)


A = movie("tt0000001", 1985, cast=("Tom Hanks",))
B = movie("tt0000002", 2012)
C = movie("tt0000003", 1999, cast=("Meg Ryan",))


def retrieved() -> Retrieved:
    return Retrieved(
        dense=[Candidate(B, 0.60), Candidate(A, 0.57), Candidate(C, 0.40)],
        sparse=[Candidate(B, 7.0), Candidate(A, 6.0), Candidate(C, 5.0)],
    )


def test_plain_query_follows_the_retrievers() -> None:
    ranked = Ranker().rank(parse_intent("a man and a volleyball"), [retrieved()], 10)
    assert ranked[0].movie.imdb_id == B.imdb_id


def test_a_named_actor_lifts_the_movie_with_that_actor() -> None:
    ranked = Ranker().rank(parse_intent("that tom hanks movie on an island"), [retrieved()], 10)
    assert ranked[0].movie == A


def test_a_decade_lifts_movies_from_it() -> None:
    ranked = Ranker().rank(parse_intent("an 80s film about a volleyball"), [retrieved()], 10)
    assert ranked[0].movie == A


def test_scores_are_in_unit_range_and_fall_with_rank() -> None:
    ranked = Ranker().rank(parse_intent("meg ryan 1999"), [retrieved()], 10)
    scores = [r.score for r in ranked]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert len({r.movie.imdb_id for r in ranked}) == 3


def test_no_candidates_gives_no_results() -> None:
    assert Ranker().rank(parse_intent("anything"), [Retrieved([], [])], 5) == []
