"""Telegram HTML for search results: pure functions, every catalog or user string escaped, always in limits.

Lengths are counted in UTF-16 code units on the raw markup, which is never shorter than what Telegram counts
after parsing, so a rendered message can always be sent.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

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
ELLIPSIS = "…"

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_IMDB_ID = re.compile(r"tt[0-9]{5,12}")


def utf16_len(text: str) -> int:
    """Telegram measures text in UTF-16 code units: an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _one_line(text: str) -> str:
    """Catalog text may hold newlines, control characters or broken surrogates; none belong in one line."""
    text = _SURROGATE.sub("\ufffd", text)
    text = _UNPRINTABLE.sub(" ", text)
    return " ".join(text.split())


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _plain(text: str) -> str:
    return text


def _fit(text: str, budget: int, escape: Callable[[str], str] = _escape) -> str:
    """`escape(text)` on one line, cut at a word boundary with an ellipsis to take at most `budget` units."""
    text = _one_line(text)
    whole = escape(text)
    if utf16_len(whole) <= budget:
        return whole
    if budget < 1 + utf16_len(ELLIPSIS):
        return ""
    room = budget - utf16_len(ELLIPSIS)
    used = end = 0
    for index, char in enumerate(text):  # escaping is per character, so the prefix cost adds up
        used += utf16_len(escape(char))
        if used > room:
            break
        end = index + 1
    cut = text[:end]
    space = cut.rfind(" ")
    if space > end // 2:  # a word boundary not too far back; one giant word is cut where it must be
        cut = cut[:space]
    return escape(cut.rstrip(" ,.;:!?-–—")) + ELLIPSIS


def _hit_html(hit: MovieHit, title_budget: int, plot_budget: int, *, numbered: bool = True) -> str:
    movie = hit.movie
    title = _fit(movie.title, title_budget) or "Untitled"
    year = f" ({movie.year})" if movie.year else ""
    rank = f"{hit.rank}. " if numbered else ""
    lines = [f"{rank}<b>{title}</b>{year} · score {hit.score:.2f}"]
    plot = _fit(movie.overview, plot_budget)
    if plot:
        lines.append(plot)
    if _IMDB_ID.fullmatch(movie.imdb_id):  # a malformed id would make a broken link, so it gets none
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
        if utf16_len(text) <= MESSAGE_LIMIT:
            return text, build_keyboard(results, shown, PAGE_SIZE, page_key)
        if plot_budget:
            plot_budget //= 2
        elif title_budget > 20:
            title_budget //= 2
        else:
            shown -= 1


def render_help(bot_username: str | None) -> str:
    """Usage with an example, for /start, /help and an empty /movie."""
    example = _escape(EXAMPLE_QUERY)
    inline = (
        f"\n\nIn any chat, type <code>@{_escape(bot_username)} {example}</code> to share a result."
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
        title = _fit(movie.title, INLINE_TITLE_CHARS, _plain) or "Untitled"
        year = f"{movie.year} · " if movie.year else ""
        articles.append(
            InlineQueryResultArticle(
                id=str(hit.rank),
                title=f"{title} ({movie.year})" if movie.year else title,
                description=_fit(f"{weak}{year}score {hit.score:.2f} · {movie.overview}",
                                 INLINE_DESCRIPTION_CHARS, _plain),
                input_message_content=InputTextMessageContent(
                    _hit_html(hit, TITLE_BUDGET, INLINE_PLOT_BUDGET, numbered=False),
                    parse_mode=ParseMode.HTML,
                ),
            )
        )
    return articles
