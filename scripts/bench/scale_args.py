"""`bench-scale`'s command-line options, kept free of heavy imports: the CLI builds its parser on every run."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_SIZES = "10000,100000,1000000"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="catalog sizes, comma-separated (10000,100k,1M)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--queries", type=int, default=300, help="lone queries per size")
    parser.add_argument("--throughput-queries", type=int, default=640, help="queries of the concurrent runs")
    parser.add_argument("--m", type=int, help="HNSW edges per node (default: the shard's)")
    parser.add_argument("--ef-construct", type=int, help="HNSW build candidates (default: the shard's)")
    parser.add_argument("--quantization", choices=("int8", "binary", "none"),
                        help="compressed vectors the graph walk compares (default: the shard's)")
    parser.add_argument("--caps-mb", default="", help="also answer under these memory caps (root), e.g. 256,1024")
    parser.add_argument("--server-max", type=int, default=10_000,
                        help="largest size also run through qdrant-client's local mode (0: none)")
    parser.add_argument("--nice", type=int, default=0, help="niceness of the build and measuring processes")
    parser.add_argument("--keep", type=Path, help="keep the synthetic bundles under this directory")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the bundles kept under --keep by an earlier run instead of building them")
