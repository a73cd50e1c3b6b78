"""serve's HTTP side in process: /healthz, the seed's /search API and the webhook's secret check, over real HTTP
(aiohttp's test server) with the fake search behind them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.http_server import Health, SearchEndpoint, build_http_app
from bot.telegram.webhook import SECRET_HEADER, WebhookConfig, WebhookReceiver, webhook_config
from core.errors import ConfigError
from core.query_text import MAX_RESULTS
from core.rate_limit import RateLimiter
from core.settings import load_settings
from tests.fakes import FakeMovieSearch

SECRET = "right-secret_0123456789"


@pytest.fixture
def health() -> Health:
    return Health(["telegram", "discord"])


@pytest.fixture
def api() -> SearchEndpoint:
    return SearchEndpoint(RateLimiter(3, 60))


@pytest.fixture
def webhook() -> WebhookReceiver:
    return WebhookReceiver(WebhookConfig("https://bot.example.org/telegram/hook", SECRET))


@pytest.fixture
async def client(health: Health, api: SearchEndpoint, webhook: WebhookReceiver) -> AsyncIterator[TestClient[Any, Any]]:
    app = build_http_app(health, api, [("POST", webhook.config.path, webhook.handle)])
    async with TestClient(TestServer(app)) as client:
        yield client


async def status_and_json(client: TestClient[Any, Any], path: str, **kwargs: Any) -> tuple[int, Any]:
    async with client.get(path, **kwargs) as response:
        return response.status, await response.json()


@pytest.mark.parametrize("path", ["/healthz", "/health"])
async def test_health_is_503_until_the_index_and_every_adapter_are_ready_and_again_when_stopping(
    client: TestClient[Any, Any], health: Health, path: str
) -> None:
    status, body = await status_and_json(client, path)
    assert (status, body) == (503, {"status": "starting", "index": None,
                                    "adapters": {"telegram": "starting", "discord": "starting"}})
    health.index_ready(10866, "sentence-transformers/all-MiniLM-L6-v2")
    health.reporter("telegram")("ready")
    health.reporter("discord")("retrying")
    status, body = await status_and_json(client, path)
    assert status == 503 and body["adapters"]["discord"] == "retrying"
    health.reporter("discord")("ready")
    status, body = await status_and_json(client, path)
    assert (status, body) == (200, {"status": "ready",
                                    "index": {"movies": 10866, "model": "sentence-transformers/all-MiniLM-L6-v2"},
                                    "adapters": {"telegram": "ready", "discord": "ready"}})
    health.stopping = True
    status, body = await status_and_json(client, path)
    assert (status, body["status"]) == (503, "stopping")


async def test_search_answers_the_search_json_schema_with_cors_open(
    client: TestClient[Any, Any], api: SearchEndpoint
) -> None:
    api.search = FakeMovieSearch()
    async with client.get("/search", params={"query": "astronaut stranded on Mars", "top_k": "3"}) as response:
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        body = await response.json()
    assert set(body) == {"query", "took_ms", "results"}
    assert body["query"] == "astronaut stranded on Mars"
    assert [hit["rank"] for hit in body["results"]] == [1, 2, 3]
    first = body["results"][0]
    assert first["title"] == "The Martian" and first["imdb_url"] == "https://www.imdb.com/title/tt3659388/"
    assert set(first) == {"rank", "title", "year", "imdb_id", "imdb_url", "score", "genres", "overview"}
    status, body = await status_and_json(client, "/search", params={"query": "space"})
    assert status == 200 and len(body["results"]) == 5  # top_k defaults to 5, as in the seed's API


@pytest.mark.parametrize("params", [
    {}, {"query": ""}, {"query": "   "}, {"query": "Mars", "top_k": "0"},
    {"query": "Mars", "top_k": str(MAX_RESULTS + 1)}, {"query": "Mars", "top_k": "five"},
    {"query": "Mars", "top_k": "2.5"}, {"query": "?!…"}, {"query": "x" * 5000},
])
async def test_bad_or_missing_query_or_top_k_gets_a_400_with_a_json_error(
    client: TestClient[Any, Any], api: SearchEndpoint, params: dict[str, str]
) -> None:
    search = api.search = FakeMovieSearch()
    async with client.get("/search", params=params) as response:
        assert response.status == 400
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        body = await response.json()
    assert isinstance(body["error"], str) and body["error"]
    assert all(call[0] != "" for call in search.calls)


async def test_search_is_503_while_the_index_loads(client: TestClient[Any, Any]) -> None:
    status, body = await status_and_json(client, "/search", params={"query": "Mars"})
    assert status == 503 and "loading" in body["error"]


async def test_search_is_rate_limited_per_client_address(client: TestClient[Any, Any], api: SearchEndpoint) -> None:
    api.search = FakeMovieSearch()
    ada = {"X-Forwarded-For": "198.51.100.7"}
    for _ in range(3):
        status, _ = await status_and_json(client, "/search", params={"query": "Mars"}, headers=ada)
        assert status == 200
    async with client.get("/search", params={"query": "Mars"}, headers=ada) as response:
        assert response.status == 429
        assert int(response.headers["Retry-After"]) >= 1
        assert "try again" in (await response.json())["error"]
    status, _ = await status_and_json(client, "/search", params={"query": "Mars"},
                                      headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.9"})
    assert status == 200  # another client (the proxy's hop is the last entry)


async def test_search_preflight_allows_any_origin(client: TestClient[Any, Any]) -> None:
    async with client.options("/search", headers={"Origin": "https://example.org"}) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "GET" in response.headers["Access-Control-Allow-Methods"]


@pytest.mark.parametrize("headers", [{}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}])
async def test_webhook_refuses_a_request_without_the_right_secret(
    client: TestClient[Any, Any], headers: dict[str, str]
) -> None:
    async with client.post("/telegram/hook", json={"update_id": 1}, headers=headers) as response:
        assert response.status == 403


async def test_webhook_with_the_right_secret_waits_for_the_bot_to_run(client: TestClient[Any, Any]) -> None:
    async with client.post("/telegram/hook", json={"update_id": 1}, headers={SECRET_HEADER: SECRET}) as response:
        assert response.status == 503  # Telegram retries later


def test_a_webhook_url_without_a_secret_is_refused() -> None:
    settings = load_settings(TELEGRAM_TOKEN="1:x", TELEGRAM_WEBHOOK_URL="https://bot.example.org/hook", PORT="8080",
                             TELEGRAM_WEBHOOK_SECRET="")
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        webhook_config(settings)
    assert webhook_config(load_settings(TELEGRAM_TOKEN="1:x", TELEGRAM_WEBHOOK_URL="")) is None
