"""OPML feed lists in and out (pure: bytes in, feeds out, and back).

Parsing goes through defusedxml with DTDs forbidden: an OPML file comes from a
chat user, and entity expansion ("billion laughs") or external entities must
not reach the parser. Only outlines with an ``xmlUrl`` count as feeds;
categories (outlines that only nest others) are walked through.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from urllib.parse import urlsplit

import defusedxml.ElementTree as SafeET  # type: ignore[import-untyped]
from defusedxml import DefusedXmlException

from digests.errors import DigestsError

MAX_FEEDS = 1000
MAX_URL = 2048
MAX_TITLE = 200


class OpmlError(DigestsError):
    """The document is not a usable OPML file; the message is fit to show the user."""


def valid_feed_url(url: str) -> bool:
    """An absolute http(s) URL with a host, short enough to store and show."""
    if not url or len(url) > MAX_URL or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _attr(element: ET.Element, name: str) -> str:
    # Real-world exporters disagree on case (xmlUrl, xmlurl, XMLURL).
    for key, value in element.attrib.items():
        if key.lower() == name:
            return value.strip()
    return ""


def parse_opml(data: bytes, *, max_feeds: int = MAX_FEEDS) -> list[tuple[str, str]]:
    """``(url, title)`` of every feed outline, in document order, without repeats.

    Outlines whose ``xmlUrl`` is not an http(s) URL are skipped; more than
    ``max_feeds`` feeds is refused rather than silently truncated.
    """
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise OpmlError("refused: the file declares a DTD or entities") from None
    except ET.ParseError as exc:
        raise OpmlError(f"not well-formed XML ({exc})") from None
    if root.tag.lower() != "opml":
        raise OpmlError(f"not an OPML document (root element <{root.tag}>)")
    feeds: list[tuple[str, str]] = []
    seen: set[str] = set()
    for outline in root.iter():
        if not isinstance(outline.tag, str) or outline.tag.lower() != "outline":
            continue
        url = _attr(outline, "xmlurl")
        if not valid_feed_url(url) or url in seen:
            continue
        if len(feeds) >= max_feeds:
            raise OpmlError(f"more than {max_feeds} feeds")
        seen.add(url)
        title = _attr(outline, "title") or _attr(outline, "text")
        feeds.append((url, title[:MAX_TITLE]))
    return feeds


def build_opml(feeds: Iterable[tuple[str, str]], *, title: str = "digestbot feeds") -> bytes:
    """An OPML 2.0 document listing ``(url, title)`` feeds (UTF-8, with declaration)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for url, name in feeds:
        label = name or url
        ET.SubElement(body, "outline", type="rss", text=label, title=label, xmlUrl=url)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
