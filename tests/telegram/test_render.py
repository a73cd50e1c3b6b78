"""Rendering: hostile catalog text stays valid Telegram HTML within the length limit."""

from __future__ import annotations

import html

import pytest

from bot.telegram.buttons import CALLBACK_DATA_LIMIT, QueryPage, SavedPage, decode_press
from bot.telegram.render import (
    BACK_LABEL,
    MESSAGE_LIMIT,
    MORE_LABEL,
    render_help,
    render_inline_articles,
    render_results,
)
from bot.text_fit import units as utf16_len
from core.models import Movie, MovieHit, SearchResults
from core.query_text import EXAMPLE_QUERY
from tests.fakes import SAMPLE_MOVIES
from tests.telegram.telegram_html import telegram_html_problems

HOSTILE_TITLES = (
    '<script>alert("pwned")</script>',
    "Tom & Jerry &amp; Friends &lt;3 &#x27; &nbsp;",
    "</b><i>unbalanced",
    'He said "hi" and \'bye\' > < >> <<',
    "Line\nbreak\r\nand\ttab\x00nul\u2028sep",
    "🎬" * 3000,  # astral characters count twice in UTF-16
    "&" * 5000,  # escapes to five times its length
    "A" * 6000,  # one giant word: no boundary to cut at
    "broken surrogate \ud800 here",
)


def hostile_movie(n: int, title: str) -> Movie:
    overview = f"<b>Plot</b> & \"{title[:50]}\" " + "a really < long & winding > story " * 300
    return Movie(f"tt{1000000 + n}", title, 1900 + n, overview)


def page(movies: list[Movie], *, offset: int = 0, has_more: bool = False, query: str = "q") -> SearchResults:
    hits = tuple(MovieHit(offset + i + 1, m, 0.5) for i, m in enumerate(movies))
    return SearchResults(query, hits, 1.0, offset, has_more)


def button_data(markup: object) -> dict[str, str]:
    if markup is None:
        return {}
    rows = markup.inline_keyboard  # type: ignore[attr-defined]
    return {b.text: b.callback_data for row in rows for b in row}


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_titles_render_valid_html_within_the_limit(title: str) -> None:
    movies = [hostile_movie(n, title) for n in range(5)]
    text, _ = render_results(page(movies, query=f"{title} <i>query</i> & more"), "k" * 8)
    assert telegram_html_problems(text) == []
    assert utf16_len(text) <= MESSAGE_LIMIT
    assert "<script>" not in text and "</b><i>" not in text
    assert text.count("<b>") == 5 and text.count("\n") >= 10


def test_every_hostile_title_together_and_many_hits_still_fit() -> None:
    movies = [hostile_movie(n, HOSTILE_TITLES[n % len(HOSTILE_TITLES)]) for n in range(30)]
    text, markup = render_results(page(movies, has_more=True), "abcdefgh")
    assert telegram_html_problems(text) == []
    assert utf16_len(text) <= MESSAGE_LIMIT
    shown = text.count("<b>")
    assert 5 <= shown <= 30
    more = decode_press(button_data(markup)[MORE_LABEL])
    assert more == QueryPage("q", shown)  # what did not fit comes on the next page
    assert len([label for label in button_data(markup) if label.startswith("Like #")]) == shown


def test_the_checker_catches_what_telegram_rejects() -> None:
    for bad in ("<b>open", "a < b", "Tom & Jerry", "&nbsp;", "<script>x</script>", "<b><i>x</b></i>",
                '<a>no link</a>', '<b class="x">x</b>', "x" * (MESSAGE_LIMIT + 1)):
        assert telegram_html_problems(bad), bad
    good = '<b>a</b> &lt;&amp;&gt;&quot;&#39;&#x27; <a href="https://x.y/?a=1&amp;b=2">x</a>'
    assert telegram_html_problems(good) == []


def test_result_lines_have_rank_bold_title_year_score_plot_and_link() -> None:
    martian = SAMPLE_MOVIES[0]
    text, markup = render_results(page([martian]))
    lines = text.split("\n")
    assert lines[0] == "Results for <i>q</i>:"
    assert lines[2] == "1. <b>The Martian</b> (2015) · score 0.50"
    assert lines[3] == html.escape(martian.overview, quote=False)
    assert lines[4] == '<a href="https://www.imdb.com/title/tt3659388/">IMDb</a>'
    assert button_data(markup) == {"Like #1": "l:tt3659388"}


