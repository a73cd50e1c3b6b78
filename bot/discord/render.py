"""Search results as a Discord embed that respects every Discord size limit, whatever the catalog holds.

Text from the catalog is flattened to one line and markdown-escaped by `bot.text_fit`, which counts UTF-16
code units: never fewer than code points, so the limits hold however Discord counts.
"""

from __future__ import annotations

import discord

from bot import text_fit
from bot.reply_text import SIMILAR_PREFIX, UNREADABLE, WEAK_HINT, WEAK_NOTE
from bot.text_fit import units
from core.models import MatchQuality, MovieHit, SearchResults

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FOOTER_LIMIT = 2048
TOTAL_LIMIT = 6000

ENTRY_TITLE_UNITS = 120
PLOT_UNITS = 200
ENTRY_SEPARATOR = "\n\n"
EMBED_COLOUR = discord.Colour.blurple()

_MARKDOWN = frozenset("\\*_~|`[]()<>#")
_LINE_START_MARKDOWN = frozenset("-+")


def _escape(ch: str, first: bool) -> str:
    return "\\" + ch if ch in _MARKDOWN or (first and ch in _LINE_START_MARKDOWN) else ch


def fit(text: str, limit: int) -> str:
    """`text` on one line, markdown-escaped, in at most `limit` units."""
    return text_fit.fit(text, limit, _escape)


def render_entry(hit: MovieHit, budget: int) -> str:
    """`**rank. [Title (year)](imdb)** · score 0.71` and a one-line plot, in `budget` units if it can."""
    movie = hit.movie
    year = f" ({movie.year})" if movie.year is not None and 1 <= movie.year <= 9999 else ""
    label = (fit(movie.title, ENTRY_TITLE_UNITS - len(year)) or "Untitled") + year
    url = movie.imdb_url
    linked = f"[{label}]({url})" if url else label
    score = min(1.0, max(0.0, hit.score)) if hit.score == hit.score else 0.0
    head = f"**{hit.rank}. {linked}** · score {score:.2f}"
    plot = fit(movie.overview, min(PLOT_UNITS, budget - units(head) - 1))
    return f"{head}\n{plot}" if plot else head


def _description(results: SearchResults) -> str:
    if results.quality is MatchQuality.UNREADABLE:
        return fit(UNREADABLE, DESCRIPTION_LIMIT)
    if not results.hits:
        if results.similar_to is not None:
            return f"No {'more ' if results.offset else ''}films like this one found."
        if results.offset:
            return "No more movies for this description."
        return "No movies matched that description. Try a few other words about the plot."
    note = f"*{fit(WEAK_NOTE, 200)}*{ENTRY_SEPARATOR}" if results.quality is MatchQuality.WEAK else ""
    count = len(results.hits)
    budget = (DESCRIPTION_LIMIT - units(note) - units(ENTRY_SEPARATOR) * (count - 1)) // count
    entries: list[str] = []
    used = units(note)
    for hit in results.hits:
        entry = render_entry(hit, budget)
        cost = units(entry) + (units(ENTRY_SEPARATOR) if entries else 0)
        if used + cost > DESCRIPTION_LIMIT:
            break
        entries.append(entry)
        used += cost
    return note + ENTRY_SEPARATOR.join(entries)


def _title(results: SearchResults) -> str:
    if results.similar_to is not None:  # the film's title is escaped, the rest is ours
        movie = results.similar_to
        year = f" ({movie.year})" if movie.year is not None and 1 <= movie.year <= 9999 else ""
        return SIMILAR_PREFIX + fit(movie.title, TITLE_LIMIT - units(SIMILAR_PREFIX) - len(year)) + year
    prefix, suffix = "Movies like “", "”"
    return prefix + fit(results.query, TITLE_LIMIT - units(prefix) - units(suffix)) + suffix


def _footer(results: SearchResults) -> str:
    if results.quality is MatchQuality.UNREADABLE:
        return "The search model reads English only"
    if not results.hits:
        return "Semantic search · scores run from 0 to 1"
    first = results.offset + 1
    last = results.offset + len(results.hits)
    more = " · more with Next" if results.has_more else ""
    hint = f"{WEAK_HINT} · " if results.quality is MatchQuality.WEAK else ""
    return f"{hint}Results {first}–{last}{more} · scores run from 0 to 1"


def render_results(results: SearchResults) -> discord.Embed:
    """One page of results; title, description and footer each fit, so the total stays under 6,000."""
    embed = discord.Embed(title=_title(results), description=_description(results), colour=EMBED_COLOUR)
    embed.set_footer(text=_footer(results))
    return embed
