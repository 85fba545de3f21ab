"""Hypothesis strategies for hostile input, and the fuzz settings shared by tests/test_fuzz_*.

The fuzz set runs inside ``make test`` with ``FUZZ_EXAMPLES`` examples per
property (default below, sized so the whole set stays well under 40 s on a
busy 2-core machine); ``make fuzz`` runs a longer soak with more examples and
prints Hypothesis's statistics (how many cases ran, how long they took).
"""

from __future__ import annotations

import functools
import json
import os
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any, ParamSpec
from xml.sax.saxutils import escape, quoteattr

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from digests.labels import FACT_TYPES
from digests.models import DigestEntry, FactOut, SourceRef
from tests.telegram_emulator import MAX_TEXT_LENGTH, parse_html, trim_text, utf16_len

P = ParamSpec("P")
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
# Cases run per property (generation, shrinking and replays alike), printed at the end of
# the test run by tests/conftest.py.
CASES: Counter[str] = Counter()

FUZZ = settings(
    max_examples=EXAMPLES,
    # Generous: one example taking seconds would itself be a denial-of-service bug.
    deadline=timedelta(seconds=5),
    # Nothing written to the shared working tree; a failure prints its reproduction.
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)


def counted(test: Callable[P, None]) -> Callable[P, None]:
    """Count the cases a property runs; goes between ``@given`` and the function."""

    @functools.wraps(test)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        CASES[test.__name__] += 1
        test(*args, **kwargs)

    return run


# Strings that broke or could break parsers and renderers: markup, entities, CDATA
# ends, control and direction characters, astral characters (2 UTF-16 units), BOMs.
NASTY = [
    "<script>alert(1)</script>",
    "<b><i>unclosed",
    "</a></b></i>",
    '<a href="javascript:alert(1)">x</a>',
    "&",
    "&amp;",
    "&lt;b&gt;",
    "&nbsp;",
    "&#0;",
    "&#xD800;",
    "&#1114112;",
    "&lol9;",
    "]]>",
    "<![CDATA[",
    "<!--",
    "-->",
    "<?xml version='1.0'?>",
    '<!DOCTYPE x [<!ENTITY a "b">]>',
    "\x00",
    "\x1b[31m",
    "\u202e",
    "\u200b",
    "\ufeff",
    "\u2028",
    "\r\n",
    "\t",
    "😀",
    "👩‍👩‍👧‍👦",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "e\u0301",
    "%s%n%x",
    "'\"`",
    "*_~`|>#[]()!-",
    "<@U123>",
    "@everyone",
    "<!channel>",
    "\\",
    "javascript:alert(1)",
    "data:text/html,<b>x</b>",
    "http://169.254.169.254/",
    "a" * 300,
    "ä" * 50,
    "x" * 5000,
]

nasty = st.sampled_from(NASTY)
# Any code point except lone surrogates, which no UTF-8 document can carry.
plain = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)
hostile_text = st.one_of(
    plain,
    nasty,
    st.lists(st.one_of(plain, nasty), min_size=1, max_size=6).map("".join),
)
words = st.lists(
    st.text("abcdefghijklmnopqrstuvwxyzäöüß ", min_size=1, max_size=12), min_size=1, max_size=30
).map(" ".join)
sentence_text = st.one_of(words, hostile_text)
urls = st.one_of(
    st.sampled_from(
        [
            "https://example.org/a?x=1&y=<2>|z",
            "http://news.example/artikel/1",
            "https://xn--mnchen-3ya.example/ü?q=ä",
            "javascript:alert(1)",
            "",
            "//evil.example/x",
            'https://x.example/"><script>',
            "https://x.example/" + "p" * 3000,
        ]
    ),
    hostile_text,
)
dates = st.one_of(
    st.sampled_from(
        [
            "Sat, 21 Nov 2026 10:00:00 GMT",
            "2026-11-21T10:00:00+01:00",
            "2026-13-45T99:99:99Z",
            "yesterday",
            "0",
            "9999-12-31T23:59:59Z",
            "Mon, 01 Jan 1900 00:00:00 +0000",
        ]
    ),
    plain,
)


# --- feeds ----------------------------------------------------------------------------


@st.composite
def xml_value(draw: st.DrawFn) -> str:
    """A field's content as it may appear in a feed: escaped, raw, CDATA or markup."""
    value = draw(sentence_text)
    how = draw(st.sampled_from(["escaped", "escaped", "raw", "cdata", "markup"]))
    if how == "escaped":
        return escape(value)
    if how == "cdata":
        return "<![CDATA[" + value + "]]>"
    if how == "markup":
        return f"<p>{escape(value)}</p><b>{escape(draw(sentence_text))}</b>"
    return value


@st.composite
def rss_documents(draw: st.DrawFn) -> bytes:
    items = []
    for _ in range(draw(st.integers(0, 6))):
        fields = []
        for tag in draw(
            st.lists(
                st.sampled_from(["title", "link", "description", "guid", "pubDate", "category"]),
                max_size=6,
            )
        ):
            value = escape(draw(urls)) if tag in ("link", "guid") else draw(xml_value())
            if tag == "pubDate":
                value = escape(draw(dates))
            fields.append(f"<{tag}>{value}</{tag}>")
        if draw(st.booleans()):
            fields.append(f"<content:encoded>{draw(xml_value())}</content:encoded>")
        items.append("<item>" + "".join(fields) + "</item>")
    body = (
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>{draw(xml_value())}</title><link>{escape(draw(urls))}</link>"
        f"<language>{escape(draw(st.sampled_from(['de', 'en-US', 'xx', '', 'de-DE-x'])))}"
        "</language>" + "".join(items) + "</channel></rss>"
    )
    return _encode(draw, body)


