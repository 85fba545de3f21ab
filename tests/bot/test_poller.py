"""The poller against a real HTTP server on loopback and a real Redis."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import FeedConfig, PollerConfig
from bot.errors import FetchError
from bot.feed_state import FeedState, FeedStateStore, redact_url
from bot.netguard import NetGuard
from bot.poller import FetchResult, Poller, check_url, decode_html
from tests.httpserver import (
    ETAG,
    GZIP_TEXT,
    LAST_MODIFIED,
    LATIN1_FEED,
    MALFORMED,
    PAGE_TEXT,
    RSS,
    FeedServer,
    gzip_bomb,
)

CFG = PollerConfig(
    interval=600,
    connect_timeout=0.25,
    read_timeout=0.5,
    max_body_bytes=64 * 1024,
    max_redirects=3,
    max_failures=3,
    concurrency=10,
    per_host_concurrency=2,
    backoff_base=10.0,
    backoff_max=100.0,
    page_max_bytes=32 * 1024,
)
T0 = 1_700_000_000.0
# The test server is on loopback, which the SSRF guard refuses unless allowed.
LOOPBACK = NetGuard(allow=["127.0.0.0/8", "::1", "localhost"])


class Clock:
    """Wall-clock time the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def poller(feed_states: FeedStateStore, clock: Clock) -> AsyncIterator[Poller]:
    async with Poller(CFG, feed_states, clock=clock, rng=random.Random(7), guard=LOOPBACK) as p:
        yield p


def feed(url: str, **kw: object) -> FeedConfig:
    return FeedConfig(url=url, **kw)  # type: ignore[arg-type]


# conditional GET, encodings, bodies -------------------------------------------


async def test_conditional_get_round_trip(
    poller: Poller, feed_server: FeedServer, feed_states: FeedStateStore, clock: Clock
) -> None:
    f = feed(feed_server.url("/etag.xml"))
    first = await poller.fetch_feed(f)
    assert (first.status, first.body, first.http_status) == ("ok", RSS, 200)
    assert first.content_type.startswith("application/rss+xml")
    state = await feed_states.get(f.url)
    assert (state.etag, state.last_modified) == (ETAG, LAST_MODIFIED)
    assert state.last_ok == T0 and state.next_poll == T0 + CFG.interval

    clock.now = state.next_poll
    second = await poller.fetch_feed(f)
    assert (second.status, second.body, second.http_status) == ("not_modified", b"", 304)
    sent = feed_server.hits("/etag.xml")[-1].headers
    assert sent["if-none-match"] == ETAG
    assert sent["if-modified-since"] == LAST_MODIFIED
    assert sent["user-agent"] == CFG.user_agent
    assert sent["accept"].startswith("application/rss+xml")
    # A 304 counts as a successful poll.
    assert (await feed_states.get(f.url)).next_poll == clock.now + CFG.interval


@pytest.mark.parametrize("path", ["/gzip.xml", "/deflate.xml", "/raw-deflate.xml"])
async def test_compressed_body_is_decoded(
    path: str, poller: Poller, feed_server: FeedServer
) -> None:
    result = await poller.fetch_feed(feed(feed_server.url(path)))
    assert result.status == "ok" and result.body == GZIP_TEXT
    assert "gzip" in feed_server.hits(path)[0].headers["accept-encoding"]


async def test_corrupt_gzip_is_an_error(poller: Poller, feed_server: FeedServer) -> None:
    result = await poller.fetch_feed(feed(feed_server.url("/bad-gzip.xml")))
    assert result.status == "error" and result.error.startswith("cannot decode body")


async def test_gzip_bomb_is_cut_off_in_bounded_memory(
    poller: Poller, feed_server: FeedServer
) -> None:
    gzip_bomb()  # built before measuring: the server's memory is not the poller's
    # About 32 KiB on the wire, 32 MiB decoded: the limit applies to what we would hold,
    # and decoding stops at the limit instead of inflating a whole network chunk.
    tracemalloc.start()
    try:
        result = await poller.fetch_feed(feed(feed_server.url("/bomb.xml")))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.status == "error"
    assert result.error == f"body exceeds {CFG.max_body_bytes} bytes"
    assert peak < 4 * 1024 * 1024


async def test_declared_length_over_limit_is_refused(
    poller: Poller, feed_server: FeedServer
) -> None:
    result = await poller.fetch_feed(feed(feed_server.url("/big")))
    assert result.status == "error" and "exceeds" in result.error


