"""Where to draw the WEAK line: the best candidate's cosine for development queries and for off-topic text.

    python -m scripts.weak_threshold [--queries eval/dev_queries.jsonl] [--off-topic eval/off_topic.txt]

Prints percentiles of each distribution and, for a few thresholds, the share of development queries that would
be marked weak (a cost: their hits get a warning) against the share of off-topic text caught.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from core.bootstrap import open_search_service
from core.query_text import clean_query
from core.settings import load_settings
from scripts.evaluate import load_queries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=Path, default=Path("eval/dev_queries.jsonl"))
    parser.add_argument("--off-topic", type=Path, default=Path("eval/off_topic.txt"))
    args = parser.parse_args()
    with open_search_service(load_settings()) as service:
        sets = {
            "dev": [q.query for q in load_queries(args.queries)],
            "off-topic": [t for t in args.off_topic.read_text(encoding="utf-8").splitlines() if t.strip()],
        }
        best: dict[str, np.ndarray] = {}
        for name, texts in sets.items():
            intents = [service.intent_for(clean_query(t)) for t in texts]
            vectors = service.encoder.encode([i.dense_text for i in intents])
            best[name] = np.array([float(service.candidates_for(i, v)[0].dense.max())
                                   for i, v in zip(intents, vectors, strict=True)])
            pct = np.percentile(best[name], [0, 5, 25, 50, 75, 95, 100])
            print(f"{name:<10} n={len(texts):<4} best cosine percentiles 0/5/25/50/75/95/100: "
                  + " ".join(f"{p:.3f}" for p in pct))
        for threshold in (0.20, 0.25, 0.30, 0.35, 0.40):
            print(f"threshold {threshold:.2f}: dev marked weak {np.mean(best['dev'] < threshold):.3f}, "
                  f"off-topic caught {np.mean(best['off-topic'] < threshold):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
