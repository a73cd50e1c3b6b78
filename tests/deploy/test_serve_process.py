"""The Procfile's command as a real process, as a platform runs it: the real index, the Telegram emulator and the
fake Discord, HTTP on PORT.

Slow (each test starts a process that loads the index). Nothing here depends on timing: the emulators hold a
request open until the test has checked what must be true meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import signal
import socket
import sys
import time
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.telegram.webhook import SECRET_HEADER
from core.ingest import IngestReport
from tests.conftest import MARTIAN_QUERY
from tests.discord.fake_discord import FakeDiscord
from tests.discord.payloads import movie_command
from tests.telegram.emulator import USER, ApiError, BotApiEmulator

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TELEGRAM_TOKEN = "424242:deploy-test-telegram-token-secret"
DISCORD_TOKEN = "MTAwMA.deploy-test-discord-token.secret"
WEBHOOK_SECRET = "deploy-test-webhook-secret_0123"
GUARD_SECONDS = 60.0  # a guard against hanging tests, not a speed requirement
FLY_KILL_TIMEOUT = float(tomllib.loads((ROOT / "fly.toml").read_text())["kill_timeout"])


def procfile_command() -> list[str]:
    """The Procfile's worker command, with `movie-bot` resolved in this interpreter's environment."""
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("worker:"))
    program, *args = shlex.split(line.split(":", 1)[1])
    found = shutil.which(program, path=str(Path(sys.executable).parent))
    return [found, *args] if found else [sys.executable, "-m", "bot.cli", *args]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Serve:
    """One `movie-bot serve` process; its output goes to a log file the test reads at the end."""

    def __init__(self, proc: asyncio.subprocess.Process, log: Path, port: int | None) -> None:
        self.proc = proc
        self.log = log
        self.port = port

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    async def wait_for_log(self, text: str) -> None:
        async with asyncio.timeout(GUARD_SECONDS):
            while text not in self.output():
                assert self.proc.returncode is None, self.output()[-3000:]
                await asyncio.sleep(0.05)

    async def get(self, path: str, **params: str) -> tuple[int, Any, dict[str, str]]:
        async with aiohttp.ClientSession() as session, session.get(
            f"http://127.0.0.1:{self.port}{path}", params=params
        ) as response:
            return response.status, await response.json(), dict(response.headers)

    async def first_health(self) -> tuple[int, Any]:
        """The first answer of /healthz, as soon as the port accepts connections."""
        async with asyncio.timeout(GUARD_SECONDS):
            while True:
                assert self.proc.returncode is None, self.output()[-3000:]
                try:
                    status, body, _ = await self.get("/healthz")
                    return status, body
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)

    async def until_healthy(self) -> Any:
        async with asyncio.timeout(GUARD_SECONDS):
            while True:
                status, body = await self.first_health()
                if status == 200:
                    return body
                await asyncio.sleep(0.05)

    async def stop(self) -> tuple[int, float]:
        """SIGTERM, as a platform's stop; the exit code and the seconds it took."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(GUARD_SECONDS):
            code = await self.proc.wait()
        return code, time.monotonic() - started


