"""A small Bot API emulator on 127.0.0.1, so tests drive the real python-telegram-bot stack over HTTP.

It serves the methods the bot uses, records every call, feeds getUpdates long-polls from updates the test
pushes, validates sent HTML like Telegram does (400 "can't parse entities"), and can answer one call with a
429 flood error.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.telegram.telegram_html import telegram_html_problems

WAIT_SECONDS = 10.0  # a guard against hanging tests, not a speed requirement
BOT_ID = 424242
USER_ID = 1001
USER = {"id": USER_ID, "is_bot": False, "first_name": "Ada", "username": "ada"}
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Movie Bot"}
CALLBACK_DATA_LIMIT = 64


@dataclass
class ApiCall:
    """One request the bot made, with its form fields as sent and the HTTP status it got."""

    method: str
    params: dict[str, str]
    status: int
    result: Any = None

    def json(self, name: str) -> Any:
        return json.loads(self.params[name])

    @property
    def ok(self) -> bool:
        return self.status == 200


class ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


class BotApiEmulator:
    """Serve `/bot<token>/<method>` for one bot; wrong tokens get 401 like the real API."""

    def __init__(self, token: str, username: str = "MovieTestBot") -> None:
        self.token = token
        self.username = username
        self.calls: list[ApiCall] = []
        self.listeners: list[Callable[[ApiCall], None]] = []  # told of every call as it is recorded
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._ids = itertools.count(1)
        self._chats: dict[int, dict[str, Any]] = {}
        self._sent: dict[tuple[int, int], dict[str, Any]] = {}
        self._floods: dict[str, int] = {}
        self._rejections: dict[str, str] = {}
        self._failing_polls: list[str] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.base_url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{bot_token}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=2.0, access_log=None)  # its lines hold the token
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/bot"

    async def close(self) -> None:
        self._closing = True  # ends long-polls whose client already hung up
        await self._notify()
        if self._runner is not None:
            await self._runner.cleanup()

    # What the test does as a Telegram user.

    def send_text(self, text: str, *, chat_id: int = USER_ID, chat_type: str = "private",
                  user_id: int = USER_ID) -> dict[str, Any]:
        """Push a user message; a leading /command gets its bot_command entity like real clients send."""
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = USER["first_name"]
        else:
            chat["title"] = "Movie night"
        self._chats[chat_id] = chat
        message: dict[str, Any] = {
            "message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
            "from": {**USER, "id": user_id}, "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        self._push({"message": message})
        return message

    def edit_text(self, message: dict[str, Any], text: str) -> None:
        """Push an `edited_message` update: the user changed an earlier message to `text`."""
        edited = {**message, "text": text, "edit_date": int(time.time())}
        edited.pop("entities", None)
        if text.startswith("/"):
            edited["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        self._push({"edited_message": edited})

    def press_button(self, message: dict[str, Any], data: str) -> str:
        """Push a callback query for a button on `message` (as the bot sent it); returns the query id."""
        query_id = f"cbq{next(self._ids)}"
        self._push({"callback_query": {"id": query_id, "from": USER, "chat_instance": "ci-1", "data": data,
                                       "message": message}})
        return query_id

    def inline_query(self, query: str, offset: str = "", *, user_id: int = USER_ID) -> str:
        query_id = f"iq{next(self._ids)}"
        self._push({"inline_query": {"id": query_id, "from": {**USER, "id": user_id}, "query": query,
                                     "offset": offset}})
        return query_id

    def flood_once(self, method: str, retry_after: int) -> None:
        """The next call to `method` gets 429 Too Many Requests with this retry_after."""
        self._floods[method] = retry_after

    def fail_polls(self, *faults: str) -> None:
        """The next getUpdates calls that carry updates fail, one per fault: "502" answers Bad Gateway before
        anything is delivered; "cut" closes the connection after the updates were taken from the queue, as a
        network drop mid-response does (the bot never sees them; Telegram keeps them until confirmed)."""
        self._failing_polls.extend(faults)

    def reject_once(self, method: str, description: str) -> None:
        """The next call to `method` gets 400 Bad Request with this description."""
        self._rejections[method] = description

    # What the test checks.

    def mark(self) -> int:
        """Position in the call log, to wait only for calls made after it."""
        return len(self.calls)

    def successful(self, method: str, after: int = 0) -> list[ApiCall]:
        return [call for call in self.calls[after:] if call.method == method and call.ok]

    async def wait_for(
        self, method: str, *, after: int = 0, status: int = 200,
        where: Callable[[ApiCall], bool] = lambda call: True,
    ) -> ApiCall:
        """The first `method` call after `after` answered with `status` and matching `where`; waits for it."""
        async with asyncio.timeout(WAIT_SECONDS), self._changed:
            while True:
                for call in self.calls[after:]:
                    if call.method == method and call.status == status and where(call):
                        return call
                await self._changed.wait()

    # The server side.

    def _push(self, body: dict[str, Any]) -> None:
        self._updates.append({"update_id": next(self._update_ids), **body})
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            raw = await request.json()
            params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
        else:
            params = {k: str(v) for k, v in (await request.post()).items()}
        if method == "getUpdates" and self._failing_polls and self._updates and self._failing_polls[0] == "502":
            self._failing_polls.pop(0)
            self.calls.append(ApiCall(method, params, 502))
            return web.Response(status=502, text="Bad Gateway")
        status, body = await self._answer(request.match_info["bot_token"], method, params)
        if method == "getUpdates" and self._failing_polls and body.get("result"):
            self._failing_polls.pop(0)
            self.calls.append(ApiCall(method, params, 0, body.get("result")))
            if request.transport is not None:
                request.transport.abort()  # the response below goes nowhere
            return web.Response(status=500)
        call = ApiCall(method, params, status, body.get("result"))
        self.calls.append(call)
        for listener in self.listeners:
            listener(call)
        await self._notify()
        return web.json_response(body, status=status)

    async def _answer(
        self, bot_token: str, method: str, params: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        if bot_token != f"bot{self.token}":
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if method in self._floods:
            retry_after = self._floods.pop(method)
            return 429, {"ok": False, "error_code": 429,
                         "description": f"Too Many Requests: retry after {retry_after}",
                         "parameters": {"retry_after": retry_after}}
        if method in self._rejections:
            description = self._rejections.pop(method)
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not emulated"}
        try:
            result = await handler(params)
        except ApiError as error:
            body: dict[str, Any] = {"ok": False, "error_code": error.status, "description": error.description}
            if error.parameters:
                body["parameters"] = error.parameters
            return error.status, body
        return 200, {"ok": True, "result": result}

    async def _api_getMe(self, params: dict[str, str]) -> dict[str, Any]:
        return {**BOT_USER, "username": self.username, "can_join_groups": True,
                "can_read_all_group_messages": False, "supports_inline_queries": True}

    async def _api_deleteWebhook(self, params: dict[str, str]) -> bool:
        return True

    async def _api_setMyCommands(self, params: dict[str, str]) -> bool:
        return True

    async def _api_sendChatAction(self, params: dict[str, str]) -> bool:
        return True

    async def _api_answerCallbackQuery(self, params: dict[str, str]) -> bool:
        return True

    async def _api_getUpdates(self, params: dict[str, str]) -> list[dict[str, Any]]:
        offset = int(params.get("offset", 0))
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout", 0))
        if not self._updates and timeout > 0:
            async with self._changed:
                try:
                    ready = self._changed.wait_for(lambda: bool(self._updates) or self._closing)
                    await asyncio.wait_for(ready, timeout)
                except TimeoutError:
                    return []
        return self._updates[: int(params.get("limit", 100))]

    async def _api_sendMessage(self, params: dict[str, str]) -> dict[str, Any]:
        self._check_text(params)
        chat_id = int(params["chat_id"])
        message_id = next(self._message_ids)
        message = {"message_id": message_id, "date": int(time.time()),
                   "chat": self._chats.get(chat_id, {"id": chat_id, "type": "private"}),
                   "from": {**BOT_USER, "username": self.username},
                   "text": params["text"]}
        if "reply_markup" in params:
            message["reply_markup"] = json.loads(params["reply_markup"])
        self._sent[(chat_id, message_id)] = message
        return message

    async def _api_editMessageText(self, params: dict[str, str]) -> dict[str, Any]:
        self._check_text(params)
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self._sent:
            raise ApiError(400, "Bad Request: message to edit not found")
        message = dict(self._sent[key])
        markup = json.loads(params["reply_markup"]) if "reply_markup" in params else None
        if message["text"] == params["text"] and message.get("reply_markup") == markup:
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and "
                                "reply markup are exactly the same as a current content and reply markup")
        message["text"] = params["text"]
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        self._sent[key] = message
        return message

    async def _api_answerInlineQuery(self, params: dict[str, str]) -> bool:
        for result in json.loads(params["results"]):
            content = result["input_message_content"]
            self._check_text({"text": content["message_text"], "parse_mode": content.get("parse_mode", "")})
        return True

    def _check_text(self, params: dict[str, str]) -> None:
        text = params["text"]
        if params.get("parse_mode") == "HTML":
            problems = telegram_html_problems(text)
            if problems:
                raise ApiError(400, f"Bad Request: can't parse entities: {problems[0]}")
        elif len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        markup = json.loads(params.get("reply_markup", "{}"))
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if len(button.get("callback_data", "").encode()) > CALLBACK_DATA_LIMIT:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
