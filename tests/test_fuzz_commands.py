"""Fuzz: command arguments reach the stores only as valid settings, or as our own error.

Every parser between a chat message and the subscription store either returns
a valid change or raises :class:`SubscriptionError` / :class:`OpmlError`,
whose message the bot shows the user; nothing else may escape (an unexpected
exception would answer "something went wrong" and log a traceback).
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.commands import button_changes, match_feeds, setting_changes
from bot.config import FeedConfig
from digests.models import DigestEntry, FactOut
from digests.opml import OpmlError, parse_opml, valid_feed_url
from digests.subscriptions import (
    REGEX_TIMEOUT,
    Subscription,
    SubscriptionError,
    check_pattern,
    passes_filters,
)
from digests.urls import canonicalize_url
from tests.fuzzing import FUZZ, counted, hostile_text, nasty, urls

OPTIONS = [
    "language",
    "sprache",
    "mode",
    "daily",
    "interval",
    "timezone",
    "quiet",
    "previews",
    "silent",
    "updates",
    "max",
    "bogus",
]
argument = st.one_of(
    hostile_text,
    st.sampled_from(["de", "en", "instant", "daily", "30", "0", "99999999", "-5", "on", "off"]),
    st.sampled_from(["08:00", "25:61", "22:00-06:00", "Europe/Berlin", "../../etc/passwd"]),
)
pattern = st.one_of(
    hostile_text,
    st.tuples(st.just("/"), hostile_text, st.just("/")).map("".join),
    st.from_regex(r"/[a-z()|*+?.\\\[\]{}0-9^$]{1,30}/", fullmatch=True),
)


@FUZZ
@given(option=st.one_of(st.sampled_from(OPTIONS), hostile_text), value=argument)
@counted
def test_settings_arguments_give_valid_changes_or_our_error(option: str, value: str) -> None:
    try:
        changes = setting_changes(option, value)
        if changes is not None:
            Subscription(target="telegram:1").with_changes(**changes)
    except SubscriptionError as exc:
        assert str(exc)


@FUZZ
@given(data=st.one_of(hostile_text, st.tuples(st.just("set:"), hostile_text).map("".join)))
@counted
def test_button_data_never_raises(data: str) -> None:
    changes = button_changes(data)
    if changes is not None:
        Subscription(target="telegram:1").with_changes(**changes)


@FUZZ
@given(patterns=st.lists(pattern, min_size=1, max_size=4), text=hostile_text)
@counted
def test_accepted_filters_match_any_text_in_bounded_time(patterns: list[str], text: str) -> None:
    accepted = []
    for p in patterns:
        try:
            accepted.append(check_pattern(p))
        except SubscriptionError:
            continue
    sub = Subscription(target="telegram:1", exclude=tuple(accepted))
    entry = DigestEntry(
        story_id="s1",
        title=text,
        status="new_story",
        language="en",
        facts=[FactOut(type="other", text=text * 3 or "x", sentence="")],
    )
    start = time.perf_counter()
    passes_filters(sub, entry)
    assert time.perf_counter() - start < 0.5 + 2 * REGEX_TIMEOUT * len(accepted)


FEEDS = (
    FeedConfig(url="https://news.example.org/world.xml", name="World Wire"),
    FeedConfig(url="https://zeitung.example.de/politik.rss", name="Politik"),
)


@FUZZ
@given(words=st.lists(st.one_of(hostile_text, urls), max_size=6))
@counted
def test_subscribe_arguments_and_urls_never_raise(words: list[str]) -> None:
    known, _ = match_feeds(words, " ".join(words), FEEDS)
    assert set(known) <= {"World Wire", "Politik"}
    for word in words:
        valid_feed_url(word)
        canonicalize_url(word)


@FUZZ
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.lists(st.tuples(hostile_text, st.one_of(urls, nasty)), max_size=6).map(
            lambda outlines: (
                '<?xml version="1.0"?><opml version="2.0"><body>'
                + "".join(
                    f'<outline text="{t.replace(chr(34), "")}" xmlUrl="{u.replace(chr(34), "")}"/>'
                    for t, u in outlines
                )
                + "</body></opml>"
            ).encode("utf-8", "surrogatepass")
        ),
    )
)
@counted
def test_opml_imports_give_feeds_or_our_error(body: bytes) -> None:
    try:
        feeds = parse_opml(body)
    except OpmlError as exc:
        assert str(exc)
        return
    assert all(valid_feed_url(url) for url, _ in feeds)


def test_found_by_fuzzing_an_overlong_time_zone_is_our_error() -> None:
    changes = setting_changes("timezone", "a" * 300)
    assert changes is not None
    with pytest.raises(SubscriptionError, match="unknown time zone"):
        Subscription(target="telegram:1").with_changes(**changes)
