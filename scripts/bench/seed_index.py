"""The seed's index, rebuilt faithfully from our catalog: overview-only vectors from sentence-transformers
in a Qdrant local-mode collection on disk, cached next to the index, keyed by catalog content and model."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from core.errors import IndexUnavailable
from core.index.bundle import BundleStore
from scripts.bench.queries import CatalogEntry

logger = logging.getLogger(__name__)

CACHE_DIR = ".bench-seed"
COLLECTION = "movies"
QDRANT_DIR = "qdrant"
META_FILE = "meta.json"
SEED_PAYLOAD = ("imdb_id", "title", "year", "overview", "genres")
_SCROLL_FIELDS = ["imdb_id", "title", "year", "overview", "genres", "keywords"]
SCROLL_PAGE = 1000
_UPSERT_BATCH = 256


@dataclass(frozen=True, slots=True)
class SeedIndex:
    qdrant_path: Path
    collection: str
    model_source: str
    points: int


def read_catalog(index_path: Path, page: int = SCROLL_PAGE) -> tuple[list[CatalogEntry], list[dict[str, object]]]:
    """Every kept movie of the live Edge bundle: entries for the query generator and seed payloads."""
    from qdrant_edge import EdgeShard, ScrollRequest

    from core.index.edge import SHARD_DIR

    live = BundleStore(index_path).require_live()
    try:
        shard = EdgeShard.load(str(live / SHARD_DIR))
    except Exception as exc:  # the Rust side raises plain exceptions
        raise IndexUnavailable(
            f"Cannot open the index at {index_path} ({exc}). An index opens in one process at a time: stop "
            "the bot or other process using it, then run the bench again."
        ) from exc
    entries: list[CatalogEntry] = []
    payloads: list[dict[str, object]] = []
    try:
        offset = None
        while True:
            request = ScrollRequest(offset=offset, limit=page, with_payload=_SCROLL_FIELDS,
                                    with_vector=False)
            points, offset = shard.scroll(request)
            for point in points:
                p = point.payload or {}
                year = p.get("year")
                entries.append(CatalogEntry(
                    imdb_id=str(p["imdb_id"]), overview=str(p.get("overview", "")),
                    year=int(year) if year is not None else None,
                    genres=tuple(p.get("genres", ())), keywords=tuple(p.get("keywords", ())),
                ))
                payloads.append({k: p.get(k) for k in SEED_PAYLOAD})
            if offset is None:
                break
    finally:
        shard.close()
    order = sorted(range(len(entries)), key=lambda i: entries[i].imdb_id)
    return [entries[i] for i in order], [payloads[i] for i in order]


def catalog_key(model_name: str, payloads: list[dict[str, object]]) -> str:
    """Changes when the model or any embedded text (overview) or stored field changes."""
    blob = json.dumps([model_name, "overview-only", payloads], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]


def cache_root(index_path: Path) -> Path:
    return BundleStore(index_path).index_path.parent / CACHE_DIR


def ensure_seed_index(index_path: Path, model_name: str, payloads: list[dict[str, object]]) -> SeedIndex:
    """The cached seed collection for this catalog, embedding and writing it first when absent."""
    from core.embedding.model_source import resolve_model_source

    source = resolve_model_source(model_name)
    root = cache_root(index_path)
    key = catalog_key(model_name, payloads)
    final = root / key
    meta = final / META_FILE
    if meta.is_file():
        points = int(json.loads(meta.read_text(encoding="utf-8"))["points"])
        return SeedIndex(final / QDRANT_DIR, COLLECTION, source, points)
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.iterdir():
        if stale.name != key:
            shutil.rmtree(stale, ignore_errors=True)
    building = root / f"{key}.building"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    _build(building, model_name, payloads)
    (building / META_FILE).write_text(
        json.dumps({"points": len(payloads), "model": model_name, "key": key}), encoding="utf-8"
    )
    building.rename(final)
    return SeedIndex(final / QDRANT_DIR, COLLECTION, source, len(payloads))


def _build(directory: Path, model_name: str, payloads: list[dict[str, object]]) -> None:
    from qdrant_client import QdrantClient
    from qdrant_client.models import Distance, PointStruct, VectorParams

    from core.embedding.st_encoder import SentenceTransformerEncoder

    sys.stderr.write(f"bench: embedding {len(payloads):,} overviews for the seed stack (cached)\n")
    encoder = SentenceTransformerEncoder(model_name, show_progress=sys.stderr.isatty())
    vectors = encoder.encode([str(p.get("overview") or "") for p in payloads], batch_size=64)
    client = QdrantClient(path=str(directory / QDRANT_DIR))
    try:
        params = VectorParams(size=encoder.dim, distance=Distance.COSINE)
        client.create_collection(COLLECTION, vectors_config=params)
        for start in range(0, len(payloads), _UPSERT_BATCH):
            client.upsert(COLLECTION, points=[
                PointStruct(id=i, vector=vectors[i].tolist(), payload=payloads[i])
                for i in range(start, min(start + _UPSERT_BATCH, len(payloads)))
            ])
    finally:
        client.close()
