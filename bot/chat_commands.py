"""Commands from other chat platforms (Slack, Mattermost, a generic signed endpoint).

The same command set as in Telegram where it makes sense for a channel that gets
its digests by webhook: ``subscribe``, ``unsubscribe``, ``digest``, ``stories``,
``story <id>``, ``why <url or article id>``, ``feeds``, ``help``. A channel maps
to the configured ``[[webhooks]]`` entry of its platform whose ``channel`` is the
channel id the command came from; the subscription is that entry's
``webhook:<name>`` target. Data comes from the same stores as the Telegram
commands (:class:`bot.commands.Commands` does the lookups); answers are plain
text (Telegram's HTML texts with the tags taken out), which every platform shows.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import redis.asyncio as aioredis

from bot.commands import STORY_SCAN, Commands, decode_record
from bot.config import Config, WebhookConfig
from bot.keys import Keys
from bot.subscription_store import SubscriptionStore
from digests.fingerprints import digest8
from digests.help_texts import story_messages, text
from digests.opml import valid_feed_url
from digests.subscriptions import Subscription
from digests.urls import canonicalize_url

MAX_ARGS = 2048
MAX_REPLY = 3500  # below Slack's 4,000-character message text and Mattermost's limits
_STORY_ID = re.compile(r"s?(\d{1,12})")
DeliverNow = Callable[[str], Awaitable[int]]

HELP = (
    "Commands: subscribe [feed …] · unsubscribe · digest (what is pending, now) · "
    "stories · story <id> · why <url or article id> · feeds · help"
)


COMMANDS = frozenset(
    {"help", "start", "subscribe", "unsubscribe", "digest", "stories", "story", "why", "feeds"}
)


def command_text(slash_command: str, text: str) -> str:
    """What to run: the text after ``/digestbot``, or a slash command named after one of
    ours (``/stories``, ``/why <url>``) with its text as the arguments."""
    name = slash_command.strip().lstrip("/").lower()
    return f"{name} {text}" if name in COMMANDS else text


def plain(html_text: str) -> str:
    """Telegram HTML as plain text."""
    return html.unescape(re.sub(r"<[^>]*>", "", html_text))


def _clip(reply: str) -> str:
    return reply if len(reply) <= MAX_REPLY else reply[: MAX_REPLY - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """One inbound command: which platform and channel, and what was typed."""

    platform: str
    channel: str
    text: str
    user: str = ""


class ChatCommands:
    """Runs one command for a webhook channel and returns the answer as plain text."""

    def __init__(
        self,
        cfg: Config,
        client: aioredis.Redis,
        keys: Keys,
        deliver_now: DeliverNow | None = None,
    ) -> None:
        self.cfg = cfg
        self.keys = keys
        self.client = client
        self.lookups = Commands(cfg, client, keys)
        self.subs = SubscriptionStore(client, keys)
        self.deliver_now = deliver_now

    def hook_for(self, platform: str, channel: str) -> WebhookConfig | None:
        """The configured webhook of this channel (generic: named by the request)."""
        for hook in self.cfg.webhooks:
            if platform == "generic" and channel in (hook.name, hook.target):
                return hook
            if hook.platform == platform and hook.channel and hook.channel == channel:
                return hook
        return None

    async def run(self, req: CommandRequest) -> str:
        words = req.text.strip()[:MAX_ARGS].split()
        if not words:
            return HELP
        command, args = words[0].lower().lstrip("/"), words[1:]
        if command in ("help", "start"):
            return HELP
        if command == "stories":
            return await self.stories()
        if command == "story":
            return await self.story(args)
        if command == "why":
            return await self.why(args)
        if command == "feeds":
            return await self.feeds()
        hook = self.hook_for(req.platform, req.channel)
        if hook is None:
            return (
                f"This channel ({req.channel[:64]}) has no webhook configured. Ask the operator "
                f"to add a [[webhooks]] entry with platform = {req.platform!r} and "
                f"channel = {req.channel[:64]!r}."
            )
        if command == "subscribe":
            return await self.subscribe(hook, args)
        if command == "unsubscribe":
            return await self.unsubscribe(hook)
        if command == "digest":
            return await self.digest(hook)
        return f"Unknown command {command[:32]!r}. {HELP}"

    # subscription ------------------------------------------------------------------
    async def subscribe(self, hook: WebhookConfig, args: Sequence[str]) -> str:
        feeds = await self.lookups.all_feeds()
        names = {f.name or f.url for f in feeds}
        unknown = [a for a in args if a not in names]
        if unknown:
            return "Unknown feeds: " + ", ".join(unknown)[:500] + ". See: feeds"
        sub = await self.subs.get(hook.target) or default_subscription(hook)
        sub = sub.with_changes(feeds=tuple(args) or sub.feeds, active=True, deactivated_reason="")
        await self.subs.put(sub)
        await self.client.hdel(self.keys.deactivations(), hook.target)
        which = ", ".join(sub.feeds) if sub.feeds else "all feeds"
        return f"Subscribed. This channel now gets digests of {which}."

    async def unsubscribe(self, hook: WebhookConfig) -> str:
        sub = await self.subs.get(hook.target)
        if sub is None or not sub.active:
            return "This channel has no active subscription."
        # Deactivated rather than deleted: `serve` would create it again at its next start.
        await self.subs.put(sub.with_changes(active=False, deactivated_reason="unsubscribed"))
        return "Unsubscribed. No more digests here."

    async def digest(self, hook: WebhookConfig) -> str:
        sub = await self.subs.get(hook.target)
        if sub is None or not sub.active:
            return "This channel has no active subscription. Send: subscribe"
        if self.deliver_now is None:
            return "Digests are sent by the running server; try again while it runs."
        count = await self.deliver_now(hook.target)
        return (
            f"Digest queued: {count} stor{'y' if count == 1 else 'ies'}."
            if count
            else ("Nothing new since the last digest.")
        )

    # stories -----------------------------------------------------------------------
    async def stories(self) -> str:
        profiles = await self.lookups.recent_stories()
        if not profiles:
            return "No stories yet."
        lines = ["Recent stories:"]
        for p in profiles:
            lines.append(f"{p.id} {p.title[:200]} · {p.article_count} article(s)")
        lines.append("Facts of one story: story <id>")
        return _clip("\n".join(lines))

    async def story(self, args: Sequence[str]) -> str:
        match = _STORY_ID.fullmatch(args[0].lower()) if len(args) == 1 else None
        if match is None:
            return "Usage: story <id>, e.g. story s12 (ids: stories)"
        story_id = f"s{int(match.group(1))}"
        found = await self.lookups._profiles([story_id])
        if not found:
            return f"No story {story_id} (the last {STORY_SCAN} are kept listed: stories)."
        profile = found[0]
        facts = (await self.lookups.stories.facts(story_id))[:200]
        messages = story_messages(
            story_id,
            profile.title,
            profile.article_count,
            profile.sources,
            [(f.type, f.text) for f in facts],
            "en",
            limit=MAX_REPLY,
        )
        return _clip(plain(messages[0])) if messages else f"No facts for {story_id}."

    async def why(self, args: Sequence[str]) -> str:
        if len(args) != 1:
            return "Usage: why <article url or id>"
        arg = args[0].strip("<>").split("|", 1)[0]  # Slack wraps links as <url|label>
        lookups = self.lookups
        if "://" in arg:
            key = await lookups._dedup_get("x", digest8("u\x00" + canonicalize_url(arg)))
        else:
            key = digest8("a\x00" + arg)
        raw = await lookups._dedup_get("r", key) if key else None
        record = decode_record(raw) if raw else None
        if record is None:
            return plain(text("en", "why_unknown", what=arg[:200]))
        lines = await lookups._explain("en", record, by_url="://" in arg)
        return _clip("\n".join(plain(line) for line in lines))

    async def feeds(self) -> str:
        feeds = await self.lookups.all_feeds()
        if not feeds:
            return "No feeds configured."
        lines = ["Feeds:"]
        for feed in feeds[:50]:
            status = plain(await self.lookups._feed_status("en", feed.url))
            shown = feed.url if valid_feed_url(feed.url) else "(local file)"
            lines.append(f"• {feed.name or shown} – {status} – {shown}")
        return _clip("\n".join(lines))


def default_subscription(hook: WebhookConfig) -> Subscription:
    return Subscription(
        target=hook.target, chat_type="webhook", language=hook.language, feeds=hook.feeds
    )


async def ensure_subscriptions(store: SubscriptionStore, hooks: Sequence[WebhookConfig]) -> int:
    """Create the subscription of every configured webhook that has none; the number made.

    A ``webhook:`` subscription whose entry left the configuration is deactivated (and
    kept, with its settings): fan-out would otherwise queue digests nobody can send.
    """
    made = 0
    configured = {hook.target for hook in hooks}
    for hook in hooks:
        if await store.get(hook.target) is None:
            await store.put(default_subscription(hook))
            made += 1
    for sub in await store.all(active_only=True):
        if sub.target.startswith("webhook:") and sub.target not in configured:
            await store.put(sub.with_changes(active=False, deactivated_reason="not configured"))
    return made


def utcnow() -> datetime:
    return datetime.now(UTC)
