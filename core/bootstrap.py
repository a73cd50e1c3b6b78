"""The one place that builds core services from settings. Heavy: call it from a worker thread or at start-up."""

from __future__ import annotations

import logging

from core.documents import RECIPE_VERSION
from core.embedding.port import TextEncoder
from core.errors import IndexUnavailable
from core.index.bundle import ENCODER_DIR, BundleStore
from core.index.port import MovieIndex
from core.search_service import SearchService
from core.settings import Settings
from core.sparse import SPARSE_RECIPE

log = logging.getLogger(__name__)


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


def build_search_service(settings: Settings) -> SearchService:
    index = open_index(settings)
    try:
        index.manifest.require_compatible(settings.embedding_model, RECIPE_VERSION, SPARSE_RECIPE)
        encoder = open_query_encoder(settings)
    except BaseException:
        index.close()
        raise
    log.info("index ready: %d movies built %s with %s", index.manifest.points, index.manifest.built_at,
             index.manifest.model_name)
    return SearchService(index, encoder)
