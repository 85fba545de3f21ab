from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from digests.errors import ArticleError
from digests.feeds import (
    DEFAULT_MAX_BYTES,
    Content,
    ParsedFeed,
    build_article,
    parse_feed,
    parse_jsonl,
)
from digests.language import detect_language, normalize_language_tag
from digests.models import Article

NOW = datetime(2025, 6, 12, 12, 0, tzinfo=UTC)

# Long enough (several sentences, > 400 characters) not to count as a teaser.
LONG_DE = (
    "Der Gemeinderat von Talheim hat am Mittwochabend den Bau einer neuen Grundschule "
    "beschlossen. Die Kosten werden auf rund 14 Millionen Euro geschätzt, das Land will "
    "etwa die Hälfte übernehmen. Bürgermeisterin Petra Beispiel sprach von einem guten Tag "
    "für die Familien der Gemeinde. Die Opposition kritisierte, dass der Standort am "
    "Ortsrand schlecht mit dem Bus zu erreichen sei. Baubeginn soll im Frühjahr 2026 sein, "
    "der Unterricht in dem Gebäude frühestens zwei Jahre später beginnen."
)
LONG_EN = (
    "The regional water authority said on Tuesday that reservoir levels had fallen to their "
    "lowest point in a decade after months without significant rain. Households in three "
    "districts were asked to cut their use by a fifth, and a ban on filling private pools "
    "will take effect next week. Farmers' groups warned that the harvest could shrink "
    "sharply if the dry weather continues into July. The authority said it was preparing "
    "emergency pipelines to connect the worst affected towns to a neighbouring supply."
)


