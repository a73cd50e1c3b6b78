"""Telegram HTML for search results: pure functions, every catalog or user string escaped, always in limits.

Lengths are counted in UTF-16 code units on the raw markup, which is never shorter than what Telegram counts
after parsing, so a rendered message can always be sent.
"""

from __future__ import annotations

import html

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
)
from telegram.constants import ParseMode

from bot.telegram.paging import encode_page
from bot.text_fit import fit, units
from core.models import MovieHit, SearchResults
from core.query_text import EXAMPLE_QUERY

MESSAGE_LIMIT = 4096
PAGE_SIZE = 5
TITLE_BUDGET = 160
PLOT_BUDGET = 220
QUERY_BUDGET = 200
INLINE_PLOT_BUDGET = 800
INLINE_TITLE_CHARS = 100
INLINE_DESCRIPTION_CHARS = 160
MORE_LABEL = "More results ▶"
BACK_LABEL = "◀ Back"


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
    query = _fit(results.query, QUERY_BUDGET)
    if not shown:
        return f"No {'more ' if results.offset else ''}movies found for <i>{query}</i>. Try other words."
    first = results.offset + 1
    span = f"Results {first}–{first + shown - 1}" if results.offset else "Results"
    return f"{span} for <i>{query}</i>:"


def _keyboard(results: SearchResults, page_key: str | None, shown: int) -> InlineKeyboardMarkup | None:
    if page_key is None:
        return None
    buttons = []
    if results.offset > 0:
        back = max(0, results.offset - PAGE_SIZE)
        buttons.append(InlineKeyboardButton(BACK_LABEL, callback_data=encode_page(page_key, back)))
    next_offset = results.offset + shown
    if shown and (results.has_more or shown < len(results.hits)):
        buttons.append(InlineKeyboardButton(MORE_LABEL, callback_data=encode_page(page_key, next_offset)))
    return InlineKeyboardMarkup([buttons]) if buttons else None


def render_results(
    results: SearchResults, page_key: str | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page as HTML, plus paging buttons when `page_key` names the saved query.

    Budgets normally fit five hits with room to spare; for longer pages they shrink, and as a last resort
    trailing hits move to the next page, so the limit holds for any input.
    """
    title_budget, plot_budget = TITLE_BUDGET, PLOT_BUDGET
    shown = len(results.hits)
    while True:
        body = [_hit_html(hit, title_budget, plot_budget) for hit in results.hits[:shown]]
        text = "\n\n".join([_header(results, shown), *body])
        if units(text) <= MESSAGE_LIMIT:
            return text, _keyboard(results, page_key, shown)
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
        "Press <i>More results</i> to see further matches."
        f"{inline}"
    )


def render_inline_articles(results: SearchResults) -> list[InlineQueryResultArticle]:
    """Each hit as an inline article that posts a one-movie HTML message when chosen."""
    articles = []
    for hit in results.hits:
        movie = hit.movie
        title = fit(movie.title, INLINE_TITLE_CHARS) or "Untitled"
        year = f"{movie.year} · " if movie.year else ""
        articles.append(
            InlineQueryResultArticle(
                id=str(hit.rank),
                title=f"{title} ({movie.year})" if movie.year else title,
                description=fit(f"{year}score {hit.score:.2f} · {movie.overview}", INLINE_DESCRIPTION_CHARS),
                input_message_content=InputTextMessageContent(
                    _hit_html(hit, TITLE_BUDGET, INLINE_PLOT_BUDGET, numbered=False),
                    parse_mode=ParseMode.HTML,
                ),
            )
        )
    return articles