@asynccontextmanager
async def serve(tmp_path: Path, index: Path, port: int | None = None, **env: str) -> AsyncIterator[Serve]:
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("TELEGRAM_TOKEN", "DISCORD_TOKEN", "PORT", "SEARCH_API")}
    environment |= {"INDEX_PATH": str(index), "QDRANT_URL": "", "LOG_LEVEL": "DEBUG",
                    "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), **env}
    if port is not None:
        environment["PORT"] = str(port)
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        proc = await asyncio.create_subprocess_exec(
            *procfile_command(), env=environment, cwd=tmp_path,
            stdin=asyncio.subprocess.DEVNULL, stdout=sink, stderr=sink,
        )
        running = Serve(proc, log, port)
        try:
            yield running
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    output = running.output()
    for secret in (TELEGRAM_TOKEN, DISCORD_TOKEN, WEBHOOK_SECRET):
        assert secret not in output


class GatedBotApi(BotApiEmulator):
    """Holds getMe (start-up) and sendChatAction (the start of a reply) until the test opens their gates."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.get_me_gate = asyncio.Event()
        self.typing_gate = asyncio.Event()
        self.typing_arrived = asyncio.Event()
        self.conflicts_left = 0
        self.webhooks: list[dict[str, str]] = []

    async def start_on(self, port: int) -> None:
        """Like start(), on a port chosen beforehand (the bot was told it before this server existed)."""
        app = web.Application()
        app.router.add_route("*", "/{bot_token}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=2.0, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.base_url = f"http://127.0.0.1:{port}/bot"

    async def _api_getMe(self, params: dict[str, str]) -> dict[str, Any]:
        await self.get_me_gate.wait()
        return await super()._api_getMe(params)

    async def _api_sendChatAction(self, params: dict[str, str]) -> bool:
        self.typing_arrived.set()
        await self.typing_gate.wait()
        return True

    async def _api_getUpdates(self, params: dict[str, str]) -> list[dict[str, Any]]:
        if self.conflicts_left:
            self.conflicts_left -= 1
            raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure that only one bot "
                                "instance is running")
        return await super()._api_getUpdates(params)

    async def _api_setWebhook(self, params: dict[str, str]) -> bool:
        self.webhooks.append(params)
        return True

    def open_gates(self) -> None:
        self.get_me_gate.set()
        self.typing_gate.set()


class GatedDiscord(FakeDiscord):
    """Holds each interaction's first answer (the "thinking…" deferral) until `defer_gate` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.defer_gate = asyncio.Event()
        self.defer_arrived = asyncio.Event()

    async def _rest(self, request: web.Request) -> web.Response:
        if request.path.endswith("/callback"):
            self.defer_arrived.set()
            await self.defer_gate.wait()
        return await super()._rest(request)


@asynccontextmanager
async def telegram_api() -> AsyncIterator[GatedBotApi]:
    api = GatedBotApi(TELEGRAM_TOKEN)
    await api.start()
    try:
        yield api
    finally:
        api.open_gates()
        await api.close()


def movie_count(report: IngestReport) -> int:
    return report.embedded + report.unchanged


async def test_health_then_both_chats_answer_and_sigterm_mid_reply_still_delivers_both_replies(
    built: tuple[Path, IngestReport], tmp_path: Path
) -> None:
    root, report = built
    port = free_port()
    async with telegram_api() as telegram, GatedDiscord() as discord_fake, serve(
        tmp_path, root / "index", port, TELEGRAM_TOKEN=TELEGRAM_TOKEN, TELEGRAM_BASE_URL=telegram.base_url,
        DISCORD_TOKEN=DISCORD_TOKEN, DISCORD_API_BASE=discord_fake.base_url,
    ) as bot:
        status, body = await bot.first_health()
        assert status == 503, body
        assert body["adapters"]["telegram"] == "starting"  # getMe is held: Telegram cannot be ready
        telegram.get_me_gate.set()
        body = await bot.until_healthy()
        assert body == {"status": "ready",
                        "index": {"movies": movie_count(report), "model": "sentence-transformers/all-MiniLM-L6-v2"},
                        "adapters": {"telegram": "ready", "discord": "ready"}}
        assert (await bot.get("/health"))[0] == 200

        # A search on each chat, both held mid-reply (Telegram's "typing…", Discord's deferral) ...
        mark = telegram.mark()
        telegram.send_text(f"/movie {MARTIAN_QUERY}")
        await asyncio.wait_for(telegram.typing_arrived.wait(), GUARD_SECONDS)
        interaction = movie_command(MARTIAN_QUERY)
        await discord_fake.dispatch("INTERACTION_CREATE", interaction)
        await asyncio.wait_for(discord_fake.defer_arrived.wait(), GUARD_SECONDS)
        # ... when the platform stops the machine.
        bot.proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        await bot.wait_for_log("Stopping the Discord bot")
        status, body, _ = await bot.get("/healthz")
        assert (status, body["status"]) == (503, "stopping")
        telegram.typing_gate.set()
        discord_fake.defer_gate.set()
        sent = await telegram.wait_for("sendMessage", after=mark)
        assert "The Martian" in sent.params["text"]
        followups = await discord_fake.wait_for_call("POST", f"/webhooks/1000/{interaction['token']}")
        assert "The Martian" in json.dumps(followups[0].body)
        async with asyncio.timeout(GUARD_SECONDS):
            code = await bot.proc.wait()
        took = time.monotonic() - started
    assert code == 0, bot.output()[-3000:]
    assert took < FLY_KILL_TIMEOUT


async def test_without_any_token_and_without_a_terminal_serve_exits_2_saying_what_to_set(tmp_path: Path) -> None:
    async with serve(tmp_path, tmp_path / "no-index") as bot:
        async with asyncio.timeout(GUARD_SECONDS):
            code = await bot.proc.wait()
    assert code == 2
    output = bot.output()
    assert "No TELEGRAM_TOKEN or DISCORD_TOKEN is set" in output
    assert "fly secrets set" in output
    assert "Traceback" not in output


async def test_webhook_mode_takes_updates_with_the_right_secret_only_and_serves_the_search_api(
    built: tuple[Path, IngestReport], tmp_path: Path
) -> None:
    root, _ = built
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram/updates"
    async with telegram_api() as telegram, serve(
        tmp_path, root / "index", port, TELEGRAM_TOKEN=TELEGRAM_TOKEN, TELEGRAM_BASE_URL=telegram.base_url,
        TELEGRAM_WEBHOOK_URL=hook, TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET, SEARCH_API="on",
    ) as bot:
        telegram.open_gates()
        await bot.until_healthy()
        assert [(w["url"], w["secret_token"]) for w in telegram.webhooks] == [(hook, WEBHOOK_SECRET)]
        assert not [call for call in telegram.calls if call.method in ("getUpdates", "deleteWebhook")]

        def update(update_id: int, chat_id: int) -> dict[str, Any]:
            return {"update_id": update_id, "message": {
                "message_id": update_id, "date": int(time.time()), "from": USER, "text": f"/movie {MARTIAN_QUERY}",
                "chat": {"id": chat_id, "type": "private", "first_name": "Ada"},
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}

        async with aiohttp.ClientSession() as session:
            for secret in ("wrong-secret", None):
                headers = {SECRET_HEADER: secret} if secret else {}
                async with session.post(hook, json=update(1, 111), headers=headers) as response:
                    assert response.status == 403
            async with session.post(hook, json=update(2, 222), headers={SECRET_HEADER: WEBHOOK_SECRET}) as response:
                assert response.status == 200
        sent = await telegram.wait_for("sendMessage")
        assert sent.params["chat_id"] == "222" and "The Martian" in sent.params["text"]
        assert not [call for call in telegram.calls if call.params.get("chat_id") == "111"]

        status, body, headers = await bot.get("/search", query=MARTIAN_QUERY, top_k="3")
        assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
        assert body["query"] == MARTIAN_QUERY and len(body["results"]) == 3
        assert body["results"][0]["title"] == "The Martian"
        assert (await bot.get("/search", query=MARTIAN_QUERY, top_k="0"))[0] == 400
        assert (await bot.get("/search"))[0] == 400
        code, _ = await bot.stop()
    assert code == 0, bot.output()[-3000:]


async def test_a_second_poller_409_is_logged_once_without_tracebacks_and_polling_recovers(
    built: tuple[Path, IngestReport], tmp_path: Path
) -> None:
    root, _ = built
    async with telegram_api() as telegram, serve(
        tmp_path, root / "index", TELEGRAM_TOKEN=TELEGRAM_TOKEN, TELEGRAM_BASE_URL=telegram.base_url,
    ) as bot:
        telegram.conflicts_left = 3
        telegram.open_gates()
        await bot.wait_for_log("another instance is polling with this token")
        mark = telegram.mark()
        telegram.send_text(f"/movie {MARTIAN_QUERY}")
        sent = await telegram.wait_for("sendMessage", after=mark)  # PTB backs off 1 s, then 1.5 s, then 2.25 s
        assert "The Martian" in sent.params["text"]
        code, _ = await bot.stop()
    output = bot.output()
    assert code == 0, output[-3000:]
    assert telegram.conflicts_left == 0
    assert output.count("another instance is polling with this token") == 1
    assert "Traceback" not in output


async def test_an_unreachable_bot_api_at_start_is_retried_until_it_answers(
    built: tuple[Path, IngestReport], tmp_path: Path
) -> None:
    root, _ = built
    port = free_port()
    telegram = GatedBotApi(TELEGRAM_TOKEN)
    telegram.open_gates()
    async with serve(tmp_path, root / "index", TELEGRAM_TOKEN=TELEGRAM_TOKEN,
                     TELEGRAM_BASE_URL=f"http://127.0.0.1:{port}/bot", STARTUP_RETRY_SECONDS="120") as bot:
        await bot.wait_for_log("The Telegram Bot API is unreachable")
        await telegram.start_on(port)  # the API comes up while serve waits
        try:
            await telegram.wait_for("deleteWebhook", status=200)
            mark = telegram.mark()
            telegram.send_text(f"/movie {MARTIAN_QUERY}")
            sent = await telegram.wait_for("sendMessage", after=mark)
            assert "The Martian" in sent.params["text"]
            code, _ = await bot.stop()
        finally:
            await telegram.close()
    assert code == 0, bot.output()[-3000:]


async def test_a_bot_api_unreachable_for_the_whole_retry_budget_exits_1_saying_so(
    built: tuple[Path, IngestReport], tmp_path: Path
) -> None:
    root, _ = built
    async with serve(tmp_path, root / "index", TELEGRAM_TOKEN=TELEGRAM_TOKEN,
                     TELEGRAM_BASE_URL=f"http://127.0.0.1:{free_port()}/bot", STARTUP_RETRY_SECONDS="2") as bot:
        async with asyncio.timeout(GUARD_SECONDS):
            code = await bot.proc.wait()
    assert code == 1
    assert "still unreachable after" in bot.output()
