"""The real TMDB catalog, for the few tests that read all of it: named by the environment, never by a path.

MOVIE_BOT_CATALOG, or MOVIES_CSV when it names a local file (not a URL). Tests that need it skip without it.
"""

from __future__ import annotations

import os
from pathlib import Path

CATALOG_VARIABLES = ("MOVIE_BOT_CATALOG", "MOVIES_CSV")


def real_catalog() -> Path | None:
    for name in CATALOG_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value and Path(value).expanduser().is_file():
            return Path(value).expanduser()
    return None


SKIP_REASON = "set MOVIE_BOT_CATALOG (or MOVIES_CSV) to a local copy of the TMDB catalog to run this test"
