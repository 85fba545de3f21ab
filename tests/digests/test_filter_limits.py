"""Regex filters are bounded in size, shape and time: a hostile pattern cannot stall delivery."""

from __future__ import annotations

import time

import pytest

from digests.models import DigestEntry, FactOut
from digests.subscriptions import (
    MAX_PATTERN,
    REGEX_TIMEOUT,
    Subscription,
    SubscriptionError,
    check_pattern,
    passes_filters,
)


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("/(a+)+$/", "nested repetition"),
        ("/(\\w*)*x/", "nested repetition"),
        ("/(a)\\1/", "backreference"),
        ("/" + "a" * MAX_PATTERN + "/", "characters"),
        ("/[unclosed/", "bad regular expression"),
    ],
)
def test_dangerous_or_bad_patterns_are_refused(pattern: str, problem: str) -> None:
    with pytest.raises(SubscriptionError, match=problem):
        check_pattern(pattern)


def test_a_catastrophic_pattern_that_passes_the_shape_check_is_cut_off_in_time() -> None:
    # No nested quantifier, yet exponential for a backtracking engine on "aaaa…".
    pattern = "/(?:a|a)*\\d/"
    assert check_pattern(pattern) == pattern
    entry = DigestEntry(
        story_id="s1",
        title="a" * 30,
        status="new_story",
        language="en",
        facts=[FactOut(type="other", text="a" * 30_000, sentence="")],
    )
    sub = Subscription(target="telegram:1", exclude=(pattern,), include=(pattern,))
    start = time.perf_counter()
    # Undecided in time counts as no match: not included (and not excluded).
    assert passes_filters(sub, entry) is False
    assert time.perf_counter() - start < 20 * REGEX_TIMEOUT
