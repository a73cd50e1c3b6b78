"""Plain-text replies for the console chat and `movie-bot search`: the same content the chat bots show."""

from __future__ import annotations

from bot.text_fit import fit
from core.models import MatchQuality, SearchResults
from core.query_text import EXAMPLE_QUERY

PLOT_CHARS = 160

HELP_TEXT = (
    "Describe a movie and I'll find the five that fit best.\n"
    f"  /movie <description>   e.g. /movie {EXAMPLE_QUERY}\n"
    "  /help                  this message\n"
    "  /quit                  leave (console only)"
)
USAGE_HINT = f"I only understand /movie <description> and /help. Try: /movie {EXAMPLE_QUERY}"
UNREADABLE_NOTE = (
    "I can only read English descriptions, so I can't tell what this asks for. Try describing the film in "
    f"English, e.g. /movie {EXAMPLE_QUERY}"
)
WEAK_NOTE = (
    "Nothing in the catalog fits this well. These are the closest, but they are weak matches; try other "
    "details: the plot, an actor, roughly when it came out."
)


def render_results(results: SearchResults) -> str:
    if results.quality is MatchQuality.UNREADABLE:
        return UNREADABLE_NOTE
    if not results.hits:
        return f"No movies found for “{results.query}”. Try describing the plot in other words."
    if results.similar_to is not None:
        film = results.similar_to
        year = f" ({film.year})" if film.year else ""
        lines = [f"Movies like {film.title}{year}:"]
    elif results.quality is MatchQuality.WEAK:
        lines = [WEAK_NOTE, f"Weak matches for “{results.query}”:"]
    else:
        lines = [f"Movies for “{results.query}”:"]
    for hit in results.hits:
        movie = hit.movie
        year = f" ({movie.year})" if movie.year else ""
        lines.append(f"{hit.rank}. {movie.title}{year}  score {hit.score:.2f}")
        lines.append(f"   {fit(movie.overview, PLOT_CHARS)}")
        if movie.imdb_url:
            lines.append(f"   {movie.imdb_url}")
    return "\n".join(lines)
