"""Pure payload builders for outgoing webhooks (Slack, Discord, Mattermost, Teams, Matrix).

Every builder returns a list of JSON-ready bodies, each within its platform's limits
(see ``/work/shared/reference/chat-platforms.md``). Entries are split only between facts;
a fact is cut only when it alone exceeds a container limit, and then at a word boundary
into consecutive lines, so no text is lost. Nothing here does I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from digests.labels import labels
from digests.models import DigestEntry, FactOut, SourceRef
from digests.render import group_facts

T = TypeVar("T")
Payload = dict[str, Any]

SLACK_HEADER_LIMIT = 150
SLACK_SECTION_LIMIT = 3000
SLACK_BLOCK_LIMIT = 50
SLACK_TEXT_LIMIT = 3000
DISCORD_CONTENT_LIMIT = 2000
DISCORD_TITLE_LIMIT = 256
DISCORD_DESCRIPTION_LIMIT = 4096
DISCORD_EMBED_LIMIT = 10
DISCORD_TOTAL_LIMIT = 6000
MATTERMOST_LIMIT = 16383
TEAMS_LIMIT = 28 * 1000  # bytes of serialized JSON; 28 KB, read conservatively
MATRIX_LIMIT = 32 * 1000  # bytes of serialized JSON; 32 KB, read conservatively
ADAPTIVE_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
ADAPTIVE_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"

_DISCORD_SPECIAL = re.compile(r"([\\`*_~|>#\[\]()<-])")
_MD_SPECIAL = re.compile(r"([\\`*_~|>#\[\]()<!])")


# --- generic helpers -------------------------------------------------------------------


def _truncate(text: str, limit: int) -> str:
    """Headlines only (never facts): shorten to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _fit_escaped(text: str, escape: Callable[[str], str], limit: int) -> str:
    """``escape(text)`` within ``limit`` characters, shortening the raw text (never an escape)."""
    escaped = escape(text)
    keep = len(text)
    while len(escaped) > limit and keep > 0:
        keep -= max(1, (len(escaped) - limit) // 2)
        escaped = escape(text[: max(keep, 0)].rstrip()) + "…"
    return escaped


def _wrap(tokens: Sequence[str], limit: int, sep: str = " ") -> list[str]:
    """Join atomic ``tokens`` into as few lines of at most ``limit`` characters as possible.

    Only a single token longer than ``limit`` (a pathological 'word') is cut hard.
    """
    lines: list[str] = []
    current = ""
    for token in tokens:
        while len(token) > limit:
            if current:
                lines.append(current)
                current = ""
            lines.append(token[:limit])
            token = token[limit:]
        if not token:
            continue
        candidate = f"{current}{sep}{token}" if current else token
        if len(candidate) <= limit:
            current = candidate
        else:
            lines.append(current)
            current = token
    if current:
        lines.append(current)
    return lines


def _pack(units: Sequence[T], fits: Callable[[list[T]], bool]) -> list[list[T]]:
    """Greedy packing of ``units`` in order into chunks for which ``fits`` holds.

    A unit that does not fit even alone gets a chunk of its own (callers make units small
    enough that this never happens).
    """
    chunks: list[list[T]] = []
    current: list[T] = []
    for unit in units:
        if current and not fits([*current, unit]):
            chunks.append(current)
            current = []
        current.append(unit)
    if current:
        chunks.append(current)
    return chunks


def _fact_units(
    entry: DigestEntry,
    language: str,
    *,
    label: Callable[[str], str],
    text: Callable[[str], str],
    link: Callable[[SourceRef], str],
    bullet: str,
    limit: int,
) -> list[str]:
    """Lines for an entry's facts grouped by type, each a unit for packing.

    A group label stays glued to the first fact of its group; a fact too long for
    ``limit`` is wrapped into several units at word boundaries.
    """
    units: list[str] = []
    for group_label, facts in group_facts(entry.facts, language):
        for index, fact in enumerate(facts):
            pieces = _fact_pieces(fact, text=text, link=link, bullet=bullet, limit=limit)
            if index == 0:
                head = label(group_label)
                if len(head) + 1 + len(pieces[0]) <= limit:
                    pieces[0] = f"{head}\n{pieces[0]}"
                else:
                    units.append(head)
            units.extend(pieces)
    return units


def _fact_pieces(
    fact: FactOut,
    *,
    text: Callable[[str], str],
    link: Callable[[SourceRef], str],
    bullet: str,
    limit: int,
) -> list[str]:
    tokens = [text(word) for word in fact.text.split()]
    links = [link(src) for src in fact.sources]
    if links:
        tokens.append("—")
        tokens.extend(f"{lnk}," for lnk in links[:-1])
        tokens.append(links[-1])
    line = bullet + " ".join(tokens)
    if len(line) <= limit:
        return [line]
    wrapped = _wrap(tokens, limit - len(bullet))
    return [bullet + wrapped[0], *(" " * len(bullet) + w for w in wrapped[1:])]


def _source_units(
    entry: DigestEntry,
    language: str,
    *,
    label: Callable[[str], str],
    link: Callable[[SourceRef], str],
    name: Callable[[str], str],
    limit: int,
) -> list[str]:
    names = labels(language)
    units: list[str] = []
    if entry.sources:
        tokens = [label(names["sources"] + ":")]
        tokens += [f"{link(s)}," for s in entry.sources[:-1]] + [link(entry.sources[-1])]
        units.extend(_wrap(tokens, limit))
    if entry.also_reported_by:
        tokens = [label(names["also_reported_by"] + ":")]
        rest = entry.also_reported_by
        tokens += [f"{name(s.name)}," for s in rest[:-1]] + [name(rest[-1].name)]
        units.extend(_wrap(tokens, limit))
    return units


def _heading(entry: DigestEntry, language: str, continued: bool = False) -> str:
    names = labels(language)
    status = names.get(entry.status, entry.status)
    suffix = f" ({names['continued']})" if continued else ""
    return f"{status}: {entry.title}{suffix}"


def _summary(entry: DigestEntry, language: str) -> str:
    names = labels(language)
    return f"{_heading(entry, language)} ({len(entry.facts)} {names['facts']})"


def _joined_within(limit: int) -> Callable[[list[str]], bool]:
    """A ``fits`` test: the lines joined by newlines are at most ``limit`` characters."""

    def fits(chunk: list[str]) -> bool:
        return len("\n".join(chunk)) <= limit

    return fits


def _json_size(payload: Payload) -> int:
    return len(json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def _safe_url(url: str) -> str:
    """Percent-encode characters that would break link syntax; keep the URL otherwise."""
    return quote(url, safe=":/?#@!$&'*+,;=%~-._[]")


# --- Slack -----------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """mrkdwn escaping: only ``&``, ``<`` and ``>`` (Slack's control characters)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(source: SourceRef) -> str:
    url = _safe_url(source.url).replace("|", "%7C")
    name = slack_escape(source.name).replace("|", "¦")
    return f"<{slack_escape(url)}|{name}>"


def _slack_header(entry: DigestEntry, language: str, continued: bool) -> dict[str, Any]:
    text = _truncate(_heading(entry, language, continued), SLACK_HEADER_LIMIT)
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _slack_section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def slack_payload(entries: Sequence[DigestEntry], language: str) -> list[Payload]:
    """Slack incoming-webhook bodies (Block Kit), one or more per entry."""
    payloads: list[Payload] = []
    for entry in entries:
        units = _fact_units(
            entry,
            language,
            label=lambda s: f"*{slack_escape(s)}*",
            text=slack_escape,
            link=slack_link,
            bullet="• ",
            limit=SLACK_SECTION_LIMIT,
        )
        units += _source_units(
            entry,
            language,
            label=lambda s: f"_{slack_escape(s)}_",
            link=slack_link,
            name=slack_escape,
            limit=SLACK_SECTION_LIMIT,
        )
        sections = [
            "\n".join(chunk) for chunk in _pack(units, _joined_within(SLACK_SECTION_LIMIT))
        ] or [slack_escape(_summary(entry, language))]
        fallback = _fit_escaped(_summary(entry, language), slack_escape, SLACK_TEXT_LIMIT)
        per_payload = SLACK_BLOCK_LIMIT - 1  # the header block
        for number, start in enumerate(range(0, len(sections), per_payload)):
            blocks = [_slack_header(entry, language, continued=number > 0)]
            blocks += [_slack_section(s) for s in sections[start : start + per_payload]]
            payloads.append({"text": fallback, "blocks": blocks})
    return payloads


# --- Discord ---------------------------------------------------------------------------


def discord_escape(text: str) -> str:
    """Backslash-escape Discord markdown (and mentions/links starters) in plain text."""
    return _DISCORD_SPECIAL.sub(r"\\\1", text).replace("@", "@\u200b")


def discord_link(source: SourceRef) -> str:
    url = _safe_url(source.url).replace("(", "%28").replace(")", "%29")
    return f"[{discord_escape(source.name)}]({url})"


def _first_url(entry: DigestEntry) -> str | None:
    if entry.sources:
        return _safe_url(entry.sources[0].url)
    for fact in entry.facts:
        if fact.sources:
            return _safe_url(fact.sources[0].url)
    return None


def _embed_size(embed: dict[str, Any]) -> int:
    return len(embed.get("title", "")) + len(embed.get("description", ""))


def discord_payload(entries: Sequence[DigestEntry], language: str) -> list[Payload]:
    """Discord webhook bodies with embeds, one or more per entry."""
    payloads: list[Payload] = []
    for entry in entries:
        units = _fact_units(
            entry,
            language,
            label=lambda s: f"**{discord_escape(s)}**",
            text=discord_escape,
            link=discord_link,
            bullet="• ",
            limit=DISCORD_DESCRIPTION_LIMIT,
        )
        units += _source_units(
            entry,
            language,
            label=lambda s: f"*{discord_escape(s)}*",
            link=discord_link,
            name=discord_escape,
            limit=DISCORD_DESCRIPTION_LIMIT,
        )
        url = _first_url(entry)
        title = _fit_escaped(_heading(entry, language), discord_escape, DISCORD_TITLE_LIMIT)
        more = _fit_escaped(
            _heading(entry, language, continued=True), discord_escape, DISCORD_TITLE_LIMIT
        )
        descriptions = [
            "\n".join(c) for c in _pack(units, _joined_within(DISCORD_DESCRIPTION_LIMIT))
        ]
        embeds: list[dict[str, Any]] = []
        for index, description in enumerate(descriptions or [""]):
            embed: dict[str, Any] = {"title": title if index == 0 else more}
            if description:
                embed["description"] = description
            if url:
                embed["url"] = url
            embeds.append(embed)

        def fits(chunk: list[dict[str, Any]]) -> bool:
            total = sum(_embed_size(e) for e in chunk)
            return len(chunk) <= DISCORD_EMBED_LIMIT and total <= DISCORD_TOTAL_LIMIT

        summary = _fit_escaped(_summary(entry, language), discord_escape, DISCORD_CONTENT_LIMIT - 4)
        content = f"**{summary}**"
        for number, chunk in enumerate(_pack(embeds, fits)):
            payloads.append(
                {
                    "content": content if number == 0 else "",
                    "embeds": chunk,
                    "allowed_mentions": {"parse": []},
                }
            )
    return payloads


# --- Mattermost ------------------------------------------------------------------------


def markdown_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def markdown_link(source: SourceRef) -> str:
    url = _safe_url(source.url).replace("(", "%28").replace(")", "%29")
    return f"[{markdown_escape(source.name)}]({url})"


def mattermost_payload(entries: Sequence[DigestEntry], language: str) -> list[Payload]:
    """Mattermost incoming-webhook bodies ``{"text": markdown}``, one or more per entry."""
    payloads: list[Payload] = []
    for entry in entries:
        first = f"#### {markdown_escape(_heading(entry, language))}"
        again = f"#### {markdown_escape(_heading(entry, language, continued=True))}"
        head = max(len(first), len(again)) + 2
        limit = MATTERMOST_LIMIT - head
        units = _fact_units(
            entry,
            language,
            label=lambda s: f"\n**{markdown_escape(s)}**",  # blank line ends a list
            text=markdown_escape,
            link=markdown_link,
            bullet="- ",
            limit=limit,
        )
        units += _source_units(
            entry,
            language,
            label=lambda s: f"\n*{markdown_escape(s)}*",
            link=markdown_link,
            name=markdown_escape,
            limit=limit,
        )
        chunks = _pack(units, _joined_within(limit)) or [[]]
        for number, chunk in enumerate(chunks):
            text = "\n\n".join([first if number == 0 else again, "\n".join(chunk)]).strip()
            payloads.append({"text": text})
    return payloads


# --- Microsoft Teams (Workflows, Adaptive Card 1.2) ------------------------------------


def _teams_body(entry: DigestEntry, language: str, units: list[str], continued: bool) -> Payload:
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": markdown_escape(_heading(entry, language, continued)),
            "size": "Large",
            "weight": "Bolder",
            "wrap": True,
        }
    ]
    body += [{"type": "TextBlock", "text": u, "wrap": True} for u in units]
    card = {"$schema": ADAPTIVE_SCHEMA, "type": "AdaptiveCard", "version": "1.2", "body": body}
    return {
        "type": "message",
        "attachments": [{"contentType": ADAPTIVE_CONTENT_TYPE, "content": card}],
    }


