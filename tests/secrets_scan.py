"""Scan everything a test logged for secrets, through the same redaction `movie-bot serve` installs.

Use with `pytestmark = pytest.mark.usefixtures("logs_scanned_for_secrets")` (and import the fixture): from its
set-up to its tear-down the test logs at DEBUG into a handler that carries bot.logging_setup's filter, as the
serving process's handler does; afterwards neither token nor the Qdrant key may appear anywhere in that text,
tracebacks included. (Without the filter, the Telegram token is in every logged Bot API URL.)
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logging_setup import RedactSecrets
from tests.discord.conftest import TOKEN as DISCORD_TOKEN
from tests.telegram.conftest import TOKEN as TELEGRAM_TOKEN

QDRANT_KEY = "qdrant-api-key-never-logged"
SECRETS = (TELEGRAM_TOKEN, DISCORD_TOKEN, QDRANT_KEY)


@pytest.fixture
def logs_scanned_for_secrets() -> Iterator[None]:
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(list(SECRETS)))
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    text = stream.getvalue()
    assert "HTTP Request" in text or "Calling Bot API" in text or "webhook" in text.lower(), (
        "no HTTP traffic was logged: the scan would prove nothing")
    for secret in SECRETS:
        assert secret not in text
