from core.genres import GENRES, genre_mask, query_genres
from core.models import MatchQuality
from core.query_intent import parse_intent, similar_title
from core.query_trust import WEAK_COSINE, match_quality, unreadable_script


def test_movies_like_x_finds_the_title_in_the_ways_people_ask() -> None:
    assert similar_title("movies like Inception") == "Inception"
    assert similar_title("something similar to the matirx?") == "the matirx"
    assert similar_title("if I liked Forrest Gump, what should I watch") == "Forrest Gump"
    assert similar_title("any films like Alien please") == "Alien"
    assert similar_title("more like jaws") == "jaws"


def test_a_description_is_not_a_like_query() -> None:
    assert similar_title("a man who likes dogs and lives on a boat") is None
    assert similar_title("teen boy wakes up in a lift with no memory") is None


def test_sequel_words_and_genre_words_are_read() -> None:
    assert parse_intent("the sequel where they go to the moon").sequel
    assert parse_intent("the second one with the robot").sequel
    assert not parse_intent("a man goes to the moon").sequel
    assert parse_intent("animated movie about fish").genres == genre_mask(["Animation"])
    assert query_genres("a scary documentary") == genre_mask(["Horror", "Documentary"])
    assert query_genres("a man and his boat") == 0


def test_words_that_also_tell_the_story_name_a_genre_only_before_a_word_for_a_film() -> None:
    assert query_genres("his war hero son takes over the family business") == 0
    assert query_genres("a cowboy doll gets jealous of a space toy") == 0
    assert query_genres("rich orphan returns to fight crime in his city") == 0
    assert query_genres("a vietnam war movie up a river") == genre_mask(["War"])
    assert query_genres("80s family film about a lost dog") == genre_mask(["Family"])
    assert query_genres("a crime comedy in london") == genre_mask(["Crime", "Comedy"])
    assert query_genres("woody allen fake documentary, a man who becomes anyone") == 0
    assert query_genres("early 90s made for tv movie") == genre_mask(["TV Movie"])
    assert query_genres("a science fiction romcom") == genre_mask(["Science Fiction", "Romance"])
    assert genre_mask(GENRES) == (1 << len(GENRES)) - 1


def test_a_query_in_a_script_the_model_cannot_read_is_unreadable() -> None:
    assert unreadable_script("电影 火星 救援")
    assert unreadable_script("movie 电影 火星 救援")
    assert unreadable_script("фильм про марс")
    assert not unreadable_script("Amélie à Paris, une fille timide")
    assert not unreadable_script("1999")


def test_a_weak_best_match_is_weak_unless_a_title_was_named() -> None:
    assert match_quality(WEAK_COSINE - 0.01, titled=False) is MatchQuality.WEAK
    assert match_quality(WEAK_COSINE - 0.01, titled=True) is MatchQuality.GOOD
    assert match_quality(WEAK_COSINE + 0.01, titled=False) is MatchQuality.GOOD


def test_colloquial_words_reach_the_retrievers_in_the_catalog_s_words_but_the_query_stays() -> None:
    intent = parse_intent("a teenager who is expecting and looks for adoptive parents")
    assert "pregnant" in intent.plot and "pregnant" in intent.lexical_text
    assert intent.text == "a teenager who is expecting and looks for adoptive parents"
    assert "pregnant" not in parse_intent("he is expecting to win the race").lexical_text


def test_years_said_of_the_film_are_told_from_years_that_may_be_the_story_setting() -> None:
    assert parse_intent("late 90s teen horror at a new school").year_setting is False
    assert parse_intent("five kids stuck in detention, 80s").year_setting is False
    assert parse_intent("a movie from the 90s where a man").year_setting is False
    assert parse_intent("spielberg 1950s spy drama").year_setting is False
    setting = parse_intent("a prison guard in the 1930s and a gentle giant")
    assert setting.year_range == (1930, 1939)
    assert setting.year_setting is True


def test_an_age_is_not_a_decade() -> None:
    intent = parse_intent("divorced woman in her 30s moves back home")
    assert intent.year_range is None
    assert "her 30s" in intent.plot
    assert parse_intent("a man in his late 40s, a 90s movie").year_range == (1990, 1999)


def test_chat_shorthand_is_spelled_out_for_the_retrievers_only() -> None:
    intent = parse_intent("road trip thru zombie america w/ rules lol, u know the one")
    assert intent.text == "road trip thru zombie america w/ rules lol, u know the one"
    assert "through zombie america with rules" in intent.dense_text
    assert "lol" not in intent.lexical_text and "you know" in intent.lexical_text
    assert parse_intent("a u-boat crew and the U.S. navy").lexical_text == "a u-boat crew and the U.S. navy"
