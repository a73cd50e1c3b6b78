"""Sanity checks for the retrieval development set (eval/dev_queries.jsonl).

Usage:
    python eval/check_dev_set.py [--catalog PATH] [--queries PATH]

The catalog defaults to $MOVIE_BOT_CATALOG, else $MOVIES_CSV (a local path or an http(s) URL).

Reports:
  * number of queries per group, and whether famous / little-known match the vote_count rule
    (famous: vote_count >= 1000, little-known: vote_count < 300, the issue's deep cuts)
  * imdb_ids missing from the catalog, malformed lines, exact duplicate queries, word counts outside 2..25
  * queries that contain the target film's title (case-insensitive; titles of 2+ words,
    or a single word of 5+ letters)
  * 3-word sequences shared between a query and the target film's overview, tagline or title
  * multi-word keywords of the target film copied into the query
  * informational: share of queries naming a cast member / director, and share mentioning a
    decade or year; spread of target films over decades

Exit status is 1 if any problem is found, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import pandas as pd

DEFAULT_CATALOG = os.environ.get("MOVIE_BOT_CATALOG") or os.environ.get("MOVIES_CSV")
DEFAULT_QUERIES = Path(__file__).with_name("dev_queries.jsonl")
GROUPS = ("famous", "little-known")

DECADE_RE = re.compile(r"\b(?:(?:19|20)\d0s|'?[2-9]0s|(?:19|20)\d\d)\b", re.IGNORECASE)


def out(line: str = "") -> None:
    sys.stdout.write(line + "\n")


def fix_mojibake(text: str) -> str:
    """The catalog has UTF-8 text decoded as latin-1 in places; undo that when possible."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def normalize(text: str) -> str:
    text = fix_mojibake(str(text))
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower().replace("'", "").replace("\u2019", "")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


def words(text: str) -> list[str]:
    return normalize(text).split()


def title_leak(query: str, title: str) -> bool:
    """True if the query contains the title (2+ word titles, or single words of 5+ letters)."""
    t = normalize(title)
    if not t:
        return False
    tw = t.split()
    if len(tw) == 1 and len(tw[0]) < 5:
        return False
    # word boundary at the start only, so a plural or suffix still counts as a leak
    return re.search(r"\b" + re.escape(t), normalize(query)) is not None


def shared_ngrams(query: str, overview: str, n: int = 3) -> set[str]:
    def grams(ws: list[str]) -> set[str]:
        return {" ".join(ws[i : i + n]) for i in range(len(ws) - n + 1)}

    return grams(words(query)) & grams(words(overview))


