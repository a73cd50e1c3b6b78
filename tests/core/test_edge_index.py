"""The embedded index's ranking-facts table: from the bundle's file, or from payloads for older bundles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.bootstrap import build_search_service
from core.index.bundle import BundleStore
from core.index.edge import FACTS_FILE
from tests.conftest import MARTIAN_QUERY, settings_for

pytestmark = pytest.mark.slow

QUERIES = (MARTIAN_QUERY, "Tom Hanks in space", "a 90s movie where toys come alive", "Suite Française")


def ranked(index_path: Path) -> list[list[tuple[str, float]]]:
    service = build_search_service(settings_for(index_path))
    try:
        return [[(h.movie.imdb_id, h.score) for h in service.search_sync(q, limit=10).hits] for q in QUERIES]
    finally:
        service.index.close()


def test_a_bundle_without_its_facts_file_ranks_the_same(index_copy: Path) -> None:
    facts = BundleStore(index_copy).require_live() / FACTS_FILE
    assert facts.is_file()
    before = ranked(index_copy)
    facts.unlink()
    assert ranked(index_copy) == before


def test_an_unreadable_facts_file_is_not_fatal(index_copy: Path) -> None:
    before = ranked(index_copy)
    (BundleStore(index_copy).require_live() / FACTS_FILE).write_text("{not json", encoding="utf-8")
    assert ranked(index_copy) == before


def test_a_facts_file_of_another_build_is_not_trusted(index_copy: Path) -> None:
    before = ranked(index_copy)
    facts = BundleStore(index_copy).require_live() / FACTS_FILE
    facts.write_text(json.dumps(json.loads(facts.read_text(encoding="utf-8"))[:3]), encoding="utf-8")
    assert ranked(index_copy) == before
