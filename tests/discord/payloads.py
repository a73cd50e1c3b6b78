"""Raw gateway payloads a Discord client would receive, built the way Discord sends them."""

from __future__ import annotations

import itertools
from typing import Any

from tests.discord.fake_discord import APPLICATION_ID, CHANNEL_ID, TIMESTAMP

ASKER: dict[str, Any] = {"id": "2001", "username": "asker", "discriminator": "0", "global_name": "Asker",
                         "avatar": None}
STRANGER: dict[str, Any] = {"id": "2002", "username": "stranger", "discriminator": "0", "global_name": None,
                            "avatar": None}
GUILD_ID = "4000"
COMMAND_ID = "6000"

_interaction_ids = itertools.count(7000)


def _where(user: dict[str, Any], in_dm: bool) -> dict[str, Any]:
    if in_dm:
        return {"user": user, "context": 1,
                "channel": {"id": CHANNEL_ID, "type": 1, "recipients": [user]},
                "authorizing_integration_owners": {"0": "0"}}
    return {
        "guild_id": GUILD_ID, "context": 0,
        "member": {"user": user, "roles": [], "joined_at": TIMESTAMP, "deaf": False, "mute": False,
                   "flags": 0, "permissions": "2147483648"},
        "channel": {"id": CHANNEL_ID, "type": 0, "guild_id": GUILD_ID, "name": "general", "position": 0,
                    "permission_overwrites": [], "nsfw": False, "parent_id": None},
        "authorizing_integration_owners": {"0": GUILD_ID},
    }


def _base(kind: int, user: dict[str, Any], in_dm: bool) -> dict[str, Any]:
    interaction_id = str(next(_interaction_ids))
    return {
        "id": interaction_id, "application_id": APPLICATION_ID, "type": kind,
        "token": f"interaction-token-{interaction_id}", "version": 1, "locale": "en-US",
        "app_permissions": "2147483648", "entitlements": [], "attachment_size_limit": 8_388_608,
        "channel_id": CHANNEL_ID, **_where(user, in_dm),
    }


def movie_command(
    description: str, *, results: int | None = None, user: dict[str, Any] = ASKER, in_dm: bool = False
) -> dict[str, Any]:
    """An INTERACTION_CREATE for `/movie description:… [results:…]`."""
    options: list[dict[str, Any]] = [{"name": "description", "type": 3, "value": description}]
    if results is not None:
        options.append({"name": "results", "type": 4, "value": results})
    payload = _base(2, user, in_dm)
    payload["data"] = {"id": COMMAND_ID, "name": "movie", "type": 1, "options": options}
    if not in_dm:
        payload["data"]["guild_id"] = GUILD_ID
    return payload


def similar_command(title: str, *, user: dict[str, Any] = ASKER, in_dm: bool = False) -> dict[str, Any]:
    """An INTERACTION_CREATE for `/similar title:…`."""
    payload = _base(2, user, in_dm)
    payload["data"] = {"id": COMMAND_ID, "name": "similar", "type": 1,
                       "options": [{"name": "title", "type": 3, "value": title}]}
    if not in_dm:
        payload["data"]["guild_id"] = GUILD_ID
    return payload


def select_choice(
    message: dict[str, Any], custom_id: str, values: list[str], *, user: dict[str, Any] = ASKER
) -> dict[str, Any]:
    """An INTERACTION_CREATE for a choice in a select menu of `message`."""
    payload = _base(3, user, False)
    payload["data"] = {"custom_id": custom_id, "component_type": 3, "values": values}
    payload["message"] = message
    return payload


def button_press(
    message: dict[str, Any], custom_id: str, *, user: dict[str, Any] = ASKER, in_dm: bool = False
) -> dict[str, Any]:
    """An INTERACTION_CREATE for a click on a button of `message`."""
    payload = _base(3, user, in_dm)
    payload["data"] = {"custom_id": custom_id, "component_type": 2}
    payload["message"] = message
    return payload
