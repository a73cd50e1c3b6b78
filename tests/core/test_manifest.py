"""The bundle's one format: the manifest check refuses any other with a rebuild message, and a plain folder at
INDEX_PATH is not replaced. No model, no index."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from core.errors import BadInput, IndexMismatch
from core.index.bundle import BundleStore
from core.index.manifest import SCHEMA_VERSION, IndexManifest

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
CURRENT = IndexManifest(MODEL, 384, "recipe", "sparse", 10, "2026-01-01")


def test_a_current_manifest_is_accepted_under_either_model_name() -> None:
    CURRENT.require_compatible("all-MiniLM-L6-v2", "recipe", "sparse")
    assert CURRENT.schema_version == SCHEMA_VERSION


@pytest.mark.parametrize("schema", [0, 1, SCHEMA_VERSION + 1])
def test_another_bundle_format_is_refused_with_a_rebuild_message(tmp_path: Path, schema: int) -> None:
    replace(CURRENT, schema_version=schema).write(tmp_path)
    manifest = IndexManifest.read(tmp_path)  # still readable: ingest reuses such a bundle's vectors
    with pytest.raises(IndexMismatch) as info:
        manifest.require_compatible(MODEL, "recipe", "sparse")
    assert "movie-bot ingest" in info.value.user_message
    assert f"format {schema}" in info.value.user_message


def test_a_manifest_that_does_not_name_its_format_is_an_older_one() -> None:
    data = {k: v for k, v in CURRENT.to_json().items() if k != "schema_version"}
    with pytest.raises(IndexMismatch, match="movie-bot ingest"):
        IndexManifest.from_json(data).require_current()


def test_another_model_is_refused() -> None:
    assert not CURRENT.same_model("paraphrase-MiniLM-L3-v2")
    with pytest.raises(IndexMismatch, match="EMBEDDING_MODEL"):
        CURRENT.require_compatible("paraphrase-MiniLM-L3-v2", "recipe", "sparse")


def test_a_plain_folder_at_index_path_is_not_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine", encoding="utf-8")
    store = BundleStore(folder)
    with pytest.raises(BadInput, match="INDEX_PATH"), store.build_lock():
        pass
    assert (folder / "keep.txt").read_text(encoding="utf-8") == "mine"
