"""Read a TMDB-style movies CSV (local, zipped, or over http) into clean `Movie` objects plus a report.

Ingest-only: pandas, ftfy and httpx are imported here and nowhere on the serving path.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import math
import re
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import ftfy
import httpx
import pandas as pd

from core.errors import BadInput
from core.models import Movie, is_imdb_id

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("imdb_id", "original_title", "overview")
OPTIONAL_COLUMNS = (
    "genres", "tagline", "keywords", "director", "cast",
    "release_year", "release_date", "vote_count", "popularity",
)
MAX_BYTES = 200 * 1024 * 1024
DOWNLOAD_TIMEOUT_S = 60.0
MAX_CAST = 5

# Drop reasons, as shown in the report.
BAD_LINE = "wrong number of fields"
NO_IMDB_ID = "no imdb_id"
MALFORMED_IMDB_ID = "malformed imdb_id"
NO_TITLE = "no title"
NO_OVERVIEW = "no overview"
PLACEHOLDER_OVERVIEW = "placeholder overview"
DUPLICATE_IMDB_ID = "duplicate imdb_id"

# Compared casefolded, trimmed of dots, dashes and spaces: `No overview found.` and `N/A` match, `...` too.
_PLACEHOLDERS = frozenset({
    "no overview found", "no overview", "no overview available", "overview not available",
    "no description", "no description available", "no plot", "no plot available", "no synopsis",
    "not available", "n/a", "na", "none", "null", "nan", "tbd", "tba", "coming soon",
    "we don't have an overview translated in english. help us expand our database by adding one",
})
_PLACEHOLDER_TRIM = " .-_…!?"

_YEAR4 = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_SHORT_DATE = re.compile(r"\d{1,2}/\d{1,2}/(\d{2})")
_MIN_YEAR, _MAX_YEAR = 1870, 2100

# Keep curly quotes as the source has them: only encoding damage counts as a repair.
_FTFY_CONFIG = ftfy.TextFixerConfig(uncurl_quotes=False)
# Each byte 0x80-0xFF as it shows when UTF-8 is misread as Windows-1252 (bytes it lacks: C1 controls).
_CHAR_TO_BYTE = {
    (bytes([b]).decode("cp1252", errors="ignore") or chr(b)): b for b in range(0x80, 0x100)
}
_CONT = "".join(re.escape(ch) for ch, b in _CHAR_TO_BYTE.items() if b < 0xC0)
# Misread UTF-8 sequences that ftfy left alone. Two-byte ones led by Ä-Ô count unless they end a word of
# capitals, where they can be real (`CAFÉ»`, `ESPAÑA—`); Â or Ã before such characters is never real, nor
# are two such characters after an accented letter.
_SEQUENCE = re.compile(
    f"[ÂÃ][{_CONT}]|(?<![A-ZÀ-Þ])[Ä-Ô][{_CONT}]|[Ä-Ô][{_CONT}](?=[^\\W\\d_])"
    f"|[\xe0-\xef][{_CONT}]{{2}}|[\xf0-\xf4][{_CONT}]{{3}}"
)
_LEAD = re.compile("[\xc2-\xf4]")
# Windows-1252 has no character for 0x81, 0x8D, 0x8F, 0x90, 0x9D, so those bytes were lost, not misread;
# these rules restore the overwhelmingly likely original.
_LOST_BYTE_RULES = (
    (re.compile(f"â€(?![{_CONT}])"), "\u201d"),  # E2 80 9D: closing double quote
    (re.compile("Ã(?=[a-z])"), "Á"),  # C3 81: Ángel, Álvaro, Ádám, Áron
    (re.compile(f"Â(?![\\w{_CONT}])"), ""),  # C2 + a C1 control: nothing visible was lost
    (re.compile(f"à¸(?![{_CONT}])"), "\u0e01"),  # E0 B8 81: Thai ko kai, the commonest letter
    (re.compile(f"ï¬(?![{_CONT}])"), "fi"),  # EF AC 81: the fi ligature
)
# In CJK and Hangul text a lost byte leaves several candidate characters: shown as U+FFFD, not as mojibake.
_WIDE_SCRIPT = re.compile("[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_LOST_IN_WIDE_SCRIPT = re.compile(f"[\xe3-\xed][{_CONT}](?![{_CONT}])")


@dataclass(frozen=True)
class CatalogReport:
    """What happened to each row, so a person can judge the source before trusting the index."""

    rows_read: int
    kept: int
    dropped: dict[str, int] = field(default_factory=dict)
    repaired: int = 0
    numbers_defaulted: int = 0

    def lines(self) -> list[str]:
        lines = [f"rows read: {self.rows_read:,}", f"kept: {self.kept:,}"]
        for reason, count in sorted(self.dropped.items(), key=lambda item: (-item[1], item[0])):
            lines.append(f"dropped, {reason}: {count:,}")
        lines.append(f"repaired (mojibake fixed): {self.repaired:,}")
        lines.append(f"unreadable numbers set to defaults: {self.numbers_defaulted:,}")
        return lines


@dataclass(frozen=True)
class CatalogLoad:
    movies: list[Movie]
    report: CatalogReport


def load_catalog(
    source: str, *, max_bytes: int = MAX_BYTES, timeout: float = DOWNLOAD_TIMEOUT_S
) -> CatalogLoad:
    """Load and clean the catalog at `source` (a .csv or .zip path, or an http(s) URL).

    Raises BadInput, with what to fix, when the source is missing, unreachable, empty, not a CSV, too large,
    or lacks a required column. Defective rows never raise: they are dropped and counted in the report.
    """
    source = source.strip()
    if not source:
        raise BadInput("No catalog given: set MOVIES_CSV or pass --csv with a path or an http(s) URL.")
    if source.lower().startswith(("http://", "https://")):
        label = _redact(source)
        with tempfile.TemporaryDirectory(prefix="movie-bot-catalog-") as tmp:
            path = Path(tmp) / "catalog"
            _download(source, path, label=label, max_bytes=max_bytes, timeout=timeout)
            text = _read_text(path, label=label, max_bytes=max_bytes)
    else:
        label = source
        text = _read_text(Path(source).expanduser(), label=label, max_bytes=max_bytes)
    frame, bad_lines = _parse(text, label=label)
    loaded = _clean(frame, bad_lines)
    for line in loaded.report.lines():
        logger.info("catalog %s", line)
    return loaded


def repair_text(raw: str) -> str:
    """Undo mojibake (UTF-8 read as Windows-1252) with ftfy, then mend what ftfy leaves behind.

    ftfy declines some short or mixed sequences (`Malin Ã…kerman`) and cannot restore bytes that were lost
    on the way, so leftover sequences are decoded one by one and the known losses restored.
    """
    fixed = ftfy.fix_text(raw, _FTFY_CONFIG)
    if not _LEAD.search(fixed):  # the common case, plain English: skip the regexes below
        return fixed
    fixed = _SEQUENCE.sub(_decode_sequence, fixed)
    for pattern, replacement in _LOST_BYTE_RULES:
        fixed = pattern.sub(replacement, fixed)
    if _WIDE_SCRIPT.search(fixed):
        fixed = _LOST_IN_WIDE_SCRIPT.sub("\ufffd", fixed)
    return fixed


def _decode_sequence(match: re.Match[str]) -> str:
    try:
        return bytes(_CHAR_TO_BYTE[ch] for ch in match.group()).decode("utf-8")
    except UnicodeDecodeError:
        return match.group()


def _redact(url: str) -> str:
    """The URL without credentials, query or fragment, which may hold secrets and must not reach users."""
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # not a number: httpx will refuse the URL, the message needs no port
        port = ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


def _download(url: str, dest: Path, *, label: str, max_bytes: int, timeout: float) -> None:
    too_big = f"{label} is larger than {_mb(max_bytes)}; pass a smaller catalog or a local file."
    try:
        with (
            httpx.Client(
                follow_redirects=True, timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0))
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise BadInput(
                    f"Could not download the catalog: {label} answered HTTP {response.status_code} "
                    f"{response.reason_phrase}. Check the URL."
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise BadInput(too_big)
            size = 0
            with dest.open("wb") as out:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise BadInput(too_big)
                    out.write(chunk)
            logger.info("downloaded %s (%s bytes)", label, f"{size:,}")
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise BadInput(
            f"Could not reach {label} ({type(exc).__name__}). "
            "Check the URL and the network, or pass a local file."
        ) from None


def _read_text(path: Path, *, label: str, max_bytes: int) -> str:
    if not path.exists():
        raise BadInput(f"Catalog file not found: {label}. Check the path, or pass an http(s) URL.")
    if path.is_dir():
        raise BadInput(f"{label} is a folder; pass the movies CSV file itself (plain or zipped).")
    try:
        if zipfile.is_zipfile(path):
            raw = _read_zip_member(path, label=label, max_bytes=max_bytes)
        elif path.stat().st_size > max_bytes:
            raise BadInput(f"{label} is larger than {_mb(max_bytes)}; is it really the catalog?")
        else:
            raw = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"Cannot read {label}: {exc.strerror or exc}. Check its permissions.") from None
    if not raw.strip():
        raise BadInput(f"{label} is empty; pass the TMDB movies CSV (plain or zipped).")
    if b"\x00" in raw[:65536]:
        raise BadInput(f"{label} is not a CSV file (it looks binary); pass the movies CSV or a zip of it.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        logger.warning("%s is not valid UTF-8; reading it as Windows-1252", label)
        text = raw.decode("cp1252", errors="replace")
    if text.lstrip().startswith("<"):
        raise BadInput(f"{label} is an HTML or XML page, not a CSV; pass the address of the CSV file itself.")
    return text


def _read_zip_member(path: Path, *, label: str, max_bytes: int) -> bytes:
    """The one CSV inside a zip: several would make the choice a guess, so that is refused too."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [
                info for info in archive.infolist()
                if not info.is_dir() and info.filename.lower().endswith(".csv")
                and not info.filename.startswith("__MACOSX/")
            ]
            if not members:
                raise BadInput(f"{label} is a zip with no .csv file in it; put the movies CSV inside.")
            if len(members) > 1:
                names = ", ".join(info.filename for info in members)
                raise BadInput(f"{label} holds several CSV files ({names}); keep only the movies CSV in it.")
            if members[0].file_size > max_bytes:
                raise BadInput(f"{label} unpacks to more than {_mb(max_bytes)}; is it the catalog?")
            return archive.read(members[0])
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
        raise BadInput(f"{label} is a damaged or unsupported zip ({exc}); pass the CSV itself.") from None


