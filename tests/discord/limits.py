"""Discord's embed limits, checked on the JSON actually sent, in UTF-16 units (the stricter reading)."""

from __future__ import annotations

from typing import Any


def _units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def embed_limit_violations(embed: dict[str, Any]) -> list[str]:
    """Every Discord limit the embed breaks; empty when it is valid."""
    problems: list[str] = []
    title = embed.get("title", "")
    description = embed.get("description", "")
    fields = embed.get("fields", [])
    footer = embed.get("footer", {}).get("text", "")
    author = embed.get("author", {}).get("name", "")
    if _units(title) > 256:
        problems.append(f"title has {_units(title)} units")
    if _units(description) > 4096:
        problems.append(f"description has {_units(description)} units")
    if len(fields) > 25:
        problems.append(f"{len(fields)} fields")
    for f in fields:
        if _units(f["name"]) > 256 or _units(f["value"]) > 1024:
            problems.append(f"field {f['name'][:20]!r} too long")
    if _units(footer) > 2048:
        problems.append("footer too long")
    total = _units(title) + _units(description) + _units(footer) + _units(author) + sum(
        _units(f["name"]) + _units(f["value"]) for f in fields
    )
    if total > 6000:
        problems.append(f"{total} units in all")
    return problems
