"""Checks of inbound requests' credentials: every comparison in constant time.

Pure functions over the raw body and headers, so the server and the tests share
them: Slack's v0 request signature, GitHub-style ``X-Hub-Signature-256``, Standard
Webhooks' ``webhook-signature``, bearer tokens and plain shared tokens. Signed
requests carry a timestamp that must lie within ``tolerance`` seconds of ``now``,
so a captured request cannot be replayed later.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
from collections.abc import Mapping

from digests.webhooks import github_signature, standard_webhooks_signature

MAX_SIGNATURE_HEADER = 1024


def same(given: str, expected: str) -> bool:
    """Constant-time equality; an empty expected value never matches."""
    if not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def _timestamp_ok(raw: str, now: float, tolerance: int) -> bool:
    if not raw.isdigit() or len(raw) > 12:
        return False
    return abs(now - int(raw)) <= tolerance


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify_slack(
    secret: str, headers: Mapping[str, str], body: bytes, now: float, tolerance: int
) -> bool:
    """Slack's ``X-Slack-Signature`` (v0) with ``X-Slack-Request-Timestamp``."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")[:MAX_SIGNATURE_HEADER]
    if not secret or not _timestamp_ok(timestamp, now, tolerance):
        return False
    return same(signature, slack_signature(secret, timestamp, body))


def verify_hub_signature(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`` (GitHub's scheme)."""
    if not secret:
        return False
    given = headers.get("x-hub-signature-256", "")[:MAX_SIGNATURE_HEADER]
    return same(given, github_signature(secret.encode(), body))


def verify_standard_webhooks(
    secret: str, headers: Mapping[str, str], body: bytes, now: float, tolerance: int
) -> bool:
    """Standard Webhooks: any ``v1,<sig>`` of ``webhook-signature`` over id.timestamp.body."""
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    if (
        not secret
        or not msg_id
        or len(msg_id) > 256
        or not _timestamp_ok(timestamp, now, tolerance)
    ):
        return False
    try:
        expected = standard_webhooks_signature(secret, msg_id, int(timestamp), body)
    except (binascii.Error, ValueError):
        return False  # a secret that is not base64: nothing can match
    signatures = headers.get("webhook-signature", "")[:MAX_SIGNATURE_HEADER].split()
    return any(same(s, expected) for s in signatures if s.startswith("v1,"))


def bearer(headers: Mapping[str, str]) -> str:
    value = headers.get("authorization", "")[:MAX_SIGNATURE_HEADER]
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""
