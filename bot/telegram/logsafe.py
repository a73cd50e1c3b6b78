"""Keep the bot token out of logs: it is part of every Bot API URL, which PTB and httpx may log."""

from __future__ import annotations

import logging

# Loggers whose records can carry a Bot API URL or an error built from one.
_URL_LOGGERS = (
    "httpx",
    "telegram",
    "telegram.Bot",
    "telegram.ext",
    "telegram.ext.ExtBot",
    "telegram.ext.Application",
    "telegram.ext.Updater",
    "telegram.request.BaseRequest",
    "telegram.request.HTTPXRequest",
)
REDACTED = "<redacted>"


class RedactSecrets(logging.Filter):
    """Replace known secrets in a record's message and traceback before any handler formats it."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        for secret in self.secrets:
            message = message.replace(secret, REDACTED)
            if record.exc_text:
                record.exc_text = record.exc_text.replace(secret, REDACTED)
        record.msg, record.args = message, None
        return True


_REDACTOR = RedactSecrets()


def protect_token(token: str) -> None:
    """Redact `token` from the loggers that see URLs; httpx request lines are also muted below WARNING."""
    _REDACTOR.secrets.add(token)
    for name in _URL_LOGGERS:
        named = logging.getLogger(name)
        if _REDACTOR not in named.filters:
            named.addFilter(_REDACTOR)
    logging.getLogger("httpx").setLevel(logging.WARNING)
