"""HTTP on `PORT` for `movie-bot serve`: health for the platform, the seed's search API, Telegram's webhook.

aiohttp, because discord.py already brings it: no second web stack in the image. The server starts before the
index loads, so a platform's health check sees 503 while the bot warms up and 200 once the index and every
enabled chat adapter are ready; it answers 503 again from the stop signal on, so no new traffic is routed to an
instance that is shutting down.

`GET /search` (with SEARCH_API on) answers the `search --json` schema with the seed's parameter names
(`query`, `top_k`), CORS open for GET, rate-limited per client address like the chat. Behind fly.io's or
railway's proxy the client's address is the last `X-Forwarded-For` entry, the one the platform's proxy added.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from core.errors import IndexUnavailable, InvalidQuery, MovieBotError, ShuttingDown
from core.query_text import MAX_RESULTS
from core.rate_limit import RateLimiter
from core.search_port import MovieSearch
from core.settings import Settings

if TYPE_CHECKING:
    from bot.telegram.webhook import WebhookReceiver

logger = logging.getLogger(__name__)

HEALTH_PATHS = ("/healthz", "/health")
DEFAULT_TOP_K = 5
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Health:
    """What `/healthz` reports, kept up to date by serve and the adapters (all on the event loop)."""

    STARTING = "starting"
    RETRYING = "retrying"  # start-up: the chat service is unreachable, serve keeps trying
    READY = "ready"
    STOPPED = "stopped"

    def __init__(self, adapters: Iterable[str]) -> None:
        self.adapters: dict[str, str] = dict.fromkeys(adapters, self.STARTING)
        self.index: dict[str, Any] | None = None
        self.stopping = False

    def reporter(self, adapter: str) -> Callable[[str], None]:
        """A callback the adapter calls with its new state."""

        def report(state: str) -> None:
            self.adapters[adapter] = state

        return report

    def index_ready(self, movies: int | None, model: str | None) -> None:
        self.index = {"movies": movies, "model": model}

    @property
    def ready(self) -> bool:
        return (not self.stopping and self.index is not None
                and all(state == self.READY for state in self.adapters.values()))

    def to_json(self) -> dict[str, Any]:
        status = "stopping" if self.stopping else "ready" if self.ready else "starting"
        return {"status": status, "index": self.index, "adapters": dict(self.adapters)}


class SearchEndpoint:
    """`GET /search`: the service is handed over once it has loaded; until then the endpoint answers 503."""

    def __init__(self, limiter: RateLimiter | None) -> None:
        self.search: MovieSearch | None = None
        self._limiter = limiter

    async def handle(self, request: web.Request) -> web.Response:
        query = request.query.get("query", "")
        if not query.strip():
            return _error(400, "Pass the plot to search for as ?query=, e.g. /search?query=astronaut+on+Mars")
        top_k = _top_k(request.query.get("top_k"))
        if top_k is None:
            return _error(400, f"top_k must be a whole number from 1 to {MAX_RESULTS}")
        if self._limiter is not None:
            wait = self._limiter.check(client_address(request))
            if wait is not None:
                seconds = max(1, math.ceil(wait))
                return _error(429, f"Too many searches; try again in {seconds} s",
                              headers={"Retry-After": str(seconds)})
        if self.search is None:
            return _error(503, "The index is still loading; try again in a few seconds",
                          headers={"Retry-After": "5"})
        try:
            results = await self.search.search(query, limit=top_k)
        except InvalidQuery as exc:
            return _error(400, exc.user_message)
        except (IndexUnavailable, ShuttingDown) as exc:
            logger.warning("search API: %s", exc.user_message)
            return _error(503, exc.user_message)
        except MovieBotError as exc:
            return _error(500, exc.user_message)
        return _json(200, results.to_json())


def client_address(request: web.Request) -> str:
    forwarded = request.headers.get("X-Forwarded-For", "")
    last_hop = forwarded.rsplit(",", 1)[-1].strip()
    return last_hop or request.remote or "unknown"


def _top_k(raw: str | None) -> int | None:
    if raw is None:
        return DEFAULT_TOP_K
    try:
        value = int(raw.strip())
    except ValueError:
        return None
    return value if 1 <= value <= MAX_RESULTS else None


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=json.dumps(body, ensure_ascii=False), content_type="application/json",
                        headers={**CORS_HEADERS, **(headers or {})})


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return _json(status, {"error": message}, headers)


def build_http_app(
    health: Health,
    search_api: SearchEndpoint | None = None,
    extra_routes: Iterable[tuple[str, str, Handler]] = (),
) -> web.Application:
    """The routes: health always, `/search` when given, and any extra (method, path, handler), e.g. a webhook."""

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response(health.to_json(), status=200 if health.ready else 503)

    async def preflight(request: web.Request) -> web.Response:
        return web.Response(status=204, headers=CORS_HEADERS)

    app = web.Application()
    for path in HEALTH_PATHS:
        app.router.add_get(path, healthz)
    if search_api is not None:
        app.router.add_get("/search", search_api.handle)
        app.router.add_route("OPTIONS", "/search", preflight)
    for method, path, handler in extra_routes:
        app.router.add_route(method, path, handler)
    return app


async def start_http(app: web.Application, port: int, host: str = "0.0.0.0") -> web.AppRunner:
    """Listen on `port` (every interface: the platform's proxy connects from outside the machine)."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    logger.info("HTTP on port %d: %s", port, ", ".join(sorted({r.resource.canonical for r in app.router.routes()
                                                                if r.resource is not None})))
    return runner


async def stop_http(runner: web.AppRunner) -> None:
    await runner.cleanup()


class HttpFront:
    """serve's HTTP side, built from settings: health always tracked, a server only when PORT is set."""

    def __init__(self, settings: Settings, stop: asyncio.Event) -> None:
        enabled = [name for name, token in (("telegram", settings.telegram_token),
                                            ("discord", settings.discord_token)) if token is not None]
        self.health = Health(enabled)
        self.webhook: WebhookReceiver | None = None
        if settings.telegram_token is not None and settings.telegram_webhook_url is not None:
            from bot.telegram.webhook import WebhookReceiver, webhook_config

            config = webhook_config(settings)
            if config is not None:
                self.webhook = WebhookReceiver(config)
        limit = settings.rate_limit
        limiter = RateLimiter(limit.count, limit.window_seconds) if limit is not None else None
        self.search_api = SearchEndpoint(limiter) if settings.search_api else None
        self._port = settings.port
        self._stop = stop
        self._runner: web.AppRunner | None = None
        self._watcher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._port is None:
            return
        routes = [("POST", self.webhook.config.path, self.webhook.handle)] if self.webhook is not None else []
        self._runner = await start_http(build_http_app(self.health, self.search_api, routes), self._port)
        self._watcher = asyncio.create_task(self._mark_stopping(), name="http-stopping")

    def index_ready(self, service: object, search: MovieSearch) -> None:
        """Record the index's size and model for /healthz and hand the search to /search."""
        manifest = getattr(getattr(service, "index", None), "manifest", None)
        self.health.index_ready(getattr(manifest, "points", None), getattr(manifest, "model_name", None))
        if self.search_api is not None:
            self.search_api.search = search

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
        if self._runner is not None:
            await stop_http(self._runner)

    async def _mark_stopping(self) -> None:
        await self._stop.wait()
        self.health.stopping = True
