"""The one thing adapters need from core: an async movie search."""

from __future__ import annotations

from typing import Protocol

from core.models import SearchResults


class MovieSearch(Protocol):
    """Search the catalog. Raises `InvalidQuery` for unusable text and `IndexUnavailable` when no index answers.

    Implementations never block the event loop: inference runs in a worker thread.
    """

    async def search(self, query: str, *, limit: int = 5, offset: int = 0) -> SearchResults: ...

    async def similar(self, title: str, *, limit: int = 5, offset: int = 0) -> SearchResults:
        """Films like the one `title` names (resolved even when misspelled), that film itself left out.

        An exact IMDb id (`similar("tt3659388")`) names that film directly: the chat buttons use it.
        Raises `InvalidQuery` when no film in the catalog matches `title` well enough."""
        ...

    async def aclose(self) -> None: ...
