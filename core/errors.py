"""Errors that carry a message fit to show a person.

Adapters catch `MovieBotError` and show `user_message`; anything else is a bug and goes to the one error
handler of each adapter, which logs it and answers with a generic apology.
"""

from __future__ import annotations


class MovieBotError(Exception):
    """Base for failures a user can act on; `user_message` never contains internals or secrets."""

    exit_code = 1

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class InvalidQuery(MovieBotError):
    """The search text is empty, too long, or has nothing searchable in it."""

    exit_code = 2


class IndexUnavailable(MovieBotError):
    """No index to answer from: not built yet, unreadable, or the Qdrant server is unreachable."""


class IndexMismatch(MovieBotError):
    """The index was built with another model or text recipe than the one configured."""


class BadInput(MovieBotError):
    """Input data (a CSV, a queries file) is missing, unreadable or malformed."""

    exit_code = 2


class ConfigError(MovieBotError):
    """A setting is invalid; the message names the variable and the fix."""

    exit_code = 2


class ShuttingDown(MovieBotError):
    """A search arrived, or was waiting, when the service closed (a deploy's stop): nothing is wrong with it, and
    asking again in a minute reaches the next instance."""

    def __init__(self, user_message: str = "The bot is restarting. Please send that again in a minute.") -> None:
        super().__init__(user_message)
