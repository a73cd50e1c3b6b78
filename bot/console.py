"""The local console chat: the bot's conversation without any token, for trying it out and for demos."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bot.plain_render import HELP_TEXT, USAGE_HINT, render_results
from bot.reply_text import EXAMPLE_TITLE
from core.errors import MovieBotError
from core.models import SearchResults

Search = Callable[[str], SearchResults]


def reply_to(line: str, search: Search, similar: Search | None = None) -> str | None:
    """The reply to one typed line, or None to end the chat. `similar` answers `/similar <title>`."""
    text = line.strip()
    if not text:
        return ""
    command, _, rest = text.partition(" ")
    command = command.lower().split("@", 1)[0]
    if command in ("/quit", "/exit"):
        return None
    if command in ("/help", "/start"):
        return HELP_TEXT
    if command == "/similar":
        if similar is None:
            return "Films like another one are not available here. Try /movie <description>."
        if not rest.strip():
            return f"Name a film you liked, for example: /similar {EXAMPLE_TITLE}"
        return _answer(similar, rest)
    if command != "/movie":
        return USAGE_HINT
    if not rest.strip():
        return "Tell me what the movie is about.\n" + HELP_TEXT
    return _answer(search, rest)


def _answer(search: Search, text: str) -> str:
    try:
        return render_results(search(text))
    except MovieBotError as exc:
        return exc.user_message


def run_console(
    search: Search, lines: Iterable[str], write: Callable[[str], None], similar: Search | None = None
) -> None:
    write("movie-bot console chat. " + HELP_TEXT.splitlines()[0] + " Type /help for commands.")
    for line in lines:
        answer = reply_to(line, search, similar)
        if answer is None:
            break
        if answer:
            write(answer)
