"""`movie-bot`: the command line of docs/interface.md. Exit codes: 0 ok, 2 bad usage or input, 1 other."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from bot.logging_setup import configure_logging
from core.errors import ConfigError, MovieBotError
from core.settings import Settings, load_settings

logger = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="movie-bot", description="Semantic movie search for chat.")
    sub = parser.add_subparsers(dest="command", required=True)
    ingest = sub.add_parser("ingest", help="build or refresh the index from a TMDB-style CSV")
    ingest.add_argument("--csv", help="path or http(s) URL of a CSV or zipped CSV (default: MOVIES_CSV)")
    ingest.add_argument("--limit", type=int, help="index only the first N usable movies")
    search = sub.add_parser("search", help="one search")
    search.add_argument("query", nargs="+")
    search.add_argument("-k", type=int, default=5, help="number of results (1-50)")
    search.add_argument("--json", action="store_true")
    sub.add_parser("chat", help="local console chat")
    sub.add_parser("serve", help="run the chat adapters whose tokens are set")
    evaluate = sub.add_parser("eval", help="retrieval quality on a JSONL query file")
    evaluate.add_argument("--queries", required=True, type=Path)
    evaluate.add_argument("--json", action="store_true")
    bench = sub.add_parser("bench", help="performance figures against the seed stack")
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--queries", type=int, default=600, help="queries for the latency figures")
    scale = sub.add_parser("bench-scale", help="the scale curve on synthetic catalogs")
    from scripts.bench.scale_args import add_arguments

    add_arguments(scale)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        sys.stderr.write(exc.user_message + "\n")
        return exc.exit_code
    configure_logging(settings)
    try:
        return _dispatch(args, settings)
    except MovieBotError as exc:
        sys.stderr.write(exc.user_message + "\n")
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception:
        logger.exception("movie-bot %s failed", args.command)
        return 1


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "ingest":
        from core.ingest import run_ingest

        report = run_ingest(settings, args.csv, args.limit, progress=sys.stderr.isatty())
        sys.stdout.write("\n".join(report.lines()) + "\n")
        return 0
    if args.command == "search":
        return _search(settings, " ".join(args.query), args.k, args.json)
    if args.command == "chat":
        return _chat(settings)
    if args.command == "serve":
        from bot.serve import serve

        return serve(settings, console=_chat)
    if args.command == "eval":
        return _eval(settings, args.queries, args.json)
    if args.command == "bench":
        from scripts.bench import run_bench

        return run_bench(settings, as_json=args.json, queries=args.queries)
    if args.command == "bench-scale":
        from scripts.bench.scale import options_from, run_scale

        return run_scale(settings, options_from(args), as_json=args.json)
    raise AssertionError(args.command)


def _search(settings: Settings, query: str, k: int, as_json: bool) -> int:
    from bot.plain_render import render_results
    from core.bootstrap import open_search_service
    from core.errors import InvalidQuery
    from core.query_text import MAX_RESULTS, clean_query

    if not 1 <= k <= MAX_RESULTS:
        raise InvalidQuery(f"-k must be between 1 and {MAX_RESULTS}.")
    clean_query(query)  # bad input is answered before the model loads
    with open_search_service(settings) as service:
        results = service.search_sync(query, limit=k)
    out = json.dumps(results.to_json(), ensure_ascii=False) if as_json else render_results(results)
    sys.stdout.write(out + "\n")
    return 0


def _chat(settings: Settings) -> int:
    from bot.console import run_console
    from core.bootstrap import open_search_service

    with open_search_service(settings) as service:
        service.warm_up_soon()  # while the user types the first query
        run_console(lambda q: service.search_sync(q), _stdin_lines(), _write_line,
                    similar=lambda title: service.similar_sync(title))
    return 0


def _write_line(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _stdin_lines() -> Iterator[str]:
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            sys.stdout.write("> ")
            sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            return
        yield line


def _eval(settings: Settings, queries_path: Path, as_json: bool) -> int:
    from core.bootstrap import open_search_service
    from scripts.evaluate import evaluate, format_report, load_queries

    queries = load_queries(queries_path)
    with open_search_service(settings) as service:
        report = evaluate(queries, lambda q: service.search_sync(q, limit=10))
    if as_json:
        sys.stdout.write(json.dumps(report) + "\n")
    else:
        sys.stdout.write(format_report(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
