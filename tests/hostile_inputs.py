"""The hostile-input corpus (tests/data/hostile_inputs.json) and the checks every front end's replies share."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).parent / "data" / "hostile_inputs.json"
# Words that only an internal error would put in a reply.
INTERNAL = ("Traceback", "Exception", "Error:", ".py", "site-packages", "/work/", "/tmp/", "NoneType")


@dataclass(frozen=True)
class HostileQuery:
    name: str
    text: str
    expect: str  # "results" or "explain"

    @property
    def searches(self) -> bool:
        return self.expect == "results"


def _text(case: dict[str, Any]) -> str:
    if "text" in case:
        return str(case["text"])
    return "".join(chunk * times for chunk, times in case["build"])


def _load() -> dict[str, Any]:
    return dict(json.loads(CORPUS.read_text(encoding="utf-8")))


QUERIES: tuple[HostileQuery, ...] = tuple(
    HostileQuery(c["name"], _text(c), c["expect"]) for c in _load()["queries"]
)
PLATFORM: tuple[dict[str, Any], ...] = tuple(_load()["platform"])


def each_query() -> Any:
    """Parametrize over the corpus with readable test ids."""
    return pytest.mark.parametrize("case", QUERIES, ids=[c.name for c in QUERIES])


def assert_fit_for_a_person(text: str, *secrets: str) -> None:
    """A reply a user may see: some text, encodable, no internals, no secret."""
    assert text.strip()
    text.encode("utf-8")  # a lone surrogate would fail here, as it would on the wire
    for word in INTERNAL:
        assert word not in text, f"{word!r} in a reply"
    for secret in secrets:
        assert secret not in text
