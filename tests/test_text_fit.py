"""One rule for flattening, measuring and shortening text in every renderer."""

from __future__ import annotations

import html

import pytest

from bot.text_fit import ELLIPSIS, fit, flatten, units
from core.models import Movie, imdb_url, is_imdb_id


def test_units_count_utf16_code_units() -> None:
    assert units("") == 0
    assert units("abc") == 3
    assert units("🎬a") == 3
    assert units("é") == 1


def test_flatten_folds_white_space_and_drops_what_cannot_be_shown() -> None:
    assert flatten("  Line\nbreak\r\nand\ttab\x00nul\u2028sep  ") == "Line break and tabnul sep"
    assert flatten("broken \ud800 surrogate, private \ue000 use") == "broken surrogate, private use"
    assert flatten("\u202eevil\u202c order") == "evil order"
    assert flatten("family 👩\u200d👩\u200d👧") == "family 👩\u200d👩\u200d👧"  # joiners keep emoji whole


def test_short_text_is_kept_whole() -> None:
    assert fit("A film.", 7) == "A film."


def test_long_text_is_cut_at_a_word_boundary_without_trailing_punctuation() -> None:
    cut = fit("The crew, stranded on Mars, waits for rescue.", 30)
    assert cut == "The crew, stranded on Mars…"
    assert units(cut) <= 30


def test_one_giant_word_is_cut_where_it_must_be() -> None:
    assert fit("A" * 50, 10) == "A" * 9 + ELLIPSIS
    assert fit("🚀" * 100, 11) == "🚀" * 5 + ELLIPSIS


def test_nothing_fits_gives_empty_text() -> None:
    assert fit("anything", 0) == ""
    assert fit("anything", 1) == ""


@pytest.mark.parametrize("limit", [1, 2, 5, 17, 40])
def test_escapes_count_in_the_limit_and_are_never_split(limit: int) -> None:
    def escape(ch: str, first: bool) -> str:
        return html.escape(ch, quote=False)

    cut = fit("Tom & Jerry <3 & friends & more & more", limit, escape)
    assert units(cut) <= limit
    assert "&amp" not in cut.replace("&amp;", "")


def test_the_escape_is_told_which_character_starts_the_line() -> None:
    seen: list[tuple[str, bool]] = []

    def escape(ch: str, first: bool) -> str:
        seen.append((ch, first))
        return ch

    assert fit("  -a b", 10, escape) == "-a b"
    assert seen == [("-", True), ("a", False), (" ", False), ("b", False)]


def test_one_imdb_id_rule_and_url_builder() -> None:
    assert is_imdb_id("tt3659388") and is_imdb_id("tt10872600")
    for bad in ("", "tt123456", "tt123456789", "nm0000001", 'tt1"><script>', "tt1234567 "):
        assert not is_imdb_id(bad)
    assert imdb_url("tt3659388") == "https://www.imdb.com/title/tt3659388/"
    assert imdb_url("tt1) [x](https://evil") is None
    assert Movie("tt0816692", "Interstellar", 2014, "").imdb_url == "https://www.imdb.com/title/tt0816692/"
    assert Movie("bad", "Nothing", None, "").imdb_url is None