def _parse(text: str, *, label: str) -> tuple[pd.DataFrame, int]:
    """Parse every field as text; lines with a wrong number of fields are counted instead of failing.

    The header is read first and passed as `names`: otherwise pandas takes a first row with one field too
    many as a sign of an index column and shifts every column.
    """
    bad_lines = 0

    def skip(fields: list[str]) -> None:
        nonlocal bad_lines
        bad_lines += 1
        logger.debug("skipping a line with %d fields", len(fields))

    try:
        header = next((row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)), [])
        names = [name.strip() for name in header]
        missing = [name for name in REQUIRED_COLUMNS if name not in names]
        if missing:
            raise BadInput(
                f"{label} lacks the required column(s) {', '.join(missing)}; the CSV header needs "
                f"{', '.join(REQUIRED_COLUMNS)} (TMDB movies format)."
            )
        frame = pd.read_csv(
            io.StringIO(text), names=names, header=0, dtype=str, keep_default_na=False,
            engine="python", on_bad_lines=skip,
        )
    except (ValueError, csv.Error) as exc:  # pandas' ParserError is a ValueError, as are duplicate names
        raise BadInput(f"{label} could not be read as CSV ({exc}); is it the TMDB movies CSV?") from None
    if frame.empty and not bad_lines:
        raise BadInput(f"{label} has a header but no movie rows.")
    return frame, bad_lines