def teams_payload(entries: Sequence[DigestEntry], language: str) -> list[Payload]:
    """Teams Workflows webhook bodies carrying an Adaptive Card 1.2, each ≤ 28 KB."""
    payloads: list[Payload] = []
    line_limit = 8000  # characters per TextBlock; keeps one block far below 28 KB
    for entry in entries:
        units = _fact_units(
            entry,
            language,
            label=lambda s: f"**{markdown_escape(s)}**",
            text=markdown_escape,
            link=markdown_link,
            bullet="- ",
            limit=line_limit,
        )
        units += _source_units(
            entry,
            language,
            label=lambda s: f"*{markdown_escape(s)}*",
            link=markdown_link,
            name=markdown_escape,
            limit=line_limit,
        )

        def teams_fits(chunk: list[str], entry: DigestEntry = entry) -> bool:
            return _json_size(_teams_body(entry, language, chunk, True)) <= TEAMS_LIMIT

        chunks = _pack(units, teams_fits) or [[]]
        payloads += [_teams_body(entry, language, c, n > 0) for n, c in enumerate(chunks)]
    return payloads


# --- Matrix ----------------------------------------------------------------------------


def _matrix_link_html(source: SourceRef) -> str:
    href = html.escape(source.url, quote=True)
    return f'<a href="{href}">{html.escape(source.name, quote=False)}</a>'


