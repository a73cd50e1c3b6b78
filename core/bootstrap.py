"""The one place that builds core services from settings. Heavy: call it from a worker thread or at start-up.

Everything that searches gets its `SearchService` from here, built once and closed once by its owner:
`movie-bot serve` builds it in a worker thread and hands the instance to each chat adapter; the other commands
use `open_search_service`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from core.documents import RECIPE_VERSION
from core.embedding.batcher import QueryBatcher
from core.embedding.port import TextEncoder
from core.errors import IndexUnavailable, MovieBotError
from core.index.bundle import ENCODER_DIR, BundleStore
from core.index.port import MovieIndex
from core.search_service import SearchService
from core.settings import Settings
from core.sparse import SPARSE_RECIPE

logger = logging.getLogger(__name__)


def open_index(settings: Settings) -> MovieIndex:
    if settings.qdrant_url:
        from core.index.server import ServerMovieIndex, connect_qdrant

        return ServerMovieIndex(connect_qdrant(settings), settings.qdrant_collection)
    from core.index.edge import EdgeMovieIndex

    return EdgeMovieIndex.open(settings.index_path)


def open_query_encoder(settings: Settings) -> TextEncoder:
    if settings.query_encoder == "sentence-transformers":
        from core.embedding.st_encoder import SentenceTransformerEncoder

        return SentenceTransformerEncoder(settings.embedding_model)
    from core.embedding.onnx_encoder import OnnxEncoder

    live = BundleStore(settings.index_path).live_dir()
    if live is None or not (live / ENCODER_DIR).is_dir():
        raise IndexUnavailable(
            f"No query encoder in {settings.index_path}: run `movie-bot ingest` on this machine "
            "(it exports the ONNX encoder), or set QUERY_ENCODER=sentence-transformers."
        )
    return OnnxEncoder(live / ENCODER_DIR)


def search_service_for(index: MovieIndex, encoder: TextEncoder) -> SearchService:
    """A service over an open index and encoder, with its query batcher and its one ranking thread.

    The batcher hands batched queries' ranking to that thread, so the encoder thread moves on to the next batch.
    """
    ranking = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search-rank")
    return SearchService(index, encoder, QueryBatcher(encoder, follow_up=ranking), ranking)


@contextlib.contextmanager
def _damage_explained(settings: Settings) -> Iterator[None]:
    """A damaged bundle fails in many ways (bad JSON, a missing file, a broken shard or model); every one gets
    the same clear message naming the fix, and the detail goes to the log."""
    try:
        yield
    except MovieBotError:
        raise
    except Exception as exc:
        logger.warning("cannot open the index at %s: %s: %s", settings.index_path, type(exc).__name__, exc,
                       exc_info=logger.isEnabledFor(logging.DEBUG))
        raise IndexUnavailable(
            f"The movie index at {settings.index_path} is damaged or incomplete. Rebuild it with `movie-bot ingest`."
        ) from exc


def open_index_and_encoder(settings: Settings) -> tuple[MovieIndex, TextEncoder]:
    """The index and a query encoder that matches it (same model and text recipes), or a clear error."""
    with _damage_explained(settings):
        index = open_index(settings)
    try:
        with _damage_explained(settings):
            index.manifest.require_compatible(settings.embedding_model, RECIPE_VERSION, SPARSE_RECIPE)
            encoder = open_query_encoder(settings)
    except BaseException:
        index.close()
        raise
    logger.info("index ready: %d movies built %s with %s", index.manifest.points, index.manifest.built_at,
                index.manifest.model_name)
    return index, encoder


def build_search_service(settings: Settings) -> SearchService:
    return search_service_for(*open_index_and_encoder(settings))


@contextlib.contextmanager
def open_search_service(settings: Settings) -> Iterator[SearchService]:
    """The service for callers without an event loop (search, chat, eval, bench), closed when the block ends."""
    service = build_search_service(settings)
    try:
        yield service
    finally:
        service.close()
