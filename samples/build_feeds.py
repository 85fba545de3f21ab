"""Turn ``samples/articles.jsonl`` into per-outlet feeds (stdlib only).

Usage: python samples/build_feeds.py [SAMPLES_DIR]

Writes ``feeds/<outlet>.xml`` (RSS 2.0, Atom 1.0 or RSS 1.0/RDF),
``feeds/<outlet>.json`` (JSON Feed 1.1) and ``archive.jsonl`` (the outlets
kept as a JSONL archive, same fields as ``articles.jsonl``). Every article goes
to exactly one file, chosen by its ``source``. Output is deterministic: no
clock is read, items are newest first as in real feeds.
"""

from __future__ import annotations

import html
import json
import re
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

Format = Literal["rss2", "rss2-content", "atom", "rdf", "jsonfeed", "archive"]

# Outlet -> format. Unlisted outlets get plain RSS 2.0 with <description>.
FORMATS: dict[str, Format] = {
    "Sächsische Landeszeitung": "rss2-content",
    "Berliner Tagesblatt": "rss2-content",
    "Continental Wire": "rss2-content",
    "Western Coast Herald": "rss2-content",
    "Rhein-Main Rundschau": "rss2-content",
    "Global Ledger": "atom",
    "Midwest Business Journal": "atom",
    "Mitteldeutsche Rundschau": "atom",
    "Süddeutsche Abendpost": "atom",
    "Norddeutsche Nachrichten": "atom",
    "Märkische Oderpost": "atom",
    "Elbflorenz Nachrichten": "rdf",
    "Financial Courier": "jsonfeed",
    "Hessenwelle": "archive",
    "Leipziger Abendblatt": "archive",
    "Oberbayern Online": "archive",
    "Port Ellery Gazette": "archive",
}

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rss1": "http://purl.org/rss/1.0/",
}
for _prefix in ("content", "dc", "rdf"):
    ET.register_namespace(_prefix, NS[_prefix])


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    url: str
    source: str
    title: str
    published: datetime
    language: str
    text: str

    @classmethod
    def from_record(cls, rec: dict[str, str]) -> Item:
        return cls(
            id=rec["id"],
            url=rec["url"],
            source=rec["source"],
            title=rec["title"],
            published=datetime.fromisoformat(rec["published"]),
            language=rec["language"],
            text=rec["text"],
        )

    def record(self) -> dict[str, str]:
        return {
            "id": self.id,
            "url": self.url,
            "source": self.source,
            "title": self.title,
            "published": self.published.isoformat(),
            "language": self.language,
            "text": self.text,
        }

    def guid(self) -> str:
        return f"tag:{urlsplit(self.url).hostname},2026:{self.id}"


def slug(name: str) -> str:
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        name = name.lower().replace(a, b)
    return re.sub(r"[^a-z0-9]+", "-", name).strip("-")


def to_html(text: str) -> str:
    """One <p> per line of text (paragraphs and single scraped lines alike)."""
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    return "\n".join(f"<p>{html.escape(ln, quote=False)}</p>" for ln in lines)


def home(items: list[Item]) -> str:
    first = min(items, key=lambda it: it.published)
    parts = urlsplit(first.url)
    return f"https://{(parts.hostname or '').lower()}/"


def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def q(prefix: str, tag: str) -> str:
    return f"{{{NS[prefix]}}}{tag}"