async def test_endless_body_is_cut_off_quickly_in_bounded_memory(
    poller: Poller, feed_server: FeedServer
) -> None:
    tracemalloc.start()
    try:
        started = time.monotonic()
        result = await poller.fetch_feed(feed(feed_server.url("/endless")))
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.status == "error" and "exceeds" in result.error
    assert elapsed < 1.0
    assert peak < 4 * 1024 * 1024


async def test_malformed_xml_is_still_a_successful_fetch(
    poller: Poller, feed_server: FeedServer
) -> None:
    result = await poller.fetch_feed(feed(feed_server.url("/malformed.xml")))
    assert (result.status, result.body, result.content_type) == (
        "ok",
        MALFORMED,
        "application/xml",
    )


async def test_wrong_declared_charset_passes_bytes_through(
    poller: Poller, feed_server: FeedServer
) -> None:
    # The parser decides what the bytes mean; the poller must not "fix" them.
    result = await poller.fetch_feed(feed(feed_server.url("/latin1-as-utf8.xml")))
    assert result.status == "ok"
    assert result.body == LATIN1_FEED.encode("latin-1")
    assert result.content_type == "application/rss+xml; charset=utf-8"


# redirects -------------------------------------------------------------------


async def test_permanent_redirect_moves_the_stored_url(
    poller: Poller, feed_server: FeedServer, feed_states: FeedStateStore, clock: Clock
) -> None:
    f = feed(feed_server.url("/moved"))
    result = await poller.fetch_feed(f)
    assert result.status == "ok" and result.body == RSS
    assert result.url == f.url and result.final_url == feed_server.url("/feed.xml")
    assert (await feed_states.get(f.url)).url == feed_server.url("/feed.xml")

    clock.now += CFG.interval
    again = await poller.fetch_feed(f)
    assert again.status == "ok" and again.url == f.url
    assert len(feed_server.hits("/moved")) == 1, "the old URL is not asked again"
    assert len(feed_server.hits("/feed.xml")) == 2


async def test_308_to_another_host_moves_too(
    poller: Poller, feed_server: FeedServer, feed_states: FeedStateStore
) -> None:
    f = feed(feed_server.url("/moved-308"))
    assert (await poller.fetch_feed(f)).status == "ok"
    assert (await feed_states.get(f.url)).url == feed_server.url("/feed.xml", host="localhost")


@pytest.mark.parametrize("path", ["/temp", "/temp-then-moved"])
async def test_temporary_redirect_keeps_the_stored_url(
    path: str,
    poller: Poller,
    feed_server: FeedServer,
    feed_states: FeedStateStore,
    clock: Clock,
) -> None:
    f = feed(feed_server.url(path))
    result = await poller.fetch_feed(f)
    assert result.status == "ok" and result.final_url == feed_server.url("/feed.xml")
    assert (await feed_states.get(f.url)).url == f.url
    clock.now += CFG.interval
    await poller.fetch_feed(f)
    assert len(feed_server.hits(path)) == 2


async def test_redirect_loop_is_an_error(poller: Poller, feed_server: FeedServer) -> None:
    result = await poller.fetch_feed(feed(feed_server.url("/loop-a")))
    assert result.status == "error"
    assert result.error == f"redirect loop at {feed_server.url('/loop-a')}"
    assert len(feed_server.hits("/loop-a")) == 1


async def test_redirect_chain_limit(poller: Poller, feed_server: FeedServer) -> None:
    # /chain/2 takes exactly max_redirects (3) hops to the feed; /chain/3 takes one more.
    ok = await poller.fetch_feed(feed(feed_server.url("/chain/2")))
    assert ok.status == "ok" and ok.body == RSS
    too_long = await poller.fetch_feed(feed(feed_server.url("/chain/3")))
    assert too_long.status == "error"
    assert too_long.error == "too many redirects (more than 3)"
    assert not feed_server.hits("/chain/-1") and len(feed_server.hits("/chain/0")) == 2


# errors, timeouts, deadlines ----------------------------------------------------


@pytest.mark.parametrize(
    ("code", "reason"), [(404, "HTTP 404 Not Found"), (500, "HTTP 500 Internal Server Error")]
)
async def test_http_error_status(
    code: int,
    reason: str,
    poller: Poller,
    feed_server: FeedServer,
    feed_states: FeedStateStore,
) -> None:
    f = feed(feed_server.url(f"/status/{code}"))
    result = await poller.fetch_feed(f)
    assert (result.status, result.http_status, result.error) == ("error", code, reason)
    state = await feed_states.get(f.url)
    assert (state.failures, state.last_error) == (1, reason)


