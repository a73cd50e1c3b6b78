"""The second stage's scores: a candidate only one retriever found gets the score Qdrant itself would give it
(the BM25 ones from the bundle's lexical table)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from qdrant_edge import (
    EdgeShard,
    Filter,
    HasIdCondition,
    QuantizationSearchParams,
    Query,
    QueryRequest,
    SearchParams,
    SparseVector,
)

from core.bootstrap import open_search_service
from core.domain import SparseVec
from core.errors import IndexUnavailable
from core.index.bundle import BundleStore
from core.index.edge import LARGE_CATALOG, LARGE_CATALOG_EF, SHARD_DIR, EdgeMovieIndex, dense_search_params
from core.index.lexical_table import LEXICAL_DIR, LexicalTable, LexicalTableWriter
from core.index.port import DENSE, SPARSE, RetrievalRequest
from core.ingest import IngestReport
from core.query_text import clean_query
from tests.conftest import MARTIAN_QUERY, settings_for

QUERIES = (MARTIAN_QUERY, "a heist in a casino with George Clooney", "toys that come alive",
           "space movies from the 90s", "zzzz nothing matches this qqqq")


def _table(tmp_path: Path, docs: list[SparseVec]) -> LexicalTable:
    writer = LexicalTableWriter(tmp_path)
    for doc in docs:
        writer.append(doc)
    writer.close()
    return LexicalTable(tmp_path, len(docs))


def test_lexical_scores_follow_qdrants_idf_formula(tmp_path: Path) -> None:
    docs = [SparseVec([1, 2], [1.5, 0.5]), SparseVec([2], [2.0]), SparseVec([], []), SparseVec([3, 1], [1.0, 1.0])]
    tables = _table(tmp_path, docs)
    n = len(docs)

    def idf(df: int) -> float:
        return float(np.log((n - df + 0.5) / (df + 0.5) + 1))

    rows = np.array([3, 0, 2, 1])
    scores = tables.lexical(rows, SparseVec([2, 1, 9], [1.0, 2.0, 1.0]))  # 9: a term no movie holds
    expected = [2.0 * idf(2) * 1.0, 2.0 * idf(2) * 1.5 + idf(2) * 0.5, 0.0, idf(2) * 2.0]
    np.testing.assert_allclose(scores, expected, rtol=1e-6)
    assert tables.lexical(np.array([], dtype=np.int64), SparseVec([1], [1.0])).shape == (0,)


def test_the_first_stage_leaves_out_the_commonest_terms_but_keeps_the_rarest(tmp_path: Path) -> None:
    # term 1 in every movie, term 2 in half, term 3 in one
    docs = [SparseVec([1, 2, 3], [1.0] * 3), SparseVec([1, 2], [1.0] * 2), SparseVec([1], [1.0]), SparseVec([1], [1.0])]
    tables = _table(tmp_path, docs)
    query = SparseVec([1, 2, 3], [1.0, 1.0, 1.0])
    assert tables.selective(query, max_share=0.6, keep=1).indices == [2, 3]
    assert tables.selective(query, max_share=0.1, keep=2).indices == [2, 3]  # too few left: the rarest kept
    assert tables.selective(query, max_share=1.0, keep=1) == query
    assert tables.selective(SparseVec([1], [1.0]), max_share=0.1, keep=1).indices == [1]


@pytest.mark.parametrize("common_terms_from", [10**9, 0], ids=["small catalog", "large catalog's first stage"])
def test_candidates_carry_the_scores_qdrant_gives_them(built: tuple[Path, IngestReport], common_terms_from: int,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Every candidate's dense and lexical score, including the ones only one retriever found (the lexical ones
    from the table), equals the score of a Qdrant search restricted to the candidates, with the whole query
    even where the first stage left out the commonest words."""
    monkeypatch.setattr("core.index.edge.COMMON_TERMS_FROM", common_terms_from)
    root, _ = built
    settings = settings_for(root / "index")
    found = []
    with open_search_service(settings) as service:
        for text in QUERIES:
            intent = service.intent_for(clean_query(text))
            vector = service.encoder.encode([intent.dense_text])[0]
            sparse = service.sparse.query(intent.lexical_text)
            candidates = service.index.retrieve(RetrievalRequest(vector, sparse, 10, intent.year_range, 5))
            found.append((vector, sparse, candidates))
        rows_of = {f.imdb_id: row for row, f in enumerate(service.index.catalog_facts())}
    shard = EdgeShard.load(str(BundleStore(root / "index").require_live() / SHARD_DIR))
    try:
        checked = 0
        for vector, sparse, candidates in found:
            rows = [rows_of[f.imdb_id] for f in candidates.facts]
            only = Filter(must=[HasIdCondition(set(rows))])
            dense = shard.query(QueryRequest(limit=len(rows), query=Query.Nearest(vector.tolist(), using=DENSE),
                                             filter=only, with_payload=False,
                                             params=SearchParams(quantization=QuantizationSearchParams(rescore=True))))
            lexical = shard.query(QueryRequest(
                limit=len(rows), query=Query.Nearest(SparseVector(indices=sparse.indices, values=sparse.values),
                                                     using=SPARSE), filter=only, with_payload=False))
            by_dense = {int(p.id): p.score for p in dense}
            by_lexical = {int(p.id): p.score for p in lexical}
            np.testing.assert_allclose(candidates.dense, [by_dense[r] for r in rows], atol=1e-5)
            np.testing.assert_allclose(candidates.sparse, [by_lexical.get(r, 0.0) for r in rows], atol=1e-4)
            checked += len(rows)
        assert checked > 30
    finally:
        shard.close()


def test_a_bundle_without_its_lexical_table_is_refused(index_copy: Path) -> None:
    live = BundleStore(index_copy).require_live()
    (live / LEXICAL_DIR / "weights.npy").unlink()
    with pytest.raises(IndexUnavailable, match="ingest"):
        EdgeMovieIndex.open(index_copy)


def test_a_large_catalog_searches_its_graph_wider() -> None:
    assert dense_search_params(LARGE_CATALOG - 1).hnsw_ef is None
    assert dense_search_params(LARGE_CATALOG).hnsw_ef == LARGE_CATALOG_EF
    assert dense_search_params(10, hnsw_ef=64).hnsw_ef == 64
