"""Chat load: many simulated users searching at once through `movie-bot serve`, against the local Bot API
emulator and the fake Discord server. Prints figures; asserts nothing (tests/telegram/test_load.py does).

    PYTHONPATH=. python -m scripts.bench.chat_load [--users 200] [--searches 5] [--discord-users 50]

One serving process runs both adapters, as deployed, over the index at INDEX_PATH (the full catalog at
data/index when built, else pass --index). Each user sends its searches one after another, waiting for each
reply; all users start together. RATE_LIMIT is off for the run (each user would otherwise be throttled after
RATE_LIMIT's count), everything else is as deployed, including PTB's AIORateLimiter on outgoing Telegram
messages. Printed: per platform, replies per search (exactly once expected), p50/p95 time from the user's
message to the reply, wall time; the serving process's peak resident memory (VmHWM); its exit code and time
after SIGTERM; and whether either token appears anywhere in its log.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tests.discord.fake_discord import APPLICATION_ID, FakeDiscord, RecordedCall
from tests.discord.payloads import movie_command
from tests.telegram.emulator import ApiCall, BotApiEmulator

C = TypeVar("C")  # what a fake records of a call

TELEGRAM_TOKEN = "777001:chat-load-telegram-token-secret"
DISCORD_TOKEN = "MTAwMA.chat-load-discord-token.secret"
REPLY_GUARD_SECONDS = 300.0  # a search never answered counts as missing after this; not a speed requirement
RESULTS_MARK = "imdb.com/title/"

BASES = (
    "NASA tries to rescue an astronaut stranded on Mars",
    "a heist that goes wrong in a bank",
    "toys come alive when nobody is watching",
    "a shark terrorises a beach town",
    "dreams inside dreams to plant an idea",
    "a young wizard goes to a school of magic",
    "a boxer from Philadelphia gets a title shot",
    "a ship hits an iceberg and sinks",
    "dinosaurs brought back to life on an island theme park",
    "a man with no short-term memory hunts his wife's killer",
    "a computer hacker learns reality is a simulation",
    "a family road trip in a yellow van to a beauty pageant",
    "an old man ties balloons to his house and flies away",
    "a detective hunts a serial killer who uses the seven deadly sins",
    "a robot left alone on a polluted Earth falls in love",
    "mobsters in New York over several decades",
    "a girl and her friends fight a monster from another dimension",
    "a chef rat in Paris",
    "soldiers storm the beaches of Normandy to find one private",
    "a lion cub flees after his father's death and returns as king",
    "a time travelling teenager in a DeLorean",
    "a prisoner tunnels out of a prison over twenty years",
    "aliens invade and a fighter pilot leads the counterattack",
    "a boy sees dead people and a child psychologist helps him",
    "two lovers meet on a train and walk around Vienna all night",
)


def query(k: int) -> str:
    """Distinct text for every search (the service caches repeated queries, which would flatter the figures)."""
    return f"{BASES[k % len(BASES)]}, variation {k // len(BASES)}"


@dataclass
class LoadResult:
    platform: str
    users: int
    per_user: int
    latencies_ms: list[float] = field(default_factory=list)
    replies: Counter[str] = field(default_factory=Counter)  # per search: how many replies it got
    without_results: int = 0
    missing: int = 0
    wall_seconds: float = 0.0

    @property
    def searches(self) -> int:
        return self.users * self.per_user

    def answered_exactly_once(self) -> bool:
        return len(self.replies) == self.searches and set(self.replies.values()) == {1} and not self.missing

    def summary(self) -> str:
        lat = sorted(self.latencies_ms)
        p50 = statistics.median(lat) if lat else float("nan")
        p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))] if lat else float("nan")
        counts = Counter(self.replies.values())
        return (
            f"{self.platform}: {self.users} users x {self.per_user} searches = {self.searches}; "
            f"answered exactly once: {counts.get(1, 0)}, twice or more: {sum(v for k, v in counts.items() if k > 1)}, "
            f"never: {self.missing}; replies without results: {self.without_results}; "
            f"time to reply p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {lat[-1] if lat else float('nan'):.0f} ms; "
            f"wall {self.wall_seconds:.1f} s ({self.searches / max(self.wall_seconds, 1e-9):.1f} searches/s)"
        )


async def drive_telegram(
    emulator: BotApiEmulator, users: int, per_user: int, *,
    settle: Callable[[], Awaitable[None]] | None = None, first_chat: int = 100_000,
) -> LoadResult:
    """`users` private chats, each sending `per_user` /movie searches in turn; every reply is counted."""
    result = LoadResult("telegram", users, per_user)
    loop = asyncio.get_running_loop()
    waiting: dict[int, asyncio.Future[ApiCall]] = {}
    asked: dict[int, int] = {}  # chat -> searches sent so far

    def on_call(call: ApiCall) -> None:
        if call.method != "sendMessage" or not call.ok:
            return
        chat = int(call.params["chat_id"])
        if chat not in asked:
            return
        result.replies[f"{chat}/{asked[chat]}"] += 1
        future = waiting.pop(chat, None)
        if future is not None and not future.done():
            future.set_result(call)

    async def user(n: int) -> None:
        chat = first_chat + n
        for i in range(per_user):
            future: asyncio.Future[ApiCall] = loop.create_future()
            waiting[chat] = future
            asked[chat] = i
            started = time.perf_counter()
            emulator.send_text(f"/movie {query(n * per_user + i)}", chat_id=chat, user_id=chat)
            try:
                reply = await asyncio.wait_for(future, REPLY_GUARD_SECONDS)
            except TimeoutError:
                result.missing += 1
                continue
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            if RESULTS_MARK not in reply.params["text"]:
                result.without_results += 1

    await _run_users(emulator.listeners, on_call, users, user, result, settle)
    return result


async def drive_discord(
    fake: FakeDiscord, users: int, per_user: int, *, settle: Callable[[], Awaitable[None]] | None = None,
) -> LoadResult:
    """`users` Discord users, each running `per_user` /movie commands in turn; followups are counted."""
    result = LoadResult("discord", users, per_user)
    loop = asyncio.get_running_loop()
    waiting: dict[str, asyncio.Future[RecordedCall]] = {}
    tokens: set[str] = set()
    prefix = f"/webhooks/{APPLICATION_ID}/"

    def on_call(call: RecordedCall) -> None:
        if call.method != "POST" or not call.path.startswith(prefix):
            return
        token = call.path[len(prefix):]
        if token not in tokens:
            return
        result.replies[token] += 1
        future = waiting.pop(token, None)
        if future is not None and not future.done():
            future.set_result(call)

    async def user(n: int) -> None:
        who = {"id": str(800_000 + n), "username": f"user{n}", "discriminator": "0", "global_name": None,
               "avatar": None}
        for i in range(per_user):
            payload = movie_command(query(10_000 + n * per_user + i), user=who)
            future: asyncio.Future[RecordedCall] = loop.create_future()
            waiting[payload["token"]] = future
            tokens.add(payload["token"])
            started = time.perf_counter()
            await fake.dispatch("INTERACTION_CREATE", payload)
            try:
                followup = await asyncio.wait_for(future, REPLY_GUARD_SECONDS)
            except TimeoutError:
                result.missing += 1
                continue
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            body: Any = followup.body or {}
            if RESULTS_MARK not in str(body.get("embeds", "")):
                result.without_results += 1

    await _run_users(fake.listeners, on_call, users, user, result, settle)
    return result


async def _run_users(
    listeners: list[Callable[[C], None]], on_call: Callable[[C], None], users: int,
    user: Callable[[int], Awaitable[None]], result: LoadResult, settle: Callable[[], Awaitable[None]] | None,
) -> None:
    """Listen to the fake's calls while every user runs at once; then wait, so late duplicates show up."""
    listeners.append(on_call)
    started = time.perf_counter()
    try:
        await asyncio.gather(*(user(n) for n in range(users)))
        result.wall_seconds = time.perf_counter() - started
        await (settle() if settle is not None else asyncio.sleep(1.0))
    finally:
        listeners.remove(on_call)


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve_env(index: Path, telegram: BotApiEmulator | None, discord: FakeDiscord | None,
              **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DISCORD_", "QDRANT_"))}
    env |= {"INDEX_PATH": str(index), "RATE_LIMIT": "off", "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    if telegram is not None:
        env |= {"TELEGRAM_TOKEN": telegram.token, "TELEGRAM_BASE_URL": telegram.base_url}
    if discord is not None:
        env |= {"DISCORD_TOKEN": DISCORD_TOKEN, "DISCORD_API_BASE": discord.base_url}
    return env | extra


async def start_serving(env: dict[str, str], log: Path, cwd: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "serve", env=env, cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
        )


def read_log(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")


def log_tail(log: Path, chars: int = 3000) -> str:
    return read_log(log)[-chars:]


async def wait_ready(proc: asyncio.subprocess.Process, telegram: BotApiEmulator | None,
                     discord: FakeDiscord | None, log: Path, within: float = 180.0) -> None:
    async def ready() -> None:
        while telegram is not None:
            try:
                await telegram.wait_for("deleteWebhook")  # polling starts right after
                break
            except TimeoutError:
                continue  # the model is still loading
        if discord is not None:
            await discord.identified.wait()

    waiter = asyncio.ensure_future(ready())
    exited = asyncio.ensure_future(proc.wait())
    done, _ = await asyncio.wait({waiter, exited}, timeout=within, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    exited.cancel()
    if waiter not in done:
        raise RuntimeError("serve did not become ready:\n" + log_tail(log))


async def stop_serving(proc: asyncio.subprocess.Process, within: float = 60.0) -> tuple[int, float]:
    """SIGTERM, as a deploy sends; the exit code and seconds until the process ended."""
    started = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    try:
        code = await asyncio.wait_for(proc.wait(), within)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        code = -9
    return code, time.perf_counter() - started


@dataclass
class Serving:
    """`movie-bot serve` running as a process, talking to both local fakes, its output in `log`."""

    proc: asyncio.subprocess.Process
    telegram: BotApiEmulator
    discord: FakeDiscord
    log: Path


@contextlib.asynccontextmanager
async def serving_with_fakes(index: Path, workdir: Path, **extra_env: str) -> AsyncIterator[Serving]:
    """Start both fakes and `serve` over `index`, and wait until both adapters are ready; afterwards the process
    is killed if it still runs (a test that failed before stopping it) and the fakes are closed."""
    telegram = BotApiEmulator(TELEGRAM_TOKEN)
    await telegram.start()
    try:
        async with FakeDiscord() as discord:
            log = workdir / "serve.log"
            proc = await start_serving(serve_env(index, telegram, discord, **extra_env), log, workdir)
            try:
                await wait_ready(proc, telegram, discord, log)
                yield Serving(proc, telegram, discord, log)
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
    finally:
        await telegram.close()


def default_index() -> Path:
    configured = os.environ.get("INDEX_PATH")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "data" / "index"


async def run(args: argparse.Namespace) -> None:
    index = Path(args.index) if args.index else default_index()
    if not (index / "manifest.json").is_file():
        raise SystemExit(f"No index at {index}: build one (`movie-bot ingest`) or pass --index.")
    with tempfile.TemporaryDirectory() as tmp:
        async with serving_with_fakes(index, Path(tmp)) as serving:
            proc = serving.proc
            print(f"index: {index}; serving pid {proc.pid}; ready, peak memory so far "
                  f"{peak_rss_mb(proc.pid):.1f} MB", flush=True)
            await drive_telegram(serving.telegram, 2, 1, first_chat=900_000)  # warm-up, not reported
            serve_cpu, own_cpu = cpu_seconds(proc.pid), time.process_time()
            tg = await drive_telegram(serving.telegram, args.users, args.searches)
            print(tg.summary(), flush=True)
            print(f"  CPU during the run: serving process {cpu_seconds(proc.pid) - serve_cpu:.1f} s, "
                  f"emulator and users {time.process_time() - own_cpu:.1f} s", flush=True)
            serve_cpu, own_cpu = cpu_seconds(proc.pid), time.process_time()
            dc = await drive_discord(serving.discord, args.discord_users, args.discord_searches)
            print(dc.summary(), flush=True)
            print(f"  CPU during the run: serving process {cpu_seconds(proc.pid) - serve_cpu:.1f} s, "
                  f"fake Discord and users {time.process_time() - own_cpu:.1f} s", flush=True)
            peak = peak_rss_mb(proc.pid)
            code, took = await stop_serving(proc)
        text = read_log(serving.log)
    print(f"serving process peak memory (VmHWM): {peak:.1f} MB")
    print(f"SIGTERM: exit code {code} after {took:.2f} s")
    leaked = [name for name, token in (("TELEGRAM_TOKEN", TELEGRAM_TOKEN), ("DISCORD_TOKEN", DISCORD_TOKEN))
              if token in text]
    print(f"tokens in the serve log ({len(text.splitlines())} lines): {', '.join(leaked) or 'none'}")
    print(f"all answered exactly once: telegram {tg.answered_exactly_once()}, "
          f"discord {dc.answered_exactly_once()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--searches", type=int, default=5)
    parser.add_argument("--discord-users", type=int, default=50)
    parser.add_argument("--discord-searches", type=int, default=2)
    parser.add_argument("--index", help="index bundle (default: INDEX_PATH, else data/index)")
    args = parser.parse_args(argv)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()


