"""Films like X, on the fixture index: by X's own vector, X left out, X resolved from a typo; both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient

from core.bootstrap import open_query_encoder, open_search_service, search_service_for
from core.errors import InvalidQuery
from core.index.server import ServerMovieIndex
from core.ingest import IngestReport, run_ingest
from core.models import MatchQuality
from core.search_service import SearchService
from tests.conftest import settings_for

pytestmark = pytest.mark.slow

INTERSTELLAR = "tt0816692"


@pytest.fixture
def service(built: tuple[Path, IngestReport]) -> Iterator[SearchService]:
    root, _ = built
    with open_search_service(settings_for(root / "index")) as opened:
        yield opened


async def test_similar_resolves_a_typo_and_leaves_the_film_out(service: SearchService) -> None:
    try:
        results = await service.similar("Intersteller", limit=5)
        assert results.similar_to is not None and results.similar_to.imdb_id == INTERSTELLAR
        ids = [h.movie.imdb_id for h in results.hits]
        assert len(ids) == 5 and INTERSTELLAR not in ids
        # Its neighbours are the other space films of the fixture, not the romance or the comedy.
        assert "tt0900387" not in ids[:3] and "tt5210380" not in ids[:3]
        more = await service.similar("interstellar", limit=5, offset=5)
        assert not set(ids) & {h.movie.imdb_id for h in more.hits}
    finally:
        await service.aclose()


async def test_similar_to_no_known_title_is_invalid(service: SearchService) -> None:
    try:
        with pytest.raises(InvalidQuery):
            await service.similar("qwxz plorfed")
    finally:
        await service.aclose()


def test_a_movies_like_query_answers_with_similar_films(service: SearchService) -> None:
    results = service.search_sync("movies like the martain")
    assert results.similar_to is not None and results.similar_to.imdb_id == "tt3659388"
    assert "tt3659388" not in [h.movie.imdb_id for h in results.hits]
    # A description that happens to say "like" is searched as a description.
    plain = service.search_sync("a film like a heist but on a spaceship")
    assert plain.similar_to is None


def test_an_unreadable_script_is_said_so(service: SearchService) -> None:
    assert service.search_sync("电影 火星 救援").quality is MatchQuality.UNREADABLE
    assert service.search_sync("NASA tried to rescue an astronaut stranded on Mars").quality is MatchQuality.GOOD


def test_both_backends_give_the_same_vector_and_titles(built: tuple[Path, IngestReport], tmp_path: Path) -> None:
    root, _ = built
    client = QdrantClient(":memory:")
    settings = settings_for(tmp_path / "index")
    run_ingest(settings, progress=False, client=client)
    server = search_service_for(ServerMovieIndex(client, "movies"), open_query_encoder(settings))
    with open_search_service(settings_for(root / "index")) as edge:
        a, b = server.index.dense_vector(INTERSTELLAR), edge.index.dense_vector(INTERSTELLAR)
        assert a is not None and b is not None
        np.testing.assert_allclose(a, b, atol=1e-5)
        assert server.index.dense_vector("tt9999999") is None
        assert sorted(f.imdb_id for f in server.index.catalog_facts()) == sorted(
            f.imdb_id for f in edge.index.catalog_facts())
        x = [h.movie.imdb_id for h in server.similar_sync("Intersteller").hits]
        y = [h.movie.imdb_id for h in edge.similar_sync("Intersteller").hits]
        assert x == y and INTERSTELLAR not in x
    server.close()
