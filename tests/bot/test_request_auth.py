"""Inbound request checks against the published test vectors of Slack, GitHub and
Standard Webhooks, plus the replay window and malformed headers."""

from __future__ import annotations

import pytest

from bot.request_auth import (
    bearer,
    same,
    verify_hub_signature,
    verify_slack,
    verify_standard_webhooks,
)

# Slack's "Verifying requests from Slack" example.
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_TS = "1531420618"
SLACK_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
SLACK_SIG = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
# Standard Webhooks' reference example.
SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SW_TS = 1614265330
SW_BODY = b'{"test": 2432232314}'
SW_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def slack_headers(ts: str = SLACK_TS, sig: str = SLACK_SIG) -> dict[str, str]:
    return {"x-slack-request-timestamp": ts, "x-slack-signature": sig}


def test_slack_example_verifies_within_five_minutes_only() -> None:
    now = int(SLACK_TS)
    assert verify_slack(SLACK_SECRET, slack_headers(), SLACK_BODY, now + 299, 300)
    assert verify_slack(SLACK_SECRET, slack_headers(), SLACK_BODY, now - 299, 300)
    assert not verify_slack(SLACK_SECRET, slack_headers(), SLACK_BODY, now + 301, 300)
    assert not verify_slack(SLACK_SECRET, slack_headers(), SLACK_BODY + b"x", now, 300)
    assert not verify_slack("other", slack_headers(), SLACK_BODY, now, 300)
    assert not verify_slack("", slack_headers(), SLACK_BODY, now, 300)


@pytest.mark.parametrize("ts", ["", "abc", "-1", "1e9", "9" * 40, " 1531420618"])
def test_slack_malformed_timestamps_fail_closed(ts: str) -> None:
    assert not verify_slack(SLACK_SECRET, slack_headers(ts=ts), SLACK_BODY, int(SLACK_TS), 300)


def test_github_example() -> None:
    headers = {
        "x-hub-signature-256": (
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        )
    }
    assert verify_hub_signature("It's a Secret to Everybody", headers, b"Hello, World!")
    assert not verify_hub_signature("It's a Secret to Everybody", headers, b"Hello, World?")
    assert not verify_hub_signature("", headers, b"Hello, World!")
    assert not verify_hub_signature("It's a Secret to Everybody", {}, b"Hello, World!")


def test_standard_webhooks_example_and_rotation() -> None:
    headers = {"webhook-id": SW_ID, "webhook-timestamp": str(SW_TS), "webhook-signature": SW_SIG}
    assert verify_standard_webhooks(SW_SECRET, headers, SW_BODY, SW_TS, 300)
    # Several signatures (key rotation), unknown versions ignored.
    rotated = dict(headers, **{"webhook-signature": f"v1a,xyz v1,AAAA {SW_SIG}"})
    assert verify_standard_webhooks(SW_SECRET, rotated, SW_BODY, SW_TS, 300)
    assert not verify_standard_webhooks(SW_SECRET, headers, SW_BODY, SW_TS + 301, 300)
    assert not verify_standard_webhooks(SW_SECRET, headers, SW_BODY + b" ", SW_TS, 300)
    other_id = dict(headers, **{"webhook-id": "msg_other"})
    assert not verify_standard_webhooks(SW_SECRET, other_id, SW_BODY, SW_TS, 300)
    assert not verify_standard_webhooks("whsec_not*base64", headers, SW_BODY, SW_TS, 300)


def test_bearer_and_constant_time_equality() -> None:
    assert bearer({"authorization": "Bearer abc"}) == "abc"
    assert bearer({"authorization": "bearer  abc "}) == "abc"
    assert bearer({"authorization": "Basic abc"}) == ""
    assert bearer({}) == ""
    assert same("abc", "abc") and not same("abc", "abd") and not same("", "")
    assert not same("ä", "a")
