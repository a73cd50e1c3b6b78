"""Rendering: Discord's limits hold whatever the catalog holds; entries read as title link, score, plot."""

from __future__ import annotations

import pytest

from bot.discord.render import DESCRIPTION_LIMIT, fit, render_entry, render_results
from bot.text_fit import units
from core.models import Movie, MovieHit, SearchResults
from tests.discord.limits import embed_limit_violations


def _hit(rank: int = 1, *, title: str = "The Martian", year: int | None = 2015, overview: str = "Mars.",
         imdb_id: str = "tt3659388", score: float = 0.71) -> MovieHit:
    return MovieHit(rank, Movie(imdb_id, title, year, overview), score)


def _results(*hits: MovieHit, query: str = "stranded on Mars", offset: int = 0, has_more: bool = False
             ) -> SearchResults:
    return SearchResults(query, hits, 1.0, offset, has_more)


def test_entry_links_title_and_year_to_imdb_with_score_and_plot() -> None:
    entry = render_entry(_hit(overview="An astronaut\nis left   behind."), budget=400)
    assert entry == (
        "**1. [The Martian (2015)](https://www.imdb.com/title/tt3659388/)** · score 0.71\n"
        "An astronaut is left behind."
    )


def test_entry_without_year_or_valid_imdb_id_has_no_link_and_no_brackets() -> None:
    entry = render_entry(_hit(year=None, imdb_id="tt1) [x](https://evil"), budget=400)
    assert entry.startswith("**1. The Martian** · score 0.71")
    assert "evil" not in entry


def test_markdown_in_catalog_text_is_escaped() -> None:
    entry = render_entry(_hit(title="Kill [Bill](x) *Vol* 1", overview="# not a heading"), budget=400)
    assert "[Kill \\[Bill\\]\\(x\\) \\*Vol\\* 1 (2015)](" in entry
    assert entry.endswith("\n\\# not a heading")


@pytest.mark.parametrize("score, shown", [(1.7, "1.00"), (-0.2, "0.00"), (float("nan"), "0.00")])
def test_scores_are_shown_within_zero_and_one(score: float, shown: str) -> None:
    assert f"score {shown}" in render_entry(_hit(score=score), budget=400)


def test_fit_cuts_at_the_limit_with_an_ellipsis_and_counts_utf16_units() -> None:
    assert fit("short", 10) == "short"
    cut = fit("🚀" * 100, 11)
    assert cut == "🚀" * 5 + "…" and units(cut) == 11
    assert fit("a*b", 2) == "a…"  # never ends on half an escape
    assert fit("anything", 0) == ""


def test_fit_drops_control_characters_and_lone_surrogates() -> None:
    assert fit("a\x00b\ud800c\u2028d", 20) == "abc d"


def test_extreme_entries_fit_every_limit() -> None:
    monster = "🚀*[x]_" * 5000
    hits = tuple(_hit(i + 1, title=monster, overview=monster * 3, score=0.5) for i in range(10))
    embed = render_results(_results(*hits, query="q" * 5000)).to_dict()
    assert embed_limit_violations(dict(embed)) == []
    assert embed["description"].count("https://www.imdb.com/title/tt3659388/") == 10


def test_even_fifty_hits_stay_within_the_description_limit() -> None:
    hits = tuple(_hit(i + 1, title="T" * 500, overview="O" * 5000) for i in range(50))
    embed = render_results(_results(*hits)).to_dict()
    assert embed_limit_violations(dict(embed)) == []
    assert units(embed["description"]) <= DESCRIPTION_LIMIT


def test_title_names_the_query_and_footer_the_ranks() -> None:
    embed = render_results(_results(_hit(6), _hit(7), offset=5, has_more=True))
    assert embed.title == "Movies like “stranded on Mars”"
    assert embed.footer.text is not None and embed.footer.text.startswith("Results 6–7 · more with Next")


def test_no_hits_say_so() -> None:
    assert "No movies matched" in (render_results(_results()).description or "")
    assert "No more movies" in (render_results(_results(offset=10)).description or "")