@st.composite
def atom_documents(draw: st.DrawFn) -> bytes:
    entries = []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["text", "html", "xhtml", "text/plain", "bogus"]))
        content = draw(xml_value())
        if kind == "xhtml":
            content = (
                f'<div xmlns="http://www.w3.org/1999/xhtml">{escape(draw(sentence_text))}</div>'
            )
        entries.append(
            "<entry>"
            f"<title type={quoteattr(kind)}>{draw(xml_value())}</title>"
            f"<link rel={quoteattr(draw(st.sampled_from(['alternate', 'self', ''])))} "
            f"href={quoteattr(draw(urls))}/>"
            f"<id>{escape(draw(urls))}</id><updated>{escape(draw(dates))}</updated>"
            f"<content type={quoteattr(kind)}>{content}</content>"
            f"<summary>{draw(xml_value())}</summary>"
            "</entry>"
        )
    lang = draw(st.sampled_from(["de", "en", "", "zz-ZZ"]))
    body = (
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang={quoteattr(lang)}>'
        f"<title>{draw(xml_value())}</title>" + "".join(entries) + "</feed>"
    )
    return _encode(draw, body)


def _encode(draw: st.DrawFn, body: str) -> bytes:
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-16", "iso-8859-1", "none", "lie"]))
    if encoding == "none":
        return body.encode("utf-8", "surrogatepass")
    declared = "windows-1252" if encoding == "lie" else encoding
    data = f'<?xml version="1.0" encoding="{declared}"?>{body}'
    codec = "utf-8" if encoding == "lie" else encoding
    return data.encode(codec, "replace")


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), hostile_text, urls
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(hostile_text, inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def json_feed_documents(draw: st.DrawFn) -> bytes:
    def field(good: st.SearchStrategy[Any]) -> Any:
        return draw(st.one_of(good, json_values))

    items = []
    for _ in range(draw(st.integers(0, 6))):
        item: dict[str, Any] = {}
        for key, good in [
            ("id", st.one_of(hostile_text, st.integers())),
            ("url", urls),
            ("external_url", urls),
            ("title", sentence_text),
            ("content_html", xml_value()),
            ("content_text", sentence_text),
            ("summary", sentence_text),
            ("date_published", dates),
            ("language", st.sampled_from(["de", "en", "tlh", ""])),
        ]:
            if draw(st.booleans()):
                item[key] = field(good)
        items.append(item if draw(st.integers(0, 9)) else draw(json_values))
    document: dict[str, Any] = {
        "version": draw(st.sampled_from(["https://jsonfeed.org/version/1.1", "2", ""])),
        "title": field(sentence_text),
        "home_page_url": field(urls),
        "items": items if draw(st.integers(0, 9)) else draw(json_values),
    }
    return json.dumps(document, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


@st.composite
def mangled(draw: st.DrawFn, documents: st.SearchStrategy[bytes]) -> bytes:
    """A document cut short, spliced with random bytes, or left as it is."""
    data = draw(documents)
    how = draw(st.sampled_from(["keep", "keep", "truncate", "splice", "garbage"]))
    if how == "truncate" and data:
        return data[: draw(st.integers(0, len(data) - 1))]
    if how == "splice" and data:
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.binary(max_size=40)) + data[at:]
    if how == "garbage":
        return draw(st.binary(max_size=400))
    return data


feed_documents = mangled(st.one_of(rss_documents(), atom_documents(), json_feed_documents()))
content_types = st.sampled_from(
    [
        None,
        "application/rss+xml",
        "application/atom+xml; charset=utf-8",
        "application/feed+json",
        "text/html; charset=latin-1",
        "text/plain",
        "application/json; charset=bogus",
    ]
)


# --- digests ---------------------------------------------------------------------------


# The contract of the core: links are http(s) or empty (feeds.build_article drops the rest),
# facts are non-blank sentences and their types are the pipeline's own; the content is free.
link_urls = st.one_of(
    st.just(""),
    st.tuples(st.sampled_from(["http://", "https://"]), hostile_text).map("".join),
    st.sampled_from(
        [
            "https://example.org/a?x=1&y=<2>|z",
            "http://news.example/artikel/1",
            "https://xn--mnchen-3ya.example/ü?q=ä",
            'https://x.example/"><script>',
            "https://x.example/" + "p" * 3000,
        ]
    ),
)
sources = st.builds(SourceRef, name=hostile_text, url=link_urls)
facts = st.builds(
    FactOut,
    type=st.sampled_from(FACT_TYPES),
    text=st.one_of(sentence_text, st.text(min_size=1, max_size=3000)).filter(str.strip),
    sentence=sentence_text,
    sources=st.lists(sources, max_size=4).map(tuple),
)
entries = st.builds(
    DigestEntry,
    story_id=st.one_of(st.from_regex(r"s[0-9]{1,6}", fullmatch=True), hostile_text),
    title=st.one_of(sentence_text, st.text(max_size=5000)),
    status=st.sampled_from(["new_story", "update"]),
    language=st.sampled_from(["de", "en"]),
    facts=st.lists(facts, max_size=15),
    sources=st.lists(sources, max_size=6),
    also_reported_by=st.lists(sources, max_size=6),
    article_count=st.integers(1, 10_000),
    omitted_facts=st.integers(0, 500),
)


def telegram_accepts(message: str) -> None:
    """Raise (the emulator's ApiError or AssertionError) unless Telegram would take ``message``.

    The same steps as the emulator's ``sendMessage`` in HTML parse mode: entity
    parsing and validation, Telegram's trimming, the empty and length checks.
    """
    text, entities = trim_text(*parse_html(message))
    length = utf16_len(text)
    assert 0 < length <= MAX_TEXT_LENGTH, length
    for entity in entities:
        assert entity["offset"] >= 0 and entity["offset"] + entity["length"] <= length
