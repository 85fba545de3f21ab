"""A real HTTP/1.1 server on loopback serving feeds and pages, well-behaved and not.

Runs ``ThreadingHTTPServer`` in a background thread on port 0, so the code
under test talks to it through real sockets with its real client. Routes that
stall (``/hang``, ``/slow``, ``/trickle``, ``/endless``) wait on an event that
:meth:`FeedServer.stop` sets, so no handler outlives its test by much.

The server records every request (path and headers) and counts concurrent
requests per ``Host`` header on the ``/count/...`` routes.
"""

from __future__ import annotations

import functools
import gzip
import sys
import threading
import zlib
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

RSS = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<rss version="2.0"><channel><title>Loopback News</title>'
    b"<item><guid>item-1</guid><title>First item</title>"
    b"<link>http://example.invalid/1</link></item>"
    b"</channel></rss>\n"
)
MALFORMED = b"<rss><channel><item><title>Unclosed tag</titl></item></channel"
ETAG = '"v1"'
LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"
GZIP_TEXT = b"<rss><channel>" + b"<item><title>zipped</title></item>" * 200 + b"</channel></rss>"
BOMB_SIZE = 32 * 1024 * 1024  # decoded size of /bomb.xml; compressed about 32 KiB
LATIN1_FEED = '<?xml version="1.0"?><rss><channel><title>Grüße aus Köln</title></channel></rss>'
PAGE_TEXT = "Straßenbahn in Düsseldorf: Fahrgäste begrüßen neue Wagen"
BASIC_AUTH = "Basic dXNlcjpzZWNyZXQ="  # user:secret


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


@dataclass
class ServerState:
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[Seen] = field(default_factory=list)
    active: Counter[str] = field(default_factory=Counter)
    max_active: Counter[str] = field(default_factory=Counter)
    active_total: int = 0
    max_active_total: int = 0
    flaky_status: int = 500
    count_hold: float = 0.3


