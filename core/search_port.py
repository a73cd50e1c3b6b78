"""The one thing adapters need from core: an async movie search."""

from __future__ import annotations

from typing import Protocol

from core.models import SearchResults


class MovieSearch(Protocol):
    """Search the catalog. Raises `InvalidQuery` for unusable text and `IndexUnavailable` when no index answers.

    Implementations never block the event loop: inference runs in a worker thread.
    """

    async def search(self, query: str, *, limit: int = 5, offset: int = 0) -> SearchResults: ...

    async def aclose(self) -> None: ...
