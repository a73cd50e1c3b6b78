"""The Qdrant server path (qdrant-client local mode speaks the same API) ranks exactly like the embedded index."""

from __future__ import annotations

from pathlib import Path

import pytest
from qdrant_client import QdrantClient

from core.bootstrap import open_index, open_query_encoder, open_search_service, search_service_for
from core.index.server import ServerMovieIndex
from core.ingest import IngestReport, run_ingest
from tests.conftest import MARTIAN_QUERY, settings_for

pytestmark = pytest.mark.slow

QUERIES = (
    MARTIAN_QUERY,
    "French wartime romance during the German occupation",
    "a 90s movie where toys come alive",
    "Christopher Nolan film about dreams inside dreams",
    "giant shark attacks a beach town",
)


def test_server_and_embedded_backends_rank_the_same(built: tuple[Path, IngestReport], tmp_path: Path) -> None:
    root, _ = built
    client = QdrantClient(":memory:")
    settings = settings_for(tmp_path / "index")
    report = run_ingest(settings, progress=False, client=client)
    assert report.backend == "qdrant server"

    server = search_service_for(ServerMovieIndex(client, "movies"), open_query_encoder(settings))
    with open_search_service(settings_for(root / "index")) as edge:
        for query in QUERIES:
            a = server.search_sync(query, limit=10).hits
            b = edge.search_sync(query, limit=10).hits
            assert [h.movie.imdb_id for h in a] == [h.movie.imdb_id for h in b], query
            assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-4)

    # Re-ingest on the server reuses the stored vectors and swaps the alias to a new collection.
    old = {c.name for c in client.get_collections().collections}
    again = run_ingest(settings, progress=False, client=client)
    assert again.embedded == 0
    now = {c.name for c in client.get_collections().collections}
    assert len(now) == 1 and now != old
    assert ServerMovieIndex(client, "movies").manifest.points == report.catalog.kept


def test_both_backends_fetch_full_records_in_the_order_asked(built: tuple[Path, IngestReport],
                                                            tmp_path: Path) -> None:
    root, _ = built
    client = QdrantClient(":memory:")
    run_ingest(settings_for(tmp_path / "index"), progress=False, client=client)
    edge = open_index(settings_for(root / "index"))
    server = ServerMovieIndex(client, "movies")
    try:
        wanted = ["tt3659388", "tt9999999", "tt0900387"]  # The Martian, an unknown id, Suite Française
        for index in (edge, server):
            movies = index.movies(wanted)
            assert [m.imdb_id for m in movies] == ["tt3659388", "tt0900387"]
            assert movies[1].title == "Suite Française"
            assert movies[0].overview.startswith("During a manned mission to Mars")
            assert "Drama" in movies[0].genres
    finally:
        edge.close()
