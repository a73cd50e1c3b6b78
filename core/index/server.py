"""Qdrant server or Qdrant Cloud through qdrant-client: for users who outgrow one machine.

The collection name users configure is an alias; every build writes a new physical collection and the alias
is switched in one `update_collection_aliases` call, so searches never see a half-built collection.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from core.domain import RANKING_FIELDS, RESULT_FIELDS, Candidates, MovieFacts, in_order, movie_facts, point_id
from core.errors import BadInput, IndexUnavailable
from core.index.bundle import BundleStore
from core.index.manifest import IndexManifest
from core.index.port import DENSE, SPARSE, WELL_KNOWN_VOTES, IndexPoint, RetrievalRequest, StoredVector
from core.models import Movie

if TYPE_CHECKING:
    from pathlib import Path

    from qdrant_client import QdrantClient

    from core.settings import Settings

logger = logging.getLogger(__name__)

UPSERT_BATCH = 256
MANIFEST_KEY = "movie_bot_manifest"


def connect_qdrant(settings: Settings) -> QdrantClient:
    """The one way ingest and serving reach a Qdrant server (QDRANT_URL, QDRANT_API_KEY)."""
    from qdrant_client import QdrantClient

    if settings.qdrant_url is None:
        raise BadInput("QDRANT_URL is not set: there is no Qdrant server to connect to.")
    key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
    return QdrantClient(url=settings.qdrant_url, api_key=key, timeout=10)


def _unreachable(exc: Exception) -> IndexUnavailable:
    # Messages from the transport can carry URLs with credentials: log the detail, show a plain sentence.
    logger.warning("Qdrant server error: %s", type(exc).__name__, exc_info=exc)
    return IndexUnavailable("The movie index server (QDRANT_URL) is not reachable right now. Try again shortly.")


def _resolve_alias(client: QdrantClient, alias: str) -> str | None:
    for item in client.get_aliases().aliases:
        if item.alias_name == alias:
            return str(item.collection_name)
    return None


class ServerMovieIndex:
    def __init__(self, client: QdrantClient, alias: str) -> None:
        self.client = client
        self.alias = alias
        try:
            collection = _resolve_alias(client, alias) or alias
            if not client.collection_exists(collection):
                raise IndexUnavailable(
                    f"The Qdrant server has no collection '{alias}' yet. Build it with `movie-bot ingest`."
                )
            info = client.get_collection(collection)
        except IndexUnavailable:
            raise
        except Exception as exc:
            raise _unreachable(exc) from exc
        metadata: dict[str, Any] = dict(info.config.metadata or {})
        if MANIFEST_KEY not in metadata:
            raise IndexUnavailable(
                f"The Qdrant collection '{alias}' was not built by movie-bot. Rebuild it with `movie-bot ingest`."
            )
        self.manifest = IndexManifest.from_json(metadata[MANIFEST_KEY])
        self._catalog: list[MovieFacts] | None = None

    def retrieve(self, request: RetrievalRequest) -> Candidates:
        """The same two stages as the embedded index, so both backends rank identically."""
        from qdrant_client import models

        dense = request.dense.tolist()
        sparse = models.SparseVector(indices=request.sparse.indices, values=request.sparse.values)
        # Stage 1 brings each candidate's ranking facts along, so a search costs two round trips.
        stage1 = [models.QueryRequest(query=q, using=u, limit=request.limit, with_payload=RANKING_FIELDS)
                  for q, u in ((dense, DENSE), (sparse, SPARSE))]
        if request.year_range is not None:
            low, high = request.year_range
            flt = models.Filter(must=[models.FieldCondition(key="year", range=models.Range(gte=low, lte=high))])
            stage1 += [models.QueryRequest(query=q, using=u, limit=request.limit // 2, filter=flt,
                                           with_payload=RANKING_FIELDS)
                       for q, u in ((dense, DENSE), (sparse, SPARSE))]
        kinds = [k % 2 for k in range(len(stage1))]  # 0 dense, 1 sparse
        if request.well_known:
            well_known = models.Filter(must=[models.FieldCondition(
                key="vote_count", range=models.Range(gte=WELL_KNOWN_VOTES))])
            stage1.append(models.QueryRequest(query=dense, using=DENSE, limit=request.well_known, filter=well_known,
                                              with_payload=RANKING_FIELDS))
            kinds.append(0)
        scores: tuple[dict[Any, float], dict[Any, float]] = ({}, {})
        facts: dict[Any, MovieFacts] = {}
        try:
            for kind, answer in zip(kinds, self.client.query_batch_points(self.alias, stage1), strict=True):
                for p in answer.points:
                    scores[kind][p.id] = float(p.score)
                    if p.id not in facts:
                        facts[p.id] = movie_facts(p.payload or {})
            # Stage 2: the score each candidate still lacks (see EdgeMovieIndex.retrieve).
            missing = [(k, q, u, list(facts.keys() - scores[k].keys()))
                       for k, (q, u) in enumerate(((dense, DENSE), (sparse, SPARSE)))]
            missing = [m for m in missing if m[3]]
            if missing:
                answers = self.client.query_batch_points(self.alias, [
                    models.QueryRequest(query=q, using=u, limit=len(need), with_payload=False,
                                        filter=models.Filter(must=[models.HasIdCondition(has_id=need)]))
                    for _, q, u, need in missing
                ])
                for (k, _, _, _), answer in zip(missing, answers, strict=True):
                    scores[k].update((p.id, float(p.score)) for p in answer.points)
        except Exception as exc:
            raise _unreachable(exc) from exc
        by_dense, by_sparse = scores
        return Candidates.of([(f, by_dense.get(pid, 0.0), by_sparse.get(pid, 0.0)) for pid, f in facts.items()])

    def movies(self, imdb_ids: Sequence[str]) -> list[Movie]:
        try:
            # Keywords too: "films like X" steers its lexical side by X's keywords, as with the embedded index.
            records = self.client.retrieve(self.alias, [point_id(i) for i in imdb_ids],
                                           with_payload=[*RESULT_FIELDS, "keywords"])
        except Exception as exc:
            raise _unreachable(exc) from exc
        return in_order(imdb_ids, (Movie.from_payload(r.payload or {}) for r in records))

    def dense_vector(self, imdb_id: str) -> NDArray[np.float32] | None:
        try:
            records = self.client.retrieve(self.alias, [point_id(imdb_id)], with_payload=False, with_vectors=[DENSE])
        except Exception as exc:
            raise _unreachable(exc) from exc
        vector = records[0].vector if records else None
        dense = vector.get(DENSE) if isinstance(vector, dict) else None
        return None if dense is None else np.asarray(dense, dtype=np.float32)

    def catalog_facts(self) -> Sequence[MovieFacts]:
        """Scrolled once (titles and votes of every movie, a few MB), then held: title lookups are rare."""
        if self._catalog is None:
            facts: list[MovieFacts] = []
            offset = None
            try:
                while True:
                    points, offset = self.client.scroll(self.alias, limit=1024, offset=offset,
                                                        with_payload=RANKING_FIELDS, with_vectors=False)
                    facts.extend(movie_facts(p.payload or {}) for p in points)
                    if offset is None:
                        break
            except Exception as exc:
                raise _unreachable(exc) from exc
            self._catalog = facts
        return self._catalog

    def prefetch(self) -> None:
        """Nothing to read ahead here: the server holds the index."""

    def close(self) -> None:
        self.client.close()


class ServerIndexBuilder:
    """Builds `<alias>-<timestamp>` on the server, then points the alias at it and drops the old one."""

    def __init__(self, client: QdrantClient, alias: str, dim: int, store: BundleStore, build_dir: Path) -> None:
        from qdrant_client import models

        self.client = client
        self.alias = alias
        self.dim = dim
        self.store = store
        self.build_dir = build_dir
        self.collection = f"{alias}-{time.strftime('%Y%m%d%H%M%S')}-{time.monotonic_ns() % 100000}"
        try:
            self.previous = _resolve_alias(client, alias)
            if self.previous is None and client.collection_exists(alias):
                raise IndexUnavailable(
                    f"The Qdrant server has a plain collection named '{alias}'; movie-bot manages it as an alias. "
                    "Rename or delete that collection, or set QDRANT_COLLECTION to another name."
                )
            client.create_collection(
                self.collection,
                vectors_config={DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE)},
                sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            )
            with warnings.catch_warnings():  # local mode (tests) says payload indexes are no-ops there
                warnings.simplefilter("ignore", UserWarning)
                client.create_payload_index(self.collection, "year", models.PayloadSchemaType.INTEGER)
                client.create_payload_index(self.collection, "vote_count", models.PayloadSchemaType.INTEGER)
        except IndexUnavailable:
            raise
        except Exception as exc:
            raise _unreachable(exc) from exc

    def stored_vectors(self) -> Iterator[StoredVector]:
        if self.previous is None:
            return
        offset = None
        while True:
            points, offset = self.client.scroll(self.previous, limit=512, offset=offset,
                                                with_payload=["imdb_id", "content_hash"], with_vectors=[DENSE])
            for p in points:
                payload = p.payload or {}
                vector = p.vector.get(DENSE) if isinstance(p.vector, dict) else None
                if vector is not None and "content_hash" in payload:
                    yield StoredVector(str(payload["imdb_id"]), str(payload["content_hash"]),
                                       np.asarray(vector, dtype=np.float32))
            if offset is None:
                return

    def write(self, points: Sequence[IndexPoint]) -> None:
        from qdrant_client import models

        for start in range(0, len(points), UPSERT_BATCH):
            chunk = points[start : start + UPSERT_BATCH]
            structs = [
                models.PointStruct(
                    id=point_id(p.movie.imdb_id),
                    vector={
                        DENSE: p.dense.astype(np.float32).tolist(),
                        SPARSE: models.SparseVector(indices=p.sparse.indices, values=p.sparse.values),
                    },
                    payload=p.movie.to_payload() | {"content_hash": p.content_hash},
                )
                for p in chunk
            ]
            try:
                self.client.upsert(self.collection, structs, wait=True)
            except Exception as exc:
                raise _unreachable(exc) from exc

    def publish(self, manifest: IndexManifest) -> None:
        from qdrant_client import models

        self.client.update_collection(self.collection, metadata={MANIFEST_KEY: manifest.to_json()})
        ops: list[Any] = []
        if self.previous is not None:
            ops.append(models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=self.alias)))
        ops.append(models.CreateAliasOperation(
            create_alias=models.CreateAlias(collection_name=self.collection, alias_name=self.alias)))
        self.client.update_collection_aliases(change_aliases_operations=ops)
        manifest.write(self.build_dir)
        self.store.publish(self.build_dir)
        if self.previous is not None:
            self.client.delete_collection(self.previous)

    def abort(self) -> None:
        try:
            self.client.delete_collection(self.collection)
        except Exception:
            logger.warning("could not delete the unfinished collection %s", self.collection)
        self.store.discard(self.build_dir)
