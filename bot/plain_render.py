"""Plain-text replies for the console chat and `movie-bot search`: the same content the chat bots show."""

from __future__ import annotations

from bot.text_fit import fit
from core.models import SearchResults
from core.query_text import EXAMPLE_QUERY

PLOT_CHARS = 160

HELP_TEXT = (
    "Describe a movie and I'll find the five that fit best.\n"
    f"  /movie <description>   e.g. /movie {EXAMPLE_QUERY}\n"
    "  /help                  this message\n"
    "  /quit                  leave (console only)"
)
USAGE_HINT = f"I only understand /movie <description> and /help. Try: /movie {EXAMPLE_QUERY}"


def render_results(results: SearchResults) -> str:
    if not results.hits:
        return f"No movies found for “{results.query}”. Try describing the plot in other words."
    lines = [f"Movies for “{results.query}”:"]
    for hit in results.hits:
        movie = hit.movie
        year = f" ({movie.year})" if movie.year else ""
        lines.append(f"{hit.rank}. {movie.title}{year}  score {hit.score:.2f}")
        lines.append(f"   {fit(movie.overview, PLOT_CHARS)}")
        if movie.imdb_url:
            lines.append(f"   {movie.imdb_url}")
    return "\n".join(lines)
