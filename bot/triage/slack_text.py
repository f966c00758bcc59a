"""Slack message events -> plain text parts. Slack escapes `& < >`, wraps links as `<url|label>` and
mentions as `<@U…>`; blocks and attachments hold most of what alert tools post. Decoding happens once,
here, so every matcher sees what a person would read."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_CHARS = 20_000  # a 40,000-character paste is read up to here; alerts put what matters first

_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def decode(text: str) -> str:
    """`&lt;` -> `<`, `<url|label>` -> `label`, `<url>` -> `url`, `<@U1>` -> `@U1`, `<!here>` -> `@here`."""

    def link(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith(("@", "#")):
            return f"@{label}" if label else target
        if target.startswith("!"):
            return "@" + (label or target[1:].split("^")[-1])
        return label if label else target

    # Links first (they contain the escaped entities as part of the URL), then the entities themselves.
    return html.unescape(_LINK.sub(link, text))


def plain(text: str) -> str:
    """A title without the mrkdwn emphasis around it (`*Warn: [P3] ...*` -> `Warn: [P3] ...`)."""
    return text.strip().strip("*_~ ").strip()


@dataclass(frozen=True)
class Field:
    title: str
    value: str


@dataclass
class MessageText:
    """What one message shows: titles (attachment titles, headers, first lines), body text and fields."""

    titles: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    footers: list[str] = field(default_factory=list)
    colors: list[str] = field(default_factory=list)

    def all_text(self) -> str:
        parts = [*self.titles, *self.body, *(f"{f.title}: {f.value}" for f in self.fields), *self.footers]
        return "\n".join(p for p in parts if p)[:MAX_CHARS]


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _kind(obj: Mapping[str, Any]) -> str:
    kind = obj.get("type")
    return kind if isinstance(kind, str) else ""


def _str(value: object) -> str:
    return decode(value)[:MAX_CHARS] if isinstance(value, str) else ""


def _text_object(obj: object) -> str:
    if isinstance(obj, Mapping):
        return _str(obj.get("text"))
    return ""


def _rich_text(elements: object) -> Iterator[str]:
    """rich_text blocks nest sections, lists, quotes and preformatted runs of text elements."""
    if not isinstance(elements, list):
        return
    for element in elements[:200]:
        if not isinstance(element, Mapping):
            continue
        kind = _kind(element)
        if kind == "text":
            yield _str(element.get("text"))
        elif kind == "link":
            yield _str(element.get("text") or element.get("url"))
        elif kind == "rich_text_quote":
            yield "> " + "".join(_rich_text(element.get("elements")))
        elif kind in {"rich_text_section", "rich_text_list", "rich_text_preformatted"}:
            yield "".join(_rich_text(element.get("elements"))) + "\n"


def _blocks(blocks: object, out: MessageText) -> None:
    if not isinstance(blocks, list):
        return
    for block in blocks[:100]:
        if not isinstance(block, Mapping):
            continue
        kind = _kind(block)
        if kind == "header":
            out.titles.append(plain(_text_object(block.get("text"))))
        elif kind == "section":
            text = _text_object(block.get("text"))
            if not out.titles and not out.body:
                out.titles.append(plain(text.split("\n", 1)[0]))
                text = text.split("\n", 1)[1] if "\n" in text else ""
            if text:
                out.body.append(text)
            for item in _list(block.get("fields"))[:50]:
                out.body.append(_text_object(item))
        elif kind == "context":
            out.footers.extend(_text_object(e) for e in _list(block.get("elements"))[:20] if isinstance(e, Mapping))
        elif kind == "rich_text":
            out.body.append("".join(_rich_text(block.get("elements"))).strip())


def _attachments(attachments: object, out: MessageText) -> None:
    if not isinstance(attachments, list):
        return
    for att in attachments[:50]:
        if not isinstance(att, Mapping):
            continue
        title = plain(_str(att.get("title")))
        if title:
            out.titles.append(title)
        for key in ("pretext", "text"):
            if att.get(key):
                out.body.append(_str(att.get(key)))
        for item in _list(att.get("fields"))[:50]:
            if isinstance(item, Mapping):
                out.fields.append(Field(_str(item.get("title")).strip(), _str(item.get("value")).strip()))
        if att.get("footer"):
            out.footers.append(_str(att.get("footer")))
        if isinstance(att.get("color"), str):
            out.colors.append(str(att["color"]).lower())
        if not title and not att.get("text") and att.get("fallback"):
            out.titles.append(_str(att.get("fallback")))
        _blocks(att.get("blocks"), out)


def message_text(message: Mapping[str, Any]) -> MessageText:
    out = MessageText()
    _blocks(message.get("blocks"), out)
    has_blocks = bool(out.titles or out.body)
    _attachments(message.get("attachments"), out)
    text = _str(message.get("text"))
    if text and not has_blocks:
        # With blocks, `text` is only the notification fallback; without them it is the message.
        lines = text.strip().split("\n", 1)
        if out.titles:
            out.body.insert(0, text)
        else:
            out.titles.append(lines[0])
            if len(lines) > 1:
                out.body.insert(0, lines[1])
    elif text and not out.titles:
        out.titles.append(text.split("\n", 1)[0])
    return out
