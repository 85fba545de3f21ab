"""Webhook payloads: within platform limits, no fact lost or cut, hostile text escaped."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any

import pytest

from digests.labels import FACT_TYPES, labels
from digests.models import DigestEntry, FactOut, SourceRef
from digests.webhooks import (
    discord_escape,
    discord_payload,
    github_signature,
    markdown_escape,
    matrix_payload,
    mattermost_payload,
    slack_escape,
    slack_payload,
    standard_webhooks_signature,
    teams_payload,
)

Builder = Callable[[list[DigestEntry], str], list[dict[str, Any]]]
SRC = SourceRef("Rhein <Kurier> | & Co", "https://example.org/a?x=1&y=<2>|z")
SRC2 = SourceRef("Tagesblatt", "https://tagesblatt.example/artikel/1")
HOSTILE = "Er sagte <script>alert(1)</script> & mehr | *fett* _kursiv_ ~durch~"


def _entry(n: int, language: str = "de", title: str = "Gipfel in Berlin") -> DigestEntry:
    facts = [
        FactOut(
            type=FACT_TYPES[i % len(FACT_TYPES)],
            text=f"Fakt Nummer {i}: Die Regierung bestätigte {i * 3} neue Maßnahmen am Montag.",
            sentence="",
            sources=(SRC, SRC2) if i % 2 else (SRC2,),
        )
        for i in range(n)
    ]
    return DigestEntry(
        story_id=f"s{n}",
        title=title,
        status="new_story",
        language=language,
        facts=facts,
        sources=[SRC, SRC2],
        also_reported_by=[SourceRef("Anderes Blatt", "https://x.example/")],
        article_count=3,
    )


def _size(payload: dict[str, Any]) -> int:
    return len(json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def _check_slack(p: dict[str, Any]) -> str:
    blocks = p["blocks"]
    assert p["text"]
    assert 1 <= len(blocks) <= 50
    assert blocks[0]["type"] == "header"
    assert len(blocks[0]["text"]["text"]) <= 150
    for block in blocks[1:]:
        assert block["type"] == "section"
        assert block["text"]["type"] == "mrkdwn"
        assert len(block["text"]["text"]) <= 3000
    return "\n".join(b["text"]["text"] for b in blocks[1:])


def _check_discord(p: dict[str, Any]) -> str:
    embeds = p["embeds"]
    assert len(p["content"]) <= 2000
    assert 1 <= len(embeds) <= 10
    total = 0
    for e in embeds:
        assert len(e["title"]) <= 256
        assert len(e.get("description", "")) <= 4096
        assert e["url"] == "https://example.org/a?x=1&y=%3C2%3E%7Cz"
        total += len(e["title"]) + len(e.get("description", ""))
    assert total <= 6000
    return "\n".join(e.get("description", "") for e in embeds)


def _check_mattermost(p: dict[str, Any]) -> str:
    assert set(p) == {"text"}
    assert len(p["text"]) <= 16383
    return str(p["text"])


def _check_teams(p: dict[str, Any]) -> str:
    assert p["type"] == "message"
    (att,) = p["attachments"]
    assert att["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = att["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.2" and card["$schema"]
    assert all(b["type"] == "TextBlock" for b in card["body"])
    assert _size(p) <= 28 * 1000
    return "\n".join(b["text"] for b in card["body"])


def _check_matrix(p: dict[str, Any]) -> str:
    assert p["msgtype"] == "m.text" and p["format"] == "org.matrix.custom.html"
    assert p["body"] and p["formatted_body"]
    assert _size(p) <= 32 * 1000
    return str(p["formatted_body"])


CASES: list[tuple[str, Builder, Callable[[dict[str, Any]], str], Callable[[str], str]]] = [
    ("slack", slack_payload, _check_slack, slack_escape),
    ("discord", discord_payload, _check_discord, discord_escape),
    ("mattermost", mattermost_payload, _check_mattermost, markdown_escape),
    ("teams", teams_payload, _check_teams, markdown_escape),
    ("matrix", matrix_payload, _check_matrix, lambda s: html.escape(s, quote=False)),
]


def _escaped_words(text: str, escape: Callable[[str], str]) -> str:
    return " ".join(escape(w) for w in text.split())


@pytest.mark.parametrize(("name", "build", "check", "escape"), CASES)
@pytest.mark.parametrize("n", [1, 30, 200])
@pytest.mark.parametrize("language", ["de", "en"])
def test_limits_and_every_fact_whole(
    name: str,
    build: Builder,
    check: Callable[[dict[str, Any]], str],
    escape: Callable[[str], str],
    n: int,
    language: str,
) -> None:
    entry = _entry(n, language)
    payloads = build([entry], language)
    texts = [check(p) for p in payloads]
    joined = "\n".join(texts)
    for fact in entry.facts:
        needle = _escaped_words(fact.text, escape)
        # each fact lies whole within a single payload
        assert sum(needle in t for t in texts) == 1, (name, fact.text)
        assert joined.count(needle) == 1
    if n == 200:
        # Slack packs ~20 facts per 3,000-character section, so 200 facts fit 50 blocks
        assert len(payloads) > 1 or name == "slack"
    # group labels in the requested language
    names = labels(language)
    assert escape(names[entry.facts[0].type]) in joined


@pytest.mark.parametrize(("name", "build", "check", "escape"), CASES)
def test_many_entries_each_within_limits(
    name: str,
    build: Builder,
    check: Callable[[dict[str, Any]], str],
    escape: Callable[[str], str],
) -> None:
    entries = [_entry(n, "en", title=f"Story {n} " + "x" * 300) for n in (1, 30, 200, 500)]
    payloads = build(entries, "en")
    for p in payloads:
        check(p)
    assert len(payloads) >= len(entries)


def test_slack_splits_200_facts_between_facts() -> None:
    payloads = slack_payload([_entry(200)], "de")
    assert len(payloads) >= 1
    big = slack_payload([_entry(2000)], "de")
    assert len(big) > 1
    assert "Fortsetzung" in big[1]["blocks"][0]["text"]["text"]
    for p in big:
        _check_slack(p)


def test_discord_splits_and_keeps_limits() -> None:
    payloads = discord_payload([_entry(200)], "de")
    assert len(payloads) > 1
    assert payloads[0]["allowed_mentions"] == {"parse": []}


def test_slack_escaping_and_links() -> None:
    entry = _entry(1)
    entry.facts[0] = FactOut("statement", HOSTILE, HOSTILE, (SRC,))
    (p,) = slack_payload([entry], "en")
    text = _check_slack(p)
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "&amp; mehr" in text
    assert "*fett*" in text  # only & < > are escaped in mrkdwn
    link = "<https://example.org/a?x=1&amp;y=%3C2%3E%7Cz|Rhein &lt;Kurier&gt; ¦ &amp; Co>"
    assert link in text
    assert "<script>" not in p["text"]


def test_discord_escaping() -> None:
    entry = _entry(1)
    entry.facts[0] = FactOut("statement", HOSTILE + " @everyone", HOSTILE, (SRC,))
    (p,) = discord_payload([entry], "en")
    text = _check_discord(p)
    assert r"\*fett\*" in text and r"\_kursiv\_" in text and r"\~durch\~" in text
    assert r"\|" in text and r"\<script\>" in text
    assert "@everyone" not in text
    assert "[Rhein \\<Kurier\\> \\| & Co](https://example.org/a?x=1&y=%3C2%3E%7Cz)" in text


def test_markdown_platforms_escape() -> None:
    entry = _entry(1)
    entry.facts[0] = FactOut("statement", HOSTILE, HOSTILE, (SRC,))
    for build, check in ((mattermost_payload, _check_mattermost), (teams_payload, _check_teams)):
        (p,) = build([entry], "en")
        text = check(p)
        assert r"\*fett\*" in text and r"\_kursiv\_" in text and r"\|" in text
        assert "<script>" not in text


def test_matrix_html_escaped() -> None:
    entry = _entry(1)
    entry.facts[0] = FactOut("statement", HOSTILE, HOSTILE, (SRC,))
    (p,) = matrix_payload([entry], "en")
    assert "<script>" not in p["formatted_body"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; mehr" in p["formatted_body"]
    assert '<a href="https://example.org/a?x=1&amp;y=&lt;2&gt;|z">' in p["formatted_body"]
    assert HOSTILE in p["body"]


def test_overlong_fact_wrapped_not_lost() -> None:
    long_text = " ".join(f"wort{i}" for i in range(1500))  # ~10k characters
    entry = _entry(1)
    entry.facts[0] = FactOut("statement", long_text, long_text, (SRC2,))
    for _name, build, check, _escape in CASES:
        texts = " ".join(check(p) for p in build([entry], "de")).replace("<br>", " ")
        words = set(texts.split())
        assert all(f"wort{i}" in words for i in range(1500)), _name


def test_github_signature_vector() -> None:
    assert (
        github_signature(b"It's a Secret to Everybody", b"Hello, World!")
        == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )


def test_standard_webhooks_signature_vector() -> None:
    assert (
        standard_webhooks_signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            b'{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


@pytest.mark.parametrize(("name", "build", "check", "escape"), CASES)
def test_hostile_long_title(
    name: str,
    build: Builder,
    check: Callable[[dict[str, Any]], str],
    escape: Callable[[str], str],
) -> None:
    entry = _entry(3, title=("<script>*_~|& " * 400).strip())
    for p in build([entry], "de"):
        check(p)
        if name != "matrix":
            assert "<script>" not in json.dumps(p.get("text", "")) + json.dumps(
                p.get("content", "")
            )
    if name == "discord":
        (p,) = build([entry], "de")
        assert p["embeds"][0]["title"].startswith(r"Neue Meldung: \<script\>\*\_\~\|&")
        assert not p["embeds"][0]["title"].endswith("\\…")
    if name == "matrix":
        (p,) = build([entry], "de")
        assert "<script>" not in p["formatted_body"]
