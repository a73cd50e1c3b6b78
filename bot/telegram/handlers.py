"""Update handlers: commands, private-chat text, paging buttons, inline queries, and the one error handler.

`MovieBotError`s are answered here with their `user_message`; anything else propagates to `on_error`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from telegram import CallbackQuery, InlineQueryResultsButton, Message, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, InlineQueryHandler, MessageHandler
from telegram.ext import filters as f

from bot.telegram.context import Context
from bot.telegram.paging import decode_page
from bot.telegram.render import PAGE_SIZE, render_help, render_inline_articles, render_results
from core.errors import MovieBotError
from core.models import MatchQuality
from core.query_text import MAX_RESULTS

logger = logging.getLogger(__name__)

INLINE_PAGE_SIZE = 10
INLINE_CACHE_SECONDS = 300
TYPING_REFRESH_SECONDS = 4.5  # Telegram shows "typing" for about 5 s per chat action
EXPIRED_BUTTON = "This list has expired. Send /movie with your description again."
SORRY = "Sorry, something went wrong on our side. Please try again in a moment."
INLINE_UNREADABLE = "I read English only: describe the plot in English"

_NEW_MESSAGES = f.UpdateType.MESSAGE  # edits of old messages are not new searches


@contextlib.asynccontextmanager
async def typing_in(context: Context, chat_id: int) -> AsyncIterator[None]:
    """Show "typing" in the chat for as long as the block runs; a failed chat action never fails the reply."""

    async def refresh() -> None:
        while True:
            await asyncio.sleep(TYPING_REFRESH_SECONDS)
            with contextlib.suppress(TelegramError):
                await context.bot.send_chat_action(chat_id, ChatAction.TYPING)

    try:
        await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
    except TelegramError as error:
        logger.debug("Could not send the typing action: %s", error)
    refresher = asyncio.create_task(refresh())
    try:
        yield
    finally:
        refresher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await refresher


async def _search_and_reply(message: Message, context: Context, raw_query: str) -> None:
    state = context.bot_data
    async with typing_in(context, message.chat_id):
        try:
            results = await state.require_search().search(raw_query, limit=PAGE_SIZE, offset=0)
        except MovieBotError as error:
            await message.reply_text(error.user_message)
            return
    page_key = state.pages.put(results.query, message.chat_id) if results.has_more else None
    text, markup = render_results(results, page_key)
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def on_help(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(render_help(context.bot.username), parse_mode=ParseMode.HTML)


async def on_movie(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    if not context.args:
        await on_help(update, context)
        return
    await _search_and_reply(message, context, " ".join(context.args))


async def on_private_text(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await _search_and_reply(message, context, message.text)


async def _answer(query: CallbackQuery, text: str | None = None) -> None:
    """Stop the client's spinner. A press too old to answer (the bot was down or busy) is still handled."""
    try:
        await query.answer(text)
    except BadRequest as error:
        logger.info("Could not answer a button press: %s", error.message)


async def on_more(update: Update, context: Context) -> None:
    """Page in place; the query is answered before searching so the client's spinner stops at once."""
    query = update.callback_query
    if query is None:
        return
    message = query.message
    page = decode_page(query.data)
    # An InaccessibleMessage (older than 48 h) cannot be edited, so it counts as expired too.
    if (
        page is None
        or not isinstance(message, Message)
        or (saved := context.bot_data.pages.get(page.key, message.chat.id)) is None
    ):
        await _answer(query, EXPIRED_BUTTON)
        return
    await _answer(query)
    try:
        search = context.bot_data.require_search()
        results = await search.search(saved.query, limit=PAGE_SIZE, offset=page.offset)
    except MovieBotError as error:
        await message.reply_text(error.user_message)
        return
    text, markup = render_results(results, page.key)
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in error.message.lower():  # a double press renders the same page twice
            raise


def _inline_offset(raw: str) -> int | None:
    if not raw:
        return 0
    if raw.isascii() and raw.isdigit() and int(raw) < MAX_RESULTS:
        return int(raw)
    return None


async def on_inline(update: Update, context: Context) -> None:
    """Offer results as articles; Telegram's own `offset` pages them, so no server-side state is needed."""
    inline = update.inline_query
    if inline is None:
        return
    offset = _inline_offset(inline.offset)
    help_button = InlineQueryResultsButton(text="How to search", start_parameter="help")
    if offset is None or not inline.query.strip():
        await inline.answer([], button=help_button, cache_time=INLINE_CACHE_SECONDS)
        return
    try:
        search = context.bot_data.require_search()
        results = await search.search(inline.query, limit=INLINE_PAGE_SIZE, offset=offset)
    except MovieBotError as error:
        logger.info("Inline query not answered: %s", error.user_message)
        await inline.answer([], button=help_button, cache_time=0)
        return
    if results.quality is MatchQuality.UNREADABLE:  # its hits would be noise: say why, where people look
        english = InlineQueryResultsButton(text=INLINE_UNREADABLE, start_parameter="help")
        await inline.answer([], button=english, cache_time=INLINE_CACHE_SECONDS)
        return
    # None, not "": with Defaults set, PTB 22.8 turns an empty-string argument into [] (the poll-option rule).
    next_offset = str(offset + len(results.hits)) if results.has_more else None
    await inline.answer(
        render_inline_articles(results), cache_time=INLINE_CACHE_SECONDS, next_offset=next_offset
    )


async def on_error(update: object, context: Context) -> None:
    """The one error handler: full traceback to the log, a plain apology to the user, never internals."""
    logger.error("Unhandled error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    if update.inline_query is not None:  # no chat to apologise in; an empty answer stops the client spinning
        try:
            await update.inline_query.answer([], cache_time=0)
        except TelegramError as error:
            logger.warning("Could not answer the failed inline query: %s", error)
        return
    chat = update.effective_chat
    if chat is None:
        return
    try:
        await context.bot.send_message(chat.id, SORRY)
    except TelegramError as error:
        logger.warning("Could not tell the user about the error: %s", error)


def build_handlers() -> list[BaseHandler[Update, Context, None]]:
    """Routing in one place. CommandHandler ignores `/movie@OtherBot`; groups get commands only."""
    private = f.ChatType.PRIVATE & _NEW_MESSAGES
    return [
        CommandHandler(["start", "help"], on_help, filters=_NEW_MESSAGES),
        CommandHandler("movie", on_movie, filters=_NEW_MESSAGES),
        MessageHandler(f.TEXT & ~f.COMMAND & private, on_private_text),
        MessageHandler(f.COMMAND & private, on_help),  # an unknown command in private gets usage
        CallbackQueryHandler(on_more),
        InlineQueryHandler(on_inline),
    ]
