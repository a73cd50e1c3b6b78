"""Telegram webhook mode: Telegram POSTs each update to serve's HTTP port instead of the bot polling for it.

PTB's own webhook server (`Updater.start_webhook`) is a tornado server that wants a port of its own, and
`/healthz` must answer on the same `PORT`. So the updates are received by serve's aiohttp app, which is what
PTB's documentation calls a custom webhook server: check the secret header, decode the update, put it on
`application.update_queue`. Webhook mode is what lets several instances run behind one load balancer: each
update reaches exactly one of them, where polling would make them fight over `getUpdates` (409 Conflict).
"""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update

from bot.telegram.context import TelegramApp
from core.errors import ConfigError
from core.settings import Settings

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's default; each connection carries one update at a time.
MAX_CONNECTIONS = 40


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    secret: str = field(repr=False)

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"


def webhook_config(settings: Settings) -> WebhookConfig | None:
    """The webhook settings, or None for polling. A webhook without a secret is refused: anyone who finds the
    URL could post fake updates."""
    if settings.telegram_webhook_url is None:
        return None
    if settings.telegram_webhook_secret is None:
        raise ConfigError(
            "TELEGRAM_WEBHOOK_URL is set but TELEGRAM_WEBHOOK_SECRET is not: set a secret of 1-256 letters, digits, "
            "'_' or '-' (e.g. `openssl rand -hex 32`); Telegram sends it with every update and serve checks it."
        )
    return WebhookConfig(settings.telegram_webhook_url, settings.telegram_webhook_secret.get_secret_value())


class WebhookReceiver:
    """The aiohttp handler for Telegram's POSTs. The application is attached once it is built; until it runs,
    updates get 503, which Telegram retries later."""

    def __init__(self, config: WebhookConfig) -> None:
        self.config = config
        self.application: TelegramApp | None = None
        self._secret = config.secret.encode()
        self._warned = False

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            level = logging.DEBUG if self._warned else logging.WARNING
            logger.log(level, "Refused a webhook request without the right %s header (403)", SECRET_HEADER)
            self._warned = True
            return web.json_response({"error": "wrong secret token"}, status=403)
        application = self.application
        if application is None or not application.running:
            return web.json_response({"error": "not ready"}, status=503, headers={"Retry-After": "5"})
        try:
            data = json.loads(await request.read())
            update = Update.de_json(data, application.bot) if isinstance(data, dict) else None
        except (ValueError, KeyError, TypeError):
            update = None
        if update is None:
            return web.json_response({"error": "the body is not a Telegram update"}, status=400)
        await application.update_queue.put(update)
        return web.Response(status=200)