def _parse(
    data: bytes | str,
    *,
    url: str | None = None,
    content_type: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ParsedFeed:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return parse_feed(
        raw, source="test-source", now=NOW, url=url, content_type=content_type, max_bytes=max_bytes
    )


def _only(feed: ParsedFeed) -> Article:
    assert len(feed.articles) == 1, feed
    return feed.articles[0]


# --- formats ------------------------------------------------------------------------

RSS_091 = """<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
  "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91">
<channel>
<title>Talheimer Bote</title>
<link>https://bote.example/</link>
<description>Lokales</description>
<language>de</language>
<item>
<title>Neue Grundschule für Talheim</title>
<link>https://bote.example/schule.html</link>
<description>Der Gemeinderat hat den Bau beschlossen.</description>
</item>
</channel>
</rss>"""


def test_rss_091() -> None:
    feed = _parse(RSS_091.encode("iso-8859-1"))
    assert feed.error is None
    assert feed.title == "Talheimer Bote"
    article = _only(feed)
    assert article.title == "Neue Grundschule für Talheim"
    assert article.url == "https://bote.example/schule.html"
    assert article.text == "Der Gemeinderat hat den Bau beschlossen."
    assert article.language == "de"
    assert article.published == NOW  # RSS 0.91 items carry no date
    assert article.teaser_only


RSS_10 = """<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://water.example/rss">
  <title>Water Authority News</title>
  <link>https://water.example/</link>
  <description>Updates</description>
  <dc:language>en-GB</dc:language>
  <items><rdf:Seq><rdf:li resource="https://water.example/n/1"/></rdf:Seq></items>
</channel>
<item rdf:about="https://water.example/n/1">
  <title>Reservoirs at ten-year low</title>
  <link>https://water.example/n/1</link>
  <description>LONG_EN</description>
  <dc:date>2025-06-10T08:30:00+02:00</dc:date>
</item>
</rdf:RDF>""".replace("LONG_EN", LONG_EN)


def test_rss_10_rdf() -> None:
    feed = _parse(RSS_10)
    assert feed.error is None
    assert feed.title == "Water Authority News"
    article = _only(feed)
    assert article.title == "Reservoirs at ten-year low"
    assert article.published == datetime(2025, 6, 10, 6, 30, tzinfo=UTC)
    assert article.language == "en"
    assert article.text == LONG_EN
    assert not article.teaser_only


RSS_20 = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
<title>Talheim Aktuell</title>
<link>https://aktuell.example/</link>
<language>de-de</language>
<item>
  <title>Gemeinderat beschließt &lt;em&gt;neue&lt;/em&gt; Grundschule</title>
  <link>https://Aktuell.example/schule?utm_source=rss&amp;id=42#top</link>
  <guid isPermaLink="false">aktuell-42</guid>
  <pubDate>Wed, 11 Jun 2025 19:45:00 +0200</pubDate>
  <description>&lt;p&gt;Kurzfassung: Talheim bekommt eine Schule.&lt;/p&gt;</description>
  <content:encoded><![CDATA[
    <p>Politik</p>
    <p>Von Lena Beispiel</p>
    <p>{LONG_DE}</p>
    <p>WERBUNG</p>
    <p>Diesen Artikel teilen</p>
    <script>trackView();</script>
  ]]></content:encoded>
</item>
</channel>
</rss>"""


def test_rss_20_prefers_full_content_and_cleans_it() -> None:
    feed = _parse(RSS_20)
    assert feed.error is None
    article = _only(feed)
    assert article.title == "Gemeinderat beschließt neue Grundschule"
    assert article.url == "https://Aktuell.example/schule?utm_source=rss&id=42#top"
    assert article.canonical_url == "https://aktuell.example/schule?id=42"
    assert article.guid == "aktuell-42"
    assert article.published == datetime(2025, 6, 11, 17, 45, tzinfo=UTC)
    assert article.published.tzinfo is not None
    assert article.language == "de"
    # The page noise around the report is gone, the report itself is intact.
    assert article.text == LONG_DE
    assert not article.teaser_only
    assert article.source == "test-source"


ATOM_03 = """<?xml version="1.0" encoding="utf-8"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#" xml:lang="en">
  <title>Harbour Log</title>
  <link rel="alternate" type="text/html" href="https://harbour.example/"/>
  <modified>2025-06-11T10:00:00Z</modified>
  <entry>
    <title>Harbour reopens</title>
    <link rel="alternate" type="text/html" href="https://harbour.example/reopens"/>
    <id>tag:harbour.example,2025:reopens</id>
    <issued>2025-06-11T09:00:00+01:00</issued>
    <modified>2025-06-11T09:30:00Z</modified>
    <content type="text/html" mode="escaped">&lt;p&gt;The harbour reopened on Thursday
    after three weeks of repairs.&lt;/p&gt;</content>
  </entry>
</feed>"""


def test_atom_03() -> None:
    feed = _parse(ATOM_03)
    assert feed.error is None
    assert feed.title == "Harbour Log"
    article = _only(feed)
    assert article.title == "Harbour reopens"
    assert article.url == "https://harbour.example/reopens"
    assert article.guid == "tag:harbour.example,2025:reopens"
    assert article.published == datetime(2025, 6, 11, 8, 0, tzinfo=UTC)
    assert article.text == "The harbour reopened on Thursday after three weeks of repairs."
    assert article.language == "en"
    assert article.teaser_only


ATOM_10 = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de">
  <title type="text">Talheim Blog</title>
  <id>urn:uuid:7d1c6a8e-0000-4000-8000-000000000001</id>
  <updated>2025-06-11T12:00:00Z</updated>
  <entry>
    <title type="html">Schule &amp;amp; Sport</title>
    <link rel="alternate" href="/2025/06/schule"/>
    <id>urn:uuid:7d1c6a8e-0000-4000-8000-000000000002</id>
    <updated>2025-06-11T11:00:00Z</updated>
    <published>2025-06-11T10:15:00+02:00</published>
    <summary>Kurz: neue Schule.</summary>
    <content type="html">&lt;p&gt;{LONG_DE}&lt;/p&gt;</content>
  </entry>
  <entry xml:lang="en">
    <title>Water news in English</title>
    <link rel="alternate" href="https://blog.example/water"/>
    <id>urn:uuid:7d1c6a8e-0000-4000-8000-000000000003</id>
    <updated>2025-06-11T11:30:00Z</updated>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>{LONG_EN}</p></div></content>
  </entry>
</feed>"""


def test_atom_10_resolves_relative_links_and_honours_xml_lang() -> None:
    feed = _parse(ATOM_10, url="https://blog.example/feed.atom")
    assert feed.error is None
    assert feed.title == "Talheim Blog"
    first, second = feed.articles
    assert first.title == "Schule & Sport"
    assert first.url == "https://blog.example/2025/06/schule"
    assert first.published == datetime(2025, 6, 11, 8, 15, tzinfo=UTC)
    assert first.text == LONG_DE
    assert first.language == "de"
    assert second.language == "en"
    assert second.text == LONG_EN


JSON_FEED_10 = {
    "version": "https://jsonfeed.org/version/1",
    "title": "Water Authority JSON",
    "home_page_url": "https://water.example/",
    "items": [
        {
            "id": "w-1",
            "url": "https://water.example/n/1?fbclid=abc",
            "title": "Reservoirs at ten-year low",
            "content_html": f"<p>{LONG_EN}</p>",
            "summary": "Levels are low.",
            "date_published": "2025-06-10T08:30:00+02:00",
        },
        {
            "id": 2,
            "url": "/n/2",
            "title": "Pool ban from Monday",
            "content_text": "Private pools may not be filled.\n\nThe ban starts on Monday.",
            "date_published": "2025-06-11T07:00:00Z",
        },
    ],
}


def test_json_feed_10() -> None:
    feed = _parse(json.dumps(JSON_FEED_10), content_type="application/json")
    assert feed.error is None
    assert feed.title == "Water Authority JSON"
    first, second = feed.articles
    assert first.guid == "w-1"
    assert first.canonical_url == "https://water.example/n/1"
    assert first.text == LONG_EN
    assert first.published == datetime(2025, 6, 10, 6, 30, tzinfo=UTC)
    assert first.language == "en"
    assert second.guid == "2"
    assert second.url == "https://water.example/n/2"
    # content_text is plain text: its paragraph break survives.
    assert second.text == "Private pools may not be filled.\nThe ban starts on Monday."
    assert second.teaser_only


def test_json_feed_11_languages_and_sniffing_without_content_type() -> None:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Zweisprachig",
        "language": "de-DE",
        "items": [
            {"id": "a", "url": "https://z.example/a", "title": "Schule", "content_text": LONG_DE},
            {
                "id": "b",
                "url": "https://z.example/b",
                "title": "Water",
                "content_html": f"<p>{LONG_EN}</p>",
                "language": "en-US",
                "date_modified": "2025-06-11T07:00:00Z",
            },
        ],
    }
    raw = b"\xef\xbb\xbf  \n" + json.dumps(document, ensure_ascii=False).encode("utf-8")
    feed = _parse(raw)
    assert feed.error is None
    first, second = feed.articles
    assert (first.language, second.language) == ("de", "en")
    assert first.published == NOW
    assert second.published == datetime(2025, 6, 11, 7, 0, tzinfo=UTC)


