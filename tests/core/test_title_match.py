from core.domain import MovieFacts, movie_facts
from core.title_match import TitleIndex


def film(imdb_id: str, title: str, year: int, votes: int) -> MovieFacts:
    return movie_facts({"imdb_id": imdb_id, "title": title, "year": year, "vote_count": votes})


CATALOG = TitleIndex([
    film("tt1375666", "Inception", 2010, 14000),
    film("tt0133093", "The Matrix", 1999, 6351),
    film("tt0082186", "Clash of the Titans", 1981, 96),
    film("tt0800320", "Clash of the Titans", 2010, 2000),
    film("tt1049413", "Up", 2009, 5000),
    film("tt0109830", "Forrest Gump", 1994, 4856),
    film("tt0071562", "The Godfather: Part II", 1974, 3000),
])


def resolved(text: str) -> str | None:
    match = CATALOG.resolve(text)
    return None if match is None else match.facts.imdb_id


def test_a_misspelled_title_resolves() -> None:
    assert resolved("Incepton") == "tt1375666"
    assert resolved("forest gump") == "tt0109830"
    assert resolved("the matirx") == "tt0133093"


def test_a_year_picks_between_a_film_and_its_remake_and_votes_decide_without_one() -> None:
    assert resolved("Clash of the Titans 1981") == "tt0082186"
    assert resolved("clash of the titans") == "tt0800320"


def test_short_titles_match_only_exactly() -> None:
    assert resolved("up") == "tt1049413"
    assert resolved("uo") is None


def test_text_that_names_no_title_resolves_to_nothing() -> None:
    assert resolved("asdkjh qwe") is None
    assert resolved("a heist in space") is None
    assert resolved("!!!") is None


def test_an_exact_imdb_id_names_its_film_and_an_unknown_one_nothing() -> None:
    facts = [movie_facts({"imdb_id": "tt0816692", "title": "Interstellar", "year": 2014, "vote_count": 6498}),
             movie_facts({"imdb_id": "tt3659388", "title": "The Martian", "year": 2015, "vote_count": 4572})]
    index = TitleIndex(facts)
    match = index.resolve("tt3659388")
    assert match is not None and match.facts.title_words == ["the", "martian"]
    assert index.resolve("tt9999999") is None


def test_an_indefinite_article_asks_for_a_kind_of_film_unless_a_title_starts_so() -> None:
    index = TitleIndex([film("tt1", "The Comedy", 2012, 50), film("tt2", "A Beautiful Mind", 2001, 3000),
                        film("tt3", "Love Story", 1970, 200)])
    assert index.resolve("a comedy") is None
    assert index.resolve("a love story") is None
    match = index.resolve("a beautifull mind")
    assert match is not None and match.facts.imdb_id == "tt2"
    match = index.resolve("the comedy")
    assert match is not None and match.facts.imdb_id == "tt1"
