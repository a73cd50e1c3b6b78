"""Typed settings from the environment and `.env`, validated once at start-up.

Each setting is declared once, below, as a field of `Settings`: its environment variable, default and parser
(a secret's parser wraps it in SecretStr). `.env.example` at the repository root lists every one of them.

Plain Python rather than pydantic-settings, which cost the serving process memory and start-up time for
nothing else in serving (docs/performance.md). The behaviour is pydantic-settings' as this project used it:
names are matched case-insensitively, keyword overrides beat environment variables, which beat `.env`,
which beats the defaults; unknown names are ignored; every invalid value is reported at once in one
ConfigError that names the variable and what to put there.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args
from urllib.parse import urlsplit

from core.errors import ConfigError

DEFAULT_MOVIES_CSV = "https://hongtaoh.com/files/tmdb-movies.csv"
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
ENV_FILE = ".env"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
QueryEncoderKind = Literal["onnx", "sentence-transformers"]

T = TypeVar("T")
Parse = Callable[[object], T]


class SecretStr:
    """A secret that never prints: str and repr show stars, `get_secret_value()` gives the value.

    The same surface as pydantic's SecretStr, which this replaces."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __repr__(self) -> str:
        return f"SecretStr('{self}')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __len__(self) -> int:
        return len(self._value)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `count` searches per user in any `window_seconds`."""

    count: int
    window_seconds: float

    def __str__(self) -> str:
        return f"{self.count}/{self.window_seconds:g}s"


DEFAULT_RATE_LIMIT: RateLimit | None = RateLimit(5, 10.0)


# Parsers: each takes what the environment, `.env` or a keyword override holds and returns the typed value,
# or raises ValueError with what to put there (never echoing the value, which may hold a credential).


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("Input should be a valid string")
    return value


def _optional(parse: Parse[T]) -> Parse[T | None]:
    """Unset, empty or blank is None (an empty variable in a deploy file means "not set")."""

    def parse_optional(value: object) -> T | None:
        return None if value is None or (isinstance(value, str) and not value.strip()) else parse(value)

    return parse_optional


def _path(value: object) -> Path:
    if not isinstance(value, str | os.PathLike):
        raise ValueError("Input is not a valid path")
    return Path(value)


def _http_url(value: object) -> str:
    url = _text(value).strip()
    if not url.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return url.rstrip("/")


def _integer(value: object) -> int:
    if isinstance(value, int):  # bool too, as pydantic's lax mode
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = _text(value).strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if not number.is_integer():
        raise ValueError("Input should be a valid integer, unable to parse string as an integer")
    return int(number)


def _int_in(low: int, high: int | None, what: str) -> Parse[int]:
    span = f"from {low} to {high}" if high is not None else f"of {low} or more"

    def parse_int(value: object) -> int:
        try:
            number = _integer(value)
        except ValueError:
            number = low - 1
        if number < low or (high is not None and number > high):
            raise ValueError(f"use a whole number {span} ({what})")
        return number

    return parse_int


def _seconds(what: str) -> Parse[float]:
    def parse_seconds(value: object) -> float:
        try:
            number = float(value) if isinstance(value, int | float) else float(_text(value).strip())
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and number >= 0):
            raise ValueError(f"use a number of seconds, 0 or more ({what})")
        return number

    return parse_seconds


_ON = frozenset({"on", "true", "yes", "1"})
_OFF = frozenset({"off", "false", "no", "0"})


def _switch(value: object) -> bool:
    if isinstance(value, bool):
        return value
    word = value.strip().lower() if isinstance(value, str) else ""
    if word in _ON | _OFF:
        return word in _ON
    raise ValueError("use on or off")


def _choice(options: tuple[T, ...], normalize: bool = False) -> Parse[T]:
    expected = ", ".join(f"'{o}'" for o in options[:-1]) + f" or '{options[-1]}'"

    def parse_choice(value: object) -> T:
        if isinstance(value, str) and normalize:
            value = value.strip().upper()
        for option in options:
            if value == option:
                return option
        raise ValueError(f"Input should be {expected}")

    return parse_choice


def _collection(value: object) -> str:
    name = _text(value)
    if not name or not all(ch.isalnum() or ch in "-_" for ch in name):
        raise ValueError("use letters, digits, '-' and '_' only")
    return name


def _webhook_url(value: object) -> str:
    url = _text(value).strip()
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018  # raises on a port that is not a number from 0 to 65535
    except ValueError:
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("use the public https:// URL Telegram should send updates to")
    return url


_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _webhook_secret(value: str) -> str:
    if not _WEBHOOK_SECRET.fullmatch(value):
        raise ValueError("use 1 to 256 characters, each a letter A-Z or a-z, a digit, '_' or '-' (Telegram's rule)")
    return value


_RATE = re.compile(r"(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*(s|sec|m|min|h)?", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}


def _rate_limit(value: object) -> RateLimit | None:
    if isinstance(value, RateLimit) or value is None:
        return value
    text = _text(value).strip()
    if text.lower() == "off":
        return None
    match = _RATE.fullmatch(text)
    if match:
        count, amount, unit = int(match[1]), float(match[2] or 1), _UNIT_SECONDS[(match[3] or "s").lower()]
        if count >= 1 and amount > 0:
            return RateLimit(count, amount * unit)
    raise ValueError("use searches per window, like 5/10s, 20/1m or 100/1h, or off")


def setting(env: str, default: T, parse: Parse[T]) -> T:
    """Declares a setting: the environment variable that sets it, its default, and how its text is read."""
    return field(default=default, metadata={"env": env, "parse": parse})


def secret(env: str, check: Callable[[str], str] = lambda value: value) -> SecretStr | None:
    """Declares an optional secret: read as text, checked, kept in a SecretStr so it never prints."""

    def parse_secret(value: object) -> SecretStr:
        return value if isinstance(value, SecretStr) else SecretStr(check(_text(value)))

    return setting(env, None, _optional(parse_secret))


@dataclass(frozen=True, init=False)
class Settings:
    """All settings, read on construction: `Settings(INDEX_PATH=...)` overrides the environment.

    Raises ConfigError naming each bad variable and what to put there."""

    index_path: Path = setting("INDEX_PATH", Path("./data/index"), _path)
    qdrant_url: str | None = setting("QDRANT_URL", None, _optional(_http_url))
    qdrant_api_key: SecretStr | None = secret("QDRANT_API_KEY")
    qdrant_collection: str = setting("QDRANT_COLLECTION", "movies", _collection)
    movies_csv: str = setting("MOVIES_CSV", DEFAULT_MOVIES_CSV, _text)
    embedding_model: str = setting("EMBEDDING_MODEL", DEFAULT_MODEL, _text)
    # "onnx" (light, from the index bundle) or "sentence-transformers" (needs torch).
    query_encoder: QueryEncoderKind = setting("QUERY_ENCODER", "onnx", _choice(get_args(QueryEncoderKind)))
    telegram_token: SecretStr | None = secret("TELEGRAM_TOKEN")
    telegram_base_url: str | None = setting("TELEGRAM_BASE_URL", None, _optional(_http_url))
    telegram_webhook_url: str | None = setting("TELEGRAM_WEBHOOK_URL", None, _optional(_webhook_url))
    telegram_webhook_secret: SecretStr | None = secret("TELEGRAM_WEBHOOK_SECRET", _webhook_secret)
    discord_token: SecretStr | None = secret("DISCORD_TOKEN")
    discord_api_base: str | None = setting("DISCORD_API_BASE", None, _optional(_http_url))
    discord_guild_id: int | None = setting("DISCORD_GUILD_ID", None, _optional(_integer))
    log_level: LogLevel = setting("LOG_LEVEL", "INFO", _choice(get_args(LogLevel), normalize=True))
    port: int | None = setting("PORT", None, _optional(_int_in(1, 65535, "the port serve answers HTTP on")))
    search_api: bool = setting("SEARCH_API", False, _switch)
    rate_limit: RateLimit | None = setting("RATE_LIMIT", DEFAULT_RATE_LIMIT, _rate_limit)
    startup_retry_seconds: float = setting(
        "STARTUP_RETRY_SECONDS", 300.0, _seconds("how long serve retries an unreachable service at start-up")
    )
    max_queued_searches: int = setting(
        "MAX_QUEUED_SEARCHES", 64, _int_in(1, None, "searches that may wait before a 'busy' reply")
    )
    shutdown_seconds: float = setting(
        "SHUTDOWN_SECONDS", 10.0, _seconds("how long replies in flight may take after SIGTERM")
    )

    def __init__(self, **overrides: object) -> None:
        raw = {**_read_env_file(Path(ENV_FILE)), **_lower_keys(os.environ), **_lower_keys(overrides)}
        problems = []
        for declared in fields(self):
            env, parse = declared.metadata["env"], declared.metadata["parse"]
            try:
                value = parse(raw[env.lower()]) if env.lower() in raw else declared.default
            except ValueError as exc:
                problems.append(f"{env}: {exc}")
                continue
            object.__setattr__(self, declared.name, value)
        if not problems:
            problems = self._conflicts()
        if problems:
            raise ConfigError(
                "Invalid settings; fix these environment variables (or .env): " + "; ".join(problems)
            )

    def _conflicts(self) -> list[str]:
        """Values that are fine alone but not together."""
        problems = []
        if self.telegram_webhook_url is not None:
            parts = urlsplit(self.telegram_webhook_url)
            # A self-hosted Bot API server (TELEGRAM_BASE_URL) may call any URL; Telegram's own only these.
            if self.telegram_base_url is None and (parts.scheme != "https" or parts.port not in (None, 443, 80,
                                                                                                 88, 8443)):
                problems.append("TELEGRAM_WEBHOOK_URL: Telegram only calls https:// URLs on port 443, 80, 88 or 8443")
            if self.port is None:
                problems.append("PORT: set the port serve listens on for TELEGRAM_WEBHOOK_URL's requests")
        if self.search_api and self.port is None:
            problems.append("PORT: set the port serve answers SEARCH_API's requests on, or set SEARCH_API=off")
        return problems


def env_names() -> list[str]:
    """Every setting's environment variable, in declaration order."""
    return [declared.metadata["env"] for declared in fields(Settings)]


def _lower_keys(values: Mapping[str, object]) -> dict[str, object]:
    return {key.lower(): value for key, value in values.items()}


def _read_env_file(path: Path) -> dict[str, Any]:
    """`.env` in the working directory, parsed by python-dotenv (imported only when the file exists)."""
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {key.lower(): value for key, value in dotenv_values(path, encoding="utf-8").items() if value is not None}


def load_settings(**overrides: object) -> Settings:
    """Build settings or raise ConfigError naming each bad variable and what to put there."""
    return Settings(**overrides)
