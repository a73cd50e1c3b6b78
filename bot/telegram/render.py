"""Telegram HTML for search results: pure functions, every catalog or user string escaped, always in limits.

Lengths are counted in UTF-16 code units on the raw markup, which is never shorter than what Telegram counts
after parsing, so a rendered message can always be sent.
"""

from __future__ import annotations

import html

from telegram import (
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
)
from telegram.constants import ParseMode

from bot.reply_text import EXAMPLE_TITLE, UNREADABLE, WEAK_HINT, WEAK_NOTE, film_label
from bot.telegram.buttons import BACK_LABEL as BACK_LABEL
from bot.telegram.buttons import MORE_LABEL as MORE_LABEL
from bot.telegram.buttons import build_keyboard
from bot.text_fit import fit, units
from core.models import MatchQuality, MovieHit, SearchResults
from core.query_text import EXAMPLE_QUERY

MESSAGE_LIMIT = 4096
PAGE_SIZE = 5
TITLE_BUDGET = 160
PLOT_BUDGET = 220
QUERY_BUDGET = 200
INLINE_PLOT_BUDGET = 800
INLINE_TITLE_CHARS = 100
INLINE_DESCRIPTION_CHARS = 160


def _escape(ch: str, first: bool) -> str:
    return html.escape(ch, quote=False)


def _fit(text: str, budget: int) -> str:
    """`text` on one line, HTML-escaped, in at most `budget` units."""
    return fit(text, budget, _escape)


def _hit_html(hit: MovieHit, title_budget: int, plot_budget: int, *, numbered: bool = True) -> str:
    movie = hit.movie
    title = _fit(movie.title, title_budget) or "Untitled"
    year = f" ({movie.year})" if movie.year else ""
    rank = f"{hit.rank}. " if numbered else ""
    lines = [f"{rank}<b>{title}</b>{year} · score {hit.score:.2f}"]
    plot = _fit(movie.overview, plot_budget)
    if plot:
        lines.append(plot)
    if movie.imdb_url:  # a malformed id would make a broken link, so it gets none
        lines.append(f'<a href="{html.escape(movie.imdb_url)}">IMDb</a>')
    return "\n".join(lines)


def _header(results: SearchResults, shown: int) -> str:
    first = results.offset + 1
    span = f"Results {first}–{first + shown - 1}" if results.offset else "Results"
    if results.similar_to is not None:
        like = f"<b>{_fit(film_label(results.similar_to), QUERY_BUDGET)}</b>"
        if not shown:
            return f"No {'more ' if results.offset else ''}films like {like} found."
        return f"{span}, films like {like}:" if results.offset else f"Films like {like}:"
    query = _fit(results.query, QUERY_BUDGET)
    if not shown:
        return f"No {'more ' if results.offset else ''}movies found for <i>{query}</i>. Try other words."
    if results.quality is MatchQuality.WEAK:
        return f"{span} for <i>{query}</i>. {html.escape(WEAK_NOTE, quote=False)}"
    return f"{span} for <i>{query}</i>:"


def _footer(results: SearchResults, shown: int) -> list[str]:
    return [f"<i>{html.escape(WEAK_HINT, quote=False)}</i>"] if shown and results.quality is MatchQuality.WEAK else []


def render_results(
    results: SearchResults, page_key: str | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page as HTML, with a "Like #n" button per result and paging buttons (see `bot.telegram.buttons`).

    `page_key` names the saved query, for queries too long to travel in the buttons themselves. Budgets
    normally fit five hits with room to spare; for longer pages they shrink, and as a last resort trailing
    hits move to the next page, so the limit holds for any input. A query the model cannot read gets the
    honest answer alone: its hits would be noise.
    """
    if results.quality is MatchQuality.UNREADABLE:
        return html.escape(UNREADABLE, quote=False), None
    title_budget, plot_budget = TITLE_BUDGET, PLOT_BUDGET
    shown = len(results.hits)
    while True:
        body = [_hit_html(hit, title_budget, plot_budget) for hit in results.hits[:shown]]
        text = "\n\n".join([_header(results, shown), *body, *_footer(results, shown)])
        if units(text) <= MESSAGE_LIMIT:
            return text, build_keyboard(results, shown, PAGE_SIZE, page_key)
        if plot_budget:
            plot_budget //= 2
        elif title_budget > 20:
            title_budget //= 2
        else:
            shown -= 1


def render_help(bot_username: str | None) -> str:
    """Usage with an example, for /start, /help and an empty /movie."""
    example = html.escape(EXAMPLE_QUERY, quote=False)
    inline = (
        f"\n\nIn any chat, type <code>@{html.escape(bot_username, quote=False)} {example}</code> to share a result."
        if bot_username
        else ""
    )
    return (
        "<b>Find a movie by describing it.</b>\n\n"
        "Send /movie followed by what you remember of the plot, for example:\n"
        f"<code>/movie {example}</code>\n\n"
        "In a private chat you can just type the description. "
        "Press <i>More results</i> to see further matches, or <i>Like #n</i> for films like result n.\n\n"
        "Send /similar with a title to find films like it, for example:\n"
        f"<code>/similar {html.escape(EXAMPLE_TITLE, quote=False)}</code>"
        f"{inline}"
    )


def render_inline_articles(results: SearchResults) -> list[InlineQueryResultArticle]:
    """Each hit as an inline article that posts a one-movie HTML message when chosen; weak ones say so."""
    weak = "weak match · " if results.quality is MatchQuality.WEAK else ""
    articles = []
    for hit in results.hits:
        movie = hit.movie
        title = fit(movie.title, INLINE_TITLE_CHARS) or "Untitled"
        year = f"{movie.year} · " if movie.year else ""
        articles.append(
            InlineQueryResultArticle(
                id=str(hit.rank),
                title=f"{title} ({movie.year})" if movie.year else title,
                description=fit(f"{weak}{year}score {hit.score:.2f} · {movie.overview}", INLINE_DESCRIPTION_CHARS),
                input_message_content=InputTextMessageContent(
                    _hit_html(hit, TITLE_BUDGET, INLINE_PLOT_BUDGET, numbered=False),
                    parse_mode=ParseMode.HTML,
                ),
            )
        )
    return articles
