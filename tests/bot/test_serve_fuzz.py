"""Fuzz: no body, however odd, makes an endpoint of `serve` answer 5xx.

The bodies come with valid credentials (a bearer token, a fresh Slack or Standard
Webhooks signature over exactly these bytes), so they reach the parsers. The app
runs in process through httpx's ASGI transport against a real Redis.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import _pipeline
from bot.config import Config, RedisConfig, ServeConfig, WebhookConfig
from bot.keys import Keys
from bot.request_auth import slack_signature
from bot.server import Server
from digests.webhooks import standard_webhooks_signature
from tests.webhook_receivers import GENERIC_SECRET

SLACK = "fuzz-slack-secret"
TOKEN = "fuzz-ingest-token"
MM = "fuzz-mattermost-token"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=25,
)
article_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=20), st.integers(), st.none()),
        "title": st.one_of(st.text(max_size=60), st.integers()),
        "text": st.one_of(st.text(max_size=200), st.lists(st.text(max_size=5), max_size=3)),
        "url": st.text(max_size=40),
        "published": st.one_of(st.text(max_size=30), st.integers(), st.floats(allow_nan=False)),
        "language": st.one_of(st.text(max_size=5), st.none()),
        "source": st.text(max_size=20),
    },
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    article_like.map(lambda v: json.dumps(v).encode()),
    st.lists(article_like, max_size=4).map(lambda v: json.dumps({"articles": v}).encode()),
    st.dictionaries(st.sampled_from(["target", "command", "text", "channel_id"]), json_values).map(
        lambda v: json.dumps(v).encode()
    ),
    st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=6).map(
        lambda v: "&".join(f"{k}={w}" for k, w in v.items()).encode("utf-8", "surrogatepass")
    ),
)


@pytest.fixture
async def client(redis_client: aioredis.Redis, keys: Keys) -> AsyncIterator[httpx.AsyncClient]:
    cfg = Config(
        redis=RedisConfig(prefix=keys.prefix),
        serve=ServeConfig(
            poll=False,
            max_body_bytes=4096,
            ingest_token=TOKEN,
            slack_signing_secret=SLACK,
            mattermost_token=MM,
            commands_secret=GENERIC_SECRET,
        ),
        webhooks=(WebhookConfig(name="room", platform="slack", channel="C1"),),
    )
    server = Server(cfg, redis_client, keys, _pipeline(cfg, redis_client, keys))
    transport = httpx.ASGITransport(app=server.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://serve") as http:
        yield http
    await server.http.aclose()


def _headers(path: str, body: bytes) -> dict[str, str]:
    now = str(int(time.time()))
    if path == "/ingest":
        return {"Authorization": f"Bearer {TOKEN}"}
    if path == "/slack/commands":
        return {
            "X-Slack-Request-Timestamp": now,
            "X-Slack-Signature": slack_signature(SLACK, now, body),
        }
    if path == "/mattermost/commands":
        return {"Authorization": f"Bearer {MM}"}
    msg_id = f"msg_{uuid.uuid4().hex}"  # a fresh id: a repeated one is refused as a replay
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": now,
        "webhook-signature": standard_webhooks_signature(GENERIC_SECRET, msg_id, int(now), body),
    }


@pytest.mark.parametrize(
    "path", ["/ingest", "/slack/commands", "/mattermost/commands", "/commands"]
)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
async def test_no_body_makes_an_endpoint_fail(
    client: httpx.AsyncClient, path: str, body: bytes
) -> None:
    response = await client.post(path, content=body, headers=_headers(path, body))
    assert response.status_code < 500, (path, body[:80], response.text)
    if response.status_code >= 400:
        assert response.json()["error"]