def _matrix_link_plain(source: SourceRef) -> str:
    return f"{source.name} <{source.url}>"


def _matrix_event(head: tuple[str, str], units: list[tuple[str, str]]) -> Payload:
    plain = "\n".join([head[0], *(u[0] for u in units)])
    rich = "<br>\n".join([head[1], *(u[1] for u in units)])
    return {
        "msgtype": "m.text",
        "body": plain,
        "format": "org.matrix.custom.html",
        "formatted_body": rich,
    }


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


Pair = tuple[str, str]  # (plain, HTML)


def _wrap_pairs(tokens: Sequence[Pair], limit: int) -> list[Pair]:
    """Like ``_wrap`` for (plain, HTML) token pairs, breaking both at the same words."""
    lines: list[Pair] = []
    plain: list[str] = []
    rich: list[str] = []
    for token in tokens:
        size = max(len(" ".join([*plain, token[0]])), len(" ".join([*rich, token[1]])))
        if plain and size > limit:
            lines.append((" ".join(plain), " ".join(rich)))
            plain, rich = [], []
        plain.append(token[0])
        rich.append(token[1])
    if plain:
        lines.append((" ".join(plain), " ".join(rich)))
    return lines


def _link_pairs(sources: Sequence[SourceRef]) -> list[Pair]:
    pairs = [(_matrix_link_plain(s), _matrix_link_html(s)) for s in sources]
    return [(p + ",", h + ",") for p, h in pairs[:-1]] + pairs[-1:]