def _clean(frame: pd.DataFrame, bad_lines: int) -> CatalogLoad:
    """Apply the row rules in order, so each dropped row is counted once, under its first failing rule."""
    dropped: Counter[str] = Counter()
    dropped[BAD_LINE] += bad_lines
    # Lines with too few fields are padded with NaN, which keep_default_na=False never produces otherwise.
    short = frame.isna().any(axis=1).tolist()
    columns = {
        name: frame[name].fillna("").astype(str).tolist() if name in frame.columns else [""] * len(frame)
        for name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    }
    movies: list[Movie] = []
    seen: set[str] = set()
    repaired = defaulted = 0
    for i in range(len(frame)):
        row = {name: values[i] for name, values in columns.items()}
        outcome = _clean_row(row) if not short[i] else BAD_LINE
        if isinstance(outcome, str):
            dropped[outcome] += 1
            continue
        movie, was_repaired, bad_numbers = outcome
        if movie.imdb_id in seen:
            dropped[DUPLICATE_IMDB_ID] += 1
            continue
        seen.add(movie.imdb_id)
        movies.append(movie)
        repaired += was_repaired
        defaulted += bad_numbers
    report = CatalogReport(
        rows_read=len(frame) + bad_lines,
        kept=len(movies),
        dropped={reason: count for reason, count in dropped.items() if count},
        repaired=repaired,
        numbers_defaulted=defaulted,
    )
    return CatalogLoad(movies=movies, report=report)


