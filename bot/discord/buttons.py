"""The components under a result list, persistent: their `custom_id`s carry what a press needs.

discord.py's `DynamicItem`s, registered once in `setup_hook`, rebuild a pressed item from its `custom_id`,
so a list sent before a restart keeps working and nothing times out:

- `mb:<kind>:<owner>:<offset>:<size>:<ref>`: Previous / Next. `kind` `q` carries the query itself when it
  fits in Discord's 100 characters, `k` a key to a longer query saved in memory (after a restart: a polite
  "search again"), `s` the IMDb id of the film a "films like" list is about.
- `mb:like:<size>`: the "More like…" menu; the chosen option's value is a result's IMDb id.

A press searches, so it counts against `RATE_LIMIT` with the user's slash commands (as on Telegram).
Whatever the bot would never have sent, and every old or unknown `custom_id`, gets a polite ephemeral
answer from `answer_unknown_press`, so Discord never shows "This interaction failed".
"""

from __future__ import annotations

import logging
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.discord.failures import report_failure, tell_privately
from bot.discord.limits import over_limit
from bot.discord.render import render_results
from bot.reply_text import STALE_BUTTON, film_label
from core.models import MatchQuality, SearchResults
from core.query_text import MAX_RESULTS
from core.rate_limit import RateLimiter
from core.search_port import MovieSearch

logger = logging.getLogger(__name__)

CUSTOM_ID_LIMIT = 100
OPTION_LABEL_LIMIT = 100
MAX_PAGE_SIZE = 10
NOT_YOURS = "Only the person who asked can page through these results. Run /movie to start your own search."
LIKE_PLACEHOLDER = "More like…"
PREVIOUS_LABEL = "◀ Previous"
NEXT_LABEL = "Next ▶"

_IMDB_ID = re.compile(r"tt[0-9]{5,12}")
_KEY = re.compile(r"[A-Za-z0-9_-]{8}")
_KEY_BYTES = 6


class SavedQueries:
    """Bounded LRU of queries too long for a `custom_id`, keyed by a short random key, bound to their asker."""

    def __init__(self, capacity: int = 1000) -> None:
        self._capacity = max(1, capacity)
        self._saved: OrderedDict[str, tuple[str, int]] = OrderedDict()

    def put(self, query: str, owner_id: int) -> str:
        key = secrets.token_urlsafe(_KEY_BYTES)
        while key in self._saved:
            key = secrets.token_urlsafe(_KEY_BYTES)
        self._saved[key] = (query, owner_id)
        if len(self._saved) > self._capacity:
            self._saved.popitem(last=False)
        return key

    def get(self, key: str, owner_id: int) -> str | None:
        saved = self._saved.get(key)
        if saved is None or saved[1] != owner_id:
            return None
        self._saved.move_to_end(key)
        return saved[0]


@dataclass
class ChatServices:
    """What the persistent items need, reached through `interaction.client.services`."""

    search: MovieSearch
    saved: SavedQueries = field(default_factory=SavedQueries)
    limiter: RateLimiter | None = None