def test_json_that_is_not_a_json_feed() -> None:
    feed = _parse(b'{"name": "just some config", "enabled": true}')
    assert feed.articles == []
    assert feed.error == "not a JSON Feed: no 'items' list"


def test_deeply_nested_json_is_an_error_not_a_crash() -> None:
    feed = _parse(b'{"items": ' + b"[" * 200_000 + b"]" * 200_000 + b"}")
    assert feed.articles == []
    assert feed.error


# --- JSONL archives -----------------------------------------------------------------


def test_jsonl_archive_with_bad_lines() -> None:
    good = {
        "id": "arch-1",
        "url": "https://archive.example/1?utm_medium=email",
        "source": "archive-source",
        "title": "Neue Grundschule",
        "published": "2025-06-01T09:00:00+02:00",
        "language": "de",
        "text": LONG_DE,
    }
    no_language = {
        "id": "arch-2",
        "url": "https://archive.example/2",
        "title": "Reservoirs low",
        "published": "Tue, 10 Jun 2025 08:00:00 GMT",
        "text": LONG_EN,
    }
    lines = [
        json.dumps(good, ensure_ascii=False),
        "",
        "{not json",
        json.dumps(["an", "array"]),
        json.dumps({"url": "https://archive.example/3", "title": "No id"}),
        json.dumps(no_language),
        json.dumps({"id": "arch-4", "title": 17, "text": "x"}),
        json.dumps({"id": "arch-5", "title": "", "text": ""}),
    ]
    data = "\n".join(lines).encode("utf-8") + b"\n\xff\xfe broken bytes\n"
    articles, problems = parse_jsonl(data, source="default-source", now=NOW)

    assert [a.id for a in articles] == ["arch-1", "arch-2"]
    first, second = articles
    assert first.source == "archive-source"
    assert second.source == "default-source"
    assert first.canonical_url == "https://archive.example/1"
    assert first.published == datetime(2025, 6, 1, 7, 0, tzinfo=UTC)
    assert second.published == datetime(2025, 6, 10, 8, 0, tzinfo=UTC)
    assert first.language == "de"
    assert second.language == "en"  # detected
    assert first.text == LONG_DE
    assert [p.split(":", 1)[0] for p in problems] == [
        "line 3",
        "line 4",
        "line 5",
        "line 7",
        "line 8",
        "line 9",
    ]
    assert "invalid JSON" in problems[0]
    assert "not a JSON object" in problems[1]
    assert "'id'" in problems[2]
    assert "'title' must be a string" in problems[3]
    assert "UTF-8" in problems[5]