async def test_read_timeout(poller: Poller, feed_server: FeedServer) -> None:
    started = time.monotonic()
    result = await poller.fetch_feed(feed(feed_server.url("/slow?delay=5")))
    assert result.status == "error" and result.error == "read timeout (0.5s)"
    assert time.monotonic() - started < 1.5


async def test_connection_refused(poller: Poller, feed_server: FeedServer) -> None:
    port = feed_server.port
    feed_server.stop()
    result = await poller.fetch_feed(feed(f"http://127.0.0.1:{port}/feed.xml"))
    assert result.status == "error" and result.error.startswith("connection failed: ")
    assert "\n" not in result.error


async def test_trickling_server_hits_the_total_deadline(
    poller: Poller, feed_server: FeedServer
) -> None:
    # One byte every 0.1 s never trips the 0.5 s read timeout; only the deadline ends it.
    started = time.monotonic()
    result = await poller.fetch_feed(feed(feed_server.url("/trickle")))
    elapsed = time.monotonic() - started
    assert result.status == "error" and result.error == "deadline of 1.5s exceeded"
    assert poller.deadline <= elapsed < poller.deadline + 1.0


# backoff, deactivation, scheduling ----------------------------------------------------


async def test_backoff_doubles_up_to_the_cap_with_bounded_jitter(
    feed_server: FeedServer, feed_states: FeedStateStore, clock: Clock
) -> None:
    cfg = dataclasses.replace(CFG, max_failures=100)
    replay = random.Random(42)
    f = feed(feed_server.url("/status/503"))
    delays = []
    rng = random.Random(42)
    async with Poller(cfg, feed_states, clock=clock, rng=rng, guard=LOOPBACK) as poller:
        for n in range(1, 8):
            result = await poller.fetch_feed(f)
            assert result.status == "error"
            state = await feed_states.get(f.url)
            assert (state.failures, state.last_error) == (n, "HTTP 503 Service Unavailable")
            delay = state.next_poll - clock.now
            cap = min(cfg.backoff_max, cfg.backoff_base * 2 ** (n - 1))
            assert 0.8 * cap <= delay <= 1.2 * cap
            assert delay == pytest.approx(cap * replay.uniform(0.8, 1.2))
            delays.append(delay)
            skipped = await poller.fetch_feed(f)
            assert skipped.status == "skipped"
            clock.now = state.next_poll
    assert delays[0] < delays[1] < delays[2] < delays[3]
    # From failure 5 on the cap (100 s) holds and only the jitter differs.
    assert len({round(d, 6) for d in delays[4:]}) == 3


async def test_deactivation_after_max_failures_keeps_the_reason(
    poller: Poller, feed_server: FeedServer, feed_states: FeedStateStore, clock: Clock
) -> None:
    f = feed(feed_server.url("/flaky"))
    for _ in range(CFG.max_failures):
        assert (await poller.fetch_feed(f)).status == "error"
        clock.now = (await feed_states.get(f.url)).next_poll
    state = await feed_states.get(f.url)
    assert state.failures == CFG.max_failures
    assert state.deactivated == "HTTP 500 Internal Server Error"

    clock.now += 10 * CFG.backoff_max
    later = await poller.fetch_feed(f)
    assert (later.status, later.error) == ("deactivated", "HTTP 500 Internal Server Error")
    assert len(feed_server.hits("/flaky")) == CFG.max_failures

    forced = await poller.fetch_feed(f, force=True)
    assert forced.status == "error" and len(feed_server.hits("/flaky")) == CFG.max_failures + 1

    feed_server.st.flaky_status = 200
    revived = await poller.fetch_feed(f, force=True)
    assert revived.status == "ok"
    state = await feed_states.get(f.url)
    assert (state.failures, state.deactivated, state.last_error) == (0, "", "")
    clock.now = state.next_poll
    assert (await poller.fetch_feed(f)).status == "ok"


async def test_skipped_until_due_unless_forced(
    poller: Poller, feed_server: FeedServer, feed_states: FeedStateStore, clock: Clock
) -> None:
    f = feed(feed_server.url("/feed.xml"))
    assert (await poller.fetch_feed(f)).status == "ok"
    clock.now = T0 + CFG.interval - 1
    assert (await poller.fetch_feed(f)).status == "skipped"
    assert len(feed_server.hits("/feed.xml")) == 1
    assert (await poller.fetch_feed(f, force=True)).status == "ok"
    assert (await feed_states.get(f.url)).next_poll == clock.now + CFG.interval
    clock.now += CFG.interval
    assert (await poller.fetch_feed(f)).status == "ok"
    assert len(feed_server.hits("/feed.xml")) == 3

    own = feed(feed_server.url("/etag.xml"), interval=60)
    await poller.fetch_feed(own)
    assert (await feed_states.get(own.url)).next_poll == clock.now + 60


