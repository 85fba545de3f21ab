"""Fuzz: the feed parsers and the HTML-to-text cleaner take any bytes without crashing.

``parse_feed`` promises to never raise; beyond that, its own code must handle
whatever it meets (the catch-all "parser failure" is for third-party crashes and
must not be reached), and every article it returns keeps the model's invariants.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digests.feeds import MAX_TITLE_CHARS, parse_feed, parse_jsonl
from digests.html_text import html_to_line, html_to_text
from digests.models import Article
from tests.fuzzing import (
    FUZZ,
    content_types,
    counted,
    feed_documents,
    hostile_text,
    json_values,
    urls,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def check_article(article: Article) -> None:
    assert article.id
    assert article.url == "" or article.url.startswith(("http://", "https://"))
    assert len(article.title) <= MAX_TITLE_CHARS and "\n" not in article.title
    assert article.published.tzinfo is not None and article.published <= NOW.replace(year=2027)
    assert "\x00" not in article.text + article.title
    assert article.language == "und" or 2 <= len(article.language) <= 3


@FUZZ
@given(data=feed_documents, content_type=content_types, url=st.one_of(st.none(), urls))
@counted
def test_parse_feed_takes_any_document(data: bytes, content_type: str | None, url: str) -> None:
    parsed = parse_feed(data, source="fuzz", now=NOW, url=url, content_type=content_type)
    assert not (parsed.error or "").startswith("parser failure"), parsed.error
    assert len(parsed.title) <= MAX_TITLE_CHARS
    for article in parsed.articles:
        check_article(article)


@FUZZ
@given(lines=st.lists(st.one_of(json_values, st.binary(max_size=60)), max_size=8))
@counted
def test_parse_jsonl_reports_bad_lines_and_keeps_good_ones(lines: list[object]) -> None:
    raw = b"\n".join(
        line if isinstance(line, bytes) else json.dumps(line).encode("utf-8", "surrogatepass")
        for line in lines
    )
    articles, problems = parse_jsonl(raw, source="fuzz", now=NOW)
    assert all(p.startswith("line ") for p in problems)
    for article in articles:
        check_article(article)


@FUZZ
@given(html=st.one_of(hostile_text, st.lists(hostile_text, max_size=20).map("".join)))
@counted
def test_html_to_text_takes_any_markup(html: str) -> None:
    text = html_to_text(html, max_chars=5_000)
    line = html_to_line(html)
    assert "\x00" not in text + line and "\n" not in line
    assert len(line) <= 2_000


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-be", "utf-32", "latin-1"])
@pytest.mark.parametrize("ref", ["&#xD800;", "&#57343;", "&#x110000;"])
def test_found_by_fuzzing_a_surrogate_reference_costs_one_character(
    encoding: str, ref: str
) -> None:
    # feedparser's loose parser raised on these, and the whole feed was lost.
    document = (
        f'<?xml version="1.0" encoding="{encoding}"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>a{ref}b</title><entry><title>x{ref}</title></entry></feed>"
    ).encode(encoding)
    parsed = parse_feed(document, source="fuzz", now=NOW)
    assert parsed.error is None and parsed.title == "a\ufffdb"
    assert [a.title for a in parsed.articles] == ["x\ufffd"]


def test_found_by_fuzzing_form_feeds_in_markup() -> None:
    assert html_to_text("<\x0c") == "<"
    assert html_to_text("<p>a\x0cb</p><div>\x0bc</div>") == "a b\nc"
