"""What built an index: bundle format, model, dimension, text and sparse recipes. An index of another format,
model or recipe is refused with a message that says how to rebuild it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.errors import IndexMismatch

MANIFEST_FILE = "manifest.json"
# The one bundle format this version reads and writes (3: facts table, records file, packed ONNX encoder, and
# the lexical table of core.index.lexical_table).
# Bundles of another format are refused; `movie-bot ingest` rebuilds them, reusing their vectors.
SCHEMA_VERSION = 3


@dataclass(frozen=True, slots=True)
class IndexManifest:
    model_name: str
    dim: int
    recipe: str
    sparse_recipe: str
    points: int
    built_at: str
    source: str = ""
    encoder_files: dict[str, str] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IndexManifest:
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        values.setdefault("schema_version", 0)  # a manifest that does not say its format is older than any known
        return cls(**values)

    def write(self, directory: Path) -> None:
        (directory / MANIFEST_FILE).write_text(json.dumps(self.to_json(), indent=2), encoding="utf-8")

    @classmethod
    def read(cls, directory: Path) -> IndexManifest:
        return cls.from_json(json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8")))

    def require_compatible(self, model_name: str, recipe: str, sparse_recipe: str) -> None:
        """Refuse to mix vectors from different models or recipes: scores would be silently meaningless."""
        self.require_current()
        if not self.same_model(model_name):
            raise IndexMismatch(
                f"The index was built with the model '{self.model_name}', but EMBEDDING_MODEL is '{model_name}'. "
                "Set EMBEDDING_MODEL to the index's model, or rebuild with `movie-bot ingest`."
            )
        if self.recipe != recipe or self.sparse_recipe != sparse_recipe:
            raise IndexMismatch(
                f"The index was built with text recipe {self.recipe}/{self.sparse_recipe}, this version uses "
                f"{recipe}/{sparse_recipe}. Rebuild it with `movie-bot ingest`."
            )

    def require_current(self) -> None:
        """Refuse a bundle of another format: this version reads only its own."""
        if self.schema_version != SCHEMA_VERSION:
            raise IndexMismatch(
                f"The index was written by another version of movie-bot (bundle format {self.schema_version}; "
                f"this version reads format {SCHEMA_VERSION}). Rebuild it with `movie-bot ingest`."
            )

    def same_model(self, model_name: str) -> bool:
        return _model_key(self.model_name) == _model_key(model_name)


def _model_key(name: str) -> str:
    """`sentence-transformers/all-MiniLM-L6-v2` and `all-MiniLM-L6-v2` name the same model."""
    return name.rstrip("/").rsplit("/", 1)[-1].lower()
