"""Hostile XML: entity bombs, external entities and external DTDs never expand or load.

Each attack comes back as a ``ParsedFeed`` with a clear error and no articles,
quickly and without the amplified text ever being built; a document that only
names an external DTD parses, and the DTD is never fetched or read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from digests.feeds import MAX_ENTITY_EXPANSION, parse_feed

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ITEM = "<item><title>Harmless title</title><description>&{ref};</description></item>"


def rss(doctype: str, ref: str = "amp") -> bytes:
    return (
        f'<?xml version="1.0"?>{doctype}<rss version="2.0"><channel><title>T</title>'
        f"{ITEM.format(ref=ref)}</channel></rss>"
    ).encode()


BILLION_LAUGHS = rss(
    "<!DOCTYPE rss [\n"
    '<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>",
    ref="lol9",
)
QUADRATIC_LONG = rss(f"<!DOCTYPE rss [<!ENTITY a '{'x' * 50_000}'>]>", ref="a")
QUADRATIC_SHORT = (
    f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{"x" * 64}">]>'
    '<rss version="2.0"><channel><title>T</title><item><title>x</title>'
    f"<description>{'&a;' * 100_000}</description></item></channel></rss>"
).encode()
XXE_FILE = rss('<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', ref="xxe")
XXE_HTTP = rss('<!DOCTYPE rss [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/secret">]>', ref="xxe")
PARAMETER = rss('<!DOCTYPE rss [<!ENTITY % ext SYSTEM "file:///etc/passwd"> %ext;]>', ref="amp")
PUBLIC_XXE = rss(
    '<!DOCTYPE rss [<!ENTITY xxe PUBLIC "-//x//y" "file:///etc/hostname">]>', ref="xxe"
)

ATTACKS = {
    "billion laughs": (BILLION_LAUGHS, "entity declarations refused"),
    "billion laughs in UTF-16": (
        BILLION_LAUGHS.decode()
        .replace('version="1.0"', 'version="1.0" encoding="utf-16"')
        .encode("utf-16"),
        "entity declarations refused",
    ),
    "quadratic blowup, long entity": (QUADRATIC_LONG, "entity declarations refused"),
    "quadratic blowup, short entity": (QUADRATIC_SHORT, "entity expansion refused"),
    "external entity file:///etc/passwd": (XXE_FILE, "entity declarations refused"),
    "external entity over http": (XXE_HTTP, "entity declarations refused"),
    "external parameter entity": (PARAMETER, "entity declarations refused"),
    "public external entity": (PUBLIC_XXE, "entity declarations refused"),
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_entity_attacks_are_refused_with_a_clear_error(name: str) -> None:
    document, reason = ATTACKS[name]
    start = time.perf_counter()
    parsed = parse_feed(document, source="hostile", now=NOW)
    assert time.perf_counter() - start < 1.0
    assert parsed.articles == []
    assert parsed.error is not None and reason in parsed.error
    assert "root:" not in (parsed.error + parsed.title)


def test_harmless_entities_still_parse() -> None:
    document = rss('<!DOCTYPE rss [<!ENTITY nbsp "&#160;"><!ENTITY co "ACME">]>', ref="nbsp")
    parsed = parse_feed(document, source="fine", now=NOW)
    assert parsed.error is None, parsed.error
    assert [a.title for a in parsed.articles] == ["Harmless title"]


def test_expansion_budget_is_what_the_error_says() -> None:
    refs = MAX_ENTITY_EXPANSION // 10 + 1
    document = (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "0123456789">]>'
        '<rss version="2.0"><channel><title>T</title><item><title>x</title>'
        f"<description>{'&a;' * refs}</description></item></channel></rss>"
    ).encode()
    parsed = parse_feed(document, source="big", now=NOW)
    assert parsed.error is not None and f"{refs * 10} characters" in parsed.error


class _CountingDTD(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        body = b'<!ENTITY leak "LEAKED-FROM-DTD">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def dtd_server() -> Iterator[str]:
    _CountingDTD.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CountingDTD)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/evil.dtd"
    finally:
        server.shutdown()
        server.server_close()


def test_external_dtds_are_never_loaded(dtd_server: str, tmp_path: Path) -> None:
    secret = tmp_path / "secret.dtd"
    secret.write_text('<!ENTITY leak "LEAKED-FROM-FILE">')
    for system_id in (dtd_server, secret.as_uri(), "file:///etc/passwd"):
        document = rss(f'<!DOCTYPE rss SYSTEM "{system_id}">', ref="leak")
        parsed = parse_feed(document, source="dtd", now=NOW)
        everything = repr(parsed)
        assert "LEAKED" not in everything and "root:" not in everything
    assert _CountingDTD.hits == []
    # An RSS 0.91 feed naming Netscape's DTD (as many old feeds do) still parses.
    netscape = rss(
        f'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "{dtd_server}">'
    )
    parsed = parse_feed(netscape, source="old", now=NOW)
    assert [a.title for a in parsed.articles] == ["Harmless title"]
    assert _CountingDTD.hits == []