def test_jsonl_empty_input() -> None:
    assert parse_jsonl(b"", source="s", now=NOW) == ([], [])


# --- hostile and broken input -------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected_error"),
    [
        (b"", "empty document"),
        (b"  \n\t ", "empty document"),
        (b"<!DOCTYPE html><html><head><title>Shop</title></head><body><p>Buy!</p></body></html>",
         "not a feed: the document is an HTML page"),
        (b"<html><body><h1>404 Not Found</h1></body></html>",
         "not a feed: the document is an HTML page"),
    ],
)  # fmt: skip
def test_documents_without_a_feed(data: bytes, expected_error: str) -> None:
    feed = _parse(data)
    assert feed.articles == []
    assert feed.error == expected_error


def test_garbage_bytes() -> None:
    feed = _parse(bytes(range(256)) * 40)
    assert feed.articles == []
    assert feed.error and feed.error.startswith("not a feed")


def test_bytes_that_look_like_a_path_or_url_are_not_opened() -> None:
    for data in (b"/etc/passwd", b"file:///etc/passwd", b"http://127.0.0.1:9/feed.xml"):
        feed = _parse(data)
        assert feed.articles == []
        assert feed.error


def test_declared_utf8_but_latin1_bytes() -> None:
    xml = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Köln</title>'
        "<item><title>Grüße aus Köln</title><link>https://k.example/1</link>"
        "<description>Die Straßenbahn fährt wieder über die Brücke.</description></item>"
        "</channel></rss>"
    )
    feed = _parse(xml.encode("latin-1"))
    article = _only(feed)
    assert article.title == "Grüße aus Köln"
    assert article.text == "Die Straßenbahn fährt wieder über die Brücke."
    # The articles survive, and the mismatch is still recorded.
    assert feed.error and "utf-8" in feed.error


