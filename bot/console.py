"""The local console chat: the bot's conversation without any token, for trying it out and for demos."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bot.plain_render import HELP_TEXT, USAGE_HINT, render_results
from core.errors import MovieBotError
from core.models import SearchResults

Search = Callable[[str], SearchResults]


def reply_to(line: str, search: Search) -> str | None:
    """The reply to one typed line, or None to end the chat."""
    text = line.strip()
    if not text:
        return ""
    command, _, rest = text.partition(" ")
    command = command.lower().split("@", 1)[0]
    if command in ("/quit", "/exit"):
        return None
    if command in ("/help", "/start"):
        return HELP_TEXT
    if command != "/movie":
        return USAGE_HINT
    if not rest.strip():
        return "Tell me what the movie is about.\n" + HELP_TEXT
    try:
        return render_results(search(rest))
    except MovieBotError as exc:
        return exc.user_message


def run_console(search: Search, lines: Iterable[str], write: Callable[[str], None]) -> None:
    write("movie-bot console chat. " + HELP_TEXT.splitlines()[0] + " Type /help for commands.")
    for line in lines:
        answer = reply_to(line, search)
        if answer is None:
            break
        if answer:
            write(answer)
