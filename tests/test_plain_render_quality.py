from bot.plain_render import UNREADABLE_NOTE, WEAK_NOTE, render_results
from core.models import MatchQuality, Movie, MovieHit, SearchResults

FILM = Movie("tt0000001", "Some Film", 2001, "A plot.")
HIT = MovieHit(1, Movie("tt0000002", "Other Film", 1999, "Another plot."), 0.3)


def test_an_unreadable_query_gets_the_honest_reply_not_the_films() -> None:
    text = render_results(SearchResults("电影 火星 救援", (HIT,), 1.0, quality=MatchQuality.UNREADABLE))
    assert text == UNREADABLE_NOTE and "Other Film" not in text


def test_weak_matches_are_shown_marked_as_such() -> None:
    text = render_results(SearchResults("qwzx", (HIT,), 1.0, quality=MatchQuality.WEAK))
    assert text.startswith(WEAK_NOTE) and "Weak matches" in text and "Other Film" in text


def test_films_like_x_name_x() -> None:
    text = render_results(SearchResults("movies like some film", (HIT,), 1.0, similar_to=FILM))
    assert text.startswith("Movies like Some Film (2001):") and "Other Film" in text
