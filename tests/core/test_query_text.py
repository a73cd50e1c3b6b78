import pytest

from core import query_text
from core.errors import InvalidQuery
from core.query_intent import parse_intent
from core.query_text import MAX_QUERY_CHARS, MAX_RAW_CHARS, clean_query, join_surrogates


@pytest.mark.parametrize("raw", ["", "   ", "\n\t", "\x00\x07\u200b", "?!...", "<>"])
def test_unsearchable_queries_get_a_friendly_explanation(raw: str) -> None:
    with pytest.raises(InvalidQuery) as caught:
        clean_query(raw)
    assert caught.value.exit_code == 2
    assert "movie" in caught.value.user_message.lower() or "words" in caught.value.user_message


def test_too_long_query_names_the_limit() -> None:
    with pytest.raises(InvalidQuery, match="1,000"):
        clean_query("a" * (MAX_QUERY_CHARS + 1))


def test_control_characters_and_space_are_folded_and_markup_is_kept_as_text() -> None:
    assert clean_query("  space\x00 <b>opera</b>\u200b\r\n  ") == "space <b>opera</b>"


def test_exactly_the_limit_is_accepted() -> None:
    assert len(clean_query("b" * MAX_QUERY_CHARS)) == MAX_QUERY_CHARS


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("an 80s movie about a time machine", (1980, 1989)),
        ("late 90s thriller", (1994, 1999)),
        ("from the 1970s", (1970, 1979)),
        ("something from the nineties", (1990, 1999)),
        ("came out in 1994 I think", (1993, 1995)),
        ("a 2000s heist", (2000, 2009)),
        ("early 2010s space film", (2010, 2015)),
        ("300 spartans fight at a pass", None),
        ("astronaut stranded on mars", None),
    ],
)
def test_years_and_decades_are_understood(query: str, expected: tuple[int, int] | None) -> None:
    assert parse_intent(query).year_range == expected


@pytest.mark.parametrize(
    ("query", "plot"),
    [
        ("late 90s teen horror where the popular kids are robots", "teen horror where the popular kids are robots"),
        ("1997 movie where a rich girl falls for a poor artist", "a rich girl falls for a poor artist"),
        ("an 80s film about a time machine", "a time machine"),
        ("something from the Nineties with dinosaurs", "something with dinosaurs"),
        ("a heist in the late 70s", "a heist"),
        ("NASA tried to rescue an astronaut stranded on Mars.", "NASA tried to rescue an astronaut stranded on Mars."),
        ("300 spartans fight at a pass", "300 spartans fight at a pass"),
    ],
)
def test_the_dense_side_sees_the_plot_without_years_or_framing(query: str, plot: str) -> None:
    intent = parse_intent(query)
    assert intent.dense_text == plot
    assert intent.text == query  # the lexical side and the reply keep every word


def test_a_query_that_is_only_framing_is_encoded_whole() -> None:
    assert parse_intent("that 1994 movie").dense_text == "that movie"
    assert parse_intent("90s").dense_text == "90s"


def test_split_surrogate_pairs_are_rejoined_and_lone_halves_dropped() -> None:
    # "\ud83d\ude80" is 🚀 as two UTF-16 halves, as a JSON `\u` escape can deliver it.
    assert clean_query("rocket \ud83d\ude80 to the moon") == "rocket 🚀 to the moon"
    assert clean_query("lone \ud83d high and \ude80 low half") == "lone high and low half"
    assert join_surrogates("ok \U0001f680") == "ok \U0001f680"
    clean_query("\ud800 moon \udfff").encode("utf-8")  # encodable: a reply may echo it


def test_over_long_raw_text_is_refused_before_any_normalisation(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 100,000-character run of combining marks took seconds in NFKC; it must never get there."""
    normalize = query_text.unicodedata.normalize

    def no_normalising(form: str, text: str) -> str:  # pytest itself normalises short strings
        if len(text) > MAX_RAW_CHARS:
            raise AssertionError(f"normalised {len(text):,} characters")
        return normalize(form, text)  # type: ignore[arg-type]

    monkeypatch.setattr(query_text.unicodedata, "normalize", no_normalising)
    for raw in ("a" + "\u0301" * 50_000 + "\u0316" * 50_000, "x" * 5_000, "y" * 100_000):
        with pytest.raises(InvalidQuery, match=f"under {MAX_QUERY_CHARS:,}"):
            clean_query(raw)


def test_raw_text_up_to_the_raw_limit_is_cleaned_then_measured() -> None:
    assert clean_query(" " * (MAX_RAW_CHARS - 5) + "moon") == "moon"
    with pytest.raises(InvalidQuery, match="1,001 characters"):
        clean_query("m" * (MAX_QUERY_CHARS + 1))
