"""The Telegram bot wired in one place, around a search service that its caller owns."""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
from collections.abc import Callable

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.error import BadRequest, Conflict, InvalidToken, NetworkError, TelegramError
from telegram.ext import ApplicationBuilder, Defaults
from telegram.request import HTTPXRequest

from bot.startup import Stopped, describe, retry_at_startup
from bot.telegram.context import CONTEXT_TYPES, TelegramApp
from bot.telegram.flood import FloodLimiter
from bot.telegram.handlers import build_handlers, on_error
from bot.telegram.limits import LIMIT_GROUP, limit_handlers
from bot.telegram.webhook import MAX_CONNECTIONS, WebhookConfig
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
    application.add_handlers(build_handlers())
    application.add_error_handler(on_error)
    return application


def unreachable(error: BaseException) -> bool:
    """A network failure or a Bot API 5xx (PTB raises NetworkError for both); a 400 is not retried."""
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


class PollingErrors:
    """`start_polling`'s error callback. PTB retries getUpdates itself, backing off up to 30 s; this replaces its
    default, a traceback per failure, with one clear line: a 409 Conflict (a second poller: a laptop, or the old
    instance during a redeploy) is explained once, then kept at debug level while it lasts."""

    def __init__(self) -> None:
        self.conflicts = 0

    def __call__(self, error: TelegramError) -> None:
        if isinstance(error, Conflict):
            self.conflicts += 1
            if self.conflicts == 1:
                logger.error(
                    "Telegram answered 409 Conflict: another instance is polling with this token (or a webhook is "
                    "set for it). Only one poller per bot token may run: stop the other one, or use webhook mode "
                    "for several instances. Retrying with backoff."
                )
            else:
                logger.debug("409 Conflict again (%d so far): another instance is polling", self.conflicts)
            return
        logger.warning("Polling Telegram failed (%s); retrying with backoff", describe(error))


async def run_telegram(
    application: TelegramApp,
    stop: asyncio.Event,
    *,
    webhook: WebhookConfig | None = None,
    startup_retry_seconds: float = 0.0,
    report: Callable[[str], None] = lambda state: None,
) -> None:
    """Poll (or, with `webhook`, receive updates through serve's HTTP app) until `stop` is set, then stop and
    shut down in order. Signal handling is the caller's. An unreachable Bot API at start is retried for
    `startup_retry_seconds`; `report` hears "retrying", "ready" and "stopped".

    Raises ConfigError when the token is rejected: PTB's own error would quote the token.
    """
    updater = application.updater
    if updater is None and webhook is None:
        raise ValueError("run_telegram needs an Application built with an updater to poll")
    try:
        try:
            await retry_at_startup(
                application.initialize, what="The Telegram Bot API", unreachable=unreachable,
                budget_seconds=startup_retry_seconds, stop=stop, on_retry=lambda: report("retrying"),
            )
        except InvalidToken:
            raise ConfigError(
                "TELEGRAM_TOKEN was rejected by the Bot API: copy the token from @BotFather again."
            ) from None
        except Stopped:
            return
        if application.post_init is not None:
            await application.post_init(application)
        if webhook is not None:
            await application.start()  # consume the queue before Telegram starts filling it
            await retry_at_startup(
                lambda: application.bot.set_webhook(
                    webhook.url, secret_token=webhook.secret, allowed_updates=ALLOWED_UPDATES,
                    max_connections=MAX_CONNECTIONS,
                ),
                what="The Telegram Bot API (setWebhook)", unreachable=unreachable,
                budget_seconds=startup_retry_seconds, stop=stop, on_retry=lambda: report("retrying"),
            )
        elif updater is not None:
            await updater.start_polling(timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES,
                                        bootstrap_retries=5, error_callback=PollingErrors())
            await application.start()
        report("ready")
        logger.info("Telegram bot @%s is running (%s)", application.bot.username,
                    "webhook" if webhook is not None else "polling")
        await stop.wait()
    except Stopped:
        return
    finally:
        if updater is not None and updater.running:
            await updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        await application.bot.shutdown()  # closes the HTTP pools even when initialize failed half-way
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
        report("stopped")
        logger.info("Telegram bot stopped")
