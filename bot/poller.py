"""The poller: fetches feeds (HTTP(S) or local files) and article pages.

Every fetch is bounded three ways, so one bad server can cost one slot for a
short while and nothing more: httpx's connect/read timeouts, a total deadline
per fetch (a server trickling one byte per read timeout would otherwise never
time out), and a body limit enforced while streaming (an endless body is cut
off after the limit, never buffered).

Redirects are followed here rather than by httpx so they can be counted, loops
reported as such, and permanent ones (301/308) remembered in the feed state.

Concurrency: a global limit and a per-host limit. A request takes its host's
slot first and only then a global one, so feeds queued behind one busy host
never hold global slots that other hosts could use.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import functools
import importlib.util
import logging
import mimetypes
import os
import random
import re
import stat
import time
import uuid
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx

from bot.config import FeedConfig, PollerConfig
from bot.errors import FetchError
from bot.feed_state import FeedState, FeedStateStore, redact_url
from bot.netguard import NetGuard

log = logging.getLogger(__name__)

Status = Literal["ok", "not_modified", "error", "skipped", "deactivated"]

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, "
    "application/json;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9"
PAGE_TYPES = ("text/html", "application/xhtml+xml")
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
PERMANENT_CODES = frozenset({301, 308})
MAX_REASON_CHARS = 300
# HTML's prescan looks at the first 1024 bytes; a little more tolerates long <head> preambles.
SNIFF_BYTES = 4096


def _accept_encoding() -> str:
    # httpx decodes br only with one of these installed; offering it otherwise breaks bodies.
    has_br = any(importlib.util.find_spec(m) for m in ("brotli", "brotlicffi"))
    return "gzip, deflate, br" if has_br else "gzip, deflate"


ACCEPT_ENCODING = _accept_encoding()


@dataclass
class FetchResult:
    url: str
    status: Status
    body: bytes = b""
    content_type: str = ""
    final_url: str = ""
    error: str = ""
    http_status: int | None = None
    # With ``hold_state``: saves the feed's new state (ETag, next poll); the caller runs it
    # once the articles are safe, so a crash in between re-fetches instead of losing them.
    commit: Callable[[], Awaitable[None]] | None = field(default=None, repr=False, compare=False)


class _Failure(FetchError):
    """A fetch failed for a reason worth storing; carries the HTTP status when there was one."""

    def __init__(self, reason: str, http_status: int | None = None) -> None:
        super().__init__(reason)
        self.http_status = http_status


@dataclass
class _Response:
    status: int
    url: str
    body: bytes
    content_type: str
    etag: str
    last_modified: str
    moved_to: str  # where the leading run of permanent redirects ended; "" if none


@dataclass
class _HostSlot:
    sem: asyncio.Semaphore
    users: int = 0


def check_url(url: str) -> httpx.URL:
    """The gate every outgoing request passes, each redirect hop included.

    Only http and https. The address check (the SSRF guard) follows in
    :meth:`Poller._get` and after every redirect, since it must resolve the host.
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        raise FetchError(f"invalid URL {redact_url(url)}") from None
    if parsed.scheme not in ("http", "https"):
        raise FetchError(f"unsupported URL scheme {parsed.scheme!r} (only http and https)")
    if not parsed.host:
        raise FetchError(f"URL without a host: {redact_url(url)}")
    return parsed


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_REASON_CHARS else line[: MAX_REASON_CHARS - 1] + "…"


def _media_type(content_type: str) -> str:
    return content_type.partition(";")[0].strip().lower()


def _header_token(value: str | None) -> str:
    # A validator is sent back verbatim; httpx refuses non-ASCII header values.
    if value is None or not value.isascii() or not value.isprintable():
        return ""
    return value.strip()


def _is_local(url: str) -> bool:
    return url.startswith("file://") or "://" not in url


def _local_path(url: str) -> str:
    if not url.startswith("file://"):
        return url
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise FetchError(f"file URL with a remote host: {redact_url(url)}")
    return url2pathname(parts.path)


