"""Typed settings from the environment and `.env`, validated once at start-up.

Plain Python rather than pydantic-settings: importing pydantic and pydantic-settings cost the serving process
16-17 MB of resident memory (10-12 MB of it anonymous) and ~100 ms of start-up, for thirteen fields; nothing
else in serving imports pydantic. The behaviour is pydantic-settings' as this project used it: names are
matched case-insensitively, keyword overrides beat environment variables, which beat `.env`, which beats
the defaults; unknown names are ignored; every invalid value is reported at once in one ConfigError.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from core.errors import ConfigError

DEFAULT_MOVIES_CSV = "https://hongtaoh.com/files/tmdb-movies.csv"
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
ENV_FILE = ".env"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
QueryEncoderKind = Literal["onnx", "sentence-transformers"]


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


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("Input should be a valid string")
    return value


def _optional(parse: Callable[[object], object]) -> Callable[[object], object]:
    """Unset, empty or blank is None (an empty variable in a deploy file means "not set")."""

    def parse_optional(value: object) -> object:
        return None if value is None or (isinstance(value, str) and not value.strip()) else parse(value)

    return parse_optional


def _path(value: object) -> Path:
    if not isinstance(value, str | os.PathLike):
        raise ValueError("Input is not a valid path")
    return Path(value)


def _secret(value: object) -> SecretStr:
    return value if isinstance(value, SecretStr) else SecretStr(_text(value))


def _http_url(value: object) -> str:
    url = _text(value)
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


def _choice(options: tuple[str, ...], normalize: bool = False) -> Callable[[object], str]:
    expected = ", ".join(f"'{o}'" for o in options[:-1]) + f" or '{options[-1]}'"

    def parse_choice(value: object) -> str:
        if isinstance(value, str) and normalize:
            value = value.strip().upper()
        if value not in options:
            raise ValueError(f"Input should be {expected}")
        return value

    return parse_choice


def _collection(value: object) -> str:
    name = _text(value)
    if not name or not all(ch.isalnum() or ch in "-_" for ch in name):
        raise ValueError("use letters, digits, '-' and '_' only")
    return name


@dataclass(frozen=True)
class _Field:
    name: str
    alias: str
    default: object
    parse: Callable[[object], object]


# Names and defaults follow shared/INTERFACE.md.
_FIELDS = (
    _Field("index_path", "INDEX_PATH", Path("./data/index"), _path),
    _Field("qdrant_url", "QDRANT_URL", None, _optional(_http_url)),
    _Field("qdrant_api_key", "QDRANT_API_KEY", None, _optional(_secret)),
    _Field("qdrant_collection", "QDRANT_COLLECTION", "movies", _collection),
    _Field("movies_csv", "MOVIES_CSV", DEFAULT_MOVIES_CSV, _text),
    _Field("embedding_model", "EMBEDDING_MODEL", DEFAULT_MODEL, _text),
    # Query encoder: "onnx" (light, from the index bundle) or "sentence-transformers" (needs torch).
    _Field("query_encoder", "QUERY_ENCODER", "onnx", _choice(get_args(QueryEncoderKind))),
    _Field("telegram_token", "TELEGRAM_TOKEN", None, _optional(_secret)),
    _Field("telegram_base_url", "TELEGRAM_BASE_URL", None, _optional(_http_url)),
    _Field("discord_token", "DISCORD_TOKEN", None, _optional(_secret)),
    _Field("discord_api_base", "DISCORD_API_BASE", None, _optional(_http_url)),
    _Field("discord_guild_id", "DISCORD_GUILD_ID", None, _optional(_integer)),
    _Field("log_level", "LOG_LEVEL", "INFO", _choice(get_args(LogLevel), normalize=True)),
)


class Settings:
    """All settings, read on construction: `Settings(INDEX_PATH=...)` overrides the environment.

    Secrets are SecretStr so they never print. Raises ConfigError naming each bad variable."""

    index_path: Path
    qdrant_url: str | None
    qdrant_api_key: SecretStr | None
    qdrant_collection: str
    movies_csv: str
    embedding_model: str
    query_encoder: QueryEncoderKind
    telegram_token: SecretStr | None
    telegram_base_url: str | None
    discord_token: SecretStr | None
    discord_api_base: str | None
    discord_guild_id: int | None
    log_level: LogLevel

    def __init__(self, **overrides: object) -> None:
        raw = {**_read_env_file(Path(ENV_FILE)), **_lower_keys(os.environ), **_lower_keys(overrides)}
        problems = []
        for field in _FIELDS:
            key = field.alias.lower()
            try:
                value = field.parse(raw[key]) if key in raw else field.default
            except ValueError as exc:
                problems.append(f"{field.alias}: {exc}")
                continue
            setattr(self, field.name, value)
        if problems:
            raise ConfigError(
                "Invalid settings; fix these environment variables (or .env): " + "; ".join(problems)
            )

    def __repr__(self) -> str:
        fields = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in _FIELDS)
        return f"Settings({fields})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Settings) and all(
            getattr(self, f.name) == getattr(other, f.name) for f in _FIELDS
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, like the pydantic model it replaces


def _lower_keys(values: Mapping[str, object]) -> dict[str, object]:
    return {key.lower(): value for key, value in values.items()}


def _read_env_file(path: Path) -> dict[str, object]:
    """`.env` in the working directory, parsed by python-dotenv (imported only when the file exists)."""
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {key.lower(): value for key, value in dotenv_values(path, encoding="utf-8").items() if value is not None}


def load_settings(**overrides: object) -> Settings:
    """Build settings or raise ConfigError naming each bad variable and what to put there."""
    return Settings(**overrides)
