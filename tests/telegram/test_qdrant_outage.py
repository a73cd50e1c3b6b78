"""The Qdrant server going away in the middle of a run: users get a friendly "not reachable" reply, nothing
crashes, and searches work again by themselves once the server is back (no restart, no reconnect step)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from qdrant_client import QdrantClient
from qdrant_client.http.exceptions import ResponseHandlingException

from bot.telegram.handlers import SORRY
from core.bootstrap import open_query_encoder, search_service_for
from core.index.server import ServerMovieIndex
from core.ingest import run_ingest
from core.search_guard import BoundedSearch
from tests.conftest import MARTIAN_QUERY, settings_for
from tests.secrets_scan import logs_scanned_for_secrets  # noqa: F401  (a fixture)
from tests.telegram.conftest import StartBot
from tests.telegram.emulator import BotApiEmulator

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("logs_scanned_for_secrets")]


class FlakyQdrant:
    """A real (in-memory) Qdrant client that fails every call, as an unreachable server does, while `down`."""

    def __init__(self, client: QdrantClient) -> None:
        self._client = client
        self.down = False
        self.refused = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                self.refused += 1
                request = httpx.Request("POST", "http://user:secret@qdrant.internal:6333/collections")
                raise ResponseHandlingException(httpx.ConnectError("[Errno 111] Connection refused", request=request))
            return attribute(*args, **kwargs)

        return call


async def test_an_outage_mid_run_gets_a_friendly_reply_and_recovers_by_itself(
    tmp_path: Path, emulator: BotApiEmulator, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(tmp_path / "index")
    qdrant = FlakyQdrant(QdrantClient(":memory:"))
    run_ingest(settings, progress=False, client=qdrant)  # type: ignore[arg-type]
    index = ServerMovieIndex(qdrant, "movies")  # type: ignore[arg-type]
    search = BoundedSearch(search_service_for(index, open_query_encoder(settings)), 64)
    bot = await start_bot(search, RATE_LIMIT="off")
    caplog.set_level(logging.INFO)

    async def ask() -> str:
        mark = emulator.mark()
        emulator.send_text(f"/movie {MARTIAN_QUERY}")
        return str((await emulator.wait_for("sendMessage", after=mark)).params["text"])

    try:
        assert "The Martian" in await ask()
        qdrant.down = True
        for _ in range(2):
            outage = await ask()
            assert "not reachable right now" in outage and outage != SORRY
            assert "qdrant.internal" not in outage and "secret" not in outage
        assert qdrant.refused >= 2
        qdrant.down = False
        assert "The Martian" in await ask()
    finally:
        await bot.shut_down()
        await search.aclose()
    assert bot.task.exception() is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert search.pending == 0


