"""Fuzz: every Telegram message we render is one Telegram accepts.

Each message goes through the emulator's own HTML entity parser and validation
(tdlib's rules), Telegram's trimming and the 4096 UTF-16 unit limit. Command
replies built from hostile arguments pass the same check.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from digests.help_texts import filter_list, story_messages, text, usage
from digests.labels import FACT_TYPES
from digests.models import DigestEntry, FactOut, SourceRef
from digests.render import TELEGRAM_LIMIT, render_messages, telegram_length
from digests.subscriptions import Subscription
from tests.fuzzing import FUZZ, counted, entries, hostile_text, telegram_accepts

languages = st.sampled_from(["de", "en"])


@FUZZ
@given(batch=st.lists(entries, min_size=1, max_size=3), language=languages)
@counted
def test_every_telegram_message_passes_the_emulator(
    batch: list[DigestEntry], language: str
) -> None:
    messages = render_messages(batch, "telegram", language, TELEGRAM_LIMIT)
    assert messages
    for message in messages:
        assert telegram_length(message) <= TELEGRAM_LIMIT
        telegram_accepts(message)


@FUZZ
@given(
    value=hostile_text,
    key=st.sampled_from(
        ["filter_added", "filter_bad", "story_unknown", "why_unknown", "unknown_feeds", "feed_off"]
    ),
    language=languages,
)
@counted
def test_replies_with_hostile_arguments_pass_the_emulator(
    value: str, key: str, language: str
) -> None:
    values = {"pattern": value, "error": value, "id": value, "what": value[:200]}
    values |= {"names": value, "reason": value[:100]}
    reply = text(language, key, **values)
    if len(reply) <= TELEGRAM_LIMIT:
        telegram_accepts(reply)


@FUZZ
@given(
    story_id=st.from_regex(r"s[0-9]{1,12}", fullmatch=True),  # as /story parses it
    title=hostile_text,
    sources=st.lists(hostile_text, max_size=5),
    facts=st.lists(st.tuples(st.sampled_from(FACT_TYPES), hostile_text), max_size=60),
    patterns=st.lists(st.text(min_size=1, max_size=200), max_size=20),
    language=languages,
)
@counted
def test_story_and_filter_replies_pass_the_emulator(
    story_id: str,
    title: str,
    sources: list[str],
    facts: list[tuple[str, str]],
    patterns: list[str],
    language: str,
) -> None:
    for message in story_messages(story_id, title, len(facts) + 1, sources, facts, language):
        telegram_accepts(message)
    sub = Subscription(target="telegram:1", include=tuple(patterns))
    telegram_accepts(filter_list(sub, language))
    telegram_accepts(usage(language, "filter"))


def test_found_by_fuzzing_a_line_separator_at_the_end_counts() -> None:
    # Telegram does not trim U+2028; a message measured without it was one unit too long.
    entry = DigestEntry(
        story_id="s0",
        title="a",
        status="new_story",
        language="de",
        facts=[
            FactOut(
                type="confirmation",
                text="x" * 5000,
                sentence="",
                sources=(SourceRef(name="\u2028", url=""),),
            )
        ],
    )
    for message in render_messages([entry], "telegram", "de", TELEGRAM_LIMIT):
        telegram_accepts(message)
