"""Subscriptions: who gets which digests, how and when (pure values and decisions).

A subscription belongs to one chat (and forum topic) or one webhook. The shell
stores it in Redis as JSON (``to_dict``/``from_dict``); the decisions here
(does an entry pass the filters, is a scheduled digest due, are we in quiet
hours) take ``now`` as an argument and are tested by tables.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import regex

from digests.errors import DigestsError
from digests.models import DigestEntry

Mode = Literal["instant", "interval", "daily"]
UpdateMode = Literal["new", "reply", "edit"]
MAX_FILTERS = 20
MAX_PATTERN = 200
# Regex filters run on at most this much text, and each match may take this long: a
# pattern that slips past the shape check below still costs at most 50 ms per story.
MAX_FILTER_TEXT = 20_000
REGEX_TIMEOUT = 0.05
# Bounded patterns: no nested quantifiers, no backreferences — the shapes that
# make Python's backtracking engine run for ever on hostile input.
_NESTED = re.compile(r"(\([^)]*[+*}][^)]*\))[+*{]|\\\d")


class SubscriptionError(DigestsError):
    """A subscription setting is invalid; the message is fit to show the user."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """One destination's settings. ``target`` is ``telegram:<chat id>[:<thread id>]``."""

    target: str
    chat_type: str = "private"  # private | group | supergroup | channel | webhook
    feeds: tuple[str, ...] = ()  # empty: all feeds
    language: str = "en"
    mode: Mode = "instant"
    interval_minutes: int = 60
    daily_at: str = "08:00"
    timezone: str = "UTC"
    quiet_start: str = ""  # "22:00"; empty: no quiet hours
    quiet_end: str = ""
    max_stories: int = 10
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    link_previews: bool = False
    silent: bool = False
    update_mode: UpdateMode = "new"
    active: bool = True
    paused: bool = False
    deactivated_reason: str = ""
    created_by: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Subscription:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("feeds", "include", "exclude"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)

    def with_changes(self, **changes: Any) -> Subscription:
        sub = replace(self, **changes)
        validate(sub)
        return sub


def _hhmm(value: str, what: str) -> time:
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except (ValueError, TypeError):
        raise SubscriptionError(f"{what}: expected HH:MM, got {value!r}") from None


def zone(name: str) -> ZoneInfo:
    try:
        # OSError: the name is looked up as a file ("File name too long"; found by fuzzing).
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise SubscriptionError(f"unknown time zone {name!r} (e.g. Europe/Berlin)") from None


def check_pattern(pattern: str) -> str:
    """A keyword or ``/regex/`` filter, refused when too long or prone to backtracking."""
    if not pattern or len(pattern) > MAX_PATTERN:
        raise SubscriptionError(f"filters are 1–{MAX_PATTERN} characters")
    if pattern.startswith("/") and pattern.endswith("/") and len(pattern) > 2:
        body = pattern[1:-1]
        if _NESTED.search(body):
            raise SubscriptionError("regex refused: nested repetition or backreference")
        try:
            # Compiled by the engine that runs it (its syntax is re's, plus a timeout).
            regex.compile(body, regex.IGNORECASE | regex.VERSION0)
        except regex.error as exc:
            raise SubscriptionError(f"bad regular expression: {exc}") from None
    return pattern


def validate(sub: Subscription) -> None:
    if sub.language not in ("de", "en"):
        raise SubscriptionError("language must be de or en")
    if sub.mode not in ("instant", "interval", "daily"):
        raise SubscriptionError("mode must be instant, interval or daily")
    if not 5 <= sub.interval_minutes <= 7 * 24 * 60:
        raise SubscriptionError("interval must be between 5 minutes and 7 days")
    _hhmm(sub.daily_at, "daily time")
    zone(sub.timezone)
    if bool(sub.quiet_start) != bool(sub.quiet_end):
        raise SubscriptionError("quiet hours need a start and an end")
    if sub.quiet_start:
        _hhmm(sub.quiet_start, "quiet hours start")
        _hhmm(sub.quiet_end, "quiet hours end")
    if not 1 <= sub.max_stories <= 50:
        raise SubscriptionError("max stories must be between 1 and 50")
    if len(sub.include) + len(sub.exclude) > MAX_FILTERS:
        raise SubscriptionError(f"at most {MAX_FILTERS} filters")
    for pattern in (*sub.include, *sub.exclude):
        check_pattern(pattern)
    if sub.update_mode not in ("new", "reply", "edit"):
        raise SubscriptionError("updates must be new, reply or edit")


def _matches(pattern: str, text: str) -> bool:
    if pattern.startswith("/") and pattern.endswith("/") and len(pattern) > 2:
        # Bounded input, a bounded pattern and a timeout keep the match cheap.
        try:
            found = regex.search(
                pattern[1:-1],
                text[:MAX_FILTER_TEXT],
                regex.IGNORECASE | regex.VERSION0,
                timeout=REGEX_TIMEOUT,
            )
        except TimeoutError:
            # Too slow to decide counts as no match: one hostile filter cannot stall delivery.
            return False
        return found is not None
    return re.search(r"\b" + re.escape(pattern) + r"\b", text, re.IGNORECASE) is not None


def entry_text(entry: DigestEntry) -> str:
    return "\n".join([entry.title, *(f.text for f in entry.facts)])


def passes_filters(sub: Subscription, entry: DigestEntry) -> bool:
    """Include: any pattern must match (when there are some); exclude: none may."""
    text = entry_text(entry)
    if sub.include and not any(_matches(p, text) for p in sub.include):
        return False
    return not any(_matches(p, text) for p in sub.exclude)


def wants_feed(sub: Subscription, feed: str) -> bool:
    return not sub.feeds or feed in sub.feeds


def in_quiet_hours(sub: Subscription, now: datetime) -> bool:
    if not sub.quiet_start:
        return False
    local = now.astimezone(zone(sub.timezone)).time()
    start, end = _hhmm(sub.quiet_start, "quiet start"), _hhmm(sub.quiet_end, "quiet end")
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # spans midnight


def next_due(sub: Subscription, last_sent: datetime | None, now: datetime) -> datetime:
    """When the next scheduled digest of ``sub`` is due (instant: now)."""
    if sub.mode == "instant":
        due = now
    elif sub.mode == "interval":
        due = (last_sent + timedelta(minutes=sub.interval_minutes)) if last_sent else now
    else:
        tz = zone(sub.timezone)
        at = _hhmm(sub.daily_at, "daily time")
        today = datetime.combine(now.astimezone(tz).date(), at, tzinfo=tz)
        already = last_sent is not None and last_sent.astimezone(tz) >= today
        due = today + timedelta(days=1) if already else today
    if in_quiet_hours(sub, due):
        # Hold until the quiet hours end, in the subscription's zone.
        tz = zone(sub.timezone)
        end = _hhmm(sub.quiet_end, "quiet end")
        local = due.astimezone(tz)
        candidate = datetime.combine(local.date(), end, tzinfo=tz)
        if candidate <= local:
            candidate += timedelta(days=1)
        due = candidate
    return due


def is_due(sub: Subscription, last_sent: datetime | None, now: datetime) -> bool:
    return sub.active and not sub.paused and next_due(sub, last_sent, now) <= now
