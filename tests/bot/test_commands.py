"""The bot's commands as a user meets them: real PTB long polling against the Bot API
emulator, a real Redis, and assertions on what the chat shows and what the store holds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.cli import _pipeline
from bot.config import Config, FeedConfig, RedisConfig, TelegramConfig
from bot.keys import Keys
from bot.sources import load_path
from bot.subscription_store import SubscriptionStore, telegram_target
from bot.telegram_bot import api_urls, build_application, run_bot
from digests.opml import OpmlError, build_opml, parse_opml
from digests.subscriptions import Subscription
from tests.telegram_emulator import RateLimits, SentMessage, TelegramEmulator

REPO = Path(__file__).resolve().parents[2]
OWNER = 4001
ALICE = 4002  # English
ANNA = 4003  # German
BOB = 4004  # a plain group member
GROUP = -1004001
FORUM = -1004002
CHANNEL = -1004003
TOPIC = 77
OLD_GROUP = -4005
FEEDS = (
    FeedConfig(url="https://news.example.org/world.xml", name="World Wire"),
    FeedConfig(url="https://zeitung.example.de/politik.rss", name="Politik"),
)


class Bot:
    """One running bot and the chats around it; ``send`` is a user typing a message."""

    def __init__(self, emu: TelegramEmulator, client: aioredis.Redis, keys: Keys) -> None:
        self.emu = emu
        self.client = client
        self.keys = keys
        self.subs = SubscriptionStore(client, keys)

    async def send(
        self, chat_id: int, user_id: int | None, text: str | None, n: int = 1, **kw: Any
    ) -> list[SentMessage]:
        before = len(self.emu.sent(chat_id))
        self.emu.push_message(chat_id, user_id, text, **kw)
        sent = await self.emu.wait_for_messages_async(chat_id, before + n, timeout=5)
        return sent[before:]

    async def say(self, chat_id: int, user_id: int | None, text: str, **kw: Any) -> str:
        return (await self.send(chat_id, user_id, text, **kw))[-1].text

    async def quiet(self, chat_id: int, user_id: int | None, text: str) -> None:
        """Send, give the bot time to answer, and check that it did not."""
        before = len(self.emu.sent(chat_id))
        self.emu.push_message(chat_id, user_id, text)
        await asyncio.sleep(0.4)
        assert self.emu.texts(chat_id)[before:] == []

    async def press(self, chat_id: int, user_id: int, data: str, edits: bool = False) -> str:
        """Press a button; wait for the answer and, with ``edits``, for the edit of the
        message that the bot makes after answering (the spinner stops first)."""
        edited = sum(len(m.edits) for m in self.emu.sent(chat_id))
        query_id = self.emu.push_callback_query(chat_id, user_id, data)
        deadline = time.monotonic() + 5
        while not self.emu.callback_answers[query_id].answered or (
            edits and sum(len(m.edits) for m in self.emu.sent(chat_id)) == edited
        ):
            assert time.monotonic() < deadline, f"callback {data} not answered or no edit"
            await asyncio.sleep(0.01)
        return query_id

    async def sub(self, target: str) -> Subscription | None:
        return await self.subs.get(target)


BotFactory = Callable[..., contextlib.AbstractAsyncContextManager[Bot]]


@pytest.fixture
def start_bot(
    telegram_emulator: TelegramEmulator, redis_client: aioredis.Redis, keys: Keys
) -> BotFactory:
    emu = telegram_emulator
    # Flood limits are the sender's tests; here a quick conversation must not hit 429.
    emu.limits = RateLimits(enabled=False)
    emu.add_user(OWNER, "Olga", language_code="en")
    emu.add_user(ALICE, "Alice", language_code="en")
    emu.add_user(ANNA, "Anna", language_code="de")
    emu.add_user(BOB, "Bob", language_code="en")
    for user in (OWNER, ALICE, ANNA):
        emu.add_chat(user, "private")
    emu.add_chat(GROUP, "supergroup", title="Newsroom", admins=[ALICE], members=[BOB, ANNA])
    emu.add_chat(FORUM, "supergroup", is_forum=True, admins=[ALICE], topics={TOPIC: "World"})
    emu.add_chat(CHANNEL, "channel", title="Digest Channel", admins=[ALICE])
    cfg = Config(
        redis=RedisConfig(prefix=keys.prefix),
        telegram=TelegramConfig(base_url=emu.url, owners=(OWNER,), token=emu.token),
        feeds=FEEDS,
    )

    @contextlib.asynccontextmanager
    async def start(
        deliver_now: Callable[[str], Awaitable[int]] | None = None, commands_per_minute: int = 60
    ) -> AsyncIterator[Bot]:
        app = build_application(
            cfg,
            redis_client,
            keys,
            deliver_now=deliver_now,
            builder=emu.application_builder(),
            commands_per_minute=commands_per_minute,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(run_bot(app, stop, poll_timeout=1))
        try:
            yield Bot(emu, redis_client, keys)
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)

    return start


def test_api_urls_accept_root_or_bot_suffix() -> None:
    assert api_urls("http://127.0.0.1:8081") == (
        "http://127.0.0.1:8081/bot",
        "http://127.0.0.1:8081/file/bot",
    )
    assert api_urls("http://host/bot/")[0] == "http://host/bot"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            b'<opml version="1.0"><body><outline text="News">'
            b'<outline text="A" xmlurl="https://a.example/rss"/>'
            b'<outline title="B" xmlUrl="http://b.example/feed" text="b"/>'
            b'<outline text="dup" xmlUrl="https://a.example/rss"/>'
            b'<outline text="local" xmlUrl="file:///etc/passwd"/></outline></body></opml>',
            [("https://a.example/rss", "A"), ("http://b.example/feed", "B")],
        ),
        (b"<rss/>", "not an OPML document"),
        (b"<opml><body>", "not well-formed XML"),
        (
            b'<!DOCTYPE opml [<!ENTITY e SYSTEM "file:///etc/passwd">]><opml>&e;</opml>',
            "refused",
        ),
    ],
)
def test_parse_opml(document: bytes, expected: list[tuple[str, str]] | str) -> None:
    if isinstance(expected, list):
        assert parse_opml(document) == expected
        assert parse_opml(build_opml(expected)) == expected
        return
    with pytest.raises(OpmlError, match=expected):
        parse_opml(document)


async def test_start_help_and_menus_in_both_languages(start_bot: BotFactory) -> None:
    async with start_bot() as bot:
        assert "Hello!" in await bot.say(ALICE, ALICE, "/start")
        assert "Hallo!" in await bot.say(ANNA, ANNA, "/start")
        english = await bot.say(ALICE, ALICE, "/help")
        german = await bot.say(ANNA, ANNA, "/help")
        assert "/subscribe [feed …] – Get digests" in english
        assert "Alle Befehle" in german and "Digests in diesem Chat" in german
        assert "/addfeed" not in english
        assert "/addfeed" in await bot.say(OWNER, OWNER, "/help")

        emu = bot.emu
        scopes = [{"type": "all_private_chats"}, {"type": "all_chat_administrators"}]
        for scope in scopes:
            en, de = emu.my_commands(scope, ""), emu.my_commands(scope, "de")
            assert en and de and len(en) == len(de) <= 100
            assert all(re.fullmatch(r"[a-z0-9_]{1,32}", c["command"]) for c in en + de)
            assert {c["command"] for c in en} >= {"subscribe", "settings", "filter", "pause"}
            assert en[0]["description"] != de[0]["description"]
        private = {c["command"] for c in emu.my_commands(scopes[0], "")}
        owner = {c["command"] for c in emu.my_commands({"type": "chat", "chat_id": OWNER}, "")}
        assert "stats" not in private and {"stats", "addfeed", "import"} <= owner


async def test_subscribe_in_private_chat(start_bot: BotFactory) -> None:
    async with start_bot() as bot:
        reply = await bot.say(ALICE, ALICE, "/subscribe")
        assert reply.startswith("Subscribed. This chat now gets digests of all feeds.")
        sub = await bot.sub(telegram_target(ALICE))
        assert sub is not None and sub.chat_type == "private" and sub.created_by == ALICE
        assert sub.language == "en" and sub.feeds == ()
        assert (await bot.say(ALICE, ALICE, "/subscribe")).startswith("Already subscribed")
        assert "Unknown feeds: nope" in await bot.say(ALICE, ALICE, "/subscribe nope")
        await bot.say(ALICE, ALICE, "/subscribe Politik https://news.example.org/world.xml")
        sub = await bot.sub(telegram_target(ALICE))
        assert sub is not None and sub.feeds == ("Politik", "World Wire")

        # A German speaker's subscription speaks German.
        assert "Abonniert. Dieser Chat" in await bot.say(ANNA, ANNA, "/subscribe")
        sub = await bot.sub(telegram_target(ANNA))
        assert sub is not None and sub.language == "de"

        assert "Unsubscribed" in await bot.say(ALICE, ALICE, "/unsubscribe")
        assert await bot.sub(telegram_target(ALICE)) is None
        assert "/subscribe first" in await bot.say(ALICE, ALICE, "/unsubscribe")


async def test_group_admin_subscribes_member_is_refused(start_bot: BotFactory) -> None:
    async with start_bot() as bot:
        for command in ("/subscribe", "/settings", "/filter +x", "/pause"):
            reply = await bot.say(GROUP, BOB, command)
            assert reply == "Sorry, only administrators of this chat can change its digests."
        assert await bot.sub(telegram_target(GROUP)) is None
        assert (await bot.say(GROUP, ALICE, "/subscribe")).startswith("Subscribed.")
        sub = await bot.sub(telegram_target(GROUP))
        assert sub is not None and sub.chat_type == "supergroup"
        # Members may still look around, and a German member is answered in the chat's language.
        assert "No stories yet." in await bot.say(GROUP, BOB, "/stories")
        reply = await bot.say(GROUP, ANNA, "/pause")
        assert reply == "Sorry, only administrators of this chat can change its digests."
        assert bot.emu.sent(GROUP)[-1].reply_to is not None  # answers the command it refuses


async def test_subscribe_in_forum_topic_and_channel(start_bot: BotFactory) -> None:
    async with start_bot() as bot:
        (reply,) = await bot.send(FORUM, ALICE, "/subscribe", thread_id=TOPIC)
        assert reply.thread_id == TOPIC
        assert reply.text.startswith("Subscribed. This topic now gets digests")
        sub = await bot.sub(telegram_target(FORUM, TOPIC))
        assert sub is not None and sub.target == f"telegram:{FORUM}:{TOPIC}"
        assert await bot.sub(telegram_target(FORUM)) is None
        (reply,) = await bot.send(FORUM, ALICE, "/settings", thread_id=TOPIC)
        assert reply.thread_id == TOPIC and "for this topic" in reply.text

        # A channel post has no user: only administrators can post in a channel.
        assert (await bot.say(CHANNEL, None, "/subscribe")).startswith("Subscribed.")
        sub = await bot.sub(telegram_target(CHANNEL))
        assert sub is not None and sub.chat_type == "channel"


async def test_settings_by_buttons_and_by_text(start_bot: BotFactory) -> None:
    async with start_bot() as bot:
        await bot.say(ALICE, ALICE, "/subscribe")
        (shown,) = await bot.send(ALICE, ALICE, "/settings")
        assert "Delivery: instant" in shown.text and shown.reply_markup is not None
        buttons = [b["callback_data"] for row in shown.reply_markup["inline_keyboard"] for b in row]
        assert {"set:lang:de", "set:mode:60", "set:mode:daily", "set:prev:1", "set:max:20"} <= set(
            buttons
        )
        target = telegram_target(ALICE)

        query = await bot.press(ALICE, ALICE, "set:lang:de", edits=True)
        assert bot.emu.callback_answers[query].text == "Gespeichert."
        sub = await bot.sub(target)
        assert sub is not None and sub.language == "de"
        edited = bot.emu.sent(ALICE)[-1]
        assert edited.message_id == shown.message_id and edited.edits
        assert edited.text.startswith("Einstellungen")
        await bot.press(ALICE, ALICE, "set:mode:60", edits=True)
        await bot.press(ALICE, ALICE, "set:prev:1", edits=True)
        await bot.press(ALICE, ALICE, "set:max:20", edits=True)
        sub = await bot.sub(target)
        assert sub is not None
        assert (sub.mode, sub.interval_minutes, sub.link_previews, sub.max_stories) == (
            "interval",
            60,
            True,
            20,
        )
        assert "Zustellung: alle 60 Min." in bot.emu.sent(ALICE)[-1].text

        assert "Gespeichert." in await bot.say(ALICE, ALICE, "/settings timezone Europe/Berlin")
        await bot.say(ALICE, ALICE, "/settings quiet 22:00-07:00")
        await bot.say(ALICE, ALICE, "/settings daily 07:30")
        sub = await bot.sub(target)
        assert sub is not None
        assert (sub.timezone, sub.quiet_start, sub.quiet_end) == ("Europe/Berlin", "22:00", "07:00")
        assert (sub.mode, sub.daily_at) == ("daily", "07:30")
        reply = await bot.say(ALICE, ALICE, "/settings timezone Mars/Olympus")
        assert reply.startswith("Nicht geändert: unknown time zone")
        assert "Aufruf:" in await bot.say(ALICE, ALICE, "/settings colour blue")

        # In a group, a member pressing an admin's buttons changes nothing.
        await bot.say(GROUP, ALICE, "/subscribe")
        await bot.say(GROUP, ALICE, "/settings")
        query = await bot.press(GROUP, BOB, "set:silent:1")
        answer = bot.emu.callback_answers[query]
        assert answer.show_alert and "only administrators" in (answer.text or "")
        sub = await bot.sub(telegram_target(GROUP))
        assert sub is not None and not sub.silent
        await bot.press(GROUP, ALICE, "set:silent:1")
        sub = await bot.sub(telegram_target(GROUP))
        assert sub is not None and sub.silent


async def test_filters(start_bot: BotFactory) -> None:
    async with start_bot() as bot:
        assert "/subscribe first" in await bot.say(ALICE, ALICE, "/filter +Kursk")
        await bot.say(ALICE, ALICE, "/subscribe")
        assert await bot.say(ALICE, ALICE, "/filter +North Korea") == ("Filter added: +North Korea")
        await bot.say(ALICE, ALICE, "/filter -/sports?/")
        listing = await bot.say(ALICE, ALICE, "/filter")
        assert "+North Korea" in listing and "-/sports?/" in listing
        reply = await bot.say(ALICE, ALICE, "/filter +/(a+)+$/")
        assert reply == "Filter refused: regex refused: nested repetition or backreference"
        assert "bad regular expression" in await bot.say(ALICE, ALICE, "/filter +/[/")
        assert "Filter refused: filters are 1–200" in await bot.say(
            ALICE, ALICE, "/filter +" + "x" * 201
        )
        assert "Usage:" in await bot.say(ALICE, ALICE, "/filter Kursk")
        sub = await bot.sub(telegram_target(ALICE))
        assert sub is not None
        assert (sub.include, sub.exclude) == (("North Korea",), ("/sports?/",))
        await bot.say(ALICE, ALICE, "/filter del North Korea")
        await bot.say(ALICE, ALICE, "/filter clear")
        sub = await bot.sub(telegram_target(ALICE))
        assert sub is not None and sub.include == sub.exclude == ()
        assert "No filters" in await bot.say(ALICE, ALICE, "/filter")


async def test_pause_resume_and_digest_queue(start_bot: BotFactory) -> None:
    async with start_bot() as bot:
        await bot.say(ALICE, ALICE, "/subscribe")
        assert "Paused." in await bot.say(ALICE, ALICE, "/pause")
        sub = await bot.sub(telegram_target(ALICE))
        assert sub is not None and sub.paused
        assert "Already paused" in await bot.say(ALICE, ALICE, "/pause")
        assert "Resumed." in await bot.say(ALICE, ALICE, "/resume")
        sub = await bot.sub(telegram_target(ALICE))
        assert sub is not None and not sub.paused
        assert "queued" in await bot.say(ALICE, ALICE, "/digest")
        queued = await bot.client.smembers(bot.keys.digest_requests())
        assert queued == {telegram_target(ALICE).encode()}


async def test_digest_now_with_a_sender(start_bot: BotFactory) -> None:
    asked: list[str] = []

    async def deliver_now(target: str) -> int:
        asked.append(target)
        return 2 if len(asked) == 1 else 0

    async with start_bot(deliver_now=deliver_now) as bot:
        await bot.send(FORUM, ALICE, "/subscribe", thread_id=TOPIC)
        (reply,) = await bot.send(FORUM, BOB, "/digest", thread_id=TOPIC)
        assert reply.text == "Digest sent: 2 message(s)." and reply.thread_id == TOPIC
        assert "Nothing new" in (await bot.send(FORUM, BOB, "/digest", thread_id=TOPIC))[0].text
        assert asked == [telegram_target(FORUM, TOPIC)] * 2


async def test_failures_get_a_polite_answer_and_logs_keep_the_token(
    start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    async def broken(target: str) -> int:
        raise RuntimeError("sender exploded")

    async with start_bot(deliver_now=broken) as bot:
        await bot.say(ANNA, ANNA, "/subscribe")
        reply = await bot.say(ANNA, ANNA, "/digest")
        assert reply.startswith("Entschuldigung, bei mir ist etwas schiefgegangen")
        assert "Traceback" not in reply and "exploded" not in reply
        assert "Hallo" in await bot.say(ANNA, ANNA, "/start")  # still serving
    assert "RuntimeError: sender exploded" in caplog.text
    assert "getUpdates" in caplog.text  # httpx did log its requests ...
    assert bot.emu.token not in caplog.text  # ... without the token


async def test_feed_management_is_for_owners(start_bot: BotFactory) -> None:
    async with start_bot() as bot:
        url = "https://blog.example.net/feed.atom"
        reply = await bot.say(ALICE, ALICE, f"/addfeed {url}")
        assert reply == "Sorry, only the bot's owners can do that."
        assert "only the bot's owners" in await bot.say(ALICE, ALICE, "/stats")
        assert await bot.client.hlen(bot.keys.feeds_added()) == 0
        assert "not an http(s) feed URL" in await bot.say(OWNER, OWNER, "/addfeed ftp://x/y")
        assert "Usage: /addfeed <url> [name]" in await bot.say(OWNER, OWNER, "/addfeed")
        assert "Feed added" in await bot.say(OWNER, OWNER, f"/addfeed {url} Example Blog")
        assert "Already a feed" in await bot.say(OWNER, OWNER, f"/addfeed {url}")
        assert await bot.client.hget(bot.keys.feeds_added(), url) == b'{"name": "Example Blog"}'
        listing = await bot.say(ALICE, ALICE, "/feeds")
        assert "World Wire – not polled yet" in listing and "Example Blog" in listing
        reply = await bot.say(OWNER, OWNER, f"/removefeed {FEEDS[0].url}")
        assert "in the configuration file" in reply
        assert "Feed removed" in await bot.say(OWNER, OWNER, f"/removefeed {url}")

        await bot.say(GROUP, ALICE, "/subscribe")
        await bot.subs.deactivate(telegram_target(GROUP), "bot was kicked")
        stats = await bot.say(OWNER, OWNER, "/stats")
        assert "Feeds: 2 (0 added at run time" in stats
        assert "Subscriptions: 1 (0 active, 0 paused)" in stats and "Outbox: n/a" in stats
        assert f"telegram:{GROUP}: bot was kicked" in stats


async def test_import_and_export_round_trip(start_bot: BotFactory) -> None:
    opml = build_opml(
        [
            ("https://a.example.com/rss", "Alpha & Co"),
            ("https://b.example.com/atom", "Beta"),
            (FEEDS[1].url, "Politik"),
        ]
    )
    async with start_bot() as bot:
        reply = await bot.send(ALICE, ALICE, None, document=("feeds.opml", opml), caption="/import")
        assert reply[0].text == "Sorry, only the bot's owners can do that."
        reply = await bot.send(OWNER, OWNER, None, document=("feeds.opml", opml), caption="/import")
        assert reply[0].text == "Imported 2 feed(s); 1 already known."
        added = await bot.client.hgetall(bot.keys.feeds_added())
        assert set(added) == {b"https://a.example.com/rss", b"https://b.example.com/atom"}

        # Replying /import to a document sent earlier works too.
        update = bot.emu.push_message(OWNER, OWNER, None, document=("again.opml", opml))
        document_id = update["message"]["message_id"]
        reply = await bot.send(OWNER, OWNER, "/import", reply_to_message_id=document_id)
        assert reply[0].text == "Imported 0 feed(s); 3 already known."
        bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><opml><body/></opml>'
        reply = await bot.send(OWNER, OWNER, None, document=("x.opml", bomb), caption="/import")
        assert reply[0].text.startswith("Could not import: refused")
        assert "Send an OPML file" in await bot.say(OWNER, OWNER, "/import")

        (exported,) = await bot.send(ALICE, ALICE, "/export")
        assert exported.document is not None and exported.caption == "4 feed(s)"
        assert exported.document.file_name == "digestbot-feeds.opml"
        feeds = parse_opml(exported.document.data)
        assert {url for url, _ in feeds} == {f.url for f in FEEDS} | {
            "https://a.example.com/rss",
            "https://b.example.com/atom",
        }
        assert ("https://a.example.com/rss", "Alpha & Co") in feeds


async def test_stories_story_and_why_after_a_replay(
    start_bot: BotFactory, redis_client: aioredis.Redis, keys: Keys
) -> None:
    now = datetime.now(UTC)
    pipeline = _pipeline(Config(), redis_client, keys)
    for article in load_path(REPO / "samples" / "articles.jsonl", now=now).articles:
        await pipeline.process(article, now)

    async with start_bot() as bot:
        listing = await bot.say(ALICE, ALICE, "/stories")
        assert listing.startswith("Recent stories") and "/story <id>" in listing
        assert len(re.findall(r"^s\d+ ", listing, re.M)) == 10

        story = await bot.send(ANNA, ANNA, "/story s1")
        first = story[0]
        assert first.text.startswith("Strong") or "s1 · " in first.text
        assert "s1 · " in first.text and "Artikel" in first.text
        assert re.search(r"^1\. \S", first.text, re.M)
        assert all(len(m.text) <= 4096 and m.parse_mode == "HTML" for m in story)
        assert "No story s999" in await bot.say(ALICE, ALICE, "/story 999")
        assert "Usage: /story <id>" in await bot.say(ALICE, ALICE, "/story")

        tracked = (
            "https://www.continentalwire.com/world/europe/"
            "strong-earthquake-hits-central-italy-at-least-two-dead-2026-11-02/?fbclid=IwAR0q7"
        )
        why = await bot.say(ALICE, ALICE, f"/why {tracked}")
        assert "Address normalised to" in why and "fbclid" not in why.split("normalised to")[1]
        assert "article en-quake-marche-01, which was accepted as new" in why
        assert "Story s1:" in why

        why = await bot.say(ALICE, ALICE, "/why en-quake-marche-02")
        assert re.search(
            r"near-duplicate of article en-quake-marche-01 \(text similarity 0\.\d\d\)", why
        )
        assert "Story s1:" in why
        why = await bot.say(ANNA, ANNA, "/why en-quake-marche-03")
        assert "exakte Wiederholung (gleiche Adresse) von Artikel en-quake-marche-01" in why
        why = await bot.say(ALICE, ALICE, "/why en-quake-marche-04")
        assert "Posted: article en-quake-marche-04 was accepted as new." in why
        assert "I know nothing about https://nowhere.example/x" in await bot.say(
            ALICE, ALICE, "/why https://nowhere.example/x"
        )


async def test_unknown_commands_and_bad_arguments(start_bot: BotFactory) -> None:
    async with start_bot() as bot:
        reply = await bot.say(ALICE, ALICE, "/frobnicate now")
        assert reply == "I don't know /frobnicate. Send /help for the list of commands."
        assert "kenne ich nicht" in await bot.say(ANNA, ANNA, "/frobnicate")
        assert await bot.say(ALICE, ALICE, "/why") == "Usage: /why <url | article id>"
        assert await bot.say(ALICE, ALICE, "/story <b>x") == "Usage: /story <id>"
        # In groups other bots may own a command: answer only when addressed by name.
        await bot.quiet(GROUP, BOB, "/frobnicate")
        await bot.quiet(GROUP, BOB, "/start@some_other_bot")
        reply = await bot.say(GROUP, BOB, f"/frobnicate@{bot.emu.bot_username}")
        assert reply.startswith("I don't know /frobnicate")


async def test_command_rate_limit(start_bot: BotFactory) -> None:
    async with start_bot(commands_per_minute=3) as bot:
        for _ in range(3):
            assert "Hello" in await bot.say(ALICE, ALICE, "/start")
        assert "very fast" in await bot.say(ALICE, ALICE, "/start")
        await bot.quiet(ALICE, ALICE, "/start")
        assert "Hallo" in await bot.say(ANNA, ANNA, "/start")  # others are not held up


async def test_removed_bot_deactivates_and_readding_reactivates(start_bot: BotFactory) -> None:
    async with start_bot() as bot:
        await bot.say(GROUP, ALICE, "/subscribe")
        await bot.send(FORUM, ALICE, "/subscribe", thread_id=TOPIC)
        await bot.say(ALICE, ALICE, "/subscribe")
        bot.emu.push_my_chat_member(GROUP, "kicked")
        bot.emu.push_my_chat_member(ALICE, "kicked")
        bot.emu.push_my_chat_member(FORUM, "left")

        async def inactive(target: str) -> str:
            for _ in range(200):
                sub = await bot.sub(target)
                if sub is not None and not sub.active:
                    return sub.deactivated_reason
                await asyncio.sleep(0.02)
            raise AssertionError(f"{target} still active")

        assert await inactive(telegram_target(GROUP)) == "bot removed from the chat"
        assert await inactive(telegram_target(ALICE)) == "blocked by the user"
        assert await inactive(telegram_target(FORUM, TOPIC)) == "bot removed from the chat"

        before = len(bot.emu.sent(GROUP))
        bot.emu.push_my_chat_member(GROUP, "administrator")
        (hello,) = (await bot.emu.wait_for_messages_async(GROUP, before + 1))[before:]
        assert "An administrator can send /subscribe" in hello.text
        sub = await bot.sub(telegram_target(GROUP))
        assert sub is not None and sub.active and sub.deactivated_reason == ""
        sub = await bot.sub(telegram_target(FORUM, TOPIC))
        assert sub is not None and not sub.active  # still gone from the forum


async def test_group_upgrade_moves_the_subscription(start_bot: BotFactory) -> None:
    async with start_bot() as bot:
        bot.emu.add_chat(OLD_GROUP, "group", admins=[ALICE], members=[BOB])
        await bot.say(OLD_GROUP, ALICE, "/subscribe")
        new_id = bot.emu.migrate(OLD_GROUP)
        for _ in range(200):
            if await bot.sub(telegram_target(new_id)) is not None:
                break
            await asyncio.sleep(0.02)
        sub = await bot.sub(telegram_target(new_id))
        assert sub is not None and sub.chat_type == "supergroup"
        assert await bot.sub(telegram_target(OLD_GROUP)) is None
        assert "Paused." in await bot.say(new_id, ALICE, "/pause")