def test_http_charset_overrides_the_xml_declaration() -> None:
    xml = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<item><title>Grüße</title><link>https://k.example/1</link></item></channel></rss>"
    )
    feed = _parse(xml.encode("iso-8859-1"), content_type="application/rss+xml; charset=iso-8859-1")
    assert _only(feed).title == "Grüße"


def test_feed_served_as_html_still_yields_articles_and_records_why() -> None:
    feed = _parse(RSS_20, content_type="text/html; charset=utf-8")
    assert len(feed.articles) == 1
    assert feed.error and "text/html" in feed.error


def test_malformed_feed_with_entries_keeps_them_and_records_the_error() -> None:
    broken = RSS_20.replace("</channel>", "<item><title>Unclosed & broken</title></channel>")
    feed = _parse(broken)
    assert feed.articles
    assert feed.articles[0].text == LONG_DE
    assert feed.error


def test_oversized_document_is_cut_and_says_so() -> None:
    item = "<item><title>Meldung {n}</title><link>https://big.example/{n}</link></item>"
    body = "".join(item.format(n=n) for n in range(5_000))
    xml = f'<?xml version="1.0"?><rss version="2.0"><channel>{body}</channel></rss>'
    feed = _parse(xml, max_bytes=20_000)
    assert 0 < len(feed.articles) < 5_000
    assert feed.articles[0].title == "Meldung 0"
    assert feed.error and "truncated" in feed.error


def test_external_entity_does_not_leak_local_files(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT-4711", encoding="utf-8")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY leak SYSTEM "{secret.as_uri()}">', encoding="utf-8")
    attacks = [
        f"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY leak SYSTEM "{secret.as_uri()}">]>
<rss version="2.0"><channel><item><title>a &leak; b</title>
<description>&leak;</description><link>https://x.example/</link></item></channel></rss>""",
        f"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY leak SYSTEM "{secret.as_uri()}">]><rss
 version="2.0"><channel><item><title>a &leak; b</title></item></channel></rss>""",
        f"""<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{dtd.as_uri()}"><rss version="2.0">
<channel><item><title>a &leak; b</title><link>https://x.example/</link></item></channel></rss>""",
        f"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % ext SYSTEM "{dtd.as_uri()}"> %ext;]>
<rss version="2.0"><channel><item><title>&leak;</title></item></channel></rss>""",
    ]
    for attack in attacks:
        feed = _parse(attack)
        dump = repr(feed)
        assert "TOP-SECRET" not in dump
    refused = _parse(attacks[0])
    assert refused.articles == []
    assert refused.error and "entity declarations refused" in refused.error


def _billion_laughs(levels: int = 10, fan_out: int = 10) -> bytes:
    declarations = ['<!ENTITY lol0 "lol">']
    for level in range(1, levels):
        declarations.append(f'<!ENTITY lol{level} "{f"&lol{level - 1};" * fan_out}">')
    return (
        '<?xml version="1.0"?><!DOCTYPE rss [' + "".join(declarations) + "]>"
        f'<rss version="2.0"><channel><item><title>&lol{levels - 1};</title>'
        "</item></channel></rss>"
    ).encode()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_billion_laughs_is_refused_quickly(encoding: str) -> None:
    data = _billion_laughs().decode().encode(encoding)
    started = time.perf_counter()
    feed = _parse(data)
    assert time.perf_counter() - started < 0.5
    assert feed.articles == []
    assert feed.error and "entity declarations refused" in feed.error


def test_quadratic_blowup_is_refused() -> None:
    big = "x" * 50_000
    data = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "{big}">]><rss version="2.0">'
        f"<channel><item><title>{'&big;' * 5_000}</title></item></channel></rss>"
    ).encode()
    started = time.perf_counter()
    feed = _parse(data)
    assert time.perf_counter() - started < 0.5
    assert feed.articles == []
    assert feed.error and "entity declarations refused" in feed.error


def test_harmless_literal_entities_are_allowed() -> None:
    xml = """<?xml version="1.0"?>
<!DOCTYPE rss [
<!ENTITY nbsp "&#160;">
<!ENTITY town "Talheim">
]>
<rss version="2.0"><channel><item><title>Neues aus &town;</title>
<link>https://t.example/1</link></item></channel></rss>"""
    feed = _parse(xml)
    assert feed.error is None
    assert _only(feed).title == "Neues aus Talheim"


def test_unsafe_links_are_dropped() -> None:
    xml = (
        '<rss version="2.0"><channel><item><title>Click me</title>'
        "<link>javascript:alert(1)</link></item></channel></rss>"
    )
    article = _only(_parse(xml))
    assert article.url == ""
    assert article.canonical_url == ""


def test_entries_without_substance_are_skipped() -> None:
    xml = (
        '<rss version="2.0"><channel><item><guid isPermaLink="false">x1</guid></item>'
        "<item><author>someone@example.com</author></item></channel></rss>"
    )
    feed = _parse(xml)
    assert feed.articles == []
    assert feed.error == "no usable entries (2 without title, text or link)"


def test_mutated_feeds_never_raise() -> None:
    rng = random.Random(20250612)
    seeds = [RSS_20.encode(), ATOM_10.encode(), RSS_10.encode(), json.dumps(JSON_FEED_10).encode()]
    for _ in range(300):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 12)):
            pos = rng.randrange(len(data))
            action = rng.random()
            if action < 0.4:
                data[pos] = rng.randrange(256)
            elif action < 0.7:
                del data[pos : pos + rng.randint(1, 40)]
            else:
                data[pos:pos] = rng.choice([b"<", b"&", b"]]>", b"\x00", b'"', b"<!ENTITY x 'y'>"])
        feed = parse_feed(bytes(data), source="fuzz", now=NOW)
        assert feed.articles or feed.error