def _read_local(path: str, limit: int) -> bytes:
    try:
        # stat before open: opening a FIFO would block this thread until a writer appears.
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise FetchError(f"not a regular file: {path}")
        with open(path, "rb") as fh:
            body = fh.read(limit + 1)
    except FileNotFoundError:
        raise FetchError(f"file not found: {path}") from None
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(body) > limit:
        raise FetchError(f"body exceeds {limit} bytes")
    return body


def _charset_param(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'")
    return ""


_META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.I)
_XML_ENCODING = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)", re.I)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _codec(label: str) -> str:
    """A Python codec name for an encoding label, following HTML's label rules; "" if unknown."""
    if not label:
        return ""
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return ""
    # Browsers read pages labelled latin-1 or ascii as windows-1252, and so do authors' bytes.
    if name in ("iso8859-1", "ascii"):
        return "cp1252"
    return name


def decode_html(body: bytes, content_type: str) -> str:
    """Decode an HTML page: BOM, then the declared charset, then <meta>, then UTF-8.

    A declared charset the bytes do not decode in is a common server error, so
    each candidate must decode strictly; windows-1252 with replacement is the
    last resort and never fails.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body.decode(codec, errors="replace")
    head = body[:SNIFF_BYTES]
    match = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    sniffed = _codec(match.group(1).decode("ascii")) if match else ""
    if sniffed.startswith(("utf-16", "utf-32")):
        # An ASCII-compatible byte stream cannot really be UTF-16; HTML says read it as UTF-8.
        sniffed = "utf-8"
    tried: set[str] = set()
    for codec in (_codec(_charset_param(content_type)), sniffed, "utf-8"):
        if not codec or codec in tried:
            continue
        tried.add(codec)
        try:
            return body.decode(codec)
        except UnicodeDecodeError:
            continue
    return body.decode("cp1252", errors="replace")


class Poller:
    """Fetches feeds and pages; use as ``async with Poller(cfg, states) as poller``."""

    def __init__(
        self,
        cfg: PollerConfig,
        states: FeedStateStore,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        guard: NetGuard | None = None,
    ) -> None:
        self.cfg = cfg
        # Strict unless told otherwise: only public addresses (see bot.netguard).
        self.guard = guard if guard is not None else NetGuard()
        self.states = states
        self.deadline = 2 * (cfg.connect_timeout + cfg.read_timeout)
        self._transport = transport
        self._clock = clock
        # Names this poller in feed leases (see FeedStateStore.lease).
        self._owner = uuid.uuid4().hex
        self._rng = rng if rng is not None else random.Random()
        self._client: httpx.AsyncClient | None = None
        self._global = asyncio.Semaphore(cfg.concurrency)
        self._hosts: dict[str, _HostSlot] = {}
        # Bounds concurrent Redis calls: redis-py opens a connection per concurrent
        # command, and a poll of thousands of feeds would otherwise open thousands.
        self._store_gate = asyncio.Semaphore(cfg.concurrency)

    async def __aenter__(self) -> Poller:
        cfg = self.cfg
        self._client = httpx.AsyncClient(
            transport=self._transport,
            follow_redirects=False,
            timeout=httpx.Timeout(
                connect=cfg.connect_timeout,
                read=cfg.read_timeout,
                write=cfg.read_timeout,
                pool=cfg.connect_timeout,
            ),
            limits=httpx.Limits(
                max_connections=cfg.concurrency,
                max_keepalive_connections=min(cfg.concurrency, 20),
            ),
            headers={"User-Agent": cfg.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # feeds ---------------------------------------------------------------
    async def poll(
        self, feeds: Sequence[FeedConfig], *, force: bool = False, hold_state: bool = False
    ) -> list[FetchResult]:
        """Fetch every due feed concurrently; one result per feed, in input order."""
        return list(
            await asyncio.gather(*(self._fetch_guarded(f, force, hold_state) for f in feeds))
        )

    async def _fetch_guarded(self, feed: FeedConfig, force: bool, hold_state: bool) -> FetchResult:
        try:
            return await self.fetch_feed(feed, force=force, hold_state=hold_state)
        except Exception as exc:
            # A Redis outage or a bug costs this feed's result, never the whole poll.
            log.error("feed %s: unexpected error", redact_url(feed.url), exc_info=True)
            reason = _one_line(f"internal error: {type(exc).__name__}: {exc}")
            return FetchResult(feed.url, "error", error=reason)

    async def fetch_feed(
        self, feed: FeedConfig, *, force: bool = False, hold_state: bool = False
    ) -> FetchResult:
        """Fetch one feed if it is due (always with ``force``), updating its stored state
        (with ``hold_state``, a success's state is saved by ``result.commit``)."""
        async with self._store_gate:
            state = await self.states.get(feed.url)
        if state.deactivated and not force:
            return FetchResult(feed.url, "deactivated", error=state.deactivated)
        if not force and self._clock() < state.next_poll:
            return FetchResult(feed.url, "skipped")
        interval = feed.interval or self.cfg.interval
        if not force and not await self.states.lease(feed.url, self._owner, int(interval * 1000)):
            return FetchResult(feed.url, "skipped")  # another worker is polling it
        moved_to = ""
        try:
            if _is_local(feed.url):
                path = _local_path(feed.url)
                body = await asyncio.to_thread(_read_local, path, self.cfg.max_body_bytes)
                kind = mimetypes.guess_type(path)[0] or ""
                result = FetchResult(feed.url, "ok", body=body, content_type=kind, final_url=path)
            else:
                result, moved_to = await self._fetch_http(feed, state)
        except FetchError as exc:
            status = exc.http_status if isinstance(exc, _Failure) else None
            return await self._failed(feed, state, _one_line(str(exc)), status)
        if hold_state:
            result.commit = functools.partial(self._succeeded, feed, state, moved_to)
        else:
            await self._succeeded(feed, state, moved_to)
        log.debug("feed %s: %s", redact_url(feed.url), result.status)
        return result

    async def _fetch_http(self, feed: FeedConfig, state: FeedState) -> tuple[FetchResult, str]:
        validators = {}
        if state.etag:
            validators["If-None-Match"] = state.etag
        if state.last_modified:
            validators["If-Modified-Since"] = state.last_modified
        # Validators stay on across redirects: they were stored from the final response.
        resp = await self._get(
            state.url, accept=FEED_ACCEPT, limit=self.cfg.max_body_bytes, headers=validators
        )
        if resp.status == 304:
            # A 304 may omit validators; the stored ones stay valid then.
            state.etag = resp.etag or state.etag
            state.last_modified = resp.last_modified or state.last_modified
            result = FetchResult(feed.url, "not_modified", final_url=resp.url, http_status=304)
        else:
            state.etag = resp.etag
            state.last_modified = resp.last_modified
            result = FetchResult(
                feed.url,
                "ok",
                body=resp.body,
                content_type=resp.content_type,
                final_url=resp.url,
                http_status=resp.status,
            )
        return result, resp.moved_to

    async def _succeeded(self, feed: FeedConfig, state: FeedState, moved_to: str) -> None:
        now = self._clock()
        state.failures = 0
        state.last_error = ""
        state.deactivated = ""
        state.last_ok = now
        state.next_poll = now + (feed.interval or self.cfg.interval)
        async with self._store_gate:
            if moved_to and moved_to != state.url:
                await self.states.moved(state.url, moved_to)
                log.info(
                    "feed %s moved permanently to %s",
                    redact_url(state.url),
                    redact_url(moved_to),
                )
                state.url = moved_to
            await self.states.put(state)

    async def _failed(
        self, feed: FeedConfig, state: FeedState, reason: str, http_status: int | None
    ) -> FetchResult:
        state.failures += 1
        state.last_error = reason
        state.next_poll = self._clock() + self._backoff(state.failures)
        if state.failures >= self.cfg.max_failures:
            if not state.deactivated:
                log.warning(
                    "feed %s deactivated after %d consecutive failures: %s",
                    redact_url(feed.url),
                    state.failures,
                    reason,
                )
            state.deactivated = reason
        else:
            log.info("feed %s failed (%d): %s", redact_url(feed.url), state.failures, reason)
        async with self._store_gate:
            await self.states.put(state)
        return FetchResult(feed.url, "error", error=reason, http_status=http_status)

    def _backoff(self, failures: int) -> float:
        # The exponent is capped only so that float arithmetic cannot overflow.
        step = self.cfg.backoff_base * 2.0 ** min(failures - 1, 64)
        # Jitter spreads feeds that failed together (one host down) over time.
        return min(self.cfg.backoff_max, step) * self._rng.uniform(0.8, 1.2)

    # pages ---------------------------------------------------------------
    async def fetch_page(self, url: str) -> str | None:
        """An article page's HTML as text for full-text extraction; None on any failure."""
        try:
            resp = await self._get(
                url, accept=PAGE_ACCEPT, limit=self.cfg.page_max_bytes, media_types=PAGE_TYPES
            )
        except FetchError as exc:
            log.info("page %s not fetched: %s", redact_url(url), exc)
            return None
        except Exception:
            log.warning("page %s: unexpected error", redact_url(url), exc_info=True)
            return None
        if resp.status == 304:
            return None
        return decode_html(resp.body, resp.content_type)

    # HTTP ----------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _slot(self, url: httpx.URL) -> AsyncIterator[None]:
        host = url.host
        slot = self._hosts.get(host)
        if slot is None:
            slot = self._hosts[host] = _HostSlot(asyncio.Semaphore(self.cfg.per_host_concurrency))
        slot.users += 1
        try:
            async with slot.sem, self._global:
                yield
        finally:
            slot.users -= 1
            # Dropped when idle, so pages from many hosts don't grow the map forever.
            if slot.users == 0:
                del self._hosts[host]

    async def _get(
        self,
        url: str,
        *,
        accept: str,
        limit: int,
        headers: dict[str, str] | None = None,
        media_types: tuple[str, ...] = (),
    ) -> _Response:
        target = check_url(url)
        async with self._slot(target):
            try:
                # The deadline starts once a slot is held: queueing is not the server's fault.
                async with asyncio.timeout(self.deadline):
                    await self.guard.check(target)
                    return await self._follow(target, accept, limit, headers or {}, media_types)
            except TimeoutError:
                raise _Failure(f"deadline of {self.deadline:g}s exceeded") from None
            except httpx.HTTPError as exc:
                raise _Failure(self._reason(exc)) from None

    async def _follow(
        self,
        url: httpx.URL,
        accept: str,
        limit: int,
        extra: dict[str, str],
        media_types: tuple[str, ...],
    ) -> _Response:
        if self._client is None:
            raise RuntimeError("Poller used outside 'async with'")
        headers = {"Accept": accept, **extra}
        # Compared without credentials, which only same-origin hops carry along.
        seen = {str(url.copy_with(userinfo=b""))}
        moved_to = ""
        permanent = True
        hops = 0
        while True:
            # Credentials go in as auth, not in the URL: httpx logs request URLs verbatim.
            auth = httpx.BasicAuth(url.username, url.password) if url.userinfo else None
            bare = url.copy_with(userinfo=b"")
            async with self._client.stream("GET", bare, headers=headers, auth=auth) as resp:
                location = resp.headers.get("location")
                if resp.status_code not in REDIRECT_CODES or not location:
                    return await self._final(resp, limit, moved_to, media_types)
                if hops >= self.cfg.max_redirects:
                    raise _Failure(
                        f"too many redirects (more than {self.cfg.max_redirects})",
                        resp.status_code,
                    )
                hops += 1
                try:
                    nxt = check_url(str(bare.join(location)))
                except (httpx.InvalidURL, ValueError):
                    raise _Failure("redirect to an invalid URL", resp.status_code) from None
                # Every hop is checked: a public URL must not redirect into the private net.
                await self.guard.check(nxt)
                if nxt.userinfo == b"" and url.userinfo and _same_origin(url, nxt):
                    # Like a browser: credentials go along to the same origin, nowhere else.
                    nxt = nxt.copy_with(username=url.username, password=url.password)
                key = str(nxt.copy_with(userinfo=b""))
                if key in seen:
                    raise _Failure(f"redirect loop at {key}", resp.status_code)
                seen.add(key)
                # Only an unbroken run of permanent redirects from the stored URL moves the feed.
                permanent = permanent and resp.status_code in PERMANENT_CODES
                if permanent:
                    moved_to = str(nxt)
                url = nxt

    async def _final(
        self,
        resp: httpx.Response,
        limit: int,
        moved_to: str,
        media_types: tuple[str, ...],
    ) -> _Response:
        status = resp.status_code
        content_type = resp.headers.get("content-type", "")
        if status >= 400:
            raise _Failure(_one_line(f"HTTP {status} {resp.reason_phrase}"), status)
        if status != 304 and not 200 <= status < 300:
            raise _Failure(f"unexpected HTTP {status}", status)
        body = b""
        if status != 304:
            if media_types and _media_type(content_type) not in media_types:
                raise _Failure(f"unwanted content type {_media_type(content_type)!r}", status)
            body = await _read_limited(resp, limit)
        return _Response(
            status=status,
            url=str(resp.url),
            body=body,
            content_type=content_type,
            etag=_header_token(resp.headers.get("etag")),
            last_modified=_header_token(resp.headers.get("last-modified")),
            moved_to=moved_to,
        )

    def _reason(self, exc: httpx.HTTPError) -> str:
        detail = _one_line(str(exc))
        if isinstance(exc, httpx.ConnectTimeout):
            return f"connect timeout ({self.cfg.connect_timeout:g}s)"
        if isinstance(exc, httpx.ReadTimeout):
            return f"read timeout ({self.cfg.read_timeout:g}s)"
        if isinstance(exc, httpx.TimeoutException):
            return f"timeout: {detail or type(exc).__name__}"
        if isinstance(exc, httpx.ConnectError):
            return f"connection failed: {detail or 'no detail'}"
        if isinstance(exc, httpx.RemoteProtocolError):
            return f"protocol error: {detail or 'no detail'}"
        if isinstance(exc, httpx.DecodingError):
            return f"cannot decode body: {detail or 'no detail'}"
        return _one_line(f"{type(exc).__name__}: {detail}")


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


class _Inflater:
    """gzip/deflate decoding that never produces more than asked for in one step.

    httpx decodes each network chunk whole: one 64 KiB chunk of a gzip bomb
    becomes about 64 MiB before any limit can look at it. zlib's ``max_length``
    keeps every step within the remaining budget instead.
    """

    def __init__(self, encoding: str) -> None:
        gzip = encoding in ("gzip", "x-gzip")
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)
        # "deflate" is meant to be zlib-wrapped, but some servers send raw deflate.
        self._may_be_raw = not gzip

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._may_be_raw:
            self._may_be_raw = False
            try:
                return self._zlib.decompress(data, max_length)
            except zlib.error:
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._zlib.decompress(data, max_length)

    def flush(self) -> bytes:
        return self._zlib.flush()


