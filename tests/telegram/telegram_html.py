"""A checker for Telegram's HTML parse mode rules, strict enough to catch what the real API rejects.

Rules (core.telegram.org/bots/api#html-style): only the listed tags, properly nested and closed; `<`, `>`
and `&` outside tags and entities must be escaped; only &lt; &gt; &amp; &quot; and numeric entities; at most
4,096 characters of text after parsing.
"""

from __future__ import annotations

import re

MESSAGE_LIMIT = 4096
ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span", "tg-spoiler",
     "tg-emoji", "blockquote"}
)
ALLOWED_ATTRIBUTES = {"a": {"href"}, "span": {"class"}, "tg-emoji": {"emoji-id"}, "code": {"class"},
                      "blockquote": {"expandable"}}
NAMED_ENTITIES = frozenset({"lt", "gt", "amp", "quot"})

_TOKEN = re.compile(
    r'<(?P<close>/?)(?P<tag>[A-Za-z][A-Za-z0-9-]*)(?P<attrs>(?:\s+[a-z-]+="[^"<>]*")*)\s*>'
    r"|&(?P<entity>#[0-9]+|#x[0-9A-Fa-f]+|[A-Za-z]+);"
    r"|(?P<bare>[<>&])"
)
_ATTRIBUTE = re.compile(r'([a-z-]+)="[^"<>]*"')


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def telegram_html_problems(text: str) -> list[str]:
    """Every rule `text` breaks; an empty list means Telegram would accept it."""
    problems: list[str] = []
    stack: list[str] = []
    parsed_length = 0
    position = 0
    for match in _TOKEN.finditer(text):
        parsed_length += utf16_len(text[position:match.start()])
        position = match.end()
        if match.group("bare"):
            problems.append(f"unescaped {match.group('bare')!r} at {match.start()}")
            parsed_length += 1
        elif match.group("entity"):
            name = match.group("entity")
            if not name.startswith("#") and name not in NAMED_ENTITIES:
                problems.append(f"unsupported entity &{name}; at {match.start()}")
            parsed_length += 1
        else:
            tag = match.group("tag").lower()
            if tag not in ALLOWED_TAGS:
                problems.append(f"tag <{tag}> is not allowed")
            elif match.group("close"):
                if not stack or stack[-1] != tag:
                    problems.append(f"</{tag}> does not close {stack[-1] if stack else 'anything'}")
                else:
                    stack.pop()
            else:
                names = set(_ATTRIBUTE.findall(match.group("attrs")))
                if not names <= ALLOWED_ATTRIBUTES.get(tag, set()):
                    problems.append(f"<{tag}> has attributes {sorted(names)}")
                if tag == "a" and "href" not in names:
                    problems.append("<a> without href")
                stack.append(tag)
    parsed_length += utf16_len(text[position:])
    problems.extend(f"<{tag}> is never closed" for tag in stack)
    if parsed_length > MESSAGE_LIMIT:
        problems.append(f"text is {parsed_length} characters after parsing, over {MESSAGE_LIMIT}")
    return problems