@functools.cache
def gzip_bomb() -> bytes:
    """BOMB_SIZE zero bytes, gzip-compressed, built without holding them all."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1024 * 1024)
    parts = [packer.compress(block) for _ in range(BOMB_SIZE // len(block))]
    return b"".join([*parts, packer.flush()])


def _deflate(data: bytes, raw: bool) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def _page(charset_meta: str, text: str, encoding: str) -> bytes:
    meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
    html = (
        f"<!doctype html><html><head>{meta}<title>t</title></head><body><p>{text}</p></body></html>"
    )
    return html.encode(encoding)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FeedHTTPServer

    def log_message(self, format: str, *args: object) -> None:
        pass  # the test output stays readable; requests are recorded instead

    @property
    def st(self) -> ServerState:
        return self.server.st

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        with self.st.lock:
            self.st.requests.append(
                Seen(parts.path, {k.lower(): v for k, v in self.headers.items()})
            )
        try:
            self.route(parts.path, parse_qs(parts.query))
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (timeout, size limit): exactly what several tests provoke.
            self.close_connection = True

    # helpers -------------------------------------------------------------
    def send(
        self, status: int, body: bytes = b"", ctype: str = "", headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, status: int, location: str) -> None:
        self.send(status, headers={"Location": location})

    def chunked_forever(self, chunk: bytes, pause: float) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True
        while not self.st.stopping.is_set():
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
            if pause:
                self.st.stopping.wait(pause)

    # routes --------------------------------------------------------------
    def route(self, path: str, query: dict[str, list[str]]) -> None:
        st = self.st
        rss = "application/rss+xml; charset=utf-8"
        if path == "/feed.xml":
            self.send(200, RSS, rss)
        elif path == "/etag.xml":
            validators = {"ETag": ETAG, "Last-Modified": LAST_MODIFIED}
            if self.headers.get("If-None-Match") == ETAG or (
                self.headers.get("If-Modified-Since") == LAST_MODIFIED
            ):
                self.send_response(304)
                for name, value in validators.items():
                    self.send_header(name, value)
                self.end_headers()
            else:
                self.send(200, RSS, rss, validators)
        elif path == "/gzip.xml":
            if "gzip" in self.headers.get("Accept-Encoding", ""):
                self.send(200, gzip.compress(GZIP_TEXT), rss, {"Content-Encoding": "gzip"})
            else:
                self.send(200, GZIP_TEXT, rss)
        elif path in ("/deflate.xml", "/raw-deflate.xml"):
            body = _deflate(GZIP_TEXT, raw=path == "/raw-deflate.xml")
            self.send(200, body, rss, {"Content-Encoding": "deflate"})
        elif path == "/bad-gzip.xml":
            self.send(200, b"this is not gzip at all", rss, {"Content-Encoding": "gzip"})
        elif path == "/bomb.xml":
            self.send(200, gzip_bomb(), rss, {"Content-Encoding": "gzip"})
        elif path == "/moved":
            self.redirect(301, "/feed.xml")
        elif path == "/moved-308":
            self.redirect(308, f"http://localhost:{self.server.server_port}/feed.xml")
        elif path == "/temp":
            self.redirect(302, "/feed.xml")
        elif path == "/temp-then-moved":
            self.redirect(302, "/moved")
        elif path == "/loop-a":
            self.redirect(302, "/loop-b")
        elif path == "/loop-b":
            self.redirect(301, "/loop-a")
        elif path.startswith("/chain/"):
            n = int(path.rsplit("/", 1)[1])
            self.redirect(302, f"/chain/{n - 1}" if n > 0 else "/feed.xml")
        elif path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            self.send(code, b"nope\n", "text/plain")
        elif path == "/flaky":
            self.send(st.flaky_status, RSS if st.flaky_status == 200 else b"down\n", rss)
        elif path == "/slow":
            st.stopping.wait(float(query.get("delay", ["2"])[0]))
            self.send(200, RSS, rss)
        elif path == "/hang":
            st.stopping.wait(30)
        elif path == "/trickle":
            self.chunked_forever(b"<", 0.1)
        elif path == "/endless":
            self.chunked_forever(b"<item/>" * 2048, 0)
        elif path == "/big":
            self.send(200, b"x" * (256 * 1024), rss)
        elif path == "/malformed.xml":
            self.send(200, MALFORMED, "application/xml")
        elif path == "/latin1-as-utf8.xml":
            self.send(200, LATIN1_FEED.encode("latin-1"), "application/rss+xml; charset=utf-8")
        elif path.startswith("/count/"):
            host = self.headers.get("Host", "")
            with st.lock:
                st.active[host] += 1
                st.active_total += 1
                st.max_active[host] = max(st.max_active[host], st.active[host])
                st.max_active_total = max(st.max_active_total, st.active_total)
            try:
                st.stopping.wait(st.count_hold)
            finally:
                with st.lock:
                    st.active[host] -= 1
                    st.active_total -= 1
            self.send(200, RSS, rss)
        elif path == "/auth":
            if self.headers.get("Authorization") == BASIC_AUTH:
                self.send(200, RSS, rss)
            else:
                self.send(401, b"who are you?\n", "text/plain", {"WWW-Authenticate": "Basic"})
        elif path == "/auth-redirect":
            self.redirect(302, "/auth")
        elif path == "/page.html":
            self.send(200, _page("", PAGE_TEXT, "utf-8"), "text/html; charset=utf-8")
        elif path == "/page-wrong-charset.html":
            body = _page("windows-1252", PAGE_TEXT, "cp1252")
            self.send(200, body, "text/html; charset=utf-8")
        elif path == "/page-meta.html":
            self.send(200, _page("iso-8859-1", PAGE_TEXT, "latin-1"), "text/html")
        elif path == "/page-big.html":
            self.send(200, _page("", "x" * (256 * 1024), "utf-8"), "text/html")
        elif path == "/doc.pdf":
            self.send(200, b"%PDF-1.4\n", "application/pdf")
        else:
            self.send(404, b"not found\n", "text/plain")


class FeedHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.st = ServerState()

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that give up (timeouts, size limits) reset the connection between requests.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class FeedServer:
    """The running server; ``url(path)`` for 127.0.0.1, ``url(path, host="localhost")``."""

    def __init__(self) -> None:
        self.httpd = FeedHTTPServer()
        self.port = self.httpd.server_port
        self.thread = threading.Thread(
            # A short poll interval keeps shutdown (once per test) from adding half a second.
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )

    @property
    def st(self) -> ServerState:
        return self.httpd.st

    def start(self) -> FeedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.st.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def url(self, path: str, host: str = "127.0.0.1", userinfo: str = "") -> str:
        auth = f"{userinfo}@" if userinfo else ""
        return f"http://{auth}{host}:{self.port}{path}"

    def hits(self, path: str) -> list[Seen]:
        with self.st.lock:
            return [r for r in self.st.requests if r.path == path]
