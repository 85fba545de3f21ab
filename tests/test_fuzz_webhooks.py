"""Fuzz: every webhook payload stays within its platform's limits, whatever the digest holds."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from digests import webhooks as w
from digests.models import DigestEntry
from tests.fuzzing import FUZZ, counted, entries

Payload = dict[str, Any]


def _bytes(payload: Payload) -> int:
    return len(json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass"))


def slack(p: Payload) -> None:
    assert p["text"] and 1 <= len(p["blocks"]) <= w.SLACK_BLOCK_LIMIT
    assert len(p["text"]) <= w.SLACK_TEXT_LIMIT
    for block in p["blocks"]:
        limit = w.SLACK_HEADER_LIMIT if block["type"] == "header" else w.SLACK_SECTION_LIMIT
        assert 0 < len(block["text"]["text"]) <= limit


def discord(p: Payload) -> None:
    assert len(p.get("content", "")) <= w.DISCORD_CONTENT_LIMIT
    embeds = p["embeds"]
    assert 1 <= len(embeds) <= w.DISCORD_EMBED_LIMIT
    total = 0
    for e in embeds:
        assert len(e["title"]) <= w.DISCORD_TITLE_LIMIT
        assert len(e.get("description", "")) <= w.DISCORD_DESCRIPTION_LIMIT
        assert e.get("url", "https://").startswith(("http://", "https://"))
        total += len(e["title"]) + len(e.get("description", ""))
        total += sum(len(f["name"]) + len(f["value"]) for f in e.get("fields", []))
        total += len(e.get("footer", {}).get("text", ""))
    assert total <= w.DISCORD_TOTAL_LIMIT


def mattermost(p: Payload) -> None:
    assert 0 < len(p["text"]) <= w.MATTERMOST_LIMIT


def teams(p: Payload) -> None:
    assert _bytes(p) <= w.TEAMS_LIMIT


def matrix(p: Payload) -> None:
    assert p["body"] and p["formatted_body"]
    assert _bytes(p) <= w.MATRIX_LIMIT


PLATFORMS: dict[str, tuple[Callable[..., list[Payload]], Callable[[Payload], None]]] = {
    "slack": (w.slack_payload, slack),
    "discord": (w.discord_payload, discord),
    "mattermost": (w.mattermost_payload, mattermost),
    "teams": (w.teams_payload, teams),
    "matrix": (w.matrix_payload, matrix),
}


@FUZZ
@given(
    batch=st.lists(entries, min_size=1, max_size=3),
    language=st.sampled_from(["de", "en"]),
    platform=st.sampled_from(sorted(PLATFORMS)),
)
@counted
def test_every_payload_stays_within_its_platform_limits(
    batch: list[DigestEntry], language: str, platform: str
) -> None:
    build, check = PLATFORMS[platform]
    payloads = build(batch, language)
    assert payloads
    for payload in payloads:
        check(payload)
        json.dumps(payload)  # serialisable as the sender will send it


# Standard Webhooks secrets are base64 keys, optionally prefixed "whsec_".
secrets = st.tuples(st.sampled_from(["", "whsec_"]), st.binary(min_size=16, max_size=64)).map(
    lambda t: t[0] + base64.b64encode(t[1]).decode()
)


@FUZZ
@given(secret=secrets, other=secrets, body=st.binary(max_size=2000))
@counted
def test_signatures_depend_on_the_secret(secret: str, other: str, body: bytes) -> None:
    mine = w.standard_webhooks_signature(secret, "msg_1", 1_700_000_000, body)
    assert mine == w.standard_webhooks_signature(secret, "msg_1", 1_700_000_000, body)
    if other.removeprefix("whsec_") != secret.removeprefix("whsec_"):
        assert mine != w.standard_webhooks_signature(other, "msg_1", 1_700_000_000, body)
