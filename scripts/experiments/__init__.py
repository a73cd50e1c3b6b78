"""Relevance experiments (issue 15): each scores one idea with `scripts.fit_ranking`'s fit, cross-validated by film
on the dev split and on other shuffled splits, the test split only scored (eval/README.md)."""

from __future__ import annotations

import argparse
from pathlib import Path


def experiment_parser(doc: str | None) -> argparse.ArgumentParser:
    """The options every experiment takes: the two query files, the fit's folds and the other splits' seeds."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dev", type=Path, default=Path("eval/dev_queries.jsonl"))
    parser.add_argument("--test", type=Path, default=Path("eval/test_queries.jsonl"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", nargs="*", type=int, default=[1, 2, 3, 4, 5],
                        help="also cross-validate on these shuffled splits by film (GroupKFold)")
    return parser
