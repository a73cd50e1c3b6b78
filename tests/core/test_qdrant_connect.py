"""`connect_qdrant`: the one way ingest and serving reach a Qdrant server from settings."""

from __future__ import annotations

import threading

import pytest

from core.errors import BadInput
from core.index.server import connect_qdrant
from core.settings import load_settings


@pytest.mark.filterwarnings("ignore::UserWarning")  # no server answers there, and the key goes over plain http
def test_it_connects_to_the_configured_url_with_the_key() -> None:
    pytest.importorskip("qdrant_client")
    settings = load_settings(QDRANT_URL="http://127.0.0.1:9", QDRANT_API_KEY="not-a-real-key")
    before = set(threading.enumerate())
    client = connect_qdrant(settings)
    for checker in set(threading.enumerate()) - before:  # qdrant-client asks the server's version in a thread
        checker.join(10)  # so its warning (nothing listens there) is raised within this test
    try:
        options = client.init_options
        assert (options["url"], options["api_key"]) == ("http://127.0.0.1:9", "not-a-real-key")
        assert options["timeout"] == 10
    finally:
        client.close()


def test_without_a_url_it_says_so() -> None:
    with pytest.raises(BadInput, match="QDRANT_URL"):
        connect_qdrant(load_settings(QDRANT_URL=None))
