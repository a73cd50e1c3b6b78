"""`/similar <title>` and the buttons that carry their own state (see `bot.telegram.buttons`).

A "Like #n" press answers with a new message, so the list it came from stays; a page press edits its message
in place. Presses are answered before searching, so the client's spinner stops at once; anything malformed,
forged or too old gets the same polite "expired" answer as an unknown paging key.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler
from telegram.ext import filters as f

from bot.reply_text import EXAMPLE_TITLE
from bot.telegram.buttons import PRESS_PATTERN, LikePress, Press, QueryPage, SimilarPage, decode_press
from bot.telegram.context import Context
from bot.telegram.handlers import EXPIRED_BUTTON, _answer, typing_in
from bot.telegram.render import PAGE_SIZE, render_results
from core.errors import MovieBotError
from core.models import SearchResults

SIMILAR_USAGE = f"Send /similar with the title of a film you liked, for example: /similar {EXAMPLE_TITLE}"


async def on_similar(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    if not context.args:
        await message.reply_text(SIMILAR_USAGE)
        return
    title = " ".join(context.args)
    async with typing_in(context, message.chat_id):
        try:
            results = await context.bot_data.require_search().similar(title, limit=PAGE_SIZE)
        except MovieBotError as error:
            await message.reply_text(error.user_message)
            return
    text, markup = render_results(results)
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def on_press(update: Update, context: Context) -> None:
    """A "Like #n" or page button: everything it needs is in its data, so it works after a restart too."""
    query = update.callback_query
    if query is None:
        return
    message = query.message
    press = decode_press(query.data)
    # An InaccessibleMessage (older than 48 h) cannot be edited or quoted, so it counts as expired too. Data
    # that is not on the pressed message's own keyboard was forged: a modified client can send any bytes.
    if press is None or not isinstance(message, Message) or not _offered_by(message, query.data):
        await _answer(query, EXPIRED_BUTTON)
        return
    await _answer(query)
    try:
        results = await _fetch(context, press)
    except MovieBotError as error:
        await message.reply_text(error.user_message)
        return
    text, markup = render_results(results)
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


async def _fetch(context: Context, press: Press) -> SearchResults:
    search = context.bot_data.require_search()
    match press:
        case LikePress(imdb_id):
            return await search.similar(imdb_id, limit=PAGE_SIZE)
        case SimilarPage(imdb_id, offset):
            return await search.similar(imdb_id, limit=PAGE_SIZE, offset=offset)
        case QueryPage(text, offset):
            return await search.search(text, limit=PAGE_SIZE, offset=offset)


def build_similar_handlers() -> list[BaseHandler[Update, Context, None]]:
    """Registered before the paging handlers: `CommandHandler` ignores `/similar@OtherBot` and edits."""
    return [
        CommandHandler("similar", on_similar, filters=f.UpdateType.MESSAGE),
        CallbackQueryHandler(on_press, pattern=PRESS_PATTERN),
    ]
