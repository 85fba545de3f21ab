"""Golden payloads: one fixed digest as each platform receives it, byte for byte.

The files under ``tests/fixtures/webhooks/`` are what the sender posts for
:data:`DIGEST` (two stories, German and English labels, hostile characters); a
change to a builder shows up as a diff of these files. Every golden body also
passes the limits check of that platform's loopback receiver. Regenerate after a
deliberate change with ``UPDATE_GOLDEN=1 pytest tests/bot/test_webhook_golden.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bot.config import WebhookConfig
from bot.webhook_sender import build_payloads
from digests.models import DigestEntry, FactOut, SourceRef
from tests.webhook_receivers import CHECKS, PLATFORMS

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"
WIRE = SourceRef("Continental Wire", "https://wire.example/harbour?id=7&lang=en")
BLATT = SourceRef("Rhein <Kurier> & Co", "https://kurier.example/a|b")
DIGEST = [
    DigestEntry(
        story_id="s7",
        title="Harbour strike enters day 3 <update> & talks *stall*",
        status="update",
        language="en",
        facts=[
            FactOut("statement", "The union said the strike would last 5 more days.", "", (WIRE,)),
            FactOut(
                "number_estimate",
                "About 4,000 containers are waiting at the docks.",
                "",
                (WIRE, BLATT),
            ),
            FactOut(
                "demand", "Shippers demanded that the port authority step in_now.", "", (BLATT,)
            ),
        ],
        sources=[WIRE, BLATT],
        also_reported_by=[SourceRef("Global Ledger", "https://ledger.example/x")],
        article_count=4,
        omitted_facts=1,
    ),
    DigestEntry(
        story_id="s8",
        title="Neue Brücke über die Elbe eröffnet",
        status="new_story",
        language="de",
        facts=[
            FactOut("decision_policy", "Der Stadtrat gab die Brücke am Montag frei.", "", (BLATT,))
        ],
        sources=[BLATT],
    ),
]


def payloads(platform: str, language: str) -> list[dict[str, Any]]:
    hook = WebhookConfig(name="golden", platform=platform, room="!r:example.org")
    return build_payloads(hook, DIGEST, language, "0123456789abcdef0123")


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("platform", PLATFORMS)
def test_golden_payloads(platform: str, language: str) -> None:
    got = payloads(platform, language)
    path = GOLDEN / f"{platform}.{language}.json"
    text = json.dumps(got, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, f"{path.name} changed"
    check = CHECKS.get(platform)
    for body in got:
        assert check is None or check(body) == "", (platform, check(body) if check else "")
