"""HTML to plain text: one line per paragraph, entities decoded, markup and scripts gone."""

from __future__ import annotations

import html as html_lib
import re
import unicodedata

from lxml import etree  # type: ignore[import-untyped]
from lxml import html as lxml_html

# Elements whose content is never article text.
_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "head",
    "title",
    "svg",
    "math",
    "iframe",
    "object",
    "embed",
    "canvas",
    "select",
    "button",
    "nav",
)
# Elements that start and end a line of their own.
_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "html",
        "legend",
        "li",
        "main",
        "menu",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "tr",
        "ul",
    }
)
# Table cells sit side by side: a space keeps their words apart without a new line.
_CELL_TAGS = frozenset({"td", "th"})

# Invisible characters that split words for matching (soft hyphen is common in German news).
_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]")
# C0 controls other than tab and line breaks, noncharacters and lone surrogates
# (JSON can smuggle those in as escapes): never text, and they break UTF-8 later.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f\ufdd0-\ufdef\ud800-\udfff]")
# Marks a line break while the tree is serialised: a Unicode noncharacter, which
# lxml accepts but no text may contain (_CONTROL strips it from the input).
_BREAK = "\ufdd0"
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x0b\x0c\x85]")
# Form feed and vertical tab are whitespace to an HTML reader, but lxml refuses them in
# text it is given back (found by fuzzing): spaces before parsing.
_XML_UNSAFE_SPACE = re.compile("[\x0b\x0c]")

_PARSER = lxml_html.HTMLParser(
    encoding="utf-8",
    remove_comments=True,
    remove_pis=True,
    no_network=True,
    recover=True,
    default_doctype=False,
)

DEFAULT_MAX_CHARS = 200_000
# trafilatura works on whole pages; beyond this the page is mostly scripts and markup.
MAX_PAGE_CHARS = 3_000_000


def normalize_text(text: str) -> str:
    """Plain text with each line's whitespace collapsed and empty lines removed.

    Also NFC-normalises and removes invisible characters (soft hyphens, zero
    width spaces), so that the same words always compare equal downstream.
    """
    text = unicodedata.normalize("NFC", _CONTROL.sub("", _INVISIBLE.sub("", text)))
    text = _LINE_BREAKS.sub("\n", text)
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def html_to_text(html: str, *, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Turn an HTML fragment or page into plain text, one line per block.

    Input without any ``<`` is taken as plain text: its line breaks are kept
    (feeds often put plain text with newlines in HTML fields) and entities are
    decoded. Input longer than ``max_chars`` is cut before parsing.
    """
    if not html:
        return ""
    html = html[:max_chars]
    if "<" not in html:
        return normalize_text(html_lib.unescape(html))
    markup = _XML_UNSAFE_SPACE.sub(" ", _CONTROL.sub("", html))
    root = etree.fromstring(markup.encode("utf-8", "replace"), _PARSER)
    if root is None:
        return ""
    etree.strip_elements(root, *_DROP_TAGS, with_tail=False)
    _mark_breaks(root)
    text = etree.tostring(root, method="text", encoding="unicode")
    # Source newlines are plain whitespace in HTML; only the marked breaks end a line.
    text = text.replace("\r", " ").replace("\n", " ").replace(_BREAK, "\n")
    return normalize_text(text)


def _mark_breaks(root: etree._Element) -> None:
    # Seeding text/tail with separators lets libxml2 serialise the text in C,
    # several times faster than walking the tree in Python.
    for element in root.iter(*_BLOCK_TAGS, *_CELL_TAGS, "br"):
        tag = element.tag
        sep = " " if tag in _CELL_TAGS else _BREAK
        if tag != "br":
            element.text = sep + element.text if element.text else sep
        element.tail = sep + element.tail if element.tail else sep


def html_to_line(html: str, *, max_chars: int = 2_000) -> str:
    """Like ``html_to_text`` but on one line (for titles)."""
    return " ".join(html_to_text(html, max_chars=max_chars).split())


def extract_main_text(page_html: str, url: str | None) -> str | None:
    """The article body of a full web page via trafilatura, or None when none is found."""
    if not page_html or not page_html.strip():
        return None
    try:
        # Imported here: trafilatura is slow to import and only the page fetcher needs it.
        import trafilatura

        extracted = trafilatura.extract(
            page_html[:MAX_PAGE_CHARS],
            url=url,
            include_comments=False,
            include_tables=False,
            favor_precision=True,
        )
    except Exception:
        # trafilatura raises assorted parser errors on broken pages; a page
        # without extractable text is an expected outcome, not a failure.
        return None
    if not isinstance(extracted, str):
        return None
    text = normalize_text(extracted)
    return text or None