def services_of(interaction: discord.Interaction) -> ChatServices:
    services = getattr(interaction.client, "services", None)
    if not isinstance(services, ChatServices):
        raise RuntimeError("the Discord client has no ChatServices: build it with bot.discord.client")
    return services


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A page press as its `custom_id` spells it; `valid` says whether the bot could have sent it."""

    kind: str
    owner_id: int
    offset: int
    size: int
    ref: str

    @property
    def custom_id(self) -> str:
        return f"mb:{self.kind}:{self.owner_id}:{self.offset}:{self.size}:{self.ref}"

    def valid(self) -> bool:
        ref_ok = {"q": bool(self.ref.strip()), "k": bool(_KEY.fullmatch(self.ref)),
                  "s": bool(_IMDB_ID.fullmatch(self.ref))}.get(self.kind, False)
        return ref_ok and 0 <= self.offset < MAX_RESULTS and 1 <= self.size <= MAX_PAGE_SIZE


class _SearchingItem:
    """What both persistent items do around a press: count it as a search, and answer every failure.

    A press searches, so it counts against `RATE_LIMIT` with the user's slash commands; past the limit the
    user gets the same ephemeral "try again in N seconds" and nothing runs. Any exception in `act` gets an
    ephemeral apology instead of discord.py's bare log line and Discord's "This interaction failed".
    """

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        try:
            return not await over_limit(services_of(interaction).limiter, interaction)
        except discord.HTTPException as exc:
            logger.info("Could not tell a user over the rate limit when to try again: HTTP %s", exc.status)
            return False

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self.act(interaction)
        except Exception as exc:  # discord.py would only log it, and the user would see "interaction failed"
            await report_failure(interaction, exc)

    async def act(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError


class PageButton(
    _SearchingItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=re.compile(r"mb:(?P<kind>[qks]):(?P<owner>[0-9]{1,20}):(?P<offset>[0-9]{1,2}):"
                        r"(?P<size>[0-9]{1,2}):(?P<ref>.+)", re.DOTALL),
):
    """Previous or Next: searches again at another offset and edits the message in place."""

    def __init__(self, request: PageRequest, *, label: str = NEXT_LABEL, disabled: bool = False) -> None:
        style = discord.ButtonStyle.primary if label == NEXT_LABEL else discord.ButtonStyle.secondary
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=request.custom_id,
                                           disabled=disabled), row=1)
        self.request = request

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PageButton:
        request = PageRequest(match["kind"], int(match["owner"]), int(match["offset"]), int(match["size"]),
                              match["ref"])
        return cls(request)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if interaction.user.id == self.request.owner_id:
            return await super().interaction_check(interaction)
        try:
            await tell_privately(interaction, NOT_YOURS)
        except discord.HTTPException as exc:
            logger.info("Could not tell a stranger the buttons are not theirs: HTTP %s", exc.status)
        return False

    async def act(self, interaction: discord.Interaction) -> None:
        request = self.request
        services = services_of(interaction)
        query = services.saved.get(request.ref, request.owner_id) if request.kind == "k" else request.ref
        if not request.valid() or query is None:
            await tell_privately(interaction, STALE_BUTTON)
            return
        # Acknowledge the click before searching: a slow search must not outlast Discord's 3-second window.
        await interaction.response.defer()
        if request.kind == "s":
            results = await services.search.similar(request.ref, limit=request.size, offset=request.offset)
        else:
            results = await services.search.search(query, limit=request.size, offset=request.offset)
        key = request.ref if request.kind == "k" else None
        view = results_view(results, page_size=request.size, owner_id=request.owner_id, saved=services.saved,
                            key=key)
        await interaction.edit_original_response(embed=render_results(results), view=view)


class LikeSelect(
    _SearchingItem,
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=re.compile(r"mb:like:(?P<size>[0-9]{1,2})"),
):
    """"More like…": films like the chosen result, in a new message that the chooser can page."""

    def __init__(self, options: list[discord.SelectOption], size: int) -> None:
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=f"mb:like:{size}", placeholder=LIKE_PLACEHOLDER, options=options
        )
        super().__init__(select, row=0)
        self.size = size

    @classmethod
    def for_results(cls, results: SearchResults, size: int) -> LikeSelect:
        return cls([
            discord.SelectOption(label=_option_label(f"{hit.rank}. {film_label(hit.movie)}"), value=hit.movie.imdb_id)
            for hit in results.hits if _IMDB_ID.fullmatch(hit.movie.imdb_id)
        ], size)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> LikeSelect:
        options = list(item.options) if isinstance(item, discord.ui.Select) else []
        return cls(options, int(match["size"]))

    async def act(self, interaction: discord.Interaction) -> None:
        values = self.item.values
        offered = {option.value for option in self.item.options}  # the message's own options
        if len(values) != 1 or values[0] not in offered or not _IMDB_ID.fullmatch(values[0]) \
                or not 1 <= self.size <= MAX_PAGE_SIZE:
            await tell_privately(interaction, STALE_BUTTON)
            return
        await interaction.response.defer(thinking=True)
        await send_results(interaction, await services_of(interaction).search.similar(values[0], limit=self.size),
                           self.size)


def _option_label(text: str) -> str:
    """Option labels are plain text (no markdown) of at most 100 characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= OPTION_LABEL_LIMIT else flat[: OPTION_LABEL_LIMIT - 1].rstrip() + "…"


