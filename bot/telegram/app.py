"""The Telegram bot wired in one place, around a search service that its caller owns."""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import ApplicationBuilder, Defaults
from telegram.request import HTTPXRequest

from bot.telegram.context import CONTEXT_TYPES, TelegramApp
from bot.telegram.flood import FloodLimiter
from bot.telegram.handlers import build_handlers, on_error
from bot.telegram.limits import LIMIT_GROUP, limit_handlers
from bot.telegram.similar import build_similar_handlers
from core.errors import ConfigError
from core.search_guard import user_rate_limiter
from core.search_port import MovieSearch
from core.settings import Settings

logger = logging.getLogger(__name__)

COMMANDS = (
    BotCommand("movie", "Find a movie by describing its plot"),
    BotCommand("similar", "Find films like one you name"),
    BotCommand("help", "How to search, with an example"),
)
ALLOWED_UPDATES = (Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY)
POLL_TIMEOUT = dtm.timedelta(seconds=30)
# Searches wait on a worker thread, so a few updates in flight keep one slow query from stalling everyone.
CONCURRENT_UPDATES = 8


def api_urls(base_url: str) -> tuple[str, str]:
    """Bot API and file URLs for a server given as `<root>/bot` (as PTB expects) or as its bare root."""
    root = base_url.rstrip("/").removesuffix("/bot")
    return f"{root}/bot", f"{root}/file/bot"


def build_application(settings: Settings, search: MovieSearch) -> TelegramApp:
    """Build the bot without touching the network. `search` belongs to the caller, who closes it."""
    if settings.telegram_token is None:
        raise ConfigError("TELEGRAM_TOKEN is not set: create a bot with @BotFather and put its token there.")
    token = settings.telegram_token.get_secret_value()  # log redaction is process-wide: bot/logging_setup.py

    async def post_init(application: TelegramApp) -> None:
        try:
            await application.bot.set_my_commands(COMMANDS)
        except TelegramError as error:  # the bot works without the menu; not worth failing start-up
            logger.warning("Could not register the command menu: %s", error)

    builder = (
        ApplicationBuilder()
        .token(token)
        .context_types(CONTEXT_TYPES)
        .job_queue(None)
        .request(HTTPXRequest(connect_timeout=10.0, read_timeout=15.0, write_timeout=15.0, pool_timeout=10.0))
        # PTB adds the long-poll timeout to this read timeout for getUpdates.
        .get_updates_request(HTTPXRequest(connection_pool_size=1, connect_timeout=10.0, read_timeout=10.0))
        .rate_limiter(FloodLimiter())
        .defaults(Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True),
                           allow_sending_without_reply=True))
        .concurrent_updates(CONCURRENT_UPDATES)
        .post_init(post_init)
    )
    if settings.telegram_base_url:
        api_url, file_url = api_urls(settings.telegram_base_url)
        builder = builder.base_url(api_url).base_file_url(file_url)
    application = builder.build()
    application.bot_data.search = search
    limiter = user_rate_limiter(settings.rate_limit)
    if limiter is not None:
        application.add_handlers(limit_handlers(limiter), group=LIMIT_GROUP)
    application.add_handlers([*build_similar_handlers(), *build_handlers()])
    application.add_error_handler(on_error)
    return application


async def run_telegram(application: TelegramApp, stop: asyncio.Event) -> None:
    """Poll until `stop` is set, then stop and shut down in order. Signal handling is the caller's.

    Raises ConfigError when the token is rejected: PTB's own error would quote the token.
    """
    updater = application.updater
    if updater is None:
        raise ValueError("run_telegram needs an Application built with an updater")
    try:
        try:
            await application.initialize()
        except InvalidToken:
            raise ConfigError(
                "TELEGRAM_TOKEN was rejected by the Bot API: copy the token from @BotFather again."
            ) from None
        if application.post_init is not None:
            await application.post_init(application)
        await updater.start_polling(timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES)
        await application.start()
        logger.info("Telegram bot @%s is running", application.bot.username)
        await stop.wait()
    finally:
        if updater.running:
            await updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        await application.bot.shutdown()  # closes the HTTP pools even when initialize failed half-way
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
        logger.info("Telegram bot stopped")
