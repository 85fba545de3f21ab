"""A local Telegram Bot API server for tests: real HTTP on loopback, Telegram's rules and errors.

The bot under test talks to it with its real client (python-telegram-bot and httpx)::

    emu = TelegramEmulator().start()
    app = (
        ApplicationBuilder()
        .token(emu.token)
        .base_url(emu.api_url)            # f"{emu.url}/bot"; PTB appends the token
        .base_file_url(emu.file_url)      # f"{emu.url}/file/bot"
        .build()
    )

PTB 22 builds ``{base_url}{token}/{method}`` for API calls and
``{base_file_url}{token}/{file_path}`` for downloads; it POSTs
``application/x-www-form-urlencoded`` (every non-string parameter JSON-encoded,
as the Bot API server accepts) or ``multipart/form-data`` when uploading. This
server also accepts ``application/json`` bodies and GET query strings, and
answers in Telegram's envelope (``{"ok": true, "result": ...}`` /
``{"ok": false, "error_code": N, "description": "...", "parameters": {...}}``).

What it emulates: getMe, getUpdates, setWebhook, deleteWebhook, getWebhookInfo,
setMyCommands, getMyCommands, deleteMyCommands, sendMessage, editMessageText,
editMessageReplyMarkup, deleteMessage, sendDocument, getFile (and downloads),
answerCallbackQuery, getChat, getChatMember, getChatAdministrators,
sendChatAction, close and logOut (other methods: 404 ``Not Found``); Telegram's HTML
parse mode (tag set, attribute syntax and tdlib's error messages, UTF-16
lengths, whitespace trimming); per-chat, per-group and global flood limits
(429 with ``retry_after``); blocked users and kicked bots (403); chat
migration to a supergroup (400 with ``migrate_to_chat_id``); forum topics;
long polling with ``offset``/``timeout``/``allowed_updates`` and the 409
conflicts; webhooks (set/delete/info, and optional delivery by POST);
uploads and downloads of files; injected faults (:meth:`fail_next`).

Deliberate differences from the real server, all on the strict side:

* an ``&`` that does not start ``&lt;``, ``&gt;``, ``&amp;``, ``&quot;`` or a
  numeric reference is rejected (the Bot API documentation requires escaping
  it; the real server quietly keeps it literally). ``strict_html_entities=False``
  restores the server's leniency, including entities without the final ``;``;
* nested ``<blockquote>`` is rejected rather than flattened;
* Markdown parse modes are accepted but not parsed.

Everything the tests may want to assert on is recorded: :meth:`sent`
(:class:`SentMessage` per bot message, newest last), :attr:`stats`
(:class:`Stats`: 429s, all 4xx rejections, 5xx, per-method counts and an
:class:`ErrorRecord` per failed call), :attr:`calls` (every API call with its
decoded parameters), :attr:`callback_answers`, :attr:`webhook_deliveries`
and :attr:`internal_errors` (exceptions inside the emulator itself; the
fixture fails the test when any occurred).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import math
import mimetypes
import re
import secrets
import socket
import ssl
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

if TYPE_CHECKING:
    import telegram
    from telegram.ext import ApplicationBuilder
    from telegram.request import HTTPXRequest

JSON = dict[str, Any]

DEFAULT_TOKEN = "7000000001:emulated-test-token"
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_TEXT = 200
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
MAX_UPLOAD_SIZE = 50 * 1024 * 1024

ChatType = Literal["private", "group", "supergroup", "channel"]
FaultKind = Literal["retry_after", "forbidden", "migrate", "server_error", "delay"]

#: Every update type; Telegram's default (``allowed_updates`` never set) is all but these three.
NOT_DELIVERED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

#: Methods that count against flood limits and that chat faults hit unless told otherwise.
SEND_METHODS = frozenset({"sendmessage", "senddocument"})
CONTENT_METHODS = frozenset(
    {"sendmessage", "senddocument", "editmessagetext", "editmessagereplymarkup", "deletemessage"}
)

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


# --------------------------------------------------------------------------------------------
# Errors


class ApiError(Exception):
    """One non-OK answer: HTTP status = ``error_code``; ``body`` replaces the JSON envelope."""

    def __init__(
        self,
        code: int,
        description: str,
        parameters: JSON | None = None,
        *,
        body: bytes | None = None,
        content_type: str = "text/html",
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters
        self.body = body
        self.content_type = content_type

    def envelope(self) -> JSON:
        out: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            out["parameters"] = self.parameters
        return out


def bad_request(message: str, parameters: JSON | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {message}", parameters)


def too_many(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


# --------------------------------------------------------------------------------------------
# Text: UTF-16 lengths, HTML parse mode, trimming, command entities


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _byte_offset(src: str, index: int) -> int:
    return len(src[:index].encode("utf-8", "surrogatepass"))


_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_ENTITY_TYPE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "blockquote": "blockquote",
}
_SPACES = " \t\r\n\v\f"
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _decode_entity(src: str, i: int, strict: bool) -> tuple[str | None, int]:
    """Decode an HTML entity at ``src[i] == '&'`` as tdlib does: (character, next index).

    Returns ``(None, i)`` when it is not an entity Telegram knows. In strict mode the
    final ``;`` is required; tdlib itself treats it as optional.
    """
    n = len(src)
    j = i + 1
    value = 0
    if j < n and src[j] == "#":
        j += 1
        hexadecimal = j < n and src[j] in "xX"
        if hexadecimal:
            j += 1
        start = j
        digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        while j < n and src[j] in digits:
            value = value * (16 if hexadecimal else 10) + int(src[j], 16)
            j += 1
            if value >= 0x10FFFF:
                return None, i
        if j == start or value == 0 or 0xD800 <= value <= 0xDFFF:
            return None, i
        char = chr(value)
    else:
        while j < n and src[j].isascii() and src[j].isalpha():
            j += 1
        named = _NAMED_ENTITIES.get(src[i + 1 : j])
        if named is None:
            return None, i
        char = named
    if j < n and src[j] == ";":
        return char, j + 1
    if strict:
        return None, i
    return char, j


@dataclass
class _OpenTag:
    name: str
    begin: int  # character index of "<" in the source
    offset: int  # UTF-16 offset in the output
    attributes: dict[str, str]


def _entities_error(message: str) -> ApiError:
    return bad_request(f"can't parse entities: {message}")


def parse_html(src: str, *, strict_entities: bool = True) -> tuple[str, list[JSON]]:
    """Parse Telegram HTML into (plain text, entities with UTF-16 offsets), or raise ApiError.

    Follows tdlib's ``parse_html``: tag names and unquoted attribute values are
    case-insensitive, ``</>`` closes the innermost tag, attribute values may be
    quoted or bare name tokens, and the error messages are tdlib's.
    """
    out: list[str] = []
    u16 = 0
    stack: list[_OpenTag] = []
    entities: list[JSON] = []
    i, n = 0, len(src)

    def at(index: int) -> str:
        return f"at byte offset {_byte_offset(src, index)}"

    def unclosed_start(begin: int) -> ApiError:
        return _entities_error(f"Unclosed start tag {at(begin)}")

    while i < n:
        c = src[i]
        if c == "&":
            char, j = _decode_entity(src, i, strict_entities)
            if char is not None:
                out.append(char)
                u16 += utf16_len(char)
                i = j
                continue
            if strict_entities:
                raise _entities_error(f'Character "&" must be escaped as "&amp;" {at(i)}')
        if c != "<":
            out.append(c)
            u16 += 1 if ord(c) < 0x10000 else 2
            i += 1
            continue
        begin = i
        if i + 1 < n and src[i + 1] == "/":
            i += 2
            start = i
            while i < n and src[i] not in _SPACES and src[i] != ">":
                i += 1
            name = src[start:i].lower()
            while i < n and src[i] in _SPACES:
                i += 1
            if i >= n or src[i] != ">":
                raise _entities_error(f"Unclosed end tag {at(begin)}")
            i += 1
            if not stack:
                raise _entities_error(f"Unexpected end tag {at(begin)}")
            top = stack[-1]
            if name and name != top.name:
                raise _entities_error(
                    f'Unmatched end tag {at(begin)}, expected "</{top.name}>", found "</{name}>"'
                )
            stack.pop()
            _close_entity(top, u16, entities)
            continue

        i += 1
        start = i
        while i < n and src[i] not in _SPACES and src[i] != ">":
            i += 1
        if i >= n:
            raise unclosed_start(begin)
        name = src[start:i].lower()
        if name not in _HTML_TAGS:
            raise _entities_error(f'Unsupported start tag "{name}" {at(begin)}')
        attributes: dict[str, str] = {}
        while True:
            while i < n and src[i] in _SPACES:
                i += 1
            if i >= n:
                raise unclosed_start(begin)
            if src[i] == ">":
                i += 1
                break
            start = i
            while i < n and src[i] not in _SPACES and src[i] not in "=>":
                i += 1
            attribute = src[start:i].lower()
            if not attribute:
                raise _entities_error(f'Empty attribute name in the tag "{name}" {at(begin)}')
            while i < n and src[i] in _SPACES:
                i += 1
            if i >= n:
                raise unclosed_start(begin)
            if src[i] != "=":
                if name == "blockquote" and attribute == "expandable":
                    attributes[attribute] = ""
                    continue
                raise _entities_error(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{name}" {at(begin)}'
                )
            i += 1
            while i < n and src[i] in _SPACES:
                i += 1
            if i >= n:
                raise unclosed_start(begin)
            if src[i] not in "'\"":
                start = i
                while i < n and ((src[i].isascii() and src[i].isalnum()) or src[i] in ".-"):
                    i += 1
                value = src[start:i].lower()
                if i >= n:
                    raise unclosed_start(begin)
                if src[i] not in _SPACES and src[i] != ">":
                    raise _entities_error(f"Unexpected end of name token {at(i)}")
            else:
                quote = src[i]
                i += 1
                chars: list[str] = []
                while i < n and src[i] != quote:
                    if src[i] == "&":
                        char, j = _decode_entity(src, i, strict_entities)
                        if char is not None:
                            chars.append(char)
                            i = j
                            continue
                        if strict_entities:
                            raise _entities_error(
                                f'Character "&" must be escaped as "&amp;" {at(i)}'
                            )
                    chars.append(src[i])
                    i += 1
                if i >= n:
                    raise unclosed_start(begin)
                i += 1
                value = "".join(chars)
            attributes[attribute] = value
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise _entities_error(f'Tag "span" must have class "tg-spoiler" {at(begin)}')
        if name == "tg-emoji":
            emoji_id = attributes.get("emoji-id", "")
            if not emoji_id.isdigit() or int(emoji_id) == 0:
                raise bad_request("Invalid custom emoji identifier specified")
        if name == "blockquote" and any(tag.name == "blockquote" for tag in stack):
            raise _entities_error(f"Nested blockquotes aren't supported {at(begin)}")
        stack.append(_OpenTag(name, begin, u16, attributes))

    if stack:
        raise _entities_error(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    finished = [
        {k: v for k, v in e.items() if k != "language"} if e["type"] == "code" else e
        for e in entities
    ]
    finished.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), finished


def _close_entity(tag: _OpenTag, end: int, entities: list[JSON]) -> None:
    length = end - tag.offset
    if length <= 0:
        return
    entity: JSON = {"type": _ENTITY_TYPE[tag.name], "offset": tag.offset, "length": length}
    if tag.name == "a":
        href = tag.attributes.get("href", "")
        if not href:
            return
        entity["url"] = href
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attributes["emoji-id"]
    elif tag.name == "blockquote" and "expandable" in tag.attributes:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "code":
        klass = tag.attributes.get("class", "")
        if klass.startswith("language-"):
            entity["language"] = klass[len("language-") :]
    elif tag.name == "pre" and entities:
        inner = entities[-1]
        if (
            inner["type"] == "code"
            and inner["offset"] == tag.offset
            and inner["length"] == length
            and "language" in inner
        ):
            entities.pop()
            entity["language"] = inner["language"]
    # a <code> keeps its language only as a marker for an enclosing <pre> (see parse_html)
    entities.append(entity)


_TRIM = " \t\r\n\v\f"


def trim_text(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Strip leading/trailing whitespace as Telegram does, shifting and clipping entities."""
    stripped_left = text.lstrip(_TRIM)
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip(_TRIM)
    total = utf16_len(result)
    fixed: list[JSON] = []
    for entity in entities:
        begin = max(0, entity["offset"] - shift)
        end = min(total, entity["offset"] + entity["length"] - shift)
        if end > begin:
            fixed.append({**entity, "offset": begin, "length": end - begin})
    return result, fixed


