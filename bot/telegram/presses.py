"""Every button press under a result list (the kinds are in `bot.telegram.buttons`), answered in one place.

A "Like #n" press answers with a new message, so the list it came from stays; a page press edits its message
in place. Presses are answered before searching, so the client's spinner stops at once; anything malformed,
forged, too old or no longer remembered gets the same polite "expired" answer.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.telegram.buttons import LikePress, QueryPage, SavedPage, SimilarPage, decode_press
from bot.telegram.context import Context
from bot.telegram.render import PAGE_SIZE, render_results
from core.errors import MovieBotError
from core.models import SearchResults

logger = logging.getLogger(__name__)

EXPIRED_BUTTON = "This list has expired. Send /movie with your description again."


async def answer_press(query: CallbackQuery, text: str | None = None) -> None:
    """Stop the client's spinner. A press too old to answer (the bot was down or busy) is still handled."""
    try:
        await query.answer(text)
    except BadRequest as error:
        logger.info("Could not answer a button press: %s", error.message)


async def on_press(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None:
        return
    message = query.message
    press = decode_press(query.data)
    # An InaccessibleMessage (older than 48 h) cannot be edited or quoted, so it counts as expired too. Data
    # that is not on the pressed message's own keyboard was forged: a modified client can send any bytes.
    if press is None or not isinstance(message, Message) or not _offered_by(message, query.data):
        await answer_press(query, EXPIRED_BUTTON)
        return
    page_key = None
    if isinstance(press, SavedPage):
        page_key = press.key
        saved = context.bot_data.pages.get(press.key, message.chat.id)
        if saved is None:  # forgotten (a restart, a busy day) or asked in another chat
            await answer_press(query, EXPIRED_BUTTON)
            return
        press = QueryPage(saved.query, press.offset)
    await answer_press(query)
    try:
        results = await _fetch(context, press)
    except MovieBotError as error:
        await message.reply_text(error.user_message)
        return
    text, markup = render_results(results, page_key)
    if isinstance(press, LikePress):  # quotes the list it came from, so the thread reads clearly
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup, do_quote=True)
        return
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in error.message.lower():  # a double press renders the same page twice
            raise


def _offered_by(message: Message, data: str | None) -> bool:
    markup = message.reply_markup
    rows = markup.inline_keyboard if markup is not None else ()
    return any(button.callback_data == data for row in rows for button in row)


async def _fetch(context: Context, press: LikePress | SimilarPage | QueryPage) -> SearchResults:
    search = context.bot_data.require_search()
    match press:
        case LikePress(imdb_id):
            return await search.similar(imdb_id, limit=PAGE_SIZE)
        case SimilarPage(imdb_id, offset):
            return await search.similar(imdb_id, limit=PAGE_SIZE, offset=offset)
        case QueryPage(text, offset):
            return await search.search(text, limit=PAGE_SIZE, offset=offset)
