"""The SSRF guard: outgoing requests reach only public addresses unless allowed.

Feed, page and webhook URLs come from users (``/addfeed``, OPML imports,
webhook subscriptions) and from redirects chosen by remote servers. Without a
guard, any of them could make the bot fetch ``http://169.254.169.254/`` (cloud
metadata with credentials), ``http://127.0.0.1:6379/`` (our own Redis) or a
router's admin page, and a feed's error message would leak what came back.

:meth:`NetGuard.check` resolves the host (bounded in time) and refuses the URL
when *any* address it resolves to is loopback, private, link-local (incl.
169.254.169.254), shared (CGNAT), multicast, reserved, unspecified or otherwise
not globally routable — IPv4, IPv6 and IPv4 addresses embedded in IPv6
(IPv4-mapped, 6to4, Teredo). The poller calls it for the first URL and again
for every redirect hop, so a public URL cannot redirect into the private net.

The operator can open holes: ``security.allow`` lists host names (exact, or
``.example.org`` for a domain and its subdomains), IP addresses and CIDR
networks that are always allowed; ``security.allow_private = true`` turns the
address check off (for a bot that only reads an intranet).

DNS rebinding: the HTTP client resolves the host again when it connects, so a
host that answers a public address to us and a private one a moment later can
slip through. Closing that window needs connecting to the address checked
here (a custom transport); we accept the window and say so in the README.
Redirects and the short time between check and connect keep it narrow.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

import httpx

from bot.config import SecurityConfig
from bot.errors import UnsafeURL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

DEFAULT_RESOLVE_TIMEOUT = 5.0
# Not flagged by the ipaddress module's properties, yet never a public web server.
_EXTRA_BLOCKED: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("100.64.0.0/10"),  # shared address space (carrier-grade NAT)
    ipaddress.ip_network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.ip_network("198.18.0.0/15"),  # benchmarking
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64
)


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, by the system's resolver (as httpx will)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def address_problem(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public address, or None when it is."""
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        problem = address_problem(embedded)
        return f"{problem} (embedded in {ip})" if problem else None
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if any(ip in net for net in _EXTRA_BLOCKED if net.version == ip.version):
        return "a non-public address"
    if not ip.is_global:
        return "not a globally routable address"
    return None


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's address; the server part is public by design
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True, slots=True)
class Allowlist:
    """Hosts and networks the operator allows whatever they resolve to."""

    hosts: frozenset[str] = frozenset()
    domains: tuple[str, ...] = ()  # ".example.org": the domain and its subdomains
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Allowlist:
        """From config entries; raises ValueError naming a bad entry."""
        hosts: set[str] = set()
        domains: list[str] = []
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                raise ValueError("empty entry")
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if "/" in entry or ":" in entry or any(c.isspace() for c in entry):
                raise ValueError(f"{raw!r} is neither a host name nor an IP network")
            if entry.startswith("."):
                domains.append(entry)
            else:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(domains), tuple(networks))

    def allows_host(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return host in self.hosts or any(host.endswith(d) or host == d[1:] for d in self.domains)

    def allows_ip(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self.networks)


class NetGuard:
    """Decides whether a URL may be requested; see the module docstring."""

    def __init__(
        self,
        *,
        allow: Sequence[str] = (),
        allow_private: bool = False,
        resolve_timeout: float = DEFAULT_RESOLVE_TIMEOUT,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.allowlist = Allowlist.parse(allow)
        self.allow_private = allow_private
        self.resolve_timeout = resolve_timeout
        self._resolve = resolver

    async def check(self, url: str | httpx.URL) -> list[IPAddress]:
        """The addresses ``url``'s host resolves to; raises :class:`UnsafeURL` if refused.

        An empty list means the check was skipped (allowed host, allow_private).
        """
        parsed = url if isinstance(url, httpx.URL) else _parse(url)
        if parsed.scheme not in ("http", "https"):
            raise UnsafeURL(f"unsupported URL scheme {parsed.scheme!r} (only http and https)")
        host = parsed.host
        if not host:
            raise UnsafeURL("URL without a host")
        if self.allow_private or self.allowlist.allows_host(host):
            return []
        addresses = await self._addresses(host, parsed.port or _default_port(parsed.scheme))
        for ip in addresses:
            if self.allowlist.allows_ip(ip):
                continue
            problem = address_problem(ip)
            if problem:
                shown = host if host == str(ip) else f"{host} ({ip})"
                raise UnsafeURL(
                    f"refused: {shown} is {problem} (allow it in security.allow if intended)"
                )
        return addresses

    async def _addresses(self, host: str, port: int) -> list[IPAddress]:
        literal = _ip_literal(host)
        if literal is not None:
            return [literal]
        try:
            async with asyncio.timeout(self.resolve_timeout):
                raw = await self._resolve(host, port)
        except TimeoutError:
            raise UnsafeURL(
                f"cannot resolve {host}: no answer within {self.resolve_timeout:g}s"
            ) from None
        except (OSError, UnicodeError) as exc:
            raise UnsafeURL(f"cannot resolve {host}: {exc}") from None
        addresses = []
        for text in raw:
            # getaddrinfo may append a zone to link-local IPv6 ("fe80::1%eth0").
            ip = _ip_literal(text.partition("%")[0])
            if ip is None:
                raise UnsafeURL(f"cannot resolve {host}: unexpected address {text!r}")
            addresses.append(ip)
        if not addresses:
            raise UnsafeURL(f"cannot resolve {host}: no addresses")
        return addresses


def guard_from_config(cfg: SecurityConfig) -> NetGuard:
    """The guard for feeds, pages and webhooks as ``[security]`` configures it."""
    return NetGuard(
        allow=cfg.allow, allow_private=cfg.allow_private, resolve_timeout=cfg.resolve_timeout
    )


def _parse(url: str) -> httpx.URL:
    try:
        return httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        raise UnsafeURL("invalid URL") from None


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


__all__ = ["Allowlist", "NetGuard", "address_problem", "guard_from_config", "system_resolver"]
