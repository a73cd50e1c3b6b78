"""Catalog CSV to a published index: clean, embed only what changed, verify the ONNX encoder, swap atomically.

Ingest-only: imports pandas (through the catalog) and sentence-transformers, never used by the serving path.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.catalog import CatalogReport, load_catalog
from core.documents import RECIPE_VERSION, content_hash, dense_text, sparse_text
from core.errors import BadInput, IndexMismatch
from core.index.bundle import ENCODER_DIR, BundleStore
from core.index.manifest import SCHEMA_VERSION, IndexManifest
from core.index.port import IndexBuilder, IndexPoint, StoredVector
from core.models import Movie
from core.settings import Settings
from core.sparse import SparseEncoder

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

    from core.embedding.port import TextEncoder

logger = logging.getLogger(__name__)

PARITY_SAMPLE = 200
PARITY_QUERIES = (
    "NASA tried to rescue an astronaut stranded on Mars.",
    "a shark terrorizes a beach town and the police chief hunts it",
    "young wizard goes to a school of magic",
    "mafia family patriarch hands power to his reluctant son",
    "toys come alive when their owner leaves the room",
    "a man with short-term memory loss hunts his wife's killer",
    "French wartime romance during the German occupation",
    "hacker learns reality is a simulation",
)


@dataclass
class IngestReport:
    catalog: CatalogReport
    backend: str
    embedded: int = 0
    unchanged: int = 0
    removed: int = 0
    encoder: str = "reused"
    parity: dict[str, Any] = field(default_factory=dict)
    took_s: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)  # seconds by stage, in the order they ran

    def lines(self) -> list[str]:
        lines = list(self.catalog.lines())
        lines += [
            f"index backend: {self.backend}",
            f"embedded: {self.embedded:,}",
            f"unchanged: {self.unchanged:,}",
            f"removed: {self.removed:,}",
            f"query encoder: {self.encoder}"
            + (f" (parity min cosine {self.parity['min_cosine']:.6f}, top-5 identical)" if self.parity else ""),
            f"took: {self.took_s:.1f} s",
        ]
        if self.stages:
            total = self.took_s or sum(self.stages.values())
            lines.append("where the time went: " + ", ".join(
                f"{name} {seconds:.1f} s ({seconds / total * 100:.0f}%)" if total > 0 else f"{name} {seconds:.1f} s"
                for name, seconds in self.stages.items()))
        return lines

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Adds the time spent in the block to `name`."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - started


READING, EMBEDDING, EXPORT, BUILDING = ("reading and cleaning", "embedding", "export and parity check",
                                        "building the shard")
EMBED_CHUNK = 512
WRITE_CHUNK = 2048


EncoderFactory = Callable[[str, bool], "TextEncoder"]


def _default_encoder_factory(model_name: str, show_progress: bool) -> TextEncoder:
    from core.embedding.st_encoder import SentenceTransformerEncoder

    return SentenceTransformerEncoder(model_name, show_progress=show_progress)


def run_ingest(
    settings: Settings,
    source: str | None = None,
    limit: int | None = None,
    *,
    progress: bool = True,
    client: QdrantClient | None = None,
    encoder_factory: EncoderFactory = _default_encoder_factory,
) -> IngestReport:
    """Build the index for `settings` and publish it; on any failure the live index stays as it was."""
    started = time.perf_counter()
    if limit is not None and limit < 1:
        raise BadInput("--limit must be a positive number of movies.")
    read_started = time.perf_counter()
    loaded = load_catalog(source or settings.movies_csv)
    movies = loaded.movies[:limit] if limit else loaded.movies
    if not movies:
        raise BadInput("The CSV has no usable movie rows (each needs an imdb_id, a title and an overview).")

    store = BundleStore(settings.index_path)
    on_server = settings.qdrant_url is not None or client is not None
    report = IngestReport(catalog=loaded.report, backend="qdrant server" if on_server else "qdrant edge")
    report.stages[READING] = time.perf_counter() - read_started
    with store.build_lock():
        build_dir = store.new_build_dir()
        builder: IndexBuilder | None = None
        try:
            builder = _builder(settings, store, build_dir, client)
            _build(settings, movies, builder, store, build_dir, report, progress, encoder_factory)
        except BaseException:
            if builder is not None:
                builder.abort()
            else:
                store.discard(build_dir)
            raise
    report.took_s = time.perf_counter() - started
    return report


def _builder(settings: Settings, store: BundleStore, build_dir: Path, client: QdrantClient | None) -> IndexBuilder:
    dim = 384
    if settings.qdrant_url is not None or client is not None:
        from core.index.server import ServerIndexBuilder, connect_qdrant

        return ServerIndexBuilder(client or connect_qdrant(settings), settings.qdrant_collection, dim, store, build_dir)
    from core.index.edge import EdgeIndexBuilder

    return EdgeIndexBuilder(store, build_dir, dim)


def _build(
    settings: Settings,
    movies: Sequence[Movie],
    builder: IndexBuilder,
    store: BundleStore,
    build_dir: Path,
    report: IngestReport,
    progress: bool,
    encoder_factory: EncoderFactory,
) -> None:
    live = store.live_dir()
    live_manifest = IndexManifest.read(live) if live is not None else None
    # Vectors of the same model are reused whatever the live bundle's format; its encoder only when current.
    same_model = live_manifest is not None and live_manifest.same_model(settings.embedding_model)

    hashes = [content_hash(m) for m in movies]
    stored: dict[str, StoredVector] = {}
    if same_model:
        stored = {sv.imdb_id: sv for sv in builder.stored_vectors()}
    dense = np.zeros((len(movies), 384), dtype=np.float32)
    todo: list[int] = []
    for i, (movie, digest) in enumerate(zip(movies, hashes, strict=True)):
        hit = stored.get(movie.imdb_id)
        if hit is not None and hit.content_hash == digest:
            dense[i] = hit.dense
        else:
            todo.append(i)
    report.unchanged = len(movies) - len(todo)
    report.embedded = len(todo)
    report.removed = len(set(stored) - {m.imdb_id for m in movies})

    st_encoder: TextEncoder | None = None
    if todo:
        with report.stage(EMBEDDING):
            st_encoder = encoder_factory(settings.embedding_model, False)
            logger.info("embedding %d movies with %s", len(todo), settings.embedding_model)
            dense[todo] = embed(st_encoder, [dense_text(movies[i]) for i in todo], progress)

    with report.stage(EXPORT):
        encoder_files = _prepare_query_encoder(settings, live, live_manifest, same_model, build_dir, report,
                                               st_encoder, encoder_factory, movies, dense)
    with report.stage(BUILDING):
        _write_and_publish(settings, movies, hashes, dense, encoder_files, builder, progress)


def embed(encoder: TextEncoder, texts: Sequence[str], progress: bool) -> np.ndarray:
    """Vectors of `texts`, longest first in chunks so that a progress bar can follow (and batches hold texts
    of similar length, as sentence-transformers would sort them), returned in the given order."""
    from tqdm import tqdm

    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    with tqdm(total=len(texts), unit="movie", desc="embedding", disable=not progress, file=sys.stderr) as bar:
        for start in range(0, len(order), EMBED_CHUNK):
            rows = order[start : start + EMBED_CHUNK]
            out[rows] = encoder.encode([texts[i] for i in rows], batch_size=64)
            bar.update(len(rows))
    return out


def _write_and_publish(settings: Settings, movies: Sequence[Movie], hashes: Sequence[str], dense: np.ndarray,
                       encoder_files: dict[str, str], builder: IndexBuilder, progress: bool) -> None:
    from tqdm import tqdm

    sparse = SparseEncoder()
    with tqdm(total=len(movies), unit="movie", desc="building", disable=not progress, file=sys.stderr) as bar:
        for start in range(0, len(movies), WRITE_CHUNK):
            builder.write([
                IndexPoint(movie, digest, dense[i], sparse.document(sparse_text(movie)))
                for i, movie, digest in zip(range(start, len(movies)), movies[start : start + WRITE_CHUNK],
                                            hashes[start : start + WRITE_CHUNK], strict=False)
            ])
            bar.update(min(WRITE_CHUNK, len(movies) - start))
    manifest = IndexManifest(
        model_name=settings.embedding_model,
        dim=dense.shape[1],
        recipe=RECIPE_VERSION,
        sparse_recipe=sparse.recipe,
        points=len(movies),
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source=_describe_source(settings),
        encoder_files=encoder_files,
    )
    builder.publish(manifest)


def _describe_source(settings: Settings) -> str:
    return "qdrant-server" if settings.qdrant_url else "qdrant-edge"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _prepare_query_encoder(
    settings: Settings,
    live: Path | None,
    live_manifest: IndexManifest | None,
    same_model: bool,
    build_dir: Path,
    report: IngestReport,
    st_encoder: TextEncoder | None,
    encoder_factory: EncoderFactory,
    movies: Sequence[Movie],
    dense: np.ndarray,
) -> dict[str, str]:
    """Reuse the live bundle's verified ONNX encoder when the model and the bundle format are the same; else
    export and verify it."""
    target = build_dir / ENCODER_DIR
    if (same_model and live is not None and live_manifest is not None and live_manifest.encoder_files
            and live_manifest.schema_version == SCHEMA_VERSION):
        source = live / ENCODER_DIR
        if all(
            (source / name).is_file() and sha256_file(source / name) == digest
            for name, digest in live_manifest.encoder_files.items()
        ):
            shutil.copytree(source, target)
            report.encoder = "reused (checksums verified)"
            return dict(live_manifest.encoder_files)
        logger.warning("the live bundle's encoder files do not match their checksums; exporting again")

    from core.embedding.onnx_encoder import OnnxEncoder
    from core.embedding.onnx_export import export_onnx, verify_parity

    if st_encoder is None:
        st_encoder = encoder_factory(settings.embedding_model, False)
    export_onnx(settings.embedding_model, target)
    onnx_encoder = OnnxEncoder(target)
    rng = np.random.default_rng(7)
    sample = rng.choice(len(movies), size=min(PARITY_SAMPLE, len(movies)), replace=False)
    texts = [movies[i].overview for i in sample] + [dense_text(movies[i]) for i in sample[:20]]

    def top5(query_vector: np.ndarray) -> list[str]:
        return [movies[int(i)].imdb_id for i in np.argsort(-(dense @ query_vector))[:5]]

    parity = verify_parity(onnx_encoder, st_encoder, texts, list(PARITY_QUERIES), search_fn=top5)
    if not parity.ok:
        raise IndexMismatch(
            f"The ONNX export does not match sentence-transformers (min cosine {parity.min_cosine:.6f}); "
            "the index was not published."
        )
    report.encoder = "exported and verified"
    report.parity = {"min_cosine": float(parity.min_cosine), "mean_cosine": float(parity.mean_cosine)}
    return {p.name: sha256_file(p) for p in sorted(target.iterdir()) if p.is_file()}
