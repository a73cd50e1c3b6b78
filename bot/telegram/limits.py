"""The per-user search limit on Telegram, checked in one handler group before the search handlers run.

The checks route like the search handlers (the same command names, the same filters, so `/movie@OtherBot`
stays silent here too); a user over `RATE_LIMIT` gets a polite note with the wait, and the update goes no
further (`ApplicationHandlerStop`). Inline queries count under their own key, so typing in inline mode does
not use up a user's chat searches; scrolling an inline answer (a non-empty `offset`) is paging, not a search.
Button presses (paging, "Like #n") run a search each, so they count with the user's chat searches.
"""

from __future__ import annotations

import logging
import math

from telegram import InlineQueryResultsButton, Update
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
)
from telegram.ext import filters as f

from bot.telegram.context import Context
from core.rate_limit import RateLimiter
from core.search_guard import slow_down_message

logger = logging.getLogger(__name__)

LIMIT_GROUP = -1  # before the search handlers in group 0
SEARCH_COMMANDS = ("movie", "similar")
_NEW_MESSAGES = f.UpdateType.MESSAGE


def limit_handlers(limiter: RateLimiter) -> list[BaseHandler[Update, Context, None]]:
    async def check_message(update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        wait = limiter.check(f"telegram:{user.id}")
        if wait is None:
            return
        await message.reply_text(slow_down_message(wait))
        raise ApplicationHandlerStop

    async def check_command(update: Update, context: Context) -> None:
        if context.args:  # a bare /movie gets the usage text, which costs no search
            await check_message(update, context)

    async def check_inline(update: Update, context: Context) -> None:
        inline = update.inline_query
        if inline is None or inline.offset or not inline.query.strip():
            return
        wait = limiter.check(f"telegram-inline:{inline.from_user.id}")
        if wait is None:
            return
        button = InlineQueryResultsButton(text=f"Too many searches: try again in {math.ceil(wait)} s",
                                          start_parameter="help")
        await inline.answer([], button=button, cache_time=0)
        raise ApplicationHandlerStop

    async def check_button(update: Update, context: Context) -> None:
        """Paging and "Like #n" presses search too, so they count like any search."""
        query = update.callback_query
        if query is None:
            return
        wait = limiter.check(f"telegram:{query.from_user.id}")
        if wait is None:
            return
        try:
            await query.answer(slow_down_message(wait))
        except TelegramError as error:
            logger.info("Could not answer a rate-limited button press: %s", error)
        raise ApplicationHandlerStop

    return [
        CommandHandler(SEARCH_COMMANDS, check_command, filters=_NEW_MESSAGES),
        CallbackQueryHandler(check_button),
        MessageHandler(f.TEXT & ~f.COMMAND & f.ChatType.PRIVATE & _NEW_MESSAGES, check_message),
        InlineQueryHandler(check_inline),
    ]