def names_person(query: str, row: pd.Series) -> list[str]:
    q = normalize(query)
    people: list[str] = []
    for field in ("cast", "director"):
        value = row.get(field)
        if isinstance(value, str):
            people.extend(p for p in value.split("|") if p.strip())
    hits = []
    for person in people:
        p = normalize(person)
        parts = p.split()
        if not parts:
            continue
        # full name, or the surname alone when it is distinctive enough (e.g. "the Kubrick one")
        if re.search(r"\b" + re.escape(p) + r"\b", q) or (
            len(parts) > 1 and len(parts[-1]) >= 5 and re.search(r"\b" + re.escape(parts[-1]) + r"\b", q)
        ):
            hits.append(person)
    return hits


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--catalog", default=DEFAULT_CATALOG)
    ap.add_argument("--queries", default=str(DEFAULT_QUERIES))
    args = ap.parse_args()
    if not args.catalog:
        ap.error("no catalog: pass --catalog PATH, or set MOVIE_BOT_CATALOG or MOVIES_CSV")

    catalog = pd.read_csv(args.catalog)
    catalog = catalog[catalog["imdb_id"].notna()].drop_duplicates("imdb_id").set_index("imdb_id")

    problems: list[str] = []
    records = []
    for lineno, line in enumerate(Path(args.queries).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {lineno}: invalid JSON ({exc})")
            continue
        if not {"query", "imdb_ids", "group"} <= set(rec) <= {"query", "imdb_ids", "group", "style"}:
            problems.append(f"line {lineno}: unexpected keys {sorted(rec)}")
        if rec.get("group") not in GROUPS:
            problems.append(f"line {lineno}: bad group {rec.get('group')!r}")
        if not isinstance(rec.get("imdb_ids"), list) or not rec.get("imdb_ids"):
            problems.append(f"line {lineno}: imdb_ids must be a non-empty list")
            continue
        rec["_line"] = lineno
        records.append(rec)

    # counts per group
    groups = Counter(r["group"] for r in records)
    out(f"queries: {len(records)}")
    for g in GROUPS:
        out(f"  {g}: {groups.get(g, 0)}")

    # missing ids / group consistency
    missing = []
    for r in records:
        for imdb_id in r["imdb_ids"]:
            if imdb_id not in catalog.index:
                missing.append((r["_line"], imdb_id))
                continue
            votes = int(str(catalog.at[imdb_id, "vote_count"]))
            if r["group"] == "famous" and votes < 1000:
                problems.append(f"line {r['_line']}: {imdb_id} is 'famous' but vote_count={votes}")
            if r["group"] == "little-known" and votes >= 300:
                problems.append(f"line {r['_line']}: {imdb_id} is 'little-known' but vote_count={votes}")
    out(f"ids missing from catalog: {len(missing)}")
    for lineno, imdb_id in missing:
        out(f"  line {lineno}: {imdb_id}")
        problems.append(f"line {lineno}: {imdb_id} missing from catalog")

    # duplicates and length
    dup = [q for q, c in Counter(normalize(r["query"]) for r in records).items() if c > 1]
    out(f"exact duplicate queries: {len(dup)}")
    for q in dup:
        out(f"  {q}")
        problems.append(f"duplicate query: {q}")
    bad_len = [r for r in records if not 2 <= len(r["query"].split()) <= 25]
    out(f"queries outside 2..25 words: {len(bad_len)}")
    for r in bad_len:
        out(f"  line {r['_line']} ({len(r['query'].split())} words): {r['query']}")
        problems.append(f"line {r['_line']}: length")

    # title leaks and overview overlap
    leaks, overlaps, kw_hits = [], [], []
    person_q, decade_q = 0, 0
    decades: Counter[int] = Counter()
    for r in records:
        q = r["query"]
        ids = [i for i in r["imdb_ids"] if i in catalog.index]
        for imdb_id in ids:
            row = catalog.loc[imdb_id]
            if title_leak(q, row["original_title"]):
                leaks.append((r["_line"], imdb_id, fix_mojibake(row["original_title"]), q))
            shared: set[str] = set()
            for field in ("overview", "tagline", "original_title"):
                if isinstance(row[field], str):
                    shared |= shared_ngrams(q, row[field])
            if shared:
                overlaps.append((r["_line"], imdb_id, ", ".join(sorted(shared)), q))
            if isinstance(row["keywords"], str):
                nq = " " + normalize(q) + " "
                for kw in row["keywords"].split("|"):
                    k = normalize(kw)
                    if len(k.split()) >= 2 and f" {k} " in nq:
                        kw_hits.append((r["_line"], imdb_id, kw, q))
        if ids:
            row = catalog.loc[ids[0]]
            decades[int(row["release_year"]) // 10 * 10] += 1
            if any(names_person(q, catalog.loc[i]) for i in ids):
                person_q += 1
        if DECADE_RE.search(q):
            decade_q += 1

    out(f"queries containing the film's title: {len(leaks)}")
    for lineno, imdb_id, title, q in leaks:
        out(f"  line {lineno} {imdb_id} [{title}]: {q}")
        problems.append(f"line {lineno}: title leak")
    out(f"queries sharing a 3-word sequence with the overview, tagline or title: {len(overlaps)}")
    for lineno, imdb_id, grams, q in overlaps:
        out(f"  line {lineno} {imdb_id} [{grams}]: {q}")
        problems.append(f"line {lineno}: overview overlap")

    out(f"queries containing a multi-word keyword of the film: {len(kw_hits)}")
    for lineno, imdb_id, kw, q in kw_hits:
        out(f"  line {lineno} {imdb_id} [{kw}]: {q}")
        problems.append(f"line {lineno}: keyword copied")

    n = max(len(records), 1)
    out(f"info: queries naming a cast member or director: {person_q} ({person_q / n:.0%})")
    out(f"info: queries mentioning a decade or year: {decade_q} ({decade_q / n:.0%})")
    out("info: target films per decade: " + ", ".join(f"{d}s={c}" for d, c in sorted(decades.items())))

    out("OK" if not problems else f"PROBLEMS: {len(problems)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