async def _read_limited(resp: httpx.Response, limit: int) -> bytes:
    """The decoded body, refusing as soon as it passes ``limit`` bytes."""
    encoding = resp.headers.get("content-encoding", "").strip().lower()
    declared = resp.headers.get("content-length", "")
    # Without a content coding the declared length is the body length: refuse before reading.
    if declared.isdigit() and int(declared) > limit and encoding in ("", "identity"):
        raise _Failure(f"body exceeds {limit} bytes", resp.status_code)
    too_big = _Failure(f"body exceeds {limit} bytes", resp.status_code)
    buf = bytearray()
    if encoding not in ("gzip", "x-gzip", "deflate"):
        # Identity, or br / stacked codings that only httpx can decode (unbounded per chunk).
        async for chunk in resp.aiter_bytes():
            if len(buf) + len(chunk) > limit:
                raise too_big
            buf += chunk
        return bytes(buf)
    inflater = _Inflater(encoding)
    try:
        async for raw in resp.aiter_raw():
            # One byte over the budget is enough to know the body is too big.
            chunk = inflater.decompress(raw, limit - len(buf) + 1)
            if len(buf) + len(chunk) > limit:
                raise too_big
            buf += chunk
        buf += inflater.flush()
    except zlib.error as exc:
        raise _Failure(_one_line(f"cannot decode body: {exc}"), resp.status_code) from None
    if len(buf) > limit:
        raise too_big
    return bytes(buf)