# --- dates, ids, language -----------------------------------------------------------


def _rss_with_date(date_xml: str, guid: str = "d-1") -> bytes:
    return (
        '<rss version="2.0"><channel><item><title>Datumstest</title>'
        f"<link>https://d.example/{guid}</link><guid>{guid}</guid>{date_xml}"
        "</item></channel></rss>"
    ).encode()


@pytest.mark.parametrize(
    ("date_xml", "expected"),
    [
        ("", NOW),
        ("<pubDate>not a date at all</pubDate>", NOW),
        ("<pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate>", NOW),
        ("<pubDate>Mon, 01 Jan 0210 00:00:00 GMT</pubDate>", NOW),
        ("<pubDate>Sun, 15 Jun 2025 12:00:00 GMT</pubDate>", NOW),  # three days ahead
        ("<pubDate>Fri, 13 Jun 2025 06:00:00 GMT</pubDate>",
         datetime(2025, 6, 13, 6, 0, tzinfo=UTC)),  # within a day: clock skew, kept
        ("<pubDate>Tue, 10 Jun 2025 23:30:00 -0500</pubDate>",
         datetime(2025, 6, 11, 4, 30, tzinfo=UTC)),
        ("<pubDate>2025-06-09T10:00:00+02:00</pubDate>",
         datetime(2025, 6, 9, 8, 0, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_published_dates(date_xml: str, expected: datetime) -> None:
    article = _only(_parse(_rss_with_date(date_xml)))
    assert article.published == expected
    assert article.published.utcoffset() == timedelta(0)


def test_ids_are_stable_across_runs_and_distinct_between_entries() -> None:
    xml = """<rss version="2.0"><channel>
<item><title>With guid</title><guid>g-1</guid><link>https://i.example/1</link></item>
<item><title>Only link</title><link>https://i.example/2?utm_source=x</link></item>
<item><title>Only title</title><pubDate>not parseable</pubDate></item>
<item><title>Only title</title></item>
</channel></rss>"""
    first = _parse(xml)
    later = parse_feed(xml.encode(), source="test-source", now=NOW + timedelta(days=3))
    assert [a.id for a in first.articles] == [a.id for a in later.articles]
    assert len({a.id for a in first.articles}) == 4
    assert all(len(a.id) == 16 for a in first.articles)
    # The same link with or without tracking parameters is the same article.
    again = _parse(xml.replace("?utm_source=x", ""))
    assert again.articles[1].id == first.articles[1].id


def test_the_same_guid_in_two_sources_gives_two_ids() -> None:
    data = _rss_with_date("", guid="123")
    a = parse_feed(data, source="feed-a", now=NOW).articles[0]
    b = parse_feed(data, source="feed-b", now=NOW).articles[0]
    assert a.id != b.id


def test_language_is_detected_when_not_declared_or_invalid() -> None:
    xml = f"""<rss version="2.0"><channel><language>English please</language>
<item><title>Schule</title><link>https://l.example/de</link><description>{LONG_DE}</description></item>
<item><title>Water</title><link>https://l.example/en</link><description>{LONG_EN}</description></item>
<item><title>ok</title><link>https://l.example/x</link></item>
</channel></rss>"""
    languages = [a.language for a in _parse(xml).articles]
    assert languages == ["de", "en", "und"]


# --- the shared constructor ---------------------------------------------------------


def test_build_article_picks_the_richest_body() -> None:
    article = build_article(
        source="s",
        now=NOW,
        title="Titel",
        contents=[Content("<p>kurz</p>"), Content(LONG_EN, html=False)],
        url="https://b.example/1",
    )
    assert article.text == LONG_EN
    assert not article.teaser_only


def test_build_article_refuses_an_empty_entry() -> None:
    with pytest.raises(ArticleError):
        build_article(source="s", now=NOW, contents=[Content("<p>  </p>")])


def test_build_article_accepts_naive_now_and_datetimes() -> None:
    article = build_article(
        source="s",
        now=datetime(2025, 6, 12, 12, 0),
        title="Naive",
        published=datetime(2025, 6, 1, 10, 0),
    )
    assert article.published == datetime(2025, 6, 1, 10, 0, tzinfo=UTC)


def test_a_body_of_pure_page_noise_loses_to_a_genuine_summary() -> None:
    noise = (
        "<p>Diesen Artikel teilen</p><p>Newsletter Newsletters Events Podcasts</p>"
        "<p>WERBUNG</p><p>More Stories</p>"
    )
    article = build_article(
        source="s",
        now=NOW,
        title="Sitzung",
        contents=[Content(noise), Content("Der Rat hat bis spät getagt.", html=False)],
    )
    assert article.text == "Der Rat hat bis spät getagt."


# --- language detection on its own -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (LONG_DE, "de"),
        (LONG_EN, "en"),
        ("Le conseil municipal a approuvé la construction d'une nouvelle école.", "fr"),
        ("", "und"),
        ("ok", "und"),
        ("12:30 — 14:45 !!!", "und"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_detect_language_looks_only_at_the_start_of_long_texts() -> None:
    started = time.perf_counter()
    assert detect_language(LONG_DE + " " + LONG_EN * 2_000) == "de"
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("de-DE", "de"), ("EN_us", "en"), ("nb-NO", "no"), ("iw", "he"), ("english", None),
     ("x-default", None), ("", None), (None, None), (42, None)],
)  # fmt: skip
def test_declared_language_tags(tag: object, expected: str | None) -> None:
    assert normalize_language_tag(tag) == expected


def test_text_is_always_encodable_as_utf8() -> None:
    line = json.dumps({"id": "s-1", "title": "Bro\ud800ken", "text": "Nul\u0000l and \udfffhalf"})
    articles, problems = parse_jsonl(line.encode(), source="s", now=NOW)
    assert problems == []
    article = articles[0]
    assert (article.title, article.text) == ("Broken", "Null and half")
    assert (article.title + article.text).encode("utf-8")
