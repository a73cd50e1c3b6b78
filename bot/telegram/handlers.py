"""Update handlers: commands, private-chat text, inline queries, and the one error handler; button presses are
answered in `bot.telegram.presses`.

`MovieBotError`s are answered here with their `user_message`; anything else propagates to `on_error`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from telegram import InlineQueryResultsButton, Message, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, InlineQueryHandler, MessageHandler
from telegram.ext import filters as f

from bot.reply_text import EXAMPLE_TITLE
from bot.telegram.context import Context
from bot.telegram.presses import on_press
from bot.telegram.render import PAGE_SIZE, render_help, render_inline_articles, render_results
from core.errors import MovieBotError
from core.models import MatchQuality, SearchResults
from core.query_text import MAX_RESULTS
from core.search_port import MovieSearch

logger = logging.getLogger(__name__)

INLINE_PAGE_SIZE = 10
INLINE_CACHE_SECONDS = 300
TYPING_REFRESH_SECONDS = 4.5  # Telegram shows "typing" for about 5 s per chat action
SIMILAR_USAGE = f"Send /similar with the title of a film you liked, for example: /similar {EXAMPLE_TITLE}"
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


async def _reply_with_results(
    message: Message, context: Context, find: Callable[[MovieSearch], Awaitable[SearchResults]]
) -> None:
    """Search with "typing" shown, and reply with the first page. A list that pages by its query (not "films like
    X") and has more pages gets a key in the page store, which its buttons use when the query is too long to carry.
    """
    state = context.bot_data
    async with typing_in(context, message.chat_id):
        try:
            results = await find(state.require_search())
        except MovieBotError as error:
            await message.reply_text(error.user_message)
            return
    saves_key = results.has_more and results.similar_to is None
    page_key = state.pages.put(results.query, message.chat_id) if saves_key else None
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
    query = " ".join(context.args)
    await _reply_with_results(message, context, lambda search: search.search(query, limit=PAGE_SIZE, offset=0))


async def on_similar(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    if not context.args:
        await message.reply_text(SIMILAR_USAGE)
        return
    title = " ".join(context.args)
    await _reply_with_results(message, context, lambda search: search.similar(title, limit=PAGE_SIZE))


async def on_private_text(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is not None and message.text:
        query = message.text
        await _reply_with_results(message, context,
                                  lambda search: search.search(query, limit=PAGE_SIZE, offset=0))


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
        CommandHandler("similar", on_similar, filters=_NEW_MESSAGES),
        MessageHandler(f.TEXT & ~f.COMMAND & private, on_private_text),
        MessageHandler(f.COMMAND & private, on_help),  # an unknown command in private gets usage
        CallbackQueryHandler(on_press),
        InlineQueryHandler(on_inline),
    ]
