"""Bytes in, Articles out: RSS 0.9x/1.0/2.0, Atom 0.3/1.0, JSON Feed 1.x and JSONL archives.

Nothing here raises on bad input: a broken feed becomes a ``ParsedFeed`` with
an ``error`` string, a broken JSONL line becomes a ``"line N: reason"`` report.
Every path goes through ``build_article`` so all articles are normalised alike.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from feedparser.exceptions import NonXMLContentType

from digests.boilerplate import remove_boilerplate
from digests.errors import ArticleError
from digests.html_text import html_to_line, html_to_text, normalize_text
from digests.language import UNDETERMINED, detect_language, normalize_language_tag
from digests.models import Article
from digests.urls import canonicalize_url

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# Below either limit the feed most likely carries only a teaser of the article.
TEASER_MAX_CHARS = 400
TEASER_MAX_SENTENCES = 3
MAX_TITLE_CHARS = 1_000
# Dates outside [EARLIEST_DATE, now + MAX_FUTURE] are typos or placeholders.
EARLIEST_DATE = datetime(1990, 1, 1, tzinfo=UTC)
MAX_FUTURE = timedelta(days=1)

# Internal entities that are short literals cannot amplify; anything else is refused.
MAX_ENTITY_DECLARATIONS = 64
MAX_ENTITY_EXPANSION = 1_000_000  # characters
_SAFE_ENTITY = re.compile(
    rb"<!ENTITY\s+([A-Za-z_][\w.-]*)\s+"
    rb"(?:\"([^\"&%<]{0,64}|&#(?:\d{1,7}|x[0-9A-Fa-f]{1,6});)\""
    rb"|'([^'&%<]{0,64}|&#(?:\d{1,7}|x[0-9A-Fa-f]{1,6});)')\s*>"
)
_EBCDIC_MARKER = b"\x4c\x6f\xa7\x94"
_HTML_PAGE = re.compile(rb"<!doctype\s+html|<html[\s>]", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?…][\"'“”»«)\]]*(?:\s|$)")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


@dataclass(slots=True)
class ParsedFeed:
    """What one fetched document yielded; ``error`` is set when something was wrong.

    A feed that parsed only partly (e.g. not well-formed but recoverable) has
    both articles and an error.
    """

    title: str
    articles: list[Article] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Content:
    """One candidate body of an entry; ``html`` says whether ``value`` is markup."""

    value: str
    html: bool = True


# --- the shared constructor -------------------------------------------------------


def build_article(
    *,
    source: str,
    now: datetime,
    title: str = "",
    contents: Sequence[Content] = (),
    url: str = "",
    guid: str = "",
    article_id: str | None = None,
    published: object = None,
    language: object = None,
    title_is_html: bool = True,
    base_url: str | None = None,
) -> Article:
    """Normalise one entry into an ``Article``; raises ``ArticleError`` if it has no substance.

    ``contents`` are the candidate bodies, richest source first; the one that
    yields the most text wins (ties go to the earlier one). ``published`` may be
    a datetime, a UTC ``struct_time``, epoch seconds or a date string; when it
    is missing or implausible, ``now`` is used. ``language`` is the declared
    language tag; when it is not a valid ISO 639-1 code the text decides.
    """
    now = _aware(now)
    clean_title = _clean_title(title, is_html=title_is_html)
    text = _richest_text(contents)
    link = _http_url(url, base_url)
    if not clean_title and not text and not link:
        raise ArticleError("entry has no title, text or link")
    canonical = canonicalize_url(link) if link else ""
    when = parse_published(published, now=now)
    return Article(
        id=article_id or _stable_id(source, guid, canonical, clean_title, published, text),
        url=link,
        canonical_url=canonical,
        source=source,
        title=clean_title,
        published=when,
        language=normalize_language_tag(language) or _detect(clean_title, text),
        text=text,
        guid=guid.strip(),
        teaser_only=is_teaser(text),
    )


def is_teaser(text: str) -> bool:
    """True when ``text`` is too short to be the whole article."""
    if len(text) < TEASER_MAX_CHARS:
        return True
    return len(_SENTENCE_END.findall(text)) < TEASER_MAX_SENTENCES


def parse_published(value: object, *, now: datetime) -> datetime:
    """``value`` as an aware UTC datetime, or ``now`` when it is missing or implausible."""
    now = _aware(now)
    parsed = _to_datetime(value)
    if parsed is None or parsed < EARLIEST_DATE or parsed > now + MAX_FUTURE:
        return now
    return parsed


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _to_datetime(value: object) -> datetime | None:
    try:
        if isinstance(value, datetime):
            return _aware(value)
        if isinstance(value, time.struct_time) or (
            isinstance(value, tuple) and len(value) >= 6 and all(isinstance(v, int) for v in value)
        ):
            # feedparser's *_parsed tuples are already in UTC.
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, tz=UTC)
        if isinstance(value, str):
            return _parse_date_string(value)
    except (ValueError, OverflowError, OSError, TypeError):
        return None
    return None


def _parse_date_string(value: str) -> datetime | None:
    text = value.strip()
    if not text:
        return None
    try:
        return _aware(datetime.fromisoformat(text))
    except ValueError:
        pass
    try:
        return _aware(parsedate_to_datetime(text))
    except (ValueError, TypeError, IndexError):
        pass
    # feedparser knows a zoo of historical feed date formats (W3C-DTF, Korean, Greek ...).
    parsed = feedparser.datetimes._parse_date(text)
    if parsed is None:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)


def _clean_title(title: str, *, is_html: bool) -> str:
    if not title:
        return ""
    line = html_to_line(title) if is_html else " ".join(normalize_text(title).split())
    return line[:MAX_TITLE_CHARS]


def _richest_text(contents: Iterable[Content]) -> str:
    raw = [
        html_to_text(c.value) if c.html else normalize_text(c.value) for c in contents if c.value
    ]
    # Longest first (stable, so ties keep the caller's priority). Cleaning only
    # shortens a text, so once a raw candidate is no longer than the best
    # cleaned one, nothing after it can win and need not be cleaned.
    raw.sort(key=len, reverse=True)
    best = ""
    for text in raw:
        if len(text) <= len(best):
            break
        cleaned = remove_boilerplate(text)
        if len(cleaned) > len(best):
            best = cleaned
    return best


def _http_url(url: str, base_url: str | None) -> str:
    """An absolute http(s) URL, or "" (relative links resolve against ``base_url``)."""
    url = url.strip() if isinstance(url, str) else ""
    if not url:
        return ""
    if base_url:
        try:
            url = urljoin(base_url, url)
        except ValueError:
            return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    # Links end up clickable in chats: never pass javascript:, data: or file: through.
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return url


def _stable_id(
    source: str, guid: str, canonical_url: str, title: str, published: object, text: str
) -> str:
    # Scoped by source: bare guids like "1234" are only unique within one feed.
    if guid.strip():
        key = f"guid:{guid.strip()}"
    elif canonical_url:
        key = f"url:{canonical_url}"
    else:
        # The raw date, not the parsed one: a missing date falls back to ``now``,
        # which would give the same entry a new id on every poll.
        key = f"title:{title}\x1f{_date_key(published)}\x1f{'' if title else text[:500]}"
    digest = hashlib.sha1(f"{source}\x00{key}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]


def _date_key(published: object) -> str:
    if isinstance(published, time.struct_time):
        return time.strftime("%Y-%m-%dT%H:%M:%S", published)
    if isinstance(published, datetime):
        return published.isoformat()
    return "" if published is None else str(published)


def _detect(title: str, text: str) -> str:
    sample = f"{title}\n{text}" if text else title
    return detect_language(sample) if sample else UNDETERMINED


# --- feeds ------------------------------------------------------------------------


def parse_feed(
    data: bytes,
    *,
    source: str,
    now: datetime,
    url: str | None = None,
    content_type: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ParsedFeed:
    """Parse an RSS, Atom, RDF or JSON Feed document; never raises.

    ``url`` is where the document came from (relative links resolve against
    it), ``content_type`` the HTTP header with its charset, which takes
    precedence over the document's own encoding declaration, as HTTP says.
    Documents over ``max_bytes`` are cut and parsed as far as they go.
    """
    try:
        return _parse_feed(bytes(data), source, _aware(now), url, content_type, max_bytes)
    except Exception as exc:
        # The contract is "never raises for any bytes": the parsers below are
        # third-party code fed hostile input, so a crash is reported, not raised.
        return ParsedFeed(title="", error=f"parser failure: {type(exc).__name__}: {exc}")


def _parse_feed(
    data: bytes,
    source: str,
    now: datetime,
    url: str | None,
    content_type: str | None,
    max_bytes: int,
) -> ParsedFeed:
    if not data.strip():
        return ParsedFeed(title="", error="empty document")
    notes: list[str] = []
    if len(data) > max_bytes:
        data = data[:max_bytes]
        notes.append(f"document larger than {max_bytes} bytes, truncated")
    if _looks_like_json(data, content_type):
        parsed = _parse_json_feed(data, source=source, now=now, url=url)
    else:
        parsed = _parse_xml_feed(data, source=source, now=now, url=url, content_type=content_type)
    if parsed.error:
        notes.append(parsed.error)
    parsed.error = "; ".join(notes) or None
    return parsed


def _looks_like_json(data: bytes, content_type: str | None) -> bool:
    head = data[:64]
    for bom in _BOMS:
        head = head.removeprefix(bom)
    head = head.replace(b"\x00", b"").lstrip()
    if head.startswith(b"{"):
        return True
    declared = (content_type or "").lower()
    return "json" in declared and not head.startswith(b"<")


def _parse_xml_feed(
    data: bytes, *, source: str, now: datetime, url: str | None, content_type: str | None
) -> ParsedFeed:
    refused = _screen_entities(data)
    if refused:
        return ParsedFeed(title="", error=refused)
    headers: dict[str, str] = {}
    if content_type:
        headers["content-type"] = content_type
    if url:
        headers["content-location"] = url
    # A BytesIO, never the bytes themselves: feedparser treats a bare string as
    # a URL or file name to open.
    result = feedparser.parse(
        io.BytesIO(_safe_charrefs(data)),
        response_headers=headers,
        sanitize_html=False,  # reduced to plain text anyway; lxml drops scripts and styles
        resolve_relative_uris=False,  # links inside the body are discarded with the markup
    )
    feed_info: Mapping[str, Any] = result.get("feed") or {}
    title_html = _is_html(feed_info.get("title_detail"))
    title = _clean_title(_str(feed_info.get("title")), is_html=title_html)
    base = url or _str(feed_info.get("link")) or None
    feed_language = feed_info.get("language")
    articles: list[Article] = []
    skipped = 0
    for entry in result.get("entries") or []:
        try:
            articles.append(_article_from_entry(entry, source, now, base, feed_language))
        except ArticleError:
            skipped += 1
    if content_type is None and isinstance(result.get("bozo_exception"), NonXMLContentType):
        # Without a declared type there is nothing to contradict; only a real
        # HTTP header saying text/html or text/plain is worth reporting.
        result["bozo"] = False
    error = _xml_error(result, data, articles, skipped)
    return ParsedFeed(title=title, articles=articles, error=error)


def _xml_error(
    result: Mapping[str, Any], data: bytes, articles: list[Article], skipped: int
) -> str | None:
    problem = _describe_bozo(result.get("bozo_exception")) if result.get("bozo") else None
    if articles:
        return problem
    if not result.get("version") and _HTML_PAGE.search(data[:4096]):
        return "not a feed: the document is an HTML page"
    if skipped:
        reason = f"no usable entries ({skipped} without title, text or link)"
        return f"{reason}; {problem}" if problem else reason
    if problem:
        return f"no entries; {problem}" if result.get("version") else f"not a feed: {problem}"
    return "no entries" if result.get("version") else "not a feed: no RSS, Atom or RDF root element"


def _describe_bozo(exc: object) -> str:
    if exc is None:
        return "malformed feed"
    message = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {message}" if message else name


def _article_from_entry(
    entry: Mapping[str, Any], source: str, now: datetime, base: str | None, feed_language: object
) -> Article:
    contents = [
        Content(_str(_get(c, "value")), html=_is_html(c))
        for c in _get(entry, "content") or []
        if isinstance(c, Mapping)
    ]
    summary_detail = _get(entry, "summary_detail")
    contents.append(Content(_str(_get(entry, "summary")), html=_is_html(summary_detail)))
    # Parsed tuples first; the raw text still keeps a title-based id stable.
    published = _first(entry, ("published_parsed", "updated_parsed", "created_parsed"))
    if not published:
        published = _first(entry, ("published", "updated", "created"))
    return build_article(
        source=source,
        now=now,
        title=_str(_get(entry, "title")),
        title_is_html=_is_html(_get(entry, "title_detail")),
        contents=contents,
        url=_entry_link(entry),
        guid=_str(_get(entry, "id")),
        published=published,
        language=_entry_language(entry, feed_language),
        base_url=base,
    )


def _entry_link(entry: Mapping[str, Any]) -> str:
    link = _str(_get(entry, "link"))
    if link:
        return link
    for candidate in _get(entry, "links") or []:
        if not isinstance(candidate, Mapping):
            continue
        href = _str(_get(candidate, "href"))
        if href and (_get(candidate, "rel") or "alternate") == "alternate":
            return href
    return ""


def _first(mapping: Mapping[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        value = _get(mapping, key)
        if value:
            return value
    return None


def _entry_language(entry: Mapping[str, Any], feed_language: object) -> object:
    candidates: list[object] = [_get(entry, "language")]
    for c in _get(entry, "content") or []:
        if isinstance(c, Mapping):
            candidates.append(_get(c, "language"))
    for key in ("summary_detail", "title_detail"):
        detail = _get(entry, key)
        if isinstance(detail, Mapping):
            candidates.append(_get(detail, "language"))
    candidates.append(feed_language)
    for candidate in candidates:
        if normalize_language_tag(candidate):
            return candidate
    return None


def _is_html(detail: object) -> bool:
    if not isinstance(detail, Mapping):
        return True
    kind = _str(detail.get("type")).lower()
    return kind != "text/plain"


def _get(mapping: Mapping[str, Any], key: str) -> Any:
    # dict.get, not FeedParserDict.get: the latter maps missing keys to aliases
    # (updated_parsed -> published_parsed) with a deprecation warning.
    return dict.get(mapping, key) if isinstance(mapping, dict) else mapping.get(key)


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _screen_entities(data: bytes) -> str | None:
    """Refuse entity declarations that could read files or expand exponentially."""
    view = data
    if data.startswith(_EBCDIC_MARKER):
        view = data.decode("cp037", "replace").encode("utf-8")
    elif b"\x00" in data[:4]:
        # UTF-16/32: dropping the zero bytes leaves the ASCII markup readable.
        view = data.replace(b"\x00", b"")
    declared = view.count(b"<!ENTITY")
    if not declared or b"<!DOCTYPE" not in view:
        return None
    safe = _SAFE_ENTITY.findall(view)
    if len(safe) != declared or declared > MAX_ENTITY_DECLARATIONS:
        return "entity declarations refused (only short literal internal entities are allowed)"
    # Short literals still amplify linearly ("&a;" -> 64 characters, a million times):
    # the expanded total is bounded too.
    expansion = sum(
        view.count(b"&" + name + b";") * (1 if (dq or sq).startswith(b"&#") else len(dq or sq))
        for name, dq, sq in safe
    )
    if expansion > MAX_ENTITY_EXPANSION:
        return (
            f"entity expansion refused ({expansion} characters, "
            f"at most {MAX_ENTITY_EXPANSION} allowed)"
        )
    return None


# A character reference to a lone surrogate or beyond U+10FFFF makes feedparser's
# loose parser raise (chr(c).encode), which would lose the whole feed for one bad
# character (found by fuzzing); such references become U+FFFD before parsing.
_CHARREF = re.compile(rb"&#([xX][0-9A-Fa-f]{1,12}|[0-9]{1,12});")
_WIDE_LAYOUTS = (  # (prefix of the document, codec without BOM, BOM to keep)
    (b"\xff\xfe\x00\x00", "utf-32-le", b"\xff\xfe\x00\x00"),
    (b"\x00\x00\xfe\xff", "utf-32-be", b"\x00\x00\xfe\xff"),
    (b"\xff\xfe", "utf-16-le", b"\xff\xfe"),
    (b"\xfe\xff", "utf-16-be", b"\xfe\xff"),
    (b"<\x00\x00\x00", "utf-32-le", b""),
    (b"\x00\x00\x00<", "utf-32-be", b""),
    (b"<\x00", "utf-16-le", b""),
    (b"\x00<", "utf-16-be", b""),
)


def _safe_charrefs(data: bytes) -> bytes:
    """``data`` with character references to surrogates or beyond U+10FFFF made U+FFFD."""
    for prefix, codec, bom in _WIDE_LAYOUTS:
        if data.startswith(prefix):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError:
                return data  # the parser reports the bad bytes itself
            fixed = _CHARREF.sub(_fix_charref, text.encode("utf-8", "surrogatepass"))
            return bom + fixed.decode("utf-8", "surrogatepass").encode(codec, "surrogatepass")
    return _CHARREF.sub(_fix_charref, data) if b"&#" in data else data


def _fix_charref(match: re.Match[bytes]) -> bytes:
    digits = match.group(1)
    code = int(digits[1:], 16) if digits[:1] in b"xX" else int(digits)
    if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return b"&#xFFFD;"
    return match.group(0)


# --- JSON Feed --------------------------------------------------------------------


def _parse_json_feed(data: bytes, *, source: str, now: datetime, url: str | None) -> ParsedFeed:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        return ParsedFeed(title="", error=f"invalid JSON: {exc}")
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        return ParsedFeed(title="", error="not a JSON Feed: no 'items' list")
    title = _clean_title(_str(document.get("title")), is_html=False)
    base = _str(document.get("home_page_url")) or url or _str(document.get("feed_url")) or None
    feed_language = document.get("language")
    articles: list[Article] = []
    problems: list[str] = []
    for index, item in enumerate(document["items"]):
        try:
            articles.append(_article_from_json_item(item, source, now, base, feed_language))
        except ArticleError as exc:
            problems.append(f"item {index}: {exc}")
    version = _str(document.get("version"))
    if not version.startswith("https://jsonfeed.org/version/"):
        problems.insert(0, f"unknown JSON Feed version {version!r}")
    if not articles and not problems:
        problems.append("no entries")
    return ParsedFeed(title=title, articles=articles, error="; ".join(problems[:10]) or None)


def _article_from_json_item(
    item: object, source: str, now: datetime, base: str | None, feed_language: object
) -> Article:
    if not isinstance(item, dict):
        raise ArticleError("not an object")
    raw_id = item.get("id")
    guid = str(raw_id) if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else ""
    contents = (
        Content(_str(item.get("content_html")), html=True),
        Content(_str(item.get("content_text")), html=False),
        Content(_str(item.get("summary")), html=False),
    )
    published = item.get("date_published") or item.get("date_modified")
    item_language = item.get("language")
    return build_article(
        source=source,
        now=now,
        title=_str(item.get("title")),
        title_is_html=False,
        contents=contents,
        url=_str(item.get("url")) or _str(item.get("external_url")),
        guid=guid,
        published=published if isinstance(published, str) else None,
        language=item_language if normalize_language_tag(item_language) else feed_language,
        base_url=base,
    )


# --- JSONL archives ---------------------------------------------------------------

_JSONL_STRING_FIELDS = ("url", "source", "title", "language", "text")


def parse_jsonl(data: bytes, *, source: str, now: datetime) -> tuple[list[Article], list[str]]:
    """Articles from a JSONL archive (one object per line) and ``"line N: reason"`` reports.

    Fields: ``id`` (required), ``url``, ``source`` (overrides ``source``),
    ``title``, ``published``, ``language`` (optional), ``text`` (plain text).
    """
    now = _aware(now)
    articles: list[Article] = []
    problems: list[str] = []
    for number, raw in enumerate(bytes(data).removeprefix(b"\xef\xbb\xbf").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            articles.append(_article_from_jsonl_line(raw, source, now))
        except ArticleError as exc:
            problems.append(f"line {number}: {exc}")
    return articles, problems


def _article_from_jsonl_line(raw: bytes, default_source: str, now: datetime) -> Article:
    try:
        record = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ArticleError("not valid UTF-8") from None
    except (ValueError, RecursionError) as exc:
        raise ArticleError(f"invalid JSON ({exc})") from None
    if not isinstance(record, dict):
        raise ArticleError("not a JSON object")
    raw_id = record.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or not str(raw_id).strip():
        raise ArticleError("missing or empty 'id'")
    for name in _JSONL_STRING_FIELDS:
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            raise ArticleError(f"'{name}' must be a string")
    published = record.get("published")
    if published is not None and (
        isinstance(published, bool) or not isinstance(published, str | int | float)
    ):
        raise ArticleError("'published' must be a date string or epoch seconds")
    text = record.get("text") or ""
    title = record.get("title") or ""
    if not title.strip() and not text.strip():
        raise ArticleError("no title and no text")
    return build_article(
        source=(record.get("source") or "").strip() or default_source,
        now=now,
        title=title,
        title_is_html=False,
        contents=(Content(text, html=False),),
        url=record.get("url") or "",
        guid=str(raw_id).strip(),
        article_id=str(raw_id).strip(),
        published=published,
        language=record.get("language"),
    )
