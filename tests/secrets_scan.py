"""Scan everything a test logged for secrets, through the same redaction `movie-bot serve` installs.

Use with `pytestmark = pytest.mark.usefixtures("logs_scanned_for_secrets")` (and import the fixture): the test
logs at DEBUG, every record passes bot.logging_setup's filter as in production, and afterwards neither token nor
the Qdrant key may appear anywhere in the captured text, tracebacks included.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.logging_setup import RedactSecrets
from tests.discord.conftest import TOKEN as DISCORD_TOKEN
from tests.telegram.conftest import TOKEN as TELEGRAM_TOKEN

QDRANT_KEY = "qdrant-api-key-never-logged"
SECRETS = (TELEGRAM_TOKEN, DISCORD_TOKEN, QDRANT_KEY)


@pytest.fixture
def logs_scanned_for_secrets(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    redact = RedactSecrets(list(SECRETS))
    caplog.handler.addFilter(redact)
    yield
    caplog.handler.removeFilter(redact)
    text = caplog.text
    assert text, "nothing was logged: the scan would prove nothing"
    for secret in SECRETS:
        assert secret not in text