def _clean_row(row: dict[str, str]) -> tuple[Movie, bool, int] | str:
    """The movie, whether any text was repaired and how many numbers were unreadable; or a drop reason."""
    imdb_id = row["imdb_id"].strip()
    if not imdb_id:
        return NO_IMDB_ID
    if not is_imdb_id(imdb_id):
        return MALFORMED_IMDB_ID
    # Repair before folding white space: ftfy needs the no-break space in `papÃ\xa0` to restore `papà`.
    texts = {name: row[name] for name in ("original_title", "overview", "tagline", "genres",
                                          "keywords", "director", "cast")}
    fixed = {name: _squash(repair_text(text)) for name, text in texts.items()}
    if not fixed["original_title"]:
        return NO_TITLE
    if not fixed["overview"]:
        return NO_OVERVIEW
    placeholder_key = fixed["overview"].casefold().strip(_PLACEHOLDER_TRIM)
    if not placeholder_key or placeholder_key in _PLACEHOLDERS:
        return PLACEHOLDER_OVERVIEW
    vote_count = _number(row["vote_count"])
    popularity = _number(row["popularity"])
    release_year = _number(row["release_year"])
    bad_numbers = sum(
        1 for raw, value in ((row["vote_count"], vote_count), (row["popularity"], popularity),
                             (row["release_year"], release_year))
        if raw.strip() and value is None
    )
    movie = Movie(
        imdb_id=imdb_id,
        title=fixed["original_title"],
        year=_year(release_year, row["release_date"]),
        overview=fixed["overview"],
        genres=_split(fixed["genres"]),
        tagline=fixed["tagline"],
        keywords=_split(fixed["keywords"]),
        directors=_split(fixed["director"]),
        cast=_split(fixed["cast"])[:MAX_CAST],
        vote_count=int(vote_count) if vote_count is not None else 0,
        popularity=popularity if popularity is not None else 0.0,
    )
    return movie, any(fixed[name] != _squash(text) for name, text in texts.items()), bad_numbers


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f} MB"


def _squash(text: str) -> str:
    return " ".join(text.split())


def _split(text: str) -> tuple[str, ...]:
    """TMDB's `|`-separated lists, trimmed, without empties or repeats, in source order."""
    return tuple(dict.fromkeys(part for part in (_squash(p) for p in text.split("|")) if part))


def _number(raw: str) -> float | None:
    """A non-negative finite number, or None for blanks and junk such as `n/a` (callers use their default)."""
    try:
        value = float(raw.strip().replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _year(release_year: float | None, release_date: str) -> int | None:
    """release_year when plausible, else the year in release_date (TMDB writes `6/9/15`), else None."""
    if release_year is not None and release_year.is_integer() and _MIN_YEAR <= release_year <= _MAX_YEAR:
        return int(release_year)
    date = release_date.strip()
    if found := _YEAR4.search(date):
        return int(found.group(1))
    if short := _SHORT_DATE.fullmatch(date):
        # Two-digit years: the catalog spans a century, so anything past next year belongs to the 1900s.
        year = 2000 + int(short.group(1))
        return year if year <= dt.date.today().year + 1 else year - 100
    return None
