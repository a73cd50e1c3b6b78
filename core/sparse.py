"""Lexical (BM25-style) sparse vectors, computed client-side so both index backends store the same thing.

Document vectors carry term-frequency weights; IDF is applied by Qdrant at query time (Modifier.IDF), so
adding or removing movies keeps the statistics consistent without re-encoding the other documents.
"""

from __future__ import annotations

from qdrant_edge import Bm25, Bm25Config

from core.domain import SparseVec

SPARSE_RECIPE = "bm25-english-k1.2-b0.75-avg80"


class SparseEncoder:
    """English BM25 with stemming and stop words; avg_len fixed near the catalog's mean document length."""

    recipe = SPARSE_RECIPE

    def __init__(self) -> None:
        self._bm25 = Bm25(Bm25Config(k=1.2, b=0.75, avg_len=80.0, language="english"))

    def document(self, text: str) -> SparseVec:
        vec = self._bm25.embed_document(text)
        return SparseVec(list(vec.indices), list(vec.values))

    def query(self, text: str) -> SparseVec:
        vec = self._bm25.embed_query(text)
        return SparseVec(list(vec.indices), list(vec.values))
