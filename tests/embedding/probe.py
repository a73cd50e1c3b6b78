"""Run code in a fresh interpreter and report which heavy (ingest-only) modules it imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# `tokenizers` drags in huggingface_hub and more (about 38 MB installed): ingest only, like torch.
HEAVY = ("torch", "transformers", "sentence_transformers", "tokenizers", "huggingface_hub")


def heavy_modules_after(code: str, watch: tuple[str, ...] = HEAVY) -> list[str]:
    """Which of `watch` (by default the ingest-only modules) are imported after running `code`."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {watch!r} if m in sys.modules]))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded
