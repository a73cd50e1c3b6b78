"""Typed settings from the environment and `.env`, validated once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import ConfigError

DEFAULT_MOVIES_CSV = "https://hongtaoh.com/files/tmdb-movies.csv"
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    """Names and defaults follow shared/INTERFACE.md; secrets are SecretStr so they never print."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    index_path: Path = Field(default=Path("./data/index"), alias="INDEX_PATH")
    qdrant_url: str | None = Field(default=None, alias="QDRANT_URL")
    qdrant_api_key: SecretStr | None = Field(default=None, alias="QDRANT_API_KEY")
    qdrant_collection: str = Field(default="movies", alias="QDRANT_COLLECTION")
    movies_csv: str = Field(default=DEFAULT_MOVIES_CSV, alias="MOVIES_CSV")
    embedding_model: str = Field(default=DEFAULT_MODEL, alias="EMBEDDING_MODEL")
    # Query encoder: "onnx" (light, from the index bundle) or "sentence-transformers" (needs torch).
    query_encoder: Literal["onnx", "sentence-transformers"] = Field(default="onnx", alias="QUERY_ENCODER")
    telegram_token: SecretStr | None = Field(default=None, alias="TELEGRAM_TOKEN")
    telegram_base_url: str | None = Field(default=None, alias="TELEGRAM_BASE_URL")
    discord_token: SecretStr | None = Field(default=None, alias="DISCORD_TOKEN")
    discord_api_base: str | None = Field(default=None, alias="DISCORD_API_BASE")
    discord_guild_id: int | None = Field(default=None, alias="DISCORD_GUILD_ID")
    log_level: LogLevel = Field(default="INFO", alias="LOG_LEVEL")

    @field_validator(
        "qdrant_url", "qdrant_api_key", "telegram_token", "telegram_base_url", "discord_token",
        "discord_api_base", "discord_guild_id", mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("qdrant_url", "telegram_base_url", "discord_api_base")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @field_validator("qdrant_collection")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        if not value or not all(ch.isalnum() or ch in "-_" for ch in value):
            raise ValueError("use letters, digits, '-' and '_' only")
        return value


def load_settings(**overrides: object) -> Settings:
    """Build settings or raise ConfigError naming each bad variable and what to put there."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else "settings"
            problems.append(f"{name}: {err['msg']}")
        message = "Invalid settings; fix these environment variables (or .env): " + "; ".join(problems)
        raise ConfigError(message) from None