# concurrency ----------------------------------------------------------------


async def test_healthy_feed_is_fetched_while_another_hangs(
    poller: Poller, feed_server: FeedServer
) -> None:
    hanging = asyncio.create_task(poller.fetch_feed(feed(feed_server.url("/hang"))))
    healthy = asyncio.create_task(poller.fetch_feed(feed(feed_server.url("/feed.xml"))))
    ok = await asyncio.wait_for(healthy, 0.4)
    assert ok.status == "ok" and not hanging.done()
    stuck = await hanging
    assert stuck.status == "error" and stuck.error == "read timeout (0.5s)"


async def test_poll_isolates_failures_and_keeps_input_order(
    poller: Poller, feed_server: FeedServer, tmp_path: Path
) -> None:
    feeds = [
        feed(feed_server.url("/hang")),
        feed(feed_server.url("/feed.xml")),
        feed(feed_server.url("/status/404")),
        feed("http://[::1/broken"),
        feed(str(tmp_path / "missing.xml")),
        feed(feed_server.url("/gzip.xml")),
    ]
    results = await poller.poll(feeds)
    assert [r.url for r in results] == [f.url for f in feeds]
    assert [r.status for r in results] == ["error", "ok", "error", "error", "error", "ok"]
    assert results[3].error.startswith("invalid URL")


async def test_per_host_limit_is_respected(poller: Poller, feed_server: FeedServer) -> None:
    feeds = [feed(feed_server.url(f"/count/{i}")) for i in range(6)]
    results = await poller.poll(feeds)
    assert all(r.status == "ok" for r in results)
    assert feed_server.st.max_active[f"127.0.0.1:{feed_server.port}"] == 2


async def test_global_limit_across_hosts(
    feed_server: FeedServer, feed_states: FeedStateStore, clock: Clock
) -> None:
    cfg = dataclasses.replace(CFG, concurrency=3, per_host_concurrency=2)
    feeds = [
        feed(feed_server.url(f"/count/{i}", host=h))
        for h in ("127.0.0.1", "localhost")
        for i in range(4)
    ]
    async with Poller(cfg, feed_states, clock=clock, guard=LOOPBACK) as poller:
        results = await poller.poll(feeds)
    assert all(r.status == "ok" for r in results)
    st = feed_server.st
    assert st.max_active_total == 3
    assert max(st.max_active.values()) == 2


# local files ---------------------------------------------------------------