_COMMAND_RE = re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")


def command_entities(text: str) -> list[JSON]:
    """``bot_command`` entities for every ``/command`` or ``/command@bot`` in ``text``."""
    entities = []
    for match in _COMMAND_RE.finditer(text):
        entities.append(
            {
                "type": "bot_command",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group()),
            }
        )
    return entities


# --------------------------------------------------------------------------------------------
# Request parameters


@dataclass
class Upload:
    field: str
    filename: str
    content_type: str
    data: bytes


class Params:
    """Decoded parameters of one call: native JSON values, or strings from forms."""

    def __init__(self, values: dict[str, Any], files: dict[str, Upload] | None = None) -> None:
        self.values = values
        self.files = files or {}

    def has(self, name: str) -> bool:
        value = self.values.get(name)
        return value is not None and value != ""

    def get_str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        raise bad_request(f'field "{name}" must be of type String')

    def get_int(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise bad_request(f'field "{name}" must be of type Integer')

    def get_float(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, int | float):
            return float(value)
        try:
            return float(str(value).strip())
        except ValueError:
            raise bad_request(f'field "{name}" must be of type Number') from None

    def get_bool(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return value != 0
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1", "yes"}
        return False

    def get_json(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value

    def get_object(self, name: str) -> JSON | None:
        value = self.get_json(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise bad_request(f'field "{name}" must be an Object')
        return value

    def chat_id(self, name: str = "chat_id") -> int | str:
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request(f"{name} is empty")
        if isinstance(value, bool):
            raise bad_request(f"invalid {name} specified")
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if text.startswith("@"):
            return text
        try:
            return int(text)
        except ValueError:
            raise bad_request("chat not found") from None

    def message_id(self, name: str = "message_id") -> int:
        value = self.get_int(name)
        if value is None:
            raise bad_request("message identifier is not specified")
        return value

    def as_dict(self) -> JSON:
        out = dict(self.values)
        for name, upload in self.files.items():
            out[name] = f"<upload {upload.filename!r}, {len(upload.data)} bytes>"
        return out


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, Any], dict[str, Upload]]:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise bad_request("multipart boundary is missing")
    delimiter = b"--" + match.group(1).encode("latin-1")
    values: dict[str, Any] = {}
    files: dict[str, Upload] = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        part = part.removeprefix(b"\r\n")
        head, _, data = part.partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        params = _header_params(disposition)
        name = params.get("name")
        if not name:
            continue
        filename = params.get("filename*") or params.get("filename")
        if filename is not None:
            files[name] = Upload(
                field=name,
                filename=filename,
                content_type=headers.get("content-type", "application/octet-stream"),
                data=data,
            )
        else:
            values[name] = data.decode("utf-8", "replace")
    return values, files


def _header_params(header: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for match in re.finditer(r';\s*([\w*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))', header):
        key = match.group(1).lower()
        value = match.group(2) if match.group(2) is not None else match.group(3).strip()
        if key.endswith("*"):
            _, _, encoded = value.partition("''")
            value = unquote(encoded)
        else:
            value = value.replace('\\"', '"').replace("%22", '"')
        params[key] = value
    return params


# --------------------------------------------------------------------------------------------
# State


@dataclass
class RateLimits:
    """Flood limits (Telegram's published figures by default). ``enabled=False`` turns all off."""

    enabled: bool = True
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3
    per_group_per_minute: int = 20
    global_per_second: int = 30
    methods: frozenset[str] = SEND_METHODS


@dataclass
class ErrorRecord:
    method: str
    chat_id: int | str | None
    status: int
    description: str
    time: float


@dataclass
class Stats:
    """Counters of answered calls. ``rejected`` counts every 4xx answer, 429s included."""

    requests: int = 0
    ok: int = 0
    too_many: int = 0
    rejected: int = 0
    server_errors: int = 0
    by_method: Counter[str] = field(default_factory=Counter)
    errors: list[ErrorRecord] = field(default_factory=list)

    def errors_for(self, method: str | None = None, status: int | None = None) -> list[ErrorRecord]:
        return [
            e
            for e in self.errors
            if (method is None or e.method.lower() == method.lower())
            and (status is None or e.status == status)
        ]


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    file_name: str
    mime_type: str
    data: bytes

    def document_json(self) -> JSON:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": len(self.data),
        }


@dataclass
class SentMessage:
    """A message the bot sent (``sendMessage`` or ``sendDocument``), as it stands now."""

    chat_id: int
    message_id: int
    method: str
    text: str  # plain text after entity parsing and trimming (the caption for documents)
    raw_text: str  # exactly what the bot sent
    parse_mode: str | None
    entities: list[JSON]
    thread_id: int | None
    reply_to: int | None
    disable_notification: bool
    link_preview_disabled: bool
    reply_markup: JSON | None
    document: StoredFile | None
    time: float  # time.time() when accepted
    monotonic: float  # the emulator clock when accepted
    edits: list[str] = field(default_factory=list)  # previous raw texts, oldest first
    deleted: bool = False
    params: JSON = field(default_factory=dict)

    @property
    def caption(self) -> str:
        return self.text if self.document is not None else ""


@dataclass
class _Message:
    """Any message in a chat: the bot's (``sent`` set) or a user's."""

    message_id: int
    json: JSON
    from_bot: bool
    sent: SentMessage | None = None
    deleted: bool = False


@dataclass
class ChatState:
    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    is_forum: bool = False
    admins: list[int] = field(default_factory=list)
    members: set[int] = field(default_factory=set)
    creator: int | None = None
    bot_is_admin: bool = True
    bot_is_member: bool = True
    blocked: bool = False  # private: user blocked the bot; groups: bot was kicked
    topics: dict[int, str] = field(default_factory=dict)
    migrated_to: int | None = None
    next_message_id: int = 1
    messages: dict[int, _Message] = field(default_factory=dict)
    flood_until: float = 0.0

    def json(self) -> JSON:
        out: JSON = {"id": self.id, "type": self.type}
        if self.type == "private":
            out["first_name"] = self.first_name or f"User{self.id}"
        else:
            out["title"] = self.title or f"Chat {self.id}"
        if self.username:
            out["username"] = self.username
        if self.is_forum:
            out["is_forum"] = True
        return out

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class UserState:
    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = "en"
    is_bot: bool = False

    def json(self) -> JSON:
        out: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            out["last_name"] = self.last_name
        if self.username:
            out["username"] = self.username
        if self.language_code:
            out["language_code"] = self.language_code
        return out


@dataclass
class Fault:
    kind: FaultKind
    chat_id: int | str | None
    methods: frozenset[str] | None  # lower-case method names; None = any method
    times: int
    retry_after: int = 3
    status: int = 500
    description: str | None = None
    new_chat_id: int | None = None
    delay: float = 0.0
    deliver: bool = False
    hold: bool = True


@dataclass
class CallbackQuery:
    id: str
    chat_id: int | None
    from_user_id: int
    data: str | None
    message_id: int | None
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    cache_time: int | None = None


@dataclass
class WebhookState:
    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    has_custom_certificate: bool = False
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class WebhookDelivery:
    update_id: int
    url: str
    status: int | None  # None when the connection failed
    error: str | None
    time: float


@dataclass
class ApiCall:
    method: str
    params: JSON
    status: int
    description: str | None
    time: float


# --------------------------------------------------------------------------------------------
# HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, emulator: TelegramEmulator) -> None:
        self.emulator = emulator
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self.connections_lock:
            connections = list(self.connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up (cancelled long polls, stopped apps) are normal here.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else headers and body wait for delayed ACKs (40 ms)
    server: _Server

    def do_POST(self) -> None:
        self.server.emulator._serve(self)

    def do_GET(self) -> None:
        self.server.emulator._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size_line = handler.rfile.readline()
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
        return b"".join(chunks)
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context()


_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{10,}$")


# --------------------------------------------------------------------------------------------
# The emulator


class TelegramEmulator:
    """A Telegram Bot API server on ``127.0.0.1``; see the module docstring.

    All state lives behind one lock; API calls are served on threads of a
    ``ThreadingHTTPServer`` and test helpers may be called from any thread.
    Times for flood limits come from ``clock`` (``time.monotonic``).
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "digest_test_bot",
        bot_name: str = "Digest Test Bot",
        limits: RateLimits | None = None,
        max_poll_timeout: float = 0.5,
        strict_html_entities: bool = True,
        strict_webhook_urls: bool = True,
        deliver_webhooks: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.limits = limits or RateLimits()
        self.max_poll_timeout = max_poll_timeout
        self.strict_html_entities = strict_html_entities
        self.strict_webhook_urls = strict_webhook_urls
        self.deliver_webhooks = deliver_webhooks
        self.clock = clock

        self.stats = Stats()
        self.calls: list[ApiCall] = []
        self.internal_errors: list[str] = []
        self.callback_answers: dict[str, CallbackQuery] = {}
        self.webhook = WebhookState()
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.commands: dict[tuple[str, str], list[JSON]] = {}

        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._chats: dict[int, ChatState] = {}
        self._users: dict[int, UserState] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._updates: deque[JSON] = deque()
        self._next_update_id = 100_000_001
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._faults: list[Fault] = []
        self._callback_counter = itertools.count(1)
        self._chat_buckets: dict[int, tuple[float, float]] = {}
        self._group_windows: dict[int, deque[float]] = {}
        self._global_window: deque[float] = deque()

        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._webhook_thread: threading.Thread | None = None
        self.url = ""

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> TelegramEmulator:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server(self)
        port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="telegram-emulator",
            daemon=True,
        )
        self._thread.start()
        self._webhook_thread = threading.Thread(
            target=self._webhook_loop, name="telegram-emulator-webhook", daemon=True
        )
        self._webhook_thread.start()
        return self

    def stop(self) -> None:
        server = self._server
        if server is None:
            return
        self._stopping.set()
        with self._lock:
            self._changed.notify_all()
        server.shutdown()
        server.close_connections()
        server.server_close()
        for thread in (self._thread, self._webhook_thread):
            if thread is not None:
                thread.join(timeout=5)
        self._server = None
        self._thread = None
        self._webhook_thread = None

    def __enter__(self) -> TelegramEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> TelegramEmulator:
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    @property
    def api_url(self) -> str:
        """``base_url`` for PTB: it appends the token and ``/method``."""
        return f"{self.url}/bot"

    @property
    def file_url(self) -> str:
        """``base_file_url`` for PTB: it appends the token and ``/file_path``."""
        return f"{self.url}/file/bot"

    def make_request(self, **kwargs: Any) -> HTTPXRequest:
        """PTB's ``HTTPXRequest`` sharing one SSL context: building a context per client (PTB
        makes two per bot) costs ~0.1 s, the loopback API calls here only milliseconds."""
        from telegram.request import HTTPXRequest

        httpx_kwargs = {"verify": _ssl_context(), **kwargs.pop("httpx_kwargs", {})}
        return HTTPXRequest(httpx_kwargs=httpx_kwargs, **kwargs)

    def make_bot(self, token: str | None = None) -> telegram.Bot:
        """A real ``telegram.Bot`` pointed at this emulator (not yet initialised)."""
        import telegram

        return telegram.Bot(
            token or self.token,
            base_url=self.api_url,
            base_file_url=self.file_url,
            request=self.make_request(),
            get_updates_request=self.make_request(),
        )

    def application_builder(self, *, shared_ssl_context: bool = True) -> ApplicationBuilder:
        """``ApplicationBuilder`` with token, base URL and base file URL set.

        With ``shared_ssl_context`` the request objects are set too (see :meth:`make_request`),
        so the builder's own ``connection_pool_size()`` and timeouts can't be used; pass
        ``False`` for a builder that only knows the URLs.
        """
        from telegram.ext import ApplicationBuilder

        builder = (
            ApplicationBuilder()
            .token(self.token)
            .base_url(self.api_url)
            .base_file_url(self.file_url)
        )
        if shared_ssl_context:
            builder = builder.request(
                self.make_request(connection_pool_size=8)
            ).get_updates_request(self.make_request())
        return builder

    # ---------------------------------------------------------------- configuration

    def add_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        is_bot: bool = False,
    ) -> UserState:
        with self._lock:
            user = UserState(
                user_id,
                first_name or f"User{user_id}",
                username=username,
                last_name=last_name,
                language_code=language_code,
                is_bot=is_bot,
            )
            self._users[user_id] = user
            return user

    def add_chat(
        self,
        chat_id: int,
        type: ChatType = "private",
        *,
        title: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
        is_forum: bool = False,
        admins: Iterable[int] = (),
        members: Iterable[int] = (),
        creator: int | None = None,
        bot_is_admin: bool = True,
        bot_is_member: bool = True,
        topics: dict[int, str] | Iterable[int] = (),
    ) -> ChatState:
        """Configure a chat the bot can reach (unknown chats answer ``chat not found``).

        ``admins`` are user ids (the first is the creator unless ``creator`` is given);
        ``topics`` are thread ids of a forum (also see :meth:`add_topic`). For private chats
        the user with id ``chat_id`` is created if unknown.
        """
        if is_forum and type != "supergroup":
            raise ValueError("only supergroups can be forums")
        with self._lock:
            admin_list = list(admins)
            chat = ChatState(
                id=chat_id,
                type=type,
                title=title,
                username=username.lstrip("@") if username else None,
                first_name=first_name,
                is_forum=is_forum,
                admins=admin_list,
                members=set(members) | set(admin_list),
                creator=creator if creator is not None else (admin_list[0] if admin_list else None),
                bot_is_admin=bot_is_admin,
                bot_is_member=bot_is_member,
            )
            if type == "private":
                user = self._users.get(chat_id) or self.add_user(chat_id, first_name)
                chat.first_name = user.first_name
                chat.username = chat.username or user.username
                chat.members.add(chat_id)
            topic_items = topics.items() if isinstance(topics, dict) else [(t, "") for t in topics]
            for thread_id, name in topic_items:
                chat.topics[thread_id] = name or f"Topic {thread_id}"
                chat.next_message_id = max(chat.next_message_id, thread_id + 1)
            self._chats[chat_id] = chat
            for user_id in chat.members:
                if user_id not in self._users:
                    self.add_user(user_id)
            return chat

    def chat(self, chat_id: int) -> ChatState:
        with self._lock:
            return self._chats[chat_id]

    def add_topic(self, chat_id: int, name: str = "Topic") -> int:
        """Create a forum topic; returns its ``message_thread_id`` (a message id, as Telegram)."""
        with self._lock:
            chat = self._chats[chat_id]
            if not chat.is_forum:
                raise ValueError(f"chat {chat_id} is not a forum")
            thread_id = chat.take_message_id()
            chat.topics[thread_id] = name
            chat.messages[thread_id] = _Message(
                thread_id,
                {
                    "message_id": thread_id,
                    "date": int(time.time()),
                    "chat": chat.json(),
                    "forum_topic_created": {"name": name, "icon_color": 7322096},
                    "message_thread_id": thread_id,
                    "is_topic_message": True,
                },
                from_bot=False,
            )
            return thread_id

    def block(self, chat_id: int) -> None:
        """The user blocks the bot (private) or the bot is kicked (groups): every call gets 403."""
        with self._lock:
            self._chats[chat_id].blocked = True

    def unblock(self, chat_id: int) -> None:
        with self._lock:
            chat = self._chats[chat_id]
            chat.blocked = False
            chat.bot_is_member = True

    def migrate(self, chat_id: int, new_chat_id: int | None = None, *, notify: bool = True) -> int:
        """Upgrade a group to a supergroup now; returns the new id (default ``-100<abs id>``).

        Calls on the old id then get 400 with ``migrate_to_chat_id``. With ``notify`` the
        service messages (``migrate_to_chat_id`` in the old chat, ``migrate_from_chat_id``
        in the new one) are queued as updates, as Telegram sends them.
        """
        with self._lock:
            return self._migrate(self._chats[chat_id], new_chat_id, notify=notify)

    def fail_next(
        self,
        chat_id: int | str | None,
        kind: FaultKind,
        *,
        times: int = 1,
        methods: Iterable[str] | None = None,
        retry_after: int = 3,
        hold: bool = True,
        status: int = 500,
        description: str | None = None,
        new_chat_id: int | None = None,
        delay: float = 1.0,
        deliver: bool = False,
    ) -> None:
        """Make the next ``times`` matching calls fail.

        A call matches when it targets ``chat_id`` (``None``: any chat, or none) and its
        method is in ``methods`` (default: sendMessage, sendDocument, editMessageText,
        editMessageReplyMarkup, deleteMessage; ``["*"]``: any method). Kinds:

        * ``"retry_after"``: 429 ``Too Many Requests: retry after N``; with ``hold`` the chat
          stays in flood wait for N seconds, so an early retry is refused as well;
        * ``"forbidden"``: 403 ``bot was blocked by the user`` / ``bot was kicked from the
          ... chat`` (or ``description``);
        * ``"migrate"``: 400 ``group chat was upgraded to a supergroup chat`` with
          ``migrate_to_chat_id``; the chat moves to ``new_chat_id`` (``-100<abs id>``);
        * ``"server_error"``: ``status`` 500 (JSON) or 502 (nginx HTML page); with
          ``deliver`` the message is sent anyway before the error is returned;
        * ``"delay"``: the call waits ``delay`` seconds, then proceeds normally.
        """
        known = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if kind == "migrate" and known is not None and known.type != "group":
            raise ValueError(f"only groups migrate, chat {chat_id} is a {known.type}")
        if methods is None:
            method_set: frozenset[str] | None = CONTENT_METHODS
        else:
            names = frozenset(m.lower() for m in methods)
            method_set = None if "*" in names else names
        with self._lock:
            self._faults.append(
                Fault(
                    kind=kind,
                    chat_id=chat_id,
                    methods=method_set,
                    times=times,
                    retry_after=retry_after,
                    status=status,
                    description=description,
                    new_chat_id=new_chat_id,
                    delay=delay,
                    deliver=deliver,
                    hold=hold,
                )
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def reset_stats(self) -> None:
        """Zero :attr:`stats` and forget :attr:`calls` (e.g. after a test's setup phase)."""
        with self._lock:
            self.stats = Stats()
            self.calls.clear()

    def reset_rate_limits(self) -> None:
        with self._lock:
            self._chat_buckets.clear()
            self._group_windows.clear()
            self._global_window.clear()
            for chat in self._chats.values():
                chat.flood_until = 0.0

    def add_file(
        self, data: bytes, file_name: str = "file.bin", mime_type: str | None = None
    ) -> StoredFile:
        """Store a file the bot can fetch with getFile and download."""
        with self._lock:
            number = next(self._file_counter)
            extension = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
            stored = StoredFile(
                file_id=f"BQACAgIAAxkBAAI{number:06d}{secrets.token_hex(12)}",
                file_unique_id=f"AgAD{number:06d}",
                file_path=f"documents/file_{number}.{extension}",
                file_name=file_name,
                mime_type=mime_type
                or mimetypes.guess_type(file_name)[0]
                or "application/octet-stream",
                data=data,
            )
            self._files[stored.file_id] = stored
            self._files_by_path[stored.file_path] = stored
            return stored

    def file(self, file_id: str) -> StoredFile:
        with self._lock:
            return self._files[file_id]

    # ---------------------------------------------------------------- updates

    def push_update(self, update: JSON) -> JSON:
        """Queue a raw update (``update_id`` is assigned); returns it."""
        with self._lock:
            update = {"update_id": self._next_update_id, **update}
            self._next_update_id += 1
            self._updates.append(update)
            self._changed.notify_all()
            return update

    def push_message(
        self,
        chat_id: int,
        from_user_id: int | None = None,
        text: str | None = None,
        *,
        thread_id: int | None = None,
        document: StoredFile | tuple[str, bytes] | tuple[str, bytes, str] | None = None,
        caption: str | None = None,
        reply_to_message_id: int | None = None,
        entities: list[JSON] | None = None,
        edited_message_id: int | None = None,
        extra: JSON | None = None,
    ) -> JSON:
        """A user writes in a chat (a ``message``, ``channel_post`` or, with
        ``edited_message_id``, ``edited_message``). Returns the update.

        ``/command`` words get ``bot_command`` entities (so ``CommandHandler`` matches);
        ``document`` is a stored file or ``(file_name, data[, mime_type])``.
        ``from_user_id`` defaults to the chat id for private chats.
        """
        with self._lock:
            chat = self._chats[chat_id]
            if from_user_id is None and chat.type == "private":
                from_user_id = chat_id
            message_id = edited_message_id or chat.take_message_id()
            message: JSON = {"message_id": message_id, "date": int(time.time())}
            if chat.type == "channel":
                message["sender_chat"] = chat.json()
            else:
                if from_user_id is None:
                    raise ValueError("from_user_id is required outside private chats")
                user = self._users.get(from_user_id) or self.add_user(from_user_id)
                chat.members.add(from_user_id)
                message["from"] = user.json()
            message["chat"] = chat.json()
            if thread_id is not None:
                if not chat.is_forum or thread_id not in chat.topics:
                    raise ValueError(f"no topic {thread_id} in chat {chat_id}")
                message["message_thread_id"] = thread_id
                message["is_topic_message"] = True
            if reply_to_message_id is not None:
                replied = chat.messages.get(reply_to_message_id)
                if replied is not None:
                    message["reply_to_message"] = {
                        k: v for k, v in replied.json.items() if k != "reply_to_message"
                    }
            if text is not None:
                message["text"] = text
                found = entities if entities is not None else command_entities(text)
                if found:
                    message["entities"] = found
            if document is not None:
                if not isinstance(document, StoredFile):
                    name, data, *rest = document
                    document = self.add_file(data, name, rest[0] if rest else None)
                message["document"] = document.document_json()
                if caption is not None:
                    message["caption"] = caption
                    found = command_entities(caption)
                    if found:
                        message["caption_entities"] = found
            if extra:
                message.update(extra)
            if edited_message_id is not None:
                message["edit_date"] = int(time.time())
                kind = "edited_channel_post" if chat.type == "channel" else "edited_message"
            else:
                kind = "channel_post" if chat.type == "channel" else "message"
            chat.messages[message_id] = _Message(message_id, message, from_bot=False)
            return self.push_update({kind: message})

    def push_callback_query(
        self,
        chat_id: int,
        from_user_id: int | None = None,
        data: str | None = None,
        *,
        message_id: int | None = None,
    ) -> str:
        """A user presses an inline button under ``message_id`` (default: the bot's latest
        message in the chat). Returns the callback query id."""
        with self._lock:
            chat = self._chats[chat_id]
            if from_user_id is None:
                from_user_id = chat_id if chat.type == "private" else None
            if from_user_id is None:
                raise ValueError("from_user_id is required outside private chats")
            user = self._users.get(from_user_id) or self.add_user(from_user_id)
            if message_id is None:
                own = [m for m in chat.messages.values() if m.from_bot and not m.deleted]
                if not own:
                    raise ValueError(f"the bot has no message in chat {chat_id}")
                message_id = own[-1].message_id
            message = chat.messages[message_id]
            query_id = f"{self.bot_id}{next(self._callback_counter):08d}"
            query: JSON = {
                "id": query_id,
                "from": user.json(),
                "message": message.json,
                "chat_instance": str(abs(chat_id) * 7919 % 10**12),
            }
            if data is not None:
                query["data"] = data
            self.callback_answers[query_id] = CallbackQuery(
                query_id, chat_id, from_user_id, data, message_id
            )
            self.push_update({"callback_query": query})
            return query_id

    def push_my_chat_member(
        self,
        chat_id: int,
        new_status: Literal["member", "administrator", "left", "kicked"],
        *,
        from_user_id: int | None = None,
        old_status: str | None = None,
    ) -> JSON:
        """The bot's membership changes (added, promoted, removed, blocked); the chat's state
        follows (``kicked``/``left`` make sends fail with 403). Returns the update."""
        with self._lock:
            chat = self._chats[chat_id]
            if old_status is None:
                old_status = self._bot_status(chat)
            actor = from_user_id
            if actor is None:
                actor = chat_id if chat.type == "private" else (chat.creator or chat.admins[0])
            user = self._users.get(actor) or self.add_user(actor)
            if new_status == "kicked":
                chat.blocked = True
                chat.bot_is_member = False
            elif new_status == "left":
                chat.bot_is_member = False
            else:
                chat.blocked = False
                chat.bot_is_member = True
                chat.bot_is_admin = new_status == "administrator"
            update = {
                "my_chat_member": {
                    "chat": chat.json(),
                    "from": user.json(),
                    "date": int(time.time()),
                    "old_chat_member": self._member_json(chat, self._bot_user(), old_status),
                    "new_chat_member": self._member_json(chat, self._bot_user(), new_status),
                }
            }
            return self.push_update(update)

    def pending_updates(self) -> list[JSON]:
        with self._lock:
            return list(self._updates)

    # ---------------------------------------------------------------- observations

    def sent(self, chat_id: int) -> list[SentMessage]:
        """Messages the bot sent to the chat, oldest first (deleted ones flagged ``deleted``)."""
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                return []
            return [m.sent for m in chat.messages.values() if m.sent is not None]

    def texts(self, chat_id: int) -> list[str]:
        """Plain texts (captions for documents) of the bot's messages in the chat."""
        return [m.text for m in self.sent(chat_id)]

    def all_sent(self) -> list[SentMessage]:
        with self._lock:
            out = [m for chat in self._chats.values() for m in self.sent(chat.id)]
        return sorted(out, key=lambda m: m.monotonic)

    def wait_for_messages(
        self, chat_id: int, n: int = 1, timeout: float = 5.0
    ) -> list[SentMessage]:
        """Block until the bot has sent ``n`` messages to the chat (sync tests only: this
        blocks the calling thread). Raises ``TimeoutError`` listing what was sent."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.sent(chat_id)) < n:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_message(chat_id, n, timeout))
                self._changed.wait(remaining)
            return self.sent(chat_id)

    async def wait_for_messages_async(
        self, chat_id: int, n: int = 1, timeout: float = 5.0
    ) -> list[SentMessage]:
        """:meth:`wait_for_messages` for async tests (polls without blocking the loop)."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.sent(chat_id)
            if len(messages) >= n:
                return messages
            if time.monotonic() >= deadline:
                raise TimeoutError(self._timeout_message(chat_id, n, timeout))
            await asyncio.sleep(0.01)

    def _timeout_message(self, chat_id: int, n: int, timeout: float) -> str:
        texts = self.texts(chat_id)
        errors = [f"{e.method} {e.status} {e.description}" for e in self.stats.errors[-5:]]
        return (
            f"chat {chat_id}: {len(texts)} of {n} messages after {timeout}s: {texts!r}; "
            f"last errors: {errors!r}"
        )

    def calls_to(self, method: str) -> list[ApiCall]:
        with self._lock:
            return [c for c in self.calls if c.method.lower() == method.lower()]

    def my_commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        with self._lock:
            return list(self.commands.get((self._scope_key(scope or {}), language_code), []))

    # ---------------------------------------------------------------- HTTP entry point

    def _serve(self, handler: _Handler) -> None:
        try:
            body = _read_body(handler)
            parts = urlsplit(handler.path)
            path = parts.path
            if path.startswith("/file/bot"):
                self._serve_file(handler, path[len("/file/bot") :])
                return
            if not path.startswith("/bot"):
                self._respond(handler, ApiError(404, "Not Found"))
                return
            token, _, method = path[len("/bot") :].partition("/")
            token = unquote(token)
            params = self._decode_params(handler, parts.query, body)
            response = self._call(token, method, params)
            self._respond(handler, response)
        except (ConnectionError, OSError):
            pass
        except Exception:
            self.internal_errors.append(traceback.format_exc())
            with contextlib.suppress(Exception):
                self._respond(handler, ApiError(500, "Internal Server Error: emulator bug"))

    def _decode_params(self, handler: _Handler, query: str, body: bytes) -> Params | ApiError:
        values: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        files: dict[str, Upload] = {}
        content_type = handler.headers.get("Content-Type", "")
        kind = content_type.split(";")[0].strip().lower()
        try:
            if kind == "application/json" and body:
                decoded = json.loads(body)
                if not isinstance(decoded, dict):
                    return bad_request("JSON object expected")
                values.update(decoded)
            elif kind == "multipart/form-data":
                form, files = _parse_multipart(body, content_type)
                values.update(form)
            elif body:
                values.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except ApiError as exc:
            return exc
        except ValueError:
            return bad_request("can't parse request body")
        return Params(values, files)

    def _call(self, token: str, method: str, params: Params | ApiError) -> Any:
        """Run one API call; returns the result or the ApiError to send."""
        now = time.time()
        chat_key: int | str | None = None
        if isinstance(params, Params):
            raw = params.values.get("chat_id")
            with contextlib.suppress(ApiError):
                chat_key = params.chat_id() if raw not in (None, "") else None
        result: Any
        if not _TOKEN_RE.match(token):
            result = ApiError(404, "Not Found")
        elif token != self.token:
            result = ApiError(401, "Unauthorized")
        elif isinstance(params, ApiError):
            result = params
        else:
            implementation = self._methods().get(method.lower())
            if implementation is None:
                result = ApiError(404, "Not Found")
            else:
                result = self._run(method.lower(), implementation, params, chat_key)
        with self._lock:
            status = result.code if isinstance(result, ApiError) else 200
            self.stats.requests += 1
            self.stats.by_method[method] += 1
            description = result.description if isinstance(result, ApiError) else None
            self.calls.append(
                ApiCall(
                    method,
                    params.as_dict() if isinstance(params, Params) else {},
                    status,
                    description,
                    now,
                )
            )
            if isinstance(result, ApiError):
                if 400 <= result.code < 500:
                    self.stats.rejected += 1
                if result.code == 429:
                    self.stats.too_many += 1
                if result.code >= 500:
                    self.stats.server_errors += 1
                self.stats.errors.append(
                    ErrorRecord(method, chat_key, result.code, result.description, now)
                )
            else:
                self.stats.ok += 1
            self._changed.notify_all()
        return result

    def _run(
        self,
        method: str,
        implementation: Callable[[Params], Any],
        params: Params,
        chat_key: int | str | None,
    ) -> Any:
        with self._lock:
            fault = self._take_fault(method, chat_key, kinds={"delay"})
        if fault is not None:
            self._stopping.wait(fault.delay)
        try:
            if method == "getupdates":
                return implementation(params)  # takes the lock itself, waits on the condition
            with self._lock:
                return implementation(params)
        except ApiError as exc:
            return exc

    def _respond(self, handler: _Handler, response: Any) -> None:
        if isinstance(response, ApiError):
            status = response.code
            if response.body is not None:
                payload, content_type = response.body, response.content_type
            else:
                payload = json.dumps(response.envelope()).encode()
                content_type = "application/json"
        else:
            status = 200
            payload = json.dumps({"ok": True, "result": response}).encode()
            content_type = "application/json"
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)
        handler.wfile.flush()

    def _serve_file(self, handler: _Handler, rest: str) -> None:
        token, _, file_path = rest.partition("/")
        token = unquote(token)  # PTB percent-encodes the file URL, ":" included
        with self._lock:
            stored = self._files_by_path.get(unquote(file_path))
            error: ApiError | None = None
            if token != self.token:
                error = ApiError(401, "Unauthorized")
            elif stored is None:
                error = ApiError(404, "Not Found")
            self.stats.requests += 1
            self.stats.by_method["<download>"] += 1
            if error is None:
                self.stats.ok += 1
            else:
                self.stats.rejected += 1
                self.stats.errors.append(
                    ErrorRecord("<download>", None, error.code, error.description, time.time())
                )
        if error is not None or stored is None:
            self._respond(handler, error)
            return
        handler.send_response(200)
        handler.send_header("Content-Type", stored.mime_type)
        handler.send_header("Content-Length", str(len(stored.data)))
        handler.end_headers()
        handler.wfile.write(stored.data)
        handler.wfile.flush()

    def _methods(self) -> dict[str, Callable[[Params], Any]]:
        return {
            "getme": self._get_me,
            "logout": lambda p: True,
            "close": lambda p: True,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "senddocument": self._send_document,
            "getfile": self._get_file,
            "answercallbackquery": self._answer_callback_query,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "getchatadministrators": self._get_chat_administrators,
            "sendchataction": self._send_chat_action,
        }

    # ---------------------------------------------------------------- shared checks

    def _bot_user(self) -> UserState:
        return UserState(
            self.bot_id, self.bot_name, username=self.bot_username, is_bot=True, language_code=None
        )

    def _resolve_chat(self, key: int | str) -> ChatState:
        if isinstance(key, str):
            name = key.lstrip("@").lower()
            for candidate in self._chats.values():
                if (
                    candidate.username
                    and candidate.username.lower() == name
                    and candidate.type != "private"
                ):
                    key = candidate.id
                    break
            else:
                raise bad_request("chat not found")
        chat = self._chats.get(key)
        if chat is None:
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        return chat

    def _take_fault(
        self, method: str, chat_key: int | str | None, kinds: set[str] | None = None
    ) -> Fault | None:
        for fault in self._faults:
            if kinds is not None and fault.kind not in kinds:
                continue
            if kinds is None and fault.kind == "delay":
                continue
            if fault.methods is not None and method not in fault.methods:
                continue
            if fault.chat_id is not None and fault.chat_id != chat_key:
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            return fault
        return None

    def _forbidden_description(self, chat: ChatState) -> str:
        if chat.type == "private":
            return "Forbidden: bot was blocked by the user"
        if chat.type == "channel":
            return "Forbidden: bot is not a member of the channel chat"
        return f"Forbidden: bot was kicked from the {chat.type} chat"

    def _check_faults(self, method: str, chat: ChatState) -> Fault | None:
        """Raise an injected error for this call, or return a fault to raise after it."""
        fault = self._take_fault(method, chat.id) or (
            self._take_fault(method, chat.username and f"@{chat.username}")
            if chat.username
            else None
        )
        if fault is None:
            return None
        if fault.kind == "retry_after":
            if fault.hold:
                chat.flood_until = max(chat.flood_until, self.clock() + fault.retry_after)
            raise too_many(fault.retry_after)
        if fault.kind == "forbidden":
            raise ApiError(403, fault.description or self._forbidden_description(chat))
        if fault.kind == "migrate":
            if chat.type != "group":
                raise ValueError(f"only groups migrate, chat {chat.id} is a {chat.type}")
            new_id = self._migrate(chat, fault.new_chat_id, notify=False)
            raise bad_request(
                "group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": new_id}
            )
        if fault.kind == "server_error":
            if fault.deliver:
                return fault
            raise self._server_error(fault)
        return None

    @staticmethod
    def _server_error(fault: Fault) -> ApiError:
        if fault.status == 502:
            return ApiError(502, "Bad Gateway", body=BAD_GATEWAY_HTML)
        return ApiError(fault.status, fault.description or "Internal Server Error")

    def _check_access(self, chat: ChatState) -> None:
        if chat.blocked:
            raise ApiError(403, self._forbidden_description(chat))
        if not chat.bot_is_member:
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        if chat.type == "channel" and not chat.bot_is_admin:
            raise bad_request("need administrator rights in the channel chat")

    def _check_flood(self, method: str, chat: ChatState) -> None:
        """Telegram's flood control: refuse with 429, or account for one more message."""
        now = self.clock()
        if chat.flood_until > now:
            raise too_many(max(1, math.ceil(chat.flood_until - now)))
        limits = self.limits
        if not limits.enabled or method not in limits.methods:
            return
        waits: list[float] = []
        while self._global_window and self._global_window[0] <= now - 1.0:
            self._global_window.popleft()
        if len(self._global_window) >= limits.global_per_second:
            waits.append(self._global_window[0] + 1.0 - now)
        tokens, last = self._chat_buckets.get(chat.id, (float(limits.per_chat_burst), now))
        tokens = min(
            float(limits.per_chat_burst), tokens + (now - last) * limits.per_chat_per_second
        )
        if tokens < 1.0:
            waits.append((1.0 - tokens) / limits.per_chat_per_second)
        window = self._group_windows.setdefault(chat.id, deque())
        if chat.type != "private":
            while window and window[0] <= now - 60.0:
                window.popleft()
            if len(window) >= limits.per_group_per_minute:
                waits.append(window[0] + 60.0 - now)
        if waits:
            self._chat_buckets[chat.id] = (tokens, now)
            raise too_many(max(1, math.ceil(max(waits))))
        self._chat_buckets[chat.id] = (tokens - 1.0, now)
        self._global_window.append(now)
        if chat.type != "private":
            window.append(now)

    def _parse_text(
        self, text: str | None, parse_mode: str | None, entities: Any, *, caption: bool
    ) -> tuple[str, list[JSON]]:
        raw = text or ""
        mode = (parse_mode or "").strip()
        if mode.lower() == "html":
            plain, found = parse_html(raw, strict_entities=self.strict_html_entities)
        elif mode.lower() in {"", "markdown", "markdownv2"}:
            plain = raw
            found = list(entities) if isinstance(entities, list) and not mode else []
        else:
            raise bad_request("unsupported parse_mode")
        plain, found = trim_text(plain, found)
        length = utf16_len(plain)
        if caption:
            if length > MAX_CAPTION_LENGTH:
                raise bad_request("message caption is too long")
        else:
            if length == 0:
                raise bad_request("message text is empty")
            if length > MAX_TEXT_LENGTH:
                raise bad_request("message is too long")
        return plain, found

    def _check_markup(self, markup: JSON | None) -> None:
        if markup is None:
            return
        keyboard = markup.get("inline_keyboard")
        if keyboard is None:
            return
        if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        for row in keyboard:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise bad_request('can\'t find field "text"')
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
                actions = {
                    "callback_data",
                    "url",
                    "switch_inline_query",
                    "login_url",
                    "switch_inline_query_current_chat",
                    "web_app",
                    "copy_text",
                    "pay",
                    "callback_game",
                    "switch_inline_query_chosen_chat",
                }
                if not actions & button.keys():
                    raise bad_request("text buttons are unallowed in the inline keyboard")

    def _thread_id(self, params: Params, chat: ChatState) -> int | None:
        thread_id = params.get_int("message_thread_id")
        if thread_id is None:
            return None
        if not chat.is_forum or thread_id not in chat.topics:
            raise bad_request("message thread not found")
        return thread_id

    def _reply_to(self, params: Params, chat: ChatState) -> tuple[int | None, _Message | None]:
        reply = params.get_object("reply_parameters")
        message_id = params.get_int("reply_to_message_id")
        allow_missing = params.get_bool("allow_sending_without_reply")
        if reply is not None:
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply", False))
            if reply.get("chat_id") not in (None, chat.id):
                raise bad_request("message to be replied not found")
        if message_id is None:
            return None, None
        message = chat.messages.get(int(message_id))
        if message is None or message.deleted:
            if allow_missing:
                return None, None
            raise bad_request("message to be replied not found")
        return int(message_id), message

    def _message_json(self, sent: SentMessage, chat: ChatState, replied: _Message | None) -> JSON:
        message: JSON = {"message_id": sent.message_id, "date": int(sent.time)}
        if chat.type == "channel":
            message["sender_chat"] = chat.json()
        else:
            message["from"] = self._bot_user().json()
        message["chat"] = chat.json()
        if sent.thread_id is not None:
            message["message_thread_id"] = sent.thread_id
            message["is_topic_message"] = True
        if replied is not None:
            message["reply_to_message"] = {
                k: v for k, v in replied.json.items() if k != "reply_to_message"
            }
        if sent.document is not None:
            message["document"] = sent.document.document_json()
            if sent.text:
                message["caption"] = sent.text
            if sent.entities:
                message["caption_entities"] = sent.entities
        else:
            message["text"] = sent.text
            if sent.entities:
                message["entities"] = sent.entities
        if sent.link_preview_disabled:
            message["link_preview_options"] = {"is_disabled": True}
        if sent.reply_markup and "inline_keyboard" in sent.reply_markup:
            message["reply_markup"] = sent.reply_markup
        if sent.edits:
            message["edit_date"] = int(time.time())
        return message

    def _migrate(self, chat: ChatState, new_chat_id: int | None, *, notify: bool) -> int:
        if chat.type != "group":
            raise ValueError(f"only groups migrate, chat {chat.id} is a {chat.type}")
        new_id = new_chat_id if new_chat_id is not None else int(f"-100{abs(chat.id)}")
        supergroup = ChatState(
            id=new_id,
            type="supergroup",
            title=chat.title,
            admins=list(chat.admins),
            members=set(chat.members),
            creator=chat.creator,
            bot_is_admin=chat.bot_is_admin,
            bot_is_member=chat.bot_is_member,
        )
        self._chats[new_id] = supergroup
        chat.migrated_to = new_id
        if notify and chat.creator is not None:
            actor = (self._users.get(chat.creator) or self.add_user(chat.creator)).json()
            old_id = chat.take_message_id()
            self.push_update(
                {
                    "message": {
                        "message_id": old_id,
                        "date": int(time.time()),
                        "from": actor,
                        "chat": chat.json(),
                        "migrate_to_chat_id": new_id,
                    }
                }
            )
            self.push_update(
                {
                    "message": {
                        "message_id": supergroup.take_message_id(),
                        "date": int(time.time()),
                        "from": actor,
                        "chat": supergroup.json(),
                        "migrate_from_chat_id": chat.id,
                    }
                }
            )
        return new_id

    # ---------------------------------------------------------------- methods: bot and updates

    def _get_me(self, params: Params) -> JSON:
        return {
            **self._bot_user().json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _allowed(self, update: JSON) -> bool:
        kind = next((k for k in update if k != "update_id"), "")
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in NOT_DELIVERED_BY_DEFAULT

    def _set_allowed_updates(self, params: Params) -> None:
        allowed = params.get_json("allowed_updates")
        if allowed is not None:
            if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
                raise bad_request("can't parse allowed_updates JSON array")
            self._allowed_updates = allowed

    def _get_updates(self, params: Params) -> list[JSON]:
        offset = params.get_int("offset")
        limit = params.get_int("limit") or 100
        limit = min(max(limit, 1), 100)
        timeout = min(max(params.get_float("timeout") or 0.0, 0.0), self.max_poll_timeout)
        with self._lock:
            if self.webhook.url:
                raise ApiError(409, CONFLICT_WEBHOOK)
            self._set_allowed_updates(params)
            self._poll_generation += 1
            generation = self._poll_generation
            self._changed.notify_all()
            if offset is not None:
                if offset < 0:
                    while len(self._updates) > -offset:
                        self._updates.popleft()
                else:
                    while self._updates and self._updates[0]["update_id"] < offset:
                        self._updates.popleft()
            deadline = time.monotonic() + timeout
            while True:
                # updates of types not allowed are dropped, as Telegram never stores them
                kept = deque(u for u in self._updates if self._allowed(u))
                self._updates = kept
                if kept:
                    return list(itertools.islice(kept, limit))
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stopping.is_set():
                    return []
                self._changed.wait(remaining)
                if self._poll_generation != generation:
                    raise ApiError(409, CONFLICT_POLL)
                if self.webhook.url:
                    raise ApiError(409, CONFLICT_WEBHOOK)

    def _set_webhook(self, params: Params) -> bool:
        url = params.get_str("url") or ""
        if not url:
            return self._delete_webhook(params)
        parts = urlsplit(url)
        if self.strict_webhook_urls:
            if parts.scheme != "https":
                raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
            if (parts.port or 443) not in (80, 88, 443, 8443):
                raise bad_request(
                    "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
                )
        elif parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
        secret = params.get_str("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        max_connections = params.get_int("max_connections")
        if max_connections is not None and not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        self._set_allowed_updates(params)
        if params.get_bool("drop_pending_updates"):
            self._updates.clear()
        self.webhook = WebhookState(
            url=url,
            secret_token=secret,
            max_connections=max_connections or 40,
            ip_address=params.get_str("ip_address"),
            has_custom_certificate="certificate" in params.files,
        )
        self._changed.notify_all()
        return True

    def _delete_webhook(self, params: Params) -> bool:
        if params.get_bool("drop_pending_updates"):
            self._updates.clear()
        self.webhook = WebhookState()
        self._changed.notify_all()
        return True

    def _get_webhook_info(self, params: Params) -> JSON:
        hook = self.webhook
        info: JSON = {
            "url": hook.url,
            "has_custom_certificate": hook.has_custom_certificate,
            "pending_update_count": sum(1 for u in self._updates if self._allowed(u)),
        }
        if hook.url:
            info["max_connections"] = hook.max_connections
            if hook.ip_address:
                info["ip_address"] = hook.ip_address
            if self._allowed_updates is not None:
                info["allowed_updates"] = list(self._allowed_updates)
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info

    def _webhook_loop(self) -> None:
        backoff = 0.05
        while not self._stopping.is_set():
            with self._lock:
                hook = self.webhook
                update = None
                if hook.url and self.deliver_webhooks:
                    self._updates = deque(u for u in self._updates if self._allowed(u))
                    update = self._updates[0] if self._updates else None
                if update is None:
                    self._changed.wait(0.2)
                    continue
            status, error = self._post_update(hook, update)
            with self._lock:
                self.webhook_deliveries.append(
                    WebhookDelivery(update["update_id"], hook.url, status, error, time.time())
                )
                if error is None and self._updates and self._updates[0] is update:
                    self._updates.popleft()
                    backoff = 0.05
                    self._changed.notify_all()
                    continue
                if self.webhook is hook:
                    hook.last_error_date = int(time.time())
                    hook.last_error_message = error
            self._stopping.wait(backoff)
            backoff = min(backoff * 2, 1.0)

    @staticmethod
    def _post_update(hook: WebhookState, update: JSON) -> tuple[int | None, str | None]:
        request = urllib.request.Request(
            hook.url,
            data=json.dumps(update).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        if hook.secret_token:
            request.add_header("X-Telegram-Bot-Api-Secret-Token", hook.secret_token)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                response.read()
                return response.status, None
        except urllib.error.HTTPError as exc:
            return exc.code, f"Wrong response from the webhook: {exc.code} {exc.reason}"
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            return None, f"Connection failed: {reason}"

    # ---------------------------------------------------------------- methods: commands

    def _scope_key(self, scope: JSON) -> str:
        kind = scope.get("type", "default")
        if kind in {"default", "all_private_chats", "all_group_chats", "all_chat_administrators"}:
            return str(kind)
        if kind in {"chat", "chat_administrators", "chat_member"}:
            raw = scope.get("chat_id")
            if raw is None:
                raise bad_request("chat_id is empty")
            chat = self._resolve_chat(
                raw if isinstance(raw, int) else Params({"c": raw}).chat_id("c")
            )
            if kind != "chat" and chat.type == "private":
                raise bad_request(
                    "can't use chat administrators scope in private chats"
                    if kind == "chat_administrators"
                    else "user not found"
                )
            if kind == "chat_member":
                user = scope.get("user_id")
                if not isinstance(user, int):
                    raise bad_request("user_id is empty")
                return f"{kind}:{chat.id}:{user}"
            return f"{kind}:{chat.id}"
        raise bad_request("unsupported bot command scope type")

    def _commands_target(self, params: Params) -> tuple[str, str]:
        scope = params.get_object("scope") or {}
        language = params.get_str("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("invalid language code specified")
        return self._scope_key(scope), language

    def _set_my_commands(self, params: Params) -> bool:
        commands = params.get_json("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON array")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        cleaned = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("BotCommand must be an Object")
            name = command.get("command")
            description = command.get("description")
            if not isinstance(name, str) or not name:
                raise bad_request("command must be non-empty")
            if len(name) > 32:
                raise bad_request("command is too long")
            if not re.fullmatch(r"[a-z0-9_]+", name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not description.strip():
                raise bad_request("command description must be non-empty")
            if len(description) > 256:
                raise bad_request("command description is too long")
            cleaned.append({"command": name, "description": description})
        key = self._commands_target(params)
        if cleaned:
            self.commands[key] = cleaned
        else:
            self.commands.pop(key, None)
        return True

    def _get_my_commands(self, params: Params) -> list[JSON]:
        return list(self.commands.get(self._commands_target(params), []))

    def _delete_my_commands(self, params: Params) -> bool:
        self.commands.pop(self._commands_target(params), None)
        return True

    # ---------------------------------------------------------------- methods: messages

    def _send_message(self, params: Params) -> JSON:
        chat = self._resolve_chat(params.chat_id())
        late = self._check_faults("sendmessage", chat)
        self._check_access(chat)
        text = params.get_str("text")
        if text is None:
            raise bad_request("message text is empty")
        parse_mode = params.get_str("parse_mode")
        plain, entities = self._parse_text(
            text, parse_mode, params.get_json("entities"), caption=False
        )
        return self._deliver("sendMessage", params, chat, text, plain, entities, None, late)

    def _send_document(self, params: Params) -> JSON:
        chat = self._resolve_chat(params.chat_id())
        late = self._check_faults("senddocument", chat)
        self._check_access(chat)
        upload = params.files.get("document")
        if upload is None:
            reference = params.get_str("document") or ""
            if reference.startswith("attach://"):
                upload = params.files.get(reference[len("attach://") :])
            if upload is None:
                if not reference:
                    raise bad_request("there is no document in the request")
                if reference in self._files:
                    document = self._files[reference]
                elif reference.startswith(("http://", "https://")):
                    raise bad_request("failed to get HTTP URL content")
                else:
                    raise bad_request("wrong file identifier/HTTP URL specified")
        if upload is not None:
            if not upload.data:
                raise bad_request("file must be non-empty")
            if len(upload.data) > MAX_UPLOAD_SIZE:
                raise ApiError(413, "Request Entity Too Large")
            mime = upload.content_type
            if mime in ("", "application/octet-stream"):
                mime = mimetypes.guess_type(upload.filename)[0] or mime
            document = self.add_file(upload.data, upload.filename or "document", mime)
        caption = params.get_str("caption")
        plain, entities = self._parse_text(
            caption,
            params.get_str("parse_mode"),
            params.get_json("caption_entities"),
            caption=True,
        )
        return self._deliver(
            "sendDocument", params, chat, caption or "", plain, entities, document, late
        )

    def _deliver(
        self,
        method: str,
        params: Params,
        chat: ChatState,
        raw_text: str,
        plain: str,
        entities: list[JSON],
        document: StoredFile | None,
        late: Fault | None,
    ) -> JSON:
        thread_id = self._thread_id(params, chat)
        reply_to, replied = self._reply_to(params, chat)
        markup = params.get_object("reply_markup")
        self._check_markup(markup)
        preview = params.get_object("link_preview_options") or {}
        self._check_flood(method.lower(), chat)
        sent = SentMessage(
            chat_id=chat.id,
            message_id=chat.take_message_id(),
            method=method,
            text=plain,
            raw_text=raw_text,
            parse_mode=params.get_str("parse_mode"),
            entities=entities,
            thread_id=thread_id,
            reply_to=reply_to,
            disable_notification=params.get_bool("disable_notification"),
            link_preview_disabled=bool(preview.get("is_disabled"))
            or params.get_bool("disable_web_page_preview"),
            reply_markup=markup,
            document=document,
            time=time.time(),
            monotonic=self.clock(),
            params=params.as_dict(),
        )
        message = self._message_json(sent, chat, replied)
        chat.messages[sent.message_id] = _Message(sent.message_id, message, True, sent)
        self._changed.notify_all()
        if late is not None:
            raise self._server_error(late)
        return message

    def _own_message(self, params: Params, chat: ChatState) -> _Message:
        if params.has("inline_message_id"):
            raise bad_request("message to edit not found")
        message = chat.messages.get(params.message_id())
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if message.sent is None:
            raise bad_request("message can't be edited")
        return message

    def _edit_message_text(self, params: Params) -> JSON:
        chat = self._resolve_chat(params.chat_id())
        self._check_faults("editmessagetext", chat)
        self._check_access(chat)
        message = self._own_message(params, chat)
        sent = message.sent
        assert sent is not None
        if sent.document is not None:
            raise bad_request("there is no text in the message to edit")
        text = params.get_str("text")
        if text is None:
            raise bad_request("message text is empty")
        parse_mode = params.get_str("parse_mode")
        plain, entities = self._parse_text(
            text, parse_mode, params.get_json("entities"), caption=False
        )
        markup = params.get_object("reply_markup")
        self._check_markup(markup)
        if plain == sent.text and entities == sent.entities and markup == sent.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        sent.edits.append(sent.raw_text)
        sent.raw_text = text
        sent.text = plain
        sent.entities = entities
        sent.parse_mode = parse_mode
        sent.reply_markup = markup
        preview = params.get_object("link_preview_options")
        if preview is not None:
            sent.link_preview_disabled = bool(preview.get("is_disabled"))
        message.json = self._message_json(sent, chat, None)
        self._changed.notify_all()
        return message.json

    def _edit_message_reply_markup(self, params: Params) -> JSON:
        chat = self._resolve_chat(params.chat_id())
        self._check_faults("editmessagereplymarkup", chat)
        self._check_access(chat)
        message = self._own_message(params, chat)
        sent = message.sent
        assert sent is not None
        markup = params.get_object("reply_markup")
        self._check_markup(markup)
        if (markup or None) == (sent.reply_markup or None):
            raise ApiError(400, NOT_MODIFIED)
        sent.reply_markup = markup
        sent.edits.append(sent.raw_text)
        message.json = self._message_json(sent, chat, None)
        self._changed.notify_all()
        return message.json

    def _delete_message(self, params: Params) -> bool:
        chat = self._resolve_chat(params.chat_id())
        self._check_faults("deletemessage", chat)
        self._check_access(chat)
        message = chat.messages.get(params.message_id())
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        if not message.from_bot and chat.type != "private" and not chat.bot_is_admin:
            raise bad_request("message can't be deleted")
        message.deleted = True
        if message.sent is not None:
            message.sent.deleted = True
        self._changed.notify_all()
        return True

    def _send_chat_action(self, params: Params) -> bool:
        chat = self._resolve_chat(params.chat_id())
        self._check_faults("sendchataction", chat)
        self._check_access(chat)
        action = params.get_str("action")
        if not action:
            raise bad_request("action is empty")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._thread_id(params, chat)
        return True

    def _answer_callback_query(self, params: Params) -> bool:
        query_id = params.get_str("callback_query_id") or ""
        query = self.callback_answers.get(query_id)
        if query is None or query.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get_str("text")
        if text is not None and len(text) > MAX_CALLBACK_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        query.text = text
        query.show_alert = params.get_bool("show_alert")
        query.url = params.get_str("url")
        query.cache_time = params.get_int("cache_time")
        self._changed.notify_all()
        return True

    # ---------------------------------------------------------------- methods: files

    def _get_file(self, params: Params) -> JSON:
        file_id = params.get_str("file_id") or ""
        stored = self._files.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_SIZE:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    # ---------------------------------------------------------------- methods: chats

    def _get_chat(self, params: Params) -> JSON:
        chat = self._resolve_chat(params.chat_id())
        self._check_faults("getchat", chat)
        if chat.type != "private" and (chat.blocked or not chat.bot_is_member):
            raise ApiError(403, self._forbidden_description(chat))
        info = chat.json()
        info.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        return info

    def _bot_status(self, chat: ChatState) -> str:
        if chat.blocked:
            return "kicked"
        if not chat.bot_is_member:
            return "left"
        if chat.type == "private":
            return "member"
        return "administrator" if chat.bot_is_admin else "member"

    def _member_json(self, chat: ChatState, user: UserState, status: str) -> JSON:
        member: JSON = {"status": status, "user": user.json()}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": True,
                    "can_restrict_members": True,
                    "can_promote_members": False,
                    "can_change_info": True,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                }
            )
            if chat.type == "channel":
                member.update({"can_post_messages": True, "can_edit_messages": True})
            else:
                member["can_pin_messages"] = True
            if chat.is_forum:
                member["can_manage_topics"] = True
        elif status == "kicked":
            member["until_date"] = 0
        return member

    def _user_status(self, chat: ChatState, user_id: int) -> str:
        if user_id == self.bot_id:
            return self._bot_status(chat)
        if chat.type == "private":
            return "member" if user_id == chat.id else "left"
        if user_id == chat.creator:
            return "creator"
        if user_id in chat.admins:
            return "administrator"
        return "member" if user_id in chat.members else "left"

    def _get_chat_member(self, params: Params) -> JSON:
        chat = self._resolve_chat(params.chat_id())
        self._check_faults("getchatmember", chat)
        user_id = params.get_int("user_id")
        if user_id is None:
            raise bad_request("user_id is empty")
        if user_id == self.bot_id:
            user = self._bot_user()
        else:
            found = self._users.get(user_id)
            if found is None:
                raise bad_request("user not found")
            user = found
        return self._member_json(chat, user, self._user_status(chat, user_id))

    def _get_chat_administrators(self, params: Params) -> list[JSON]:
        chat = self._resolve_chat(params.chat_id())
        self._check_faults("getchatadministrators", chat)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        if chat.blocked or not chat.bot_is_member:
            raise ApiError(403, self._forbidden_description(chat))
        out = []
        for user_id in chat.admins:
            user = self._users.get(user_id) or self.add_user(user_id)
            out.append(self._member_json(chat, user, self._user_status(chat, user_id)))
        if chat.bot_is_admin:
            out.append(self._member_json(chat, self._bot_user(), "administrator"))
        return out