def _matrix_units(entry: DigestEntry, language: str, limit: int) -> list[Pair]:
    units: list[Pair] = []
    for group_label, facts in group_facts(entry.facts, language):
        units.append((group_label, f"<b>{_esc(group_label)}</b>"))
        for fact in facts:
            tokens = [(w, _esc(w)) for w in fact.text.split()]
            if fact.sources:
                tokens += [("—", "—"), *_link_pairs(fact.sources)]
            tokens[0] = ("• " + tokens[0][0], "• " + tokens[0][1])
            units.extend(_wrap_pairs(tokens, limit))
    names = labels(language)
    if entry.sources:
        head = names["sources"] + ":"
        units.extend(
            _wrap_pairs([(head, f"<i>{_esc(head)}</i>"), *_link_pairs(entry.sources)], limit)
        )
    if entry.also_reported_by:
        head = names["also_reported_by"] + ":"
        rest = [s.name for s in entry.also_reported_by]
        names_ = [(n + ",", _esc(n) + ",") for n in rest[:-1]] + [(rest[-1], _esc(rest[-1]))]
        units.extend(_wrap_pairs([(head, f"<i>{_esc(head)}</i>"), *names_], limit))
    return units


def matrix_payload(entries: Sequence[DigestEntry], language: str) -> list[Payload]:
    """Matrix ``m.room.message`` contents with plain and HTML bodies, each ≤ 32 KB."""
    payloads: list[Payload] = []
    for entry in entries:
        units = _matrix_units(entry, language, limit=4000)
        heads = [
            (_heading(entry, language, c), f"<h4>{_esc(_heading(entry, language, c))}</h4>")
            for c in (False, True)
        ]

        def matrix_fits(chunk: list[Pair], head: Pair = heads[1]) -> bool:
            return _json_size(_matrix_event(head, chunk)) <= MATRIX_LIMIT

        chunks = _pack(units, matrix_fits)
        for number, chunk in enumerate(chunks or [[]]):
            payloads.append(_matrix_event(heads[min(number, 1)], chunk))
    return payloads


# --- Signatures ------------------------------------------------------------------------


def standard_webhooks_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``webhook-signature`` value per Standard Webhooks: ``v1,<base64 HMAC-SHA256>``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def github_signature(secret: bytes, body: bytes) -> str:
    """``X-Hub-Signature-256`` value: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