def results_view(
    results: SearchResults, *, page_size: int, owner_id: int, saved: SavedQueries, key: str | None = None
) -> discord.ui.View | None:
    """The "More like…" menu and Previous / Next, all persistent; None when there is nothing to offer."""
    if results.quality is MatchQuality.UNREADABLE:
        return None
    view = discord.ui.View(timeout=None)
    if any(_IMDB_ID.fullmatch(hit.movie.imdb_id) for hit in results.hits):
        view.add_item(LikeSelect.for_results(results, page_size))
    if results.offset > 0 or results.has_more:
        ref = _page_ref(results, owner_id, page_size, saved, key)
        if ref is not None:
            kind, value = ref
            back = PageRequest(kind, owner_id, max(0, results.offset - page_size), page_size, value)
            ahead = PageRequest(kind, owner_id, min(results.offset + page_size, MAX_RESULTS - 1), page_size, value)
            last = not results.has_more or results.offset + page_size >= MAX_RESULTS
            view.add_item(PageButton(back, label=PREVIOUS_LABEL, disabled=results.offset <= 0))
            view.add_item(PageButton(ahead, label=NEXT_LABEL, disabled=last))
    return view if view.children else None


def _page_ref(
    results: SearchResults, owner_id: int, page_size: int, saved: SavedQueries, key: str | None
) -> tuple[str, str] | None:
    if results.similar_to is not None:
        imdb_id = results.similar_to.imdb_id
        return ("s", imdb_id) if _IMDB_ID.fullmatch(imdb_id) else None
    inline = PageRequest("q", owner_id, MAX_RESULTS - 1, page_size, results.query)
    if len(inline.custom_id) <= CUSTOM_ID_LIMIT:
        return "q", results.query
    return "k", key or saved.put(results.query, owner_id)


async def send_results(interaction: discord.Interaction, results: SearchResults, page_size: int) -> None:
    """Answer a deferred interaction with a page of results and its persistent components."""
    embed = render_results(results)
    services = services_of(interaction)
    view = results_view(results, page_size=page_size, owner_id=interaction.user.id, saved=services.saved)
    if view is None:
        await interaction.followup.send(embed=embed)
    else:
        await interaction.followup.send(embed=embed, view=view)


def _custom_ids(components: list[Any]) -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    for component in components:
        custom_id = getattr(component, "custom_id", None)
        if isinstance(custom_id, str):
            found.add((component.type.value, custom_id))
        found |= _custom_ids(list(getattr(component, "children", [])))
    return found


def dispatched_by_items(interaction: discord.Interaction) -> bool:
    """Whether discord.py will hand this press to one of the items above (it checks the same things)."""
    data: Any = interaction.data or {}
    custom_id, kind = data.get("custom_id"), data.get("component_type")
    if not isinstance(custom_id, str) or interaction.message is None:
        return False
    if not any(item.__discord_ui_compiled_template__.fullmatch(custom_id) for item in (PageButton, LikeSelect)):
        return False
    return (kind, custom_id) in _custom_ids(list(interaction.message.components))


async def answer_unknown_press(interaction: discord.Interaction) -> None:
    """A press no item will take (an old build's button, forged data): a polite note instead of a failure."""
    if interaction.type is not discord.InteractionType.component or dispatched_by_items(interaction):
        return
    logger.info("Unknown or stale component press by user %s", interaction.user.id)
    try:
        await tell_privately(interaction, STALE_BUTTON)
    except discord.HTTPException as exc:
        logger.info("Could not answer a stale press: HTTP %s", exc.status)