async def test_local_files(poller: Poller, tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(RSS)
    for url in (str(path), path.as_uri()):
        result = await poller.fetch_feed(feed(url), force=True)
        assert (result.status, result.body, result.final_url) == ("ok", RSS, str(path))
        assert result.content_type in ("application/xml", "text/xml")

    big = tmp_path / "big.xml"
    big.write_bytes(b"x" * (CFG.max_body_bytes + 1))
    assert (await poller.fetch_feed(feed(str(big)))).error == (
        f"body exceeds {CFG.max_body_bytes} bytes"
    )
    missing = await poller.fetch_feed(feed(str(tmp_path / "nope.xml")))
    assert missing.status == "error" and missing.error.startswith("file not found")
    folder = await poller.fetch_feed(feed(str(tmp_path)))
    assert folder.status == "error" and folder.error.startswith("not a regular file")


# credentials ---------------------------------------------------------------


async def test_url_credentials_are_used_but_never_logged(
    poller: Poller,
    feed_server: FeedServer,
    feed_states: FeedStateStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    ok = await poller.fetch_feed(feed(feed_server.url("/auth", userinfo="user:secret")))
    assert ok.status == "ok"
    # Same-origin redirects keep the credentials, as a browser would.
    via = await poller.fetch_feed(feed(feed_server.url("/auth-redirect", userinfo="user:secret")))
    assert via.status == "ok"

    bad = feed(feed_server.url("/status/500", userinfo="user:hunter2"))
    assert (await poller.fetch_feed(bad)).status == "error"
    await poller.fetch_page(feed_server.url("/status/404", userinfo="user:hunter2"))
    assert "***@127.0.0.1" in caplog.text
    assert "secret" not in caplog.text and "hunter2" not in caplog.text
    assert "hunter2" not in (await feed_states.get(bad.url)).last_error


def test_redact_url() -> None:
    assert redact_url("https://u:p@example.org:8443/f?x=1") == "https://***@example.org:8443/f?x=1"
    assert redact_url("https://example.org/a@b") == "https://example.org/a@b"
    assert redact_url("/srv/feeds/a.xml") == "/srv/feeds/a.xml"


# pages ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/page.html", "/page-wrong-charset.html", "/page-meta.html"])
async def test_fetch_page_decodes_text(path: str, poller: Poller, feed_server: FeedServer) -> None:
    text = await poller.fetch_page(feed_server.url(path))
    assert text is not None and PAGE_TEXT in text
    assert feed_server.hits(path)[0].headers["accept"].startswith("text/html")


@pytest.mark.parametrize(
    "path", ["/doc.pdf", "/feed.xml", "/status/404", "/page-big.html", "/loop-a", "/hang"]
)
async def test_fetch_page_returns_none_on_failure(
    path: str, poller: Poller, feed_server: FeedServer
) -> None:
    assert await poller.fetch_page(feed_server.url(path)) is None


async def test_fetch_page_refuses_other_schemes(poller: Poller) -> None:
    assert await poller.fetch_page("ftp://example.invalid/a.html") is None


def test_check_url() -> None:
    assert check_url("https://example.org/feed").host == "example.org"
    for bad in ("ftp://example.org/f", "file:///etc/passwd", "javascript:alert(1)", "http://"):
        with pytest.raises(FetchError):
            check_url(bad)


def test_decode_html_precedence() -> None:
    cp = '<meta charset="windows-1252"><p>Größe</p>'.encode("cp1252")
    assert "Größe" in decode_html(cp, "text/html; charset=utf-8")
    assert "Größe" in decode_html("<p>Größe</p>".encode(), "text/html")
    assert "Größe" in decode_html(
        b"\xef\xbb\xbf" + "<p>Größe</p>".encode(), "text/html; charset=koi8-r"
    )
    assert "Gr" in decode_html(b"<p>Gr\x81</p>", "text/html; charset=no-such-codec")


# the state store --------------------------------------------------------------


async def test_state_round_trip_and_defaults(feed_states: FeedStateStore) -> None:
    assert await feed_states.get("http://example.invalid/new") == FeedState(
        "http://example.invalid/new"
    )
    state = FeedState(
        "http://example.invalid/a",
        etag='W/"x"',
        last_modified=LAST_MODIFIED,
        failures=2,
        next_poll=T0 + 0.25,
        last_error="HTTP 500",
        deactivated="",
        last_ok=T0,
    )
    await feed_states.put(state)
    assert await feed_states.get(state.url) == state


async def test_state_moves_compress_chains_and_never_loop(feed_states: FeedStateStore) -> None:
    a, b, c = (f"http://example.invalid/{n}" for n in "abc")
    await feed_states.put(FeedState(a, etag='"1"', failures=1))
    await feed_states.moved(a, b)
    await feed_states.moved(b, c)
    for url in (a, b, c):
        state = await feed_states.get(url)
        assert (state.url, state.etag, state.failures) == (c, '"1"', 1)
    # The feed moves back to where it started: no alias may point in a circle.
    await feed_states.moved(c, a)
    for url in (a, b, c):
        assert (await feed_states.get(url)).url == a


def test_fetch_result_defaults() -> None:
    r = FetchResult("u", "skipped")
    assert (r.body, r.content_type, r.final_url, r.error, r.http_status) == (b"", "", "", "", None)


async def test_two_workers_never_fetch_one_feed_at_once_and_none_is_starved(
    feed_states: FeedStateStore, feed_server: FeedServer
) -> None:
    # Real time here: the lease lives in Redis, one polling interval (1 s) long.
    feeds = [feed(feed_server.url(f"/count/lease{i}"), interval=1) for i in range(6)]
    async with (
        Poller(CFG, feed_states, guard=LOOPBACK) as first,
        Poller(CFG, feed_states, guard=LOOPBACK) as second,
    ):
        a, b = await asyncio.gather(first.poll(feeds), second.poll(feeds))
        for i, (ra, rb) in enumerate(zip(a, b, strict=True)):
            assert sorted([ra.status, rb.status]) == ["ok", "skipped"]
            assert len(feed_server.hits(f"/count/lease{i}")) == 1
        # The first worker dies; once its leases ran out the second polls every feed.
        await asyncio.sleep(1.2)
        later = await second.poll(feeds)
        assert [r.status for r in later] == ["ok"] * len(feeds)
        assert all(len(feed_server.hits(f"/count/lease{i}")) == 2 for i in range(6))
