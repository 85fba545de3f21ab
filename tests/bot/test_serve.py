"""`digestbot serve` end to end: a real uvicorn server on loopback, a real Redis, the
Telegram Bot API emulator delivering updates by webhook, and receivers for every
webhook platform.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import redis.asyncio as aioredis
import uvicorn
from prometheus_client.parser import text_string_to_metric_families

from bot.cli import _pipeline
from bot.config import (
    Config,
    FeedConfig,
    RedisConfig,
    SecurityConfig,
    ServeConfig,
    TelegramConfig,
    WebhookConfig,
    WebhookDeliveryConfig,
)
from bot.ingest_stream import IngestStream
from bot.keys import Keys
from bot.request_auth import slack_signature
from bot.server import PollerState, Server, _acquire, serve
from bot.subscription_store import SubscriptionStore, telegram_target
from bot.telegram_sender import SenderSettings
from bot.webhook_sender import WebhookSenderSettings
from digests.subscriptions import Subscription
from digests.webhooks import github_signature, standard_webhooks_signature
from tests.telegram_emulator import RateLimits, TelegramEmulator
from tests.webhook_receivers import GENERIC_SECRET, MATRIX_TOKEN, PLATFORMS, WebhookReceivers

REPO = Path(__file__).resolve().parents[2]
ARTICLES = [json.loads(line) for line in (REPO / "samples" / "articles.jsonl").open()]
TG_SECRET = "tg-secret_0123456789"
INGEST_TOKEN = "ingest-token-0123456789"
INGEST_SECRET = "ingest-hmac-0123456789"
SLACK_SECRET = "slack-signing-0123456789"
MM_TOKEN = "mattermost-token-0123456789"
COMMANDS_SECRET = GENERIC_SECRET
READER = 7001
OWNER = 7002
MAX_BODY = 64 * 1024


def _listen(port: int = 0) -> socket.socket:
    """A listening socket; the same port again for a restarted server (uvicorn closes it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(64)
    return sock


def hooks(receivers: WebhookReceivers) -> tuple[WebhookConfig, ...]:
    return tuple(
        WebhookConfig(
            name=f"{p}-room",
            platform=p,
            channel=f"C-{p}",
            room="!news:example.org" if p == "matrix" else "",
            url=receivers.hook_url(p),
            token=MATRIX_TOKEN if p == "matrix" else "",
            secret=GENERIC_SECRET if p == "generic" else "",
        )
        for p in PLATFORMS
    )


class Running:
    """One running `serve`: its base URL and a client to talk to it."""

    def __init__(self, server: Server, url: str, http: httpx.AsyncClient) -> None:
        self.server = server
        self.url = url
        self.http = http

    async def post(
        self, path: str, body: bytes, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.http.post(self.url + path, content=body, headers=headers or {})

    async def ingest(self, *articles: dict[str, Any]) -> httpx.Response:
        body = json.dumps({"articles": list(articles)}).encode()
        return await self.post("/ingest", body, {"Authorization": f"Bearer {INGEST_TOKEN}"})

    async def metrics(self) -> dict[str, float]:
        response = await self.http.get(self.url + "/metrics")
        assert response.status_code == 200
        values: dict[str, float] = {}
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                label = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                values[f"{sample.name}{{{label}}}"] = sample.value
        return values


@pytest.fixture
def receivers() -> Iterator[WebhookReceivers]:
    server = WebhookReceivers().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def emulator() -> Iterator[TelegramEmulator]:
    emu = TelegramEmulator(limits=RateLimits(enabled=False), strict_webhook_urls=False).start()
    emu.add_user(READER, "Rita", language_code="en")
    emu.add_user(OWNER, "Otto", language_code="en")
    emu.add_chat(READER, "private")
    emu.add_chat(OWNER, "private")
    try:
        yield emu
    finally:
        emu.stop()
    assert not emu.internal_errors


Starter = Callable[..., contextlib.AbstractAsyncContextManager[Running]]


@pytest.fixture
def start_serve(
    redis_client: aioredis.Redis,
    keys: Keys,
    receivers: WebhookReceivers,
    emulator: TelegramEmulator,
    tmp_path: Path,
) -> Starter:
    first = _listen()
    port = first.getsockname()[1]
    sockets = [first]
    base = f"http://127.0.0.1:{port}"
    cfg = Config(
        data_dir=tmp_path,
        redis=RedisConfig(prefix=keys.prefix),
        telegram=TelegramConfig(base_url=emulator.url, owners=(OWNER,), token=emulator.token),
        serve=ServeConfig(
            host="127.0.0.1",
            port=port,
            max_body_bytes=MAX_BODY,
            poll=False,
            telegram_webhook_url=f"{base}/telegram",
            telegram_max_connections=5,
            slack_response_url_prefix=receivers.url + "/",
            command_deadline=1.0,
            telegram_secret=TG_SECRET,
            ingest_token=INGEST_TOKEN,
            ingest_secret=INGEST_SECRET,
            slack_signing_secret=SLACK_SECRET,
            mattermost_token=MM_TOKEN,
            commands_secret=COMMANDS_SECRET,
        ),
        webhook_delivery=WebhookDeliveryConfig(timeout=5.0, backoff_base=0.05, backoff_max=0.2),
        webhooks=hooks(receivers),
        security=SecurityConfig(allow_private=True),
    )

    @contextlib.asynccontextmanager
    async def start(
        serve_changes: dict[str, Any] | None = None, **changes: Any
    ) -> AsyncIterator[Running]:
        config = replace(cfg, **changes)
        config = replace(config, serve=replace(config.serve, **(serve_changes or {})))
        server = Server(
            config,
            redis_client,
            keys,
            _pipeline(config, redis_client, keys),
            telegram_builder=emulator.application_builder(),
            telegram_settings=SenderSettings(consumer="serve-test", block_ms=100, stop_grace_s=0.5),
            webhook_settings=WebhookSenderSettings(
                consumer="serve-test", block_ms=100, stop_grace_s=0.5
            ),
        )
        holder: list[uvicorn.Server] = []
        sock = sockets.pop() if sockets else _listen(port)
        task = asyncio.create_task(
            serve(server, sock=sock, ready=holder.append, handle_signals=False)
        )
        deadline = time.monotonic() + 15
        while not (holder and holder[0].started):
            assert not task.done(), task.exception() if task.done() else ""
            assert time.monotonic() < deadline, "serve did not start"
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient(timeout=10) as http:
            try:
                yield Running(server, base, http)
            finally:
                holder[0].should_exit = True
                await asyncio.wait_for(task, 30)

    return start


async def _until(check: Callable[[], Any], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await _maybe_async(check()):
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def _maybe_async(value: Any) -> Any:
    return await value if asyncio.iscoroutine(value) else value


# -- Telegram by webhook ---------------------------------------------------------------------


async def test_telegram_updates_by_webhook_drive_commands(
    start_serve: Starter, emulator: TelegramEmulator, redis_client: aioredis.Redis, keys: Keys
) -> None:
    async with start_serve() as running:
        info = emulator.webhook
        assert info.url == f"{running.url}/telegram" and info.secret_token == TG_SECRET
        assert info.max_connections == 5
        emulator.push_message(READER, READER, "/subscribe")
        replies = await emulator.wait_for_messages_async(READER, 1, timeout=10)
        assert "ubscribed" in replies[0].text
        sub = await SubscriptionStore(redis_client, keys).get(telegram_target(READER))
        assert sub is not None and sub.active
        assert all(d.status == 200 for d in emulator.webhook_deliveries)


async def test_wrong_or_missing_secret_is_refused_and_nothing_processed(
    start_serve: Starter, emulator: TelegramEmulator, redis_client: aioredis.Redis, keys: Keys
) -> None:
    update = {
        "update_id": 555,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": READER, "type": "private", "first_name": "Rita"},
            "from": {"id": READER, "is_bot": False, "first_name": "Rita"},
            "text": "/subscribe",
            "entities": [{"type": "bot_command", "offset": 0, "length": 10}],
        },
    }
    body = json.dumps(update).encode()
    async with start_serve() as running:
        for headers in (
            {},
            {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
            {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET + "x"},
        ):
            response = await running.post("/telegram", body, headers)
            assert response.status_code == 403
        await asyncio.sleep(0.5)
        assert emulator.sent(READER) == []
        assert await SubscriptionStore(redis_client, keys).get(telegram_target(READER)) is None
        # The same update with the right secret does subscribe.
        ok = await running.post("/telegram", body, {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET})
        assert ok.status_code == 200
        await emulator.wait_for_messages_async(READER, 1, timeout=10)
        assert await SubscriptionStore(redis_client, keys).get(telegram_target(READER)) is not None


# -- one digest everywhere, once, across a restart ------------------------------------------------


async def test_one_digest_reaches_every_platform_once_across_a_restart(
    start_serve: Starter,
    emulator: TelegramEmulator,
    receivers: WebhookReceivers,
    redis_client: aioredis.Redis,
    keys: Keys,
) -> None:
    await SubscriptionStore(redis_client, keys).put(Subscription(target=telegram_target(READER)))
    # Discord is down during the first run: its digest is still pending at the restart.
    slow = WebhookDeliveryConfig(timeout=5.0, max_attempts=5, backoff_base=20.0, backoff_max=20.0)
    receivers.script("discord", (503, {}, b"down"))
    async with start_serve(webhook_delivery=slow) as running:
        response = await running.ingest(ARTICLES[0])
        assert response.status_code == 200, response.text
        assert response.json()["results"][0]["status"] == "new_story"
        await emulator.wait_for_messages_async(READER, 1, timeout=10)
        for platform in PLATFORMS:
            if platform != "discord":
                await _until(lambda p=platform: receivers.accepted(p), 10)
        await _until(lambda: receivers.all("discord"), 10)
        # Only discord's message is left pending (the others are deleted once posted).
        await _until(lambda: _xlen_is(redis_client, keys.webhook_stream(), 1), 10)
    async with start_serve() as running:
        await _until(lambda: receivers.accepted("discord"), 10)
        # The same article again: a duplicate, nothing new to post.
        again = await running.ingest(ARTICLES[0])
        assert again.json()["results"][0]["status"] == "duplicate"
        await asyncio.sleep(0.5)
        health = await running.http.get(running.url + "/healthz")
        assert health.status_code == 200 and health.json()["redis"] == "ok"
    digests = [m for m in emulator.sent(READER) if m.parse_mode == "HTML"]
    assert len(digests) == 1
    for platform in PLATFORMS:
        accepted = receivers.accepted(platform)
        assert len(accepted) == 1, (platform, receivers.all(platform))
        assert not accepted[0].problem  # within the platform's limits
    assert await redis_client.xlen(keys.webhook_stream()) == 0
    assert await redis_client.xlen(keys.outbox_dead()) == 0


async def _xlen_is(client: aioredis.Redis, key: str, n: int) -> bool:
    return int(await client.xlen(key)) == n


# -- ingest, metrics, health ---------------------------------------------------------------------


async def test_metrics_parse_and_move_as_articles_flow(
    start_serve: Starter, redis_client: aioredis.Redis, keys: Keys
) -> None:
    await SubscriptionStore(redis_client, keys).put(Subscription(target=telegram_target(READER)))
    async with start_serve() as running:
        before = await running.metrics()
        assert before.get("digestbot_articles_fetched_total{via=ingest}", 0.0) == 0.0
        signed = json.dumps(ARTICLES[1]).encode()
        response = await running.post(
            "/ingest",
            signed,
            {"X-Hub-Signature-256": github_signature(INGEST_SECRET.encode(), signed)},
        )
        assert response.status_code == 200, response.text
        await running.ingest(ARTICLES[1], ARTICLES[2])
        after = await running.metrics()
        assert after["digestbot_articles_fetched_total{via=ingest}"] == 3.0
        assert after["digestbot_duplicates_total{}"] >= 1.0
        assert after["digestbot_stories_total{}"] >= 1.0
        assert after["digestbot_facts_posted_total{}"] >= 1.0
        assert "digestbot_outbox_depth{sink=webhook}" in after
        assert "digestbot_dead_letters{}" in after
        await _until(lambda: _sent_webhooks(running), 10)
        moved = await running.metrics()
        assert moved["digestbot_send_latency_seconds_count{sink=webhook}"] >= len(PLATFORMS)
        assert moved["digestbot_messages_sent_total{sink=telegram}"] >= 1
        assert moved["digestbot_send_latency_seconds_count{sink=telegram}"] >= 1
        assert moved["digestbot_rate_limited_total{sink=webhook}"] == 0


async def _sent_webhooks(running: Running) -> bool:
    values = await running.metrics()
    return (
        values.get("digestbot_messages_sent_total{sink=webhook}", 0.0) >= len(PLATFORMS)
        and values.get("digestbot_messages_sent_total{sink=telegram}", 0.0) >= 1
    )


async def test_healthz_reports_redis_poller_and_lag(start_serve: Starter) -> None:
    feed = FeedConfig(url=str(REPO / "samples" / "feeds" / "continental-wire.xml"), name="Wire")
    async with start_serve(feeds=(feed,), serve_changes={"poll": True}) as running:
        await _until(lambda: running.server.poller_state.last_cycle > 0, 20)
        health = await running.http.get(running.url + "/healthz")
        assert health.status_code == 200, health.text
        body = health.json()
        assert body["ok"] and body["poller"] == "ok" and body["redis"] == "ok"
        assert body["outbox_lag_seconds"] >= 0
        values = await running.metrics()
        assert values["digestbot_articles_fetched_total{via=poll}"] > 0
        assert values["digestbot_poll_cycles_total{}"] >= 1


# -- bad input: 4xx with a reason, never 500 ---------------------------------------------------


def _slack_headers(body: bytes, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": slack_signature(SLACK_SECRET, ts, body),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def _signed_headers(body: bytes, msg_id: str = "") -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    ts = int(time.time())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": standard_webhooks_signature(COMMANDS_SECRET, msg_id, ts, body),
        "Content-Type": "application/json",
    }


GARBAGE = [  # the shapes that matter per endpoint; tests/bot/test_serve_fuzz.py goes wide
    b"",
    b"not json at all",
    b"\xff\xfe\x00garbage",
    b"[]",
    b'{"update_id": 1, "message": "x"}',
    b'{"update_id": 2, "message": {"chat": 5}}',
    b'{"articles": [1, 2]}',
    b'{"id": 1}',
    b'{"target": 5, "command": []}',
    b"[" * 50_000,
    b"a=%zz&b=\xff",
    b"a=1&" * 200,
]


def _headers_for(path: str, body: bytes) -> dict[str, str]:
    if path == "/telegram":
        return {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
    if path == "/ingest":
        return {"Authorization": f"Bearer {INGEST_TOKEN}"}
    if path == "/slack/commands":
        return _slack_headers(body)
    if path == "/mattermost/commands":
        return {"Authorization": f"Bearer {MM_TOKEN}"}
    return _signed_headers(body)


ENDPOINTS = ["/telegram", "/ingest", "/slack/commands", "/mattermost/commands", "/commands"]


async def test_garbage_to_every_endpoint_gets_4xx_never_500(start_serve: Starter) -> None:
    async with start_serve() as running:
        seen: dict[int, int] = {}
        for path in ENDPOINTS:
            for body in GARBAGE:
                response = await running.post(path, body, _headers_for(path, body))
                status = response.status_code
                seen[status] = seen.get(status, 0) + 1
                assert status < 500, (path, body[:40], status, response.text)
                if status >= 400:
                    assert response.json()["error"], (path, body[:40])
            # Without credentials: refused before anything is parsed.
            response = await running.post(path, b'{"update_id": 9}', {})
            assert response.status_code in (401, 403), path
            # Larger than the bound, declared or streamed: 413.
            big = b"x" * (MAX_BODY + 1)
            response = await running.post(path, big, _headers_for(path, big))
            assert response.status_code == 413, path

            async def chunks() -> AsyncIterator[bytes]:
                for _ in range(MAX_BODY // 4096 + 2):
                    yield b"y" * 4096

            response = await running.http.post(
                running.url + path, content=chunks(), headers=_headers_for(path, b"")
            )
            assert response.status_code in (401, 403, 413), path
        for method, path in (("POST", "/healthz"), ("GET", "/ingest"), ("GET", "/nowhere")):
            response = await running.http.request(method, running.url + path)
            assert 400 <= response.status_code < 500
        assert 400 in seen  # malformed JSON really was parsed and refused
        health = await running.http.get(running.url + "/healthz")
        assert health.status_code == 200
        values = await running.metrics()
        assert not any(
            k.startswith("digestbot_http_requests_total") and "status=5" in k for k in values
        )


# -- commands from other platforms --------------------------------------------------------------


def _slack_form(text: str, channel: str = "C-slack", response_url: str = "") -> bytes:
    return urlencode(
        {
            "command": "/digestbot",
            "text": text,
            "channel_id": channel,
            "user_id": "U1",
            "response_url": response_url,
        }
    ).encode()


async def test_slack_commands_signed_answered_or_deferred(
    start_serve: Starter, receivers: WebhookReceivers, redis_client: aioredis.Redis, keys: Keys
) -> None:
    async with start_serve() as running:
        await running.ingest(ARTICLES[0])
        body = _slack_form("stories")
        headers = _slack_headers(body)
        response = await running.post("/slack/commands", body, headers)
        assert response.status_code == 200
        assert "Recent stories" in response.json()["text"]
        assert (await running.post("/slack/commands", body, headers)).status_code == 409
        # Stale (replayed) and forged requests are refused.
        stale = await running.post(
            "/slack/commands", body, _slack_headers(body, int(time.time()) - 301)
        )
        assert stale.status_code == 401
        forged = dict(_slack_headers(body), **{"X-Slack-Signature": "v0=" + "0" * 64})
        assert (await running.post("/slack/commands", body, forged)).status_code == 401
        # unsubscribe, then subscribe again, as the channel's webhook
        body = _slack_form("unsubscribe")
        response = await running.post("/slack/commands", body, _slack_headers(body))
        assert "Unsubscribed" in response.json()["text"]
        sub = await SubscriptionStore(redis_client, keys).get("webhook:slack-room")
        assert sub is not None and not sub.active
        body = _slack_form("subscribe")
        response = await running.post("/slack/commands", body, _slack_headers(body))
        assert "Subscribed" in response.json()["text"]
        sub = await SubscriptionStore(redis_client, keys).get("webhook:slack-room")
        assert sub is not None and sub.active
        # A slash command named after one of ours runs it with its text as arguments.
        body = urlencode({"command": "/stories", "text": "", "channel_id": "C-slack"}).encode()
        response = await running.post("/slack/commands", body, _slack_headers(body))
        assert "Recent stories" in response.json()["text"]
        body = _slack_form("subscribe", channel="C-unknown")
        response = await running.post("/slack/commands", body, _slack_headers(body))
        assert "no webhook configured" in response.json()["text"]
    # A command slower than the deadline is answered at once and completed by response_url.
    async with start_serve(serve_changes={"command_deadline": 0.0}) as running:
        body = _slack_form("feeds", response_url=receivers.url + "/slack/response-1")
        response = await running.post("/slack/commands", body, _slack_headers(body))
        assert response.status_code == 200 and "Working on it" in response.json()["text"]
        await _until(lambda: any(r.path == "/slack/response-1" for r in receivers.all("slack")))
        # A response_url outside the configured prefix is never called.
        body = _slack_form("feeds", response_url="http://169.254.169.254/latest")
        response = await running.post("/slack/commands", body, _slack_headers(body))
        assert "too long" in response.json()["text"]


async def test_mattermost_and_signed_generic_commands(
    start_serve: Starter, redis_client: aioredis.Redis, keys: Keys
) -> None:
    async with start_serve() as running:
        form = urlencode({"token": MM_TOKEN, "channel_id": "C-mattermost", "text": "stories"})
        response = await running.post(
            "/mattermost/commands",
            form.encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 200 and response.json()["text"] == "No stories yet."
        wrong = urlencode({"token": "nope", "channel_id": "C-mattermost", "text": "stories"})
        response = await running.post("/mattermost/commands", wrong.encode())
        assert response.status_code == 401
        body = json.dumps({"target": "generic-room", "command": "unsubscribe"}).encode()
        response = await running.post("/commands", body, _signed_headers(body))
        assert response.status_code == 200 and "Unsubscribed" in response.json()["text"]
        sub = await SubscriptionStore(redis_client, keys).get("webhook:generic-room")
        assert sub is not None and not sub.active
        headers = _signed_headers(body)
        tampered = body.replace(b"unsubscribe", b"subscribe")
        response = await running.post("/commands", tampered, headers)
        assert response.status_code == 401
        # The very same signed request again: a replay, refused.
        first = await running.post("/commands", body, headers)
        assert first.status_code == 200
        replayed = await running.post("/commands", body, headers)
        assert replayed.status_code == 409
        # story, why and digest on real data.
        result = (await running.ingest(ARTICLES[0])).json()["results"][0]
        story = result["story"]

        async def ask(command: str) -> str:
            body = json.dumps({"target": "generic-room", "command": command}).encode()
            response = await running.post("/commands", body, _signed_headers(body))
            assert response.status_code == 200, response.text
            return str(response.json()["text"])

        assert ARTICLES[0]["title"][:40] in await ask(f"story {story}")
        why = await ask(f"why {ARTICLES[0]['url']}")
        assert ARTICLES[0]["id"] in why and story in why
        assert "no active subscription" in await ask("digest")  # unsubscribed above
        assert "Subscribed" in await ask("subscribe")
        assert "Nothing new" in await ask("digest")  # instant mode: nothing is held back
        assert "Unknown command" in await ask("launch rockets")


async def test_a_gone_webhook_is_disabled_and_the_owners_told_on_telegram(
    start_serve: Starter,
    emulator: TelegramEmulator,
    receivers: WebhookReceivers,
    redis_client: aioredis.Redis,
    keys: Keys,
) -> None:
    receivers.script("teams", (410, {}, b""))
    async with start_serve() as running:
        await running.ingest(ARTICLES[0])
        told = await emulator.wait_for_messages_async(OWNER, 1, timeout=10)
        assert "teams-room" in told[0].text and "deactivated" in told[0].text
        assert receivers.url not in told[0].text
        sub = await SubscriptionStore(redis_client, keys).get("webhook:teams-room")
        assert sub is not None and not sub.active
        # The owners are told first; the dead letter follows a moment later.
        await _until(lambda: _xlen_is(redis_client, keys.outbox_dead(), 1), 10)
        values = await running.metrics()
        assert values["digestbot_dead_letters{}"] == 1
        # From its channel, `subscribe` turns it on again.
        body = json.dumps({"target": "teams-room", "command": "subscribe"}).encode()
        response = await running.post("/commands", body, _signed_headers(body))
        assert "Subscribed" in response.json()["text"]
        sub = await SubscriptionStore(redis_client, keys).get("webhook:teams-room")
        assert sub is not None and sub.active


def test_poller_health_turns_stalled_without_cycles() -> None:
    now = 10_000.0
    assert PollerState().alive(now)  # polling off: nothing to be stalled
    assert not PollerState(enabled=True, started=now).alive(now)  # no task running

    async def run() -> None:
        task = asyncio.create_task(asyncio.sleep(1))
        fresh = PollerState(enabled=True, started=now - 10, tick=60, task=task)
        old = PollerState(
            enabled=True, started=now - 1000, last_cycle=now - 500, tick=60, task=task
        )
        assert fresh.alive(now) and not old.alive(now)
        task.cancel()

    asyncio.run(run())


async def test_lock_acquire_with_timeout_never_leaks_the_lock() -> None:
    lock = asyncio.Lock()
    await lock.acquire()  # a polling cycle holds it
    assert not await _acquire(lock, 0.05)
    lock.release()
    assert not lock.locked()  # the abandoned attempt did not keep it
    assert await _acquire(lock, 0.05) and lock.locked()
    lock.release()


async def test_pushed_articles_are_journaled_and_wait_for_the_pipeline_leader(
    start_serve: Starter, redis_client: aioredis.Redis, keys: Keys
) -> None:
    # Another worker runs the pipeline: this one journals the push and says so.
    other = IngestStream(redis_client, keys, "other-worker", claim_idle_ms=60_000)
    assert await other.lead()
    async with start_serve() as running:
        response = await running.ingest(ARTICLES[0])
        assert response.status_code == 202, response.text
        assert [r["status"] for r in response.json()["results"]] == ["queued"]
    assert await redis_client.xlen(keys.ingest_stream()) == 1
    # The leader processes it from the journal.
    (delivery,) = await other.read(10)
    assert delivery.article.id == ARTICLES[0]["id"]