def test_long_plot_is_cut_at_a_word_boundary() -> None:
    words = [f"word{n}" for n in range(200)]
    movie = Movie("tt0000001", "Long", None, " ".join(words))
    text, _ = render_results(page([movie]))
    plot = text.split("\n")[3]
    assert plot.endswith("…")
    kept = plot.removesuffix("…").split(" ")
    assert kept == words[: len(kept)] and 10 < len(kept) < 200


def test_missing_year_and_malformed_imdb_id_are_left_out() -> None:
    movie = Movie('tt1"><script>', "No year", None, "Plot.")
    text, _ = render_results(page([movie]))
    assert "<b>No year</b> · score" in text
    assert "<a " not in text and "script" not in text


def test_no_results_says_so() -> None:
    text, markup = render_results(page([], query="zzz"))
    assert text == "No movies found for <i>zzz</i>. Try other words."
    assert markup is None


LONG_QUERY = "astronaut " * 10  # too long to travel in 64 bytes of callback data


def paging_data(markup: object) -> dict[str, str]:
    return {label: data for label, data in button_data(markup).items() if not label.startswith("Like #")}


@pytest.mark.parametrize(
    ("offset", "has_more", "labels"),
    [(0, True, [MORE_LABEL]), (5, True, [BACK_LABEL, MORE_LABEL]), (45, False, [BACK_LABEL]), (0, False, [])],
)
def test_paging_buttons_carry_a_short_query_themselves(offset: int, has_more: bool, labels: list[str]) -> None:
    text, markup = render_results(page(list(SAMPLE_MOVIES[:5]), offset=offset, has_more=has_more), "AbCd_-12")
    data = paging_data(markup)
    assert list(data) == labels
    if MORE_LABEL in data:
        assert decode_press(data[MORE_LABEL]) == QueryPage("q", offset + 5)
    if BACK_LABEL in data:
        assert decode_press(data[BACK_LABEL]) == QueryPage("q", offset - 5)
        assert text.startswith(f"Results {offset + 1}–{offset + 5} for")


@pytest.mark.parametrize(
    ("offset", "has_more", "labels"),
    [(0, True, [MORE_LABEL]), (5, True, [BACK_LABEL, MORE_LABEL]), (45, False, [BACK_LABEL]), (0, False, [])],
)
def test_a_long_query_pages_by_its_saved_key(offset: int, has_more: bool, labels: list[str]) -> None:
    results = page(list(SAMPLE_MOVIES[:5]), offset=offset, has_more=has_more, query=LONG_QUERY.strip())
    _, markup = render_results(results, "AbCd_-12")
    data = paging_data(markup)
    assert list(data) == labels
    for value in data.values():
        assert len(value.encode()) <= CALLBACK_DATA_LIMIT
        request = decode_press(value)
        assert isinstance(request, SavedPage) and request.key == "AbCd_-12"
    if MORE_LABEL in data:
        assert decode_press(data[MORE_LABEL]) == SavedPage("AbCd_-12", offset + 5)
    if BACK_LABEL in data:
        assert decode_press(data[BACK_LABEL]) == SavedPage("AbCd_-12", offset - 5)


def test_a_long_query_without_a_saved_key_gets_no_paging_buttons() -> None:
    _, markup = render_results(page(list(SAMPLE_MOVIES[:5]), has_more=True, query=LONG_QUERY.strip()), None)
    assert paging_data(markup) == {}
    assert list(button_data(markup)) == [f"Like #{n}" for n in range(1, 6)]


def test_help_has_an_example_and_the_inline_hint() -> None:
    text = render_help("MovieTestBot")
    assert telegram_html_problems(text) == []
    assert f"<code>/movie {EXAMPLE_QUERY}</code>" in text
    assert "@MovieTestBot" in text
    assert "@" not in render_help(None)


def test_inline_articles_are_plain_titles_with_html_messages() -> None:
    movies = [hostile_movie(n, title) for n, title in enumerate(HOSTILE_TITLES)]
    articles = render_inline_articles(page(movies))
    assert [a.id for a in articles] == [str(n) for n in range(1, len(movies) + 1)]
    assert articles[0].title == '<script>alert("pwned")</script> (1900)'  # plain text: shown, not parsed
    for article in articles:
        message = article.input_message_content.message_text  # type: ignore[attr-defined]
        assert telegram_html_problems(message) == []
        assert len(article.title) <= 110 and len(article.description or "") <= 160
