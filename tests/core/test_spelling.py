from core.search_service import SearchService
from core.spelling import Speller

WORDS = ["the", "shark", "sheriff", "swimmers", "beach", "island", "pretend", "horses", "coconut", "hanks",
         "horror", "movie", "about", "where", "boat"]


def test_an_unknown_word_one_edit_from_a_known_one_is_repaired() -> None:
    speller = Speller(WORDS)
    assert speller.repair("shark eats swimers, the sheriiff goes out")[0] == "shark eats swimmers, the sheriff goes out"
    assert speller.repair("knights pertend to ride hroses")[0] == "knights pretend to ride horses"


def test_known_words_their_inflections_short_words_and_far_words_are_left_alone() -> None:
    speller = Speller(WORDS)
    assert speller.repair("Beach coconuts on the island") == ("Beach coconuts on the island", [])
    assert speller.repair("a bot and a sharkk")[0] == "a bot and a shark"  # "bot": too short to touch
    assert speller.repair("walkman tapes") == ("walkman tapes", [])  # nothing one edit away
    assert speller.repair("wshark") == ("wshark", [])  # the first letter is kept


def test_the_most_common_neighbour_wins() -> None:
    assert Speller(["horses", "horsey"]).nearest("horsez") == "horses"
    assert Speller(["horsey", "horses"]).nearest("horsez") == "horsey"


def test_repaired_words_reach_the_retrievers_but_the_typed_query_stays() -> None:
    intent = SearchService._intent("1990s horor movie where a shark eats swimers", Speller(WORDS))
    assert intent.text == "1990s horor movie where a shark eats swimers"
    assert "swimmers" in intent.dense_text and "swimers" not in intent.dense_text
    assert "swimers" in intent.lexical_text and "swimmers" in intent.lexical_text
    assert intent.year_range == (1990, 1999)
    assert intent.genres != 0  # "horror", once repaired, is a genre word
    untouched = SearchService._intent("a shark and a boat", Speller(WORDS))
    assert untouched.lexical_text == "a shark and a boat"