def serialize(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body + b"\n"


def rss2(source: str, items: list[Item], with_content: bool) -> bytes:
    root = ET.Element("rss", {"version": "2.0"})
    chan = sub(root, "channel")
    sub(chan, "title", source)
    sub(chan, "link", home(items))
    sub(chan, "description", f"Nachrichten und Meldungen: {source}")
    sub(chan, "language", items[0].language)
    sub(chan, "lastBuildDate", format_datetime(max(it.published for it in items)))
    for it in items:
        el = sub(chan, "item")
        sub(el, "title", it.title)
        sub(el, "link", it.url)
        sub(el, "guid", it.guid(), isPermaLink="false")
        sub(el, "pubDate", format_datetime(it.published))
        if with_content:
            sub(el, q("content", "encoded"), to_html(it.text))
        else:
            sub(el, "description", to_html(it.text))
    return serialize(root)


def atom(source: str, items: list[Item]) -> bytes:
    root = ET.Element("feed", {"xmlns": NS["atom"]})
    root.set("{http://www.w3.org/XML/1998/namespace}lang", items[0].language)
    site = home(items)
    sub(root, "id", f"tag:{urlsplit(site).hostname},2026:feed")
    sub(root, "title", source)
    sub(root, "updated", max(it.published for it in items).isoformat())
    sub(root, "link", href=site, rel="alternate")
    sub(root, "link", href=f"{site}feed.atom", rel="self")
    sub(sub(root, "author"), "name", source)
    for it in items:
        entry = sub(root, "entry")
        sub(entry, "id", it.guid())
        sub(entry, "title", it.title)
        sub(entry, "link", href=it.url, rel="alternate")
        sub(entry, "published", it.published.isoformat())
        sub(entry, "updated", it.published.isoformat())
        sub(entry, "content", to_html(it.text), type="html")
    return serialize(root)


def rdf(source: str, items: list[Item]) -> bytes:
    root = ET.Element(q("rdf", "RDF"))
    root.set("xmlns", NS["rss1"])
    site = home(items)
    chan = sub(root, "channel", **{q("rdf", "about"): f"{site}feed.rdf"})
    sub(chan, "title", source)
    sub(chan, "link", site)
    sub(chan, "description", f"Aktuelle Meldungen: {source}")
    sub(chan, q("dc", "language"), items[0].language)
    seq = sub(sub(chan, "items"), q("rdf", "Seq"))
    for it in items:
        sub(seq, q("rdf", "li"), **{q("rdf", "resource"): it.url})
    for it in items:
        el = sub(root, "item", **{q("rdf", "about"): it.url})
        sub(el, "title", it.title)
        sub(el, "link", it.url)
        sub(el, q("dc", "identifier"), it.guid())
        sub(el, q("dc", "date"), it.published.isoformat())
        sub(el, q("content", "encoded"), to_html(it.text))
    return serialize(root)


def jsonfeed(source: str, items: list[Item]) -> bytes:
    site = home(items)
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": source,
        "home_page_url": site,
        "feed_url": f"{site}feed.json",
        "language": items[0].language,
        "authors": [{"name": source}],
        "items": [
            {
                "id": it.guid(),
                "url": it.url,
                "title": it.title,
                "content_html": to_html(it.text),
                "content_text": it.text,
                "date_published": it.published.isoformat(),
                "language": it.language,
            }
            for it in items
        ],
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def build(samples: Path) -> dict[str, int]:
    """Write all outputs; return the number of articles per output file."""
    with (samples / "articles.jsonl").open(encoding="utf-8") as fh:
        items = [Item.from_record(json.loads(line)) for line in fh if line.strip()]
    by_source: dict[str, list[Item]] = defaultdict(list)
    for it in items:
        by_source[it.source].append(it)
    out = samples / "feeds"
    out.mkdir(exist_ok=True)
    for old in out.glob("*"):
        if old.suffix in (".xml", ".json"):
            old.unlink()
    written: dict[str, int] = {}
    archive: list[Item] = []
    for source in sorted(by_source):
        group = sorted(by_source[source], key=lambda it: it.published, reverse=True)
        fmt = FORMATS.get(source, "rss2")
        if fmt == "archive":
            archive.extend(group)
            continue
        if fmt == "jsonfeed":
            path, data = out / f"{slug(source)}.json", jsonfeed(source, group)
        elif fmt == "atom":
            path, data = out / f"{slug(source)}.xml", atom(source, group)
        elif fmt == "rdf":
            path, data = out / f"{slug(source)}.xml", rdf(source, group)
        else:
            path, data = out / f"{slug(source)}.xml", rss2(source, group, fmt == "rss2-content")
        path.write_bytes(data)
        written[str(path.relative_to(samples))] = len(group)
    archive.sort(key=lambda it: it.published)
    with (samples / "archive.jsonl").open("w", encoding="utf-8") as fh:
        for it in archive:
            fh.write(json.dumps(it.record(), ensure_ascii=False) + "\n")
    written["archive.jsonl"] = len(archive)
    if sum(written.values()) != len(items):
        raise SystemExit("some article was not written exactly once")
    return written


def main() -> None:
    samples = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    for path, count in sorted(build(samples).items()):
        print(f"{count:3d}  {path}")


if __name__ == "__main__":
    main()
