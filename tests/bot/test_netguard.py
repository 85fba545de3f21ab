"""The SSRF guard: only public addresses, re-checked after every redirect, an allowlist."""

from __future__ import annotations

import asyncio
import ipaddress
import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.config import FeedConfig, PollerConfig, load_config
from bot.errors import ConfigError, UnsafeURL
from bot.feed_state import FeedStateStore
from bot.netguard import NetGuard, Resolver, address_problem
from bot.poller import Poller
from tests.httpserver import FeedServer

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),
    ("100.64.0.1", "non-public"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("0.0.0.0", "unspecified"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:169.254.169.254", "link-local"),
    ("::ffff:10.0.0.1", "private"),
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
]
PUBLIC = ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize(("address", "kind"), REFUSED)
def test_non_public_addresses_are_named(address: str, kind: str) -> None:
    problem = address_problem(ipaddress.ip_address(address))
    assert problem is not None and kind in problem


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


def resolver(table: dict[str, list[str]]) -> Resolver:
    """A DNS stand-in: the guard's resolver seam, answering from a table."""

    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("Name or service not known")
        return table[host]

    return resolve


DNS = {
    "news.example": ["93.184.216.34"],
    "mixed.example": ["93.184.216.34", "10.0.0.7"],
    "meta.example": ["169.254.169.254"],
    "intranet.corp": ["10.20.30.40"],
    "feeds.intranet.corp": ["10.20.30.41"],
    "v6.example": ["2606:4700:4700::1111", "::1"],
}


async def test_resolved_addresses_decide() -> None:
    guard = NetGuard(resolver=resolver(DNS))
    assert await guard.check("https://news.example/rss") == [ipaddress.ip_address("93.184.216.34")]
    for url, shown in [
        # One bad address is enough: the client may connect to any of them.
        ("https://mixed.example/rss", "mixed.example (10.0.0.7) is a private address"),
        ("http://meta.example/latest/meta-data/", "(169.254.169.254) is a link-local address"),
        ("http://v6.example/", "(::1) is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://[::ffff:7f00:1]:6379/", "loopback address (embedded in ::ffff:7f00:1)"),
        ("http://0.0.0.0:8080/", "0.0.0.0 is an unspecified address"),
    ]:
        with pytest.raises(UnsafeURL) as info:
            await guard.check(url)
        assert shown in str(info.value)
        assert "security.allow" in str(info.value)


async def test_unresolvable_and_slow_dns_are_refused_in_bounded_time() -> None:
    async def hang(host: str, port: int) -> list[str]:
        await asyncio.sleep(30)
        return []

    with pytest.raises(UnsafeURL, match=r"cannot resolve nowhere\.example"):
        await NetGuard(resolver=resolver(DNS)).check("https://nowhere.example/")
    guard = NetGuard(resolver=hang, resolve_timeout=0.2)
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(UnsafeURL, match=r"no answer within 0\.2s"):
        await guard.check("https://slow.example/")
    assert loop.time() - start < 2


async def test_schemes_other_than_http_are_refused() -> None:
    guard = NetGuard(resolver=resolver(DNS))
    for url in ["file:///etc/passwd", "gopher://news.example/", "ftp://news.example/x"]:
        with pytest.raises(UnsafeURL, match="unsupported URL scheme"):
            await guard.check(url)


async def test_the_real_resolver_refuses_localhost() -> None:
    with pytest.raises(UnsafeURL, match="loopback"):
        await NetGuard().check("http://localhost:6379/")


async def test_allowlist_hosts_domains_networks_and_allow_private() -> None:
    dns = resolver(DNS)
    exact = NetGuard(allow=["intranet.corp"], resolver=dns)
    assert await exact.check("http://intranet.corp/") == []
    with pytest.raises(UnsafeURL):
        # An exact host does not cover its subdomains ...
        await exact.check("http://feeds.intranet.corp/")
    # ... a leading dot does.
    domain = NetGuard(allow=[".intranet.corp"], resolver=dns)
    assert await domain.check("http://feeds.intranet.corp/") == []
    assert await domain.check("http://intranet.corp/") == []
    network = NetGuard(allow=["10.20.0.0/16"], resolver=dns)
    assert await network.check("http://feeds.intranet.corp/x")
    with pytest.raises(UnsafeURL):
        await network.check("http://meta.example/")
    anything = NetGuard(allow_private=True, resolver=dns)
    assert await anything.check("http://169.254.169.254/") == []


def test_allowlist_in_config(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[security]\nallow = ["10.0.0.0/8", ".corp.example", "::1"]\n')
    assert load_config(path, env={}).security.allow == ("10.0.0.0/8", ".corp.example", "::1")
    path.write_text('[security]\nallow = ["10.0.0.0/33"]\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.key == "security.allow"
    path.write_text("[security]\nallow_private = 'yes'\n")
    with pytest.raises(ConfigError, match=r"security\.allow_private"):
        load_config(path, env={})


# --- through the poller ------------------------------------------------------------


class _Redirector(BaseHTTPRequestHandler):
    """Redirects ``/to?u=<url>`` to that URL: a public feed pointing into the private net."""

    def do_GET(self) -> None:
        target = self.path.partition("?u=")[2]
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def redirector() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


CFG = PollerConfig(connect_timeout=0.5, read_timeout=1.0, max_failures=3, backoff_base=1.0)


async def test_poller_refuses_loopback_feeds_and_pages_by_default(
    feed_server: FeedServer, feed_states: FeedStateStore
) -> None:
    async with Poller(CFG, feed_states, rng=random.Random(1)) as poller:
        result = await poller.fetch_feed(FeedConfig(url=feed_server.url("/feed.xml")))
        assert result.status == "error"
        assert "refused: 127.0.0.1 is a loopback address" in result.error
        assert await poller.fetch_page(feed_server.url("/page.html")) is None
    state = await feed_states.get(feed_server.url("/feed.xml"))
    assert state.failures == 1 and "loopback" in state.last_error
    assert feed_server.hits("/feed.xml") == []  # never connected


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://10.0.0.1/admin",
        "http://[::1]:6379/",
        "http://127.0.0.2:6379/",  # loopback, outside the allowed /32
    ],
)
async def test_a_redirect_into_the_private_net_is_refused(
    redirector: str, feed_states: FeedStateStore, target: str
) -> None:
    # The first hop is allowed (the operator listed it); the hop it redirects to is not.
    guard = NetGuard(allow=["127.0.0.1/32"])
    async with Poller(CFG, feed_states, guard=guard) as poller:
        result = await poller.fetch_feed(FeedConfig(url=f"{redirector}/to?u={target}"))
    assert result.status == "error"
    assert "refused:" in result.error and "address" in result.error


async def test_allowed_loopback_feed_is_fetched(
    feed_server: FeedServer, feed_states: FeedStateStore
) -> None:
    guard = NetGuard(allow=["127.0.0.1"])
    async with Poller(CFG, feed_states, guard=guard) as poller:
        result = await poller.fetch_feed(FeedConfig(url=feed_server.url("/feed.xml")))
    assert result.status == "ok" and result.body
