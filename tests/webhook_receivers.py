"""Local receivers for outgoing webhooks: Slack, Discord, Mattermost, Teams, Matrix, generic.

One real HTTP server on loopback answers for all six platforms, under
``/slack/…``, ``/discord/…``, ``/mattermost/…``, ``/teams/…``, ``/matrix`` (the
Matrix client-server path) and ``/generic/…``. Each checks what its platform
checks (body limits, required fields, Discord's ``wait``, Matrix's bearer token
and method, the Standard Webhooks signature of the generic receiver) and
answers 400 like the platform when a body breaks them; every request is
recorded. Error answers (429 with ``Retry-After``, 404, 410, 500) are scripted
per platform with :meth:`WebhookReceivers.script`.

Matrix keeps its idempotency rule: a PUT with a transaction id already seen
returns the first event id and creates no second message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

PLATFORMS = ("slack", "discord", "mattermost", "teams", "matrix", "generic")
MATRIX_TOKEN = "syt_test_token"
GENERIC_SECRET = "whsec_" + base64.b64encode(b"generic receiver test key 32 b!!").decode()


@dataclass
class Received:
    platform: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    status: int
    problem: str = ""
    time: float = 0.0


@dataclass
class _Scripted:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def _size(payload: Any) -> int:
    return len(json.dumps(payload, ensure_ascii=False).encode())


def check_slack(body: Any) -> str:
    if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
        return "no_text"
    blocks = body.get("blocks") or []
    if len(blocks) > 50:
        return "invalid_blocks: more than 50"
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if block.get("type") == "section" and len(text) > 3000:
            return "invalid_blocks: section text over 3000"
        if block.get("type") == "header" and len(text) > 150:
            return "invalid_blocks: header over 150"
    return ""


def check_discord(body: Any) -> str:
    if not isinstance(body, dict):
        return "50109: invalid JSON"
    embeds = body.get("embeds") or []
    if not body.get("content") and not embeds:
        return "50006: Cannot send an empty message"
    if len(body.get("content") or "") > 2000:
        return "content over 2000"
    if len(embeds) > 10:
        return "more than 10 embeds"
    total = 0
    for embed in embeds:
        title, description = embed.get("title", ""), embed.get("description", "")
        if len(title) > 256 or len(description) > 4096:
            return "embed title/description over the limit"
        total += len(title) + len(description)
        total += sum(
            len(f.get("name", "")) + len(f.get("value", "")) for f in embed.get("fields", [])
        )
        total += len((embed.get("footer") or {}).get("text", ""))
    if total > 6000:
        return "embeds over 6000 characters"
    return ""


def check_mattermost(body: Any) -> str:
    if not isinstance(body, dict) or not body.get("text"):
        return "text is required"
    return "text over 16383" if len(body["text"]) > 16383 else ""


def check_teams(body: Any) -> str:
    if not isinstance(body, dict) or body.get("type") != "message":
        return "not a message"
    card = (body.get("attachments") or [{}])[0].get("content", {})
    if card.get("type") != "AdaptiveCard" or card.get("version") != "1.2":
        return "not an Adaptive Card 1.2"
    return "payload over 28 KB" if _size(body) > 28 * 1024 else ""


def check_matrix(body: Any) -> str:
    if not isinstance(body, dict) or body.get("msgtype") != "m.text" or not body.get("body"):
        return "M_BAD_JSON"
    if body.get("format") != "org.matrix.custom.html" or not body.get("formatted_body"):
        return "M_BAD_JSON: no formatted_body"
    return "M_TOO_LARGE" if _size(body) > 65536 else ""


def verify_standard_webhooks(secret: str, headers: dict[str, str], raw: bytes) -> bool:
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(
        hmac.new(key, f"{msg_id}.{timestamp}.".encode() + raw, hashlib.sha256).digest()
    ).decode()
    given = [s.split(",", 1)[1] for s in headers.get("webhook-signature", "").split() if "," in s]
    return any(hmac.compare_digest(expected, g) for g in given)


CHECKS = {
    "slack": check_slack,
    "discord": check_discord,
    "mattermost": check_mattermost,
    "teams": check_teams,
    "matrix": check_matrix,
}


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that stops reading a long answer (as the sender does) is no error here.
        pass


class WebhookReceivers:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[Received] = []
        self.scripts: dict[str, deque[_Scripted]] = {p: deque() for p in PLATFORMS}
        self.matrix_events: dict[str, str] = {}  # txn id → event id
        self.generic_seen: set[str] = set()
        self.discord_threads: dict[str, str] = {}  # thread name → id (forum channels)
        self.url = ""
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> WebhookReceivers:
        receivers = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                receivers._handle(self)

            def do_PUT(self) -> None:
                receivers._handle(self)

        server = _Server(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- configuration -------------------------------------------------------------------
    def hook_url(self, platform: str) -> str:
        return self.url + ("" if platform == "matrix" else f"/{platform}/hook-secret-path")

    def script(self, platform: str, *answers: tuple[int, dict[str, str], bytes]) -> None:
        """The next answers of ``platform`` (before the checks); then the normal ones."""
        with self.lock:
            self.scripts[platform].extend(_Scripted(s, h, b) for s, h, b in answers)

    # -- what arrived ----------------------------------------------------------------------
    def accepted(self, platform: str) -> list[Received]:
        """Requests the platform accepted, a Matrix transaction counted once."""
        with self.lock:
            return [
                r
                for r in self.requests
                if r.platform == platform
                and 200 <= r.status < 300
                and not r.problem
                and r.headers.get("x-duplicate") != "1"
            ]

    def all(self, platform: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.platform == platform]

    # -- the server ----------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        segments = parts.path.strip("/").split("/")
        platform = "matrix" if segments[0] == "_matrix" else segments[0]
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in h.headers.items()}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        status, answer, extra, problem = self._answer(
            platform, h.command, parts, headers, raw, body
        )
        if headers.get("x-duplicate-marker"):
            headers["x-duplicate"] = "1"
        with self.lock:
            self.requests.append(
                Received(
                    platform,
                    h.command,
                    parts.path,
                    parse_qs(parts.query),
                    headers,
                    body,
                    status,
                    problem,
                    time.monotonic(),
                )
            )
        data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(data)

    def _answer(
        self, platform: str, method: str, parts: Any, headers: dict[str, str], raw: bytes, body: Any
    ) -> tuple[int, Any, dict[str, str], str]:
        if platform not in PLATFORMS:
            return 404, {"error": "no such route"}, {}, "unknown route"
        with self.lock:
            scripted = self.scripts[platform].popleft() if self.scripts[platform] else None
        if scripted is not None:
            return scripted.status, scripted.body, scripted.headers, f"scripted {scripted.status}"
        if platform == "matrix":
            return self._matrix(method, parts, headers, body)
        if method != "POST":
            return 405, {"error": "method"}, {}, "method"
        if platform == "generic":
            if not verify_standard_webhooks(GENERIC_SECRET, headers, raw):
                return 401, {"error": "bad signature"}, {}, "bad signature"
            with self.lock:
                if headers.get("webhook-id", "") in self.generic_seen:
                    headers["x-duplicate-marker"] = "1"  # deduplicated by webhook-id
                self.generic_seen.add(headers.get("webhook-id", ""))
            return 204, b"", {}, ""
        problem = CHECKS[platform](body)
        if problem:
            return 400, {"error": problem}, {}, problem
        if platform == "discord":
            query = parse_qs(parts.query)
            if query.get("wait") != ["true"]:
                return 400, {"error": "wait=true expected"}, {}, "no wait"
            channel = "100"
            if "forum" in parts.path:
                with self.lock:
                    thread = query.get("thread_id", [""])[0]
                    if thread and thread not in self.discord_threads.values():
                        return 400, {"code": 10003, "message": "Unknown Channel"}, {}, "thread"
                    if not thread and not body.get("thread_name"):
                        message = "Webhooks posted to forum channels must have a thread_name"
                        return 400, {"code": 220001, "message": message}, {}, "no thread"
                    if not thread:
                        thread = str(200 + len(self.discord_threads))
                        self.discord_threads[body["thread_name"]] = thread
                    channel = thread
            message_id = str(len(self.requests) + 1)
            return 200, {"id": message_id, "channel_id": channel, "type": 0}, {}, ""
        if platform == "teams":
            return 202, b"", {}, ""
        return 200, b"ok", {}, ""

    def _matrix(
        self, method: str, parts: Any, headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str], str]:
        if headers.get("authorization") != f"Bearer {MATRIX_TOKEN}":
            return 401, {"errcode": "M_UNKNOWN_TOKEN"}, {}, "token"
        segments = [unquote(s) for s in parts.path.strip("/").split("/")]
        # _matrix/client/v3/rooms/{room}/send/m.room.message/{txn}
        if method != "PUT" or len(segments) != 8 or segments[5:7] != ["send", "m.room.message"]:
            return 400, {"errcode": "M_UNRECOGNIZED"}, {}, "path"
        problem = check_matrix(body)
        if problem:
            return 400, {"errcode": problem}, {}, problem
        txn = segments[7]
        with self.lock:
            if txn in self.matrix_events:
                headers["x-duplicate-marker"] = "1"
                return 200, {"event_id": self.matrix_events[txn]}, {}, ""
            event = f"$ev{len(self.matrix_events) + 1}"
            self.matrix_events[txn] = event
        return 200, {"event_id": event}, {}, ""
