"""A local stand-in for Discord's REST API and gateway: enough for discord.py to log in and answer.

Every REST call is recorded in order. The gateway says HELLO, accepts IDENTIFY, sends READY and then lets a
test push dispatches (INTERACTION_CREATE with raw payloads). JSON replies carry a `Content-Type` of exactly
`application/json`, the only one discord.py parses.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

APPLICATION_ID = "1000"
BOT_USER: dict[str, Any] = {
    "id": APPLICATION_ID, "username": "movie-bot", "discriminator": "0", "global_name": None,
    "avatar": None, "bot": True, "flags": 0,
}
CHANNEL_ID = "3000"
TIMESTAMP = "2025-01-01T00:00:00.000000+00:00"
WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class RecordedCall:
    """One REST request as the bot sent it."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str] = field(repr=False)


class FakeDiscord:
    """Start with `async with FakeDiscord() as fake`, then point discord.py at `fake.base_url`."""

    def __init__(self) -> None:
        self.calls: list[RecordedCall] = []
        self.listeners: list[Callable[[RecordedCall], None]] = []  # told of every REST call as it is recorded
        self.messages: dict[str, dict[str, Any]] = {}
        self._originals: dict[str, str] = {}  # interaction token -> id of its `@original` message
        self.identified = asyncio.Event()
        self.resumed = asyncio.Event()
        self._recorded = asyncio.Event()
        self.reject_token = False
        self._rate_limited: list[tuple[str, str, float]] = []
        self.connections = 0
        self.identify_payload: dict[str, Any] | None = None
        self._ids = itertools.count(5000)
        self._seq = itertools.count(2)
        self._socket: web.WebSocketResponse | None = None
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._server = TestServer(app, host="127.0.0.1")

    async def __aenter__(self) -> FakeDiscord:
        await self._server.start_server()
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._socket is not None:
            await self._socket.close()
        await self._server.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}"

    def next_id(self) -> str:
        return str(next(self._ids))

    # -- queries used by assertions -------------------------------------------------------------------------

    def calls_to(self, method: str, fragment: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.method == method and fragment in c.path]

    async def wait_for_call(self, method: str, fragment: str, count: int = 1) -> list[RecordedCall]:
        """Wait until at least `count` matching calls were recorded (a generous bound, not a speed check)."""
        async with asyncio.timeout(WAIT_SECONDS):
            while len(self.calls_to(method, fragment)) < count:
                self._recorded.clear()
                await self._recorded.wait()
        return self.calls_to(method, fragment)

    def rate_limit_once(self, method: str, fragment: str, retry_after: float) -> None:
        """Answer the next matching REST call with 429, as Discord itself does (so with a `Via` header)."""
        self._rate_limited.append((method, fragment, retry_after))

    # -- gateway --------------------------------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        assert self._socket is not None, "the bot has not connected to the gateway"
        if event == "INTERACTION_CREATE" and "message" in data:  # a click's original is the clicked message
            self._originals[data["token"]] = data["message"]["id"]
        await self._socket.send_str(json.dumps({"op": 0, "t": event, "s": next(self._seq), "d": data}))

    async def drop_connection(self) -> None:
        """Close the gateway socket with a resumable code, as Discord does now and then."""
        assert self._socket is not None, "the bot has not connected to the gateway"
        await self._socket.close(code=4000)

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._socket = socket
        self.connections += 1
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": 45_000}})
        async for message in socket:
            if message.type is not WSMsgType.TEXT:
                continue
            payload = json.loads(message.data)
            if payload["op"] == 1:
                await socket.send_json({"op": 11})
            elif payload["op"] == 2:
                self.identify_payload = payload["d"]
                await socket.send_json({"op": 0, "t": "READY", "s": 1, "d": {
                    "v": 10, "user": BOT_USER, "guilds": [], "session_id": "session-1",
                    "resume_gateway_url": f"ws://127.0.0.1:{self._server.port}/gateway",
                    "application": {"id": APPLICATION_ID, "flags": 0},
                }})
                self.identified.set()
            elif payload["op"] == 6:
                await socket.send_json({"op": 0, "t": "RESUMED", "s": next(self._seq), "d": {}})
                self.resumed.set()
        return socket

    # -- REST -----------------------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        raw = await request.read()
        body: Any = json.loads(raw) if raw and request.content_type == "application/json" else raw.decode()
        path = "/" + request.match_info["tail"]
        call = RecordedCall(request.method, path, dict(request.query), body or None, dict(request.headers))
        self.calls.append(call)
        for listener in self.listeners:
            listener(call)
        self._recorded.set()
        parts = path.strip("/").split("/")
        route = (request.method, *parts)
        if self.reject_token:
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        for limit in self._rate_limited:
            method, fragment, retry_after = limit
            if request.method == method and fragment in path:
                self._rate_limited.remove(limit)
                # Without `Via`, discord.py takes a 429 for a Cloudflare ban and gives up.
                return _json({"message": "You are being rate limited.", "retry_after": retry_after,
                              "global": False}, status=429, headers={"Via": "1.1 google"})
        match route:
            case ("GET", "users", "@me"):
                return _json(BOT_USER)
            case ("GET", "oauth2", "applications", "@me"):
                return _json({
                    "id": APPLICATION_ID, "name": "movie-bot", "description": "", "icon": None,
                    "bot_public": True, "bot_require_code_grant": False, "owner": BOT_USER, "verify_key": "k",
                    "flags": 0,
                })
            case ("GET", "gateway") | ("GET", "gateway", "bot"):
                return _json({"url": f"ws://127.0.0.1:{self._server.port}/gateway", "shards": 1,
                              "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0,
                                                      "max_concurrency": 1}})
            case ("PUT", "applications", _, "commands") | ("PUT", "applications", _, "guilds", _, "commands"):
                guild_id = parts[3] if len(parts) == 6 else None
                return _json([
                    {**command, "id": self.next_id(), "application_id": APPLICATION_ID, "version": "1",
                     "guild_id": guild_id}
                    for command in body
                ])
            case ("POST", "interactions", interaction_id, _, "callback"):
                return _json({"interaction": {"id": interaction_id, "type": body["type"]}})
            case ("POST", "webhooks", _, token):
                message = self._store_message(self.next_id(), body)
                # After a deferral the first followup takes the place of the "thinking…" original.
                self._originals.setdefault(token, message["id"])
                return _json(message)
            case ("PATCH", "webhooks", _, token, "messages", message_id):
                if message_id == "@original":
                    if token not in self._originals:
                        return _json({"message": "Unknown Message", "code": 10008}, status=404)
                    message_id = self._originals[token]
                message = self._store_message(message_id, {**self.messages.get(message_id, {}), **body})
                return _json(message)
        return _json({"message": "Unknown route in the fake", "code": 0}, status=404)

    def _store_message(self, message_id: str, body: dict[str, Any]) -> dict[str, Any]:
        message = {
            "id": message_id, "channel_id": CHANNEL_ID, "author": BOT_USER,
            "content": body.get("content", ""),
            "timestamp": TIMESTAMP, "edited_timestamp": None, "tts": False, "mention_everyone": False,
            "mentions": [], "mention_roles": [], "attachments": [], "embeds": body.get("embeds", []),
            "components": body.get("components", []), "pinned": False, "type": 0,
            "flags": body.get("flags", 0),
            "webhook_id": APPLICATION_ID, "application_id": APPLICATION_ID,
        }
        self.messages[message_id] = message
        return message


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=json.dumps(data).encode(),
                        headers={"Content-Type": "application/json", **(headers or {})})
