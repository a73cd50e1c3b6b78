"""Plain-text replies for the console chat and `movie-bot search`: the same content the chat bots show."""

from __future__ import annotations

from bot.reply_text import EXAMPLE_TITLE, UNREADABLE, WEAK_HINT, WEAK_NOTE, film_label, similar_heading
from bot.text_fit import fit
from core.models import MatchQuality, SearchResults
from core.query_text import EXAMPLE_QUERY

PLOT_CHARS = 160

HELP_TEXT = (
    "Describe a movie and I'll find the five that fit best.\n"
    f"  /movie <description>   e.g. /movie {EXAMPLE_QUERY}\n"
    f"  /similar <title>       films like that one, e.g. /similar {EXAMPLE_TITLE}\n"
    "  /help                  this message\n"
    "  /quit                  leave (console only)"
)
USAGE_HINT = f"I only understand /movie <description>, /similar <title> and /help. Try: /movie {EXAMPLE_QUERY}"


def render_results(results: SearchResults) -> str:
    """A page of results; weak matches are marked as such, and an unreadable query gets the honest answer."""
    if results.quality is MatchQuality.UNREADABLE:
        return UNREADABLE
    if results.similar_to is not None:
        if not results.hits:
            return f"No films like {film_label(results.similar_to)} found."
        lines = [f"{similar_heading(results.similar_to)}:"]
    elif not results.hits:
        return f"No movies found for “{results.query}”. Try describing the plot in other words."
    elif results.quality is MatchQuality.WEAK:
        lines = [f"Movies for “{results.query}”. {WEAK_NOTE}"]
    else:
        lines = [f"Movies for “{results.query}”:"]
    for hit in results.hits:
        movie = hit.movie
        year = f" ({movie.year})" if movie.year else ""
        lines.append(f"{hit.rank}. {movie.title}{year}  score {hit.score:.2f}")
        lines.append(f"   {fit(movie.overview, PLOT_CHARS)}")
        if movie.imdb_url:
            lines.append(f"   {movie.imdb_url}")
    if results.quality is MatchQuality.WEAK:
        lines.append(WEAK_HINT)
    return "\n".join(lines)
