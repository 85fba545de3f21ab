"""Rendering: escaped Telegram HTML within 4096 characters, split only between facts."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from digests.models import DigestEntry, FactOut, SourceRef
from digests.render import TELEGRAM_LIMIT, render_entry, render_messages, telegram_length

ALLOWED = {"b", "i", "u", "s", "a", "code", "pre", "blockquote", "tg-spoiler"}
SRC = SourceRef("Rhein <Kurier> & Co", "https://example.org/a?x=1&y=<2>")


class _TagCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            self.problems.append(f"tag {tag}")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unbalanced {tag}")

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            self.problems.append(f"entity {name}")


def assert_valid_telegram_html(message: str) -> None:
    checker = _TagCheck()
    checker.feed(message)
    checker.close()
    assert not checker.problems and not checker.stack, (checker.problems, checker.stack)
    assert 0 < telegram_length(message) <= TELEGRAM_LIMIT


def entry(
    n_facts: int, fact_len: int = 80, title: str = "Brücke <gesperrt> & Umleitung"
) -> DigestEntry:
    facts = [
        FactOut(
            type=("number_estimate", "statement", "demand")[i % 3],
            text=f"{title[:6]} Fakt {i}: " + ('Ä<&>"' * (fact_len // 5)),
            sentence="x",
            sources=(SRC,),
        )
        for i in range(n_facts)
    ]
    return DigestEntry(
        story_id="s1",
        title=title,
        status="update",
        language="de",
        facts=facts,
        sources=[SRC],
        also_reported_by=[SourceRef("Ostsee & Anzeiger", "https://ostsee.example/x")],
    )


def test_every_text_is_escaped_and_grouped_by_type() -> None:
    message = render_entry(entry(3), "telegram", "de")
    assert_valid_telegram_html(message)
    assert "&lt;gesperrt&gt; &amp; Umleitung" in message
    assert 'href="https://example.org/a?x=1&amp;y=&lt;2&gt;"' in message
    assert "<b>Zahlen</b>" in message and "<b>Forderungen</b>" in message
    assert "Auch berichtet von" in message


@pytest.mark.parametrize("n_facts", [1, 30, 120])
def test_long_digests_split_between_facts_within_the_limit(n_facts: int) -> None:
    entries = [entry(n_facts), entry(5, title="Zweite Meldung")]
    messages = render_messages(entries, "telegram", "de")
    for message in messages:
        assert_valid_telegram_html(message)
    # No fact is lost or cut: every fact text appears whole in exactly one message.
    visible = [html.unescape(re.sub(r"<[^>]*>", "", m)) for m in messages]
    for e in entries:
        for fact in e.facts:
            assert sum(fact.text in v for v in visible) == 1
    if n_facts == 120:
        assert len(messages) > 1


def test_a_single_huge_fact_is_shortened_not_broken() -> None:
    messages = render_messages([entry(1, fact_len=9000)], "telegram", "en")
    assert len(messages) == 1
    assert_valid_telegram_html(messages[0])
    assert "…" in messages[0]


def test_utf16_length_counts_astral_characters_twice() -> None:
    assert telegram_length("<b>😀</b> &amp;") == 4


def test_plain_text_and_markdown_render_the_same_facts() -> None:
    e = entry(2)
    text = render_entry(e, "text", "en")
    md = render_entry(e, "markdown", "en")
    assert "[Update] Brücke <gesperrt> & Umleitung" in text
    assert "Figures:" in text
    assert "\\<gesperrt\\>" in md
