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

from bot.commands import Commands, decode_record
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

# Answers in the webhook's language (``[[webhooks]] language``); the configured digest
# language where no webhook is known. Plain text: every platform shows it as written.
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "help": "Commands: subscribe [feed …] · unsubscribe · digest (what is pending, now) · "
        "stories · story <id> · why <url or article id> · feeds · help",
        "no_hook": "This channel ({channel}) has no webhook configured. Ask the operator to "
        "add a [[webhooks]] entry with platform = {platform!r} and channel = {channel!r}.",
        "unknown_command": "Unknown command {command!r}. {help}",
        "unknown_feeds": "Unknown feeds: {names}. See: feeds",
        "subscribed": "Subscribed. This channel now gets digests of {feeds}.",
        "all_feeds": "all feeds",
        "not_subscribed": "This channel has no active subscription. Send: subscribe",
        "unsubscribed": "Unsubscribed. No more digests here.",
        "no_server": "Digests are sent by the running server; try again while it runs.",
        "digest_queued": "Digest queued: {count} stories.",
        "digest_nothing": "Nothing new since the last digest.",
        "stories_none": "No stories yet.",
        "stories_head": "Recent stories:",
        "stories_line": "{id} {title} · {count} article(s)",
        "stories_foot": "Facts of one story: story <id>",
        "story_usage": "Usage: story <id>, e.g. story s12 (ids: stories)",
        "story_unknown": "No story {id} (the recent ones: stories).",
        "story_no_facts": "No facts for {id}.",
        "why_usage": "Usage: why <article url or id>",
        "feeds_none": "No feeds configured.",
        "feeds_head": "Feeds:",
        "feed_local": "(local file)",
    },
    "de": {
        "help": "Befehle: subscribe [Feed …] · unsubscribe · digest (Wartendes jetzt) · "
        "stories · story <ID> · why <URL oder Artikel-ID> · feeds · help",
        "no_hook": "Für diesen Kanal ({channel}) ist kein Webhook eingerichtet. Bitte den "
        "Betreiber um einen [[webhooks]]-Eintrag mit platform = {platform!r} und "
        "channel = {channel!r}.",
        "unknown_command": "Unbekannter Befehl {command!r}. {help}",
        "unknown_feeds": "Unbekannte Feeds: {names}. Siehe: feeds",
        "subscribed": "Abonniert. Dieser Kanal erhält jetzt Digests von {feeds}.",
        "all_feeds": "allen Feeds",
        "not_subscribed": "Dieser Kanal hat kein aktives Abo. Sende: subscribe",
        "unsubscribed": "Abo beendet. Hier kommen keine Digests mehr an.",
        "no_server": "Digests verschickt der laufende Server; bitte dann erneut versuchen.",
        "digest_queued": "Digest eingereiht: {count} Meldungen.",
        "digest_nothing": "Nichts Neues seit dem letzten Digest.",
        "stories_none": "Noch keine Meldungen.",
        "stories_head": "Neueste Meldungen:",
        "stories_line": "{id} {title} · {count} Artikel",
        "stories_foot": "Fakten einer Meldung: story <ID>",
        "story_usage": "Aufruf: story <ID>, z. B. story s12 (IDs: stories)",
        "story_unknown": "Keine Meldung {id} (die neuesten: stories).",
        "story_no_facts": "Keine Fakten zu {id}.",
        "why_usage": "Aufruf: why <Artikel-URL oder ID>",
        "feeds_none": "Keine Feeds eingerichtet.",
        "feeds_head": "Feeds:",
        "feed_local": "(lokale Datei)",
    },
}


def say(language: str, key: str, **values: object) -> str:
    texts = TEXTS.get(language, TEXTS["en"])
    return texts[key].format(**values)


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
        hook = self.hook_for(req.platform, req.channel)
        lang = hook.language if hook else self.cfg.digest.language
        words = req.text.strip()[:MAX_ARGS].split()
        if not words:
            return say(lang, "help")
        command, args = words[0].lower().lstrip("/"), words[1:]
        if command in ("help", "start"):
            return say(lang, "help")
        if command == "stories":
            return await self.stories(lang)
        if command == "story":
            return await self.story(lang, args)
        if command == "why":
            return await self.why(lang, args)
        if command == "feeds":
            return await self.feeds(lang)
        if command not in COMMANDS:
            return say(lang, "unknown_command", command=command[:32], help=say(lang, "help"))
        if hook is None:
            return say(lang, "no_hook", channel=req.channel[:64], platform=req.platform)
        if command == "subscribe":
            return await self.subscribe(lang, hook, args)
        if command == "unsubscribe":
            return await self.unsubscribe(lang, hook)
        return await self.digest(lang, hook)

    # subscription ------------------------------------------------------------------
    async def subscribe(self, lang: str, hook: WebhookConfig, args: Sequence[str]) -> str:
        feeds = await self.lookups.all_feeds()
        names = {f.name or f.url for f in feeds}
        unknown = [a for a in args if a not in names]
        if unknown:
            return say(lang, "unknown_feeds", names=", ".join(unknown)[:500])
        sub = await self.subs.get(hook.target) or default_subscription(hook)
        sub = sub.with_changes(feeds=tuple(args) or sub.feeds, active=True, deactivated_reason="")
        await self.subs.put(sub)
        await self.client.hdel(self.keys.deactivations(), hook.target)
        which = ", ".join(sub.feeds) if sub.feeds else say(lang, "all_feeds")
        return say(lang, "subscribed", feeds=which)

    async def unsubscribe(self, lang: str, hook: WebhookConfig) -> str:
        sub = await self.subs.get(hook.target)
        if sub is None or not sub.active:
            return say(lang, "not_subscribed")
        # Deactivated rather than deleted: `serve` would create it again at its next start.
        await self.subs.put(sub.with_changes(active=False, deactivated_reason="unsubscribed"))
        return say(lang, "unsubscribed")

    async def digest(self, lang: str, hook: WebhookConfig) -> str:
        sub = await self.subs.get(hook.target)
        if sub is None or not sub.active:
            return say(lang, "not_subscribed")
        if self.deliver_now is None:
            return say(lang, "no_server")
        count = await self.deliver_now(hook.target)
        return say(lang, "digest_queued", count=count) if count else say(lang, "digest_nothing")

    # stories -----------------------------------------------------------------------
    async def stories(self, lang: str) -> str:
        profiles = await self.lookups.recent_stories()
        if not profiles:
            return say(lang, "stories_none")
        lines = [say(lang, "stories_head")]
        for p in profiles:
            lines.append(
                say(lang, "stories_line", id=p.id, title=p.title[:200], count=p.article_count)
            )
        lines.append(say(lang, "stories_foot"))
        return _clip("\n".join(lines))

    async def story(self, lang: str, args: Sequence[str]) -> str:
        match = _STORY_ID.fullmatch(args[0].lower()) if len(args) == 1 else None
        if match is None:
            return say(lang, "story_usage")
        story_id = f"s{int(match.group(1))}"
        found = await self.lookups._profiles([story_id])
        if not found:
            return say(lang, "story_unknown", id=story_id)
        profile = found[0]
        facts = (await self.lookups.stories.facts(story_id))[:200]
        messages = story_messages(
            story_id,
            profile.title,
            profile.article_count,
            profile.sources,
            [(f.type, f.text) for f in facts],
            lang,
            limit=MAX_REPLY,
        )
        return _clip(plain(messages[0])) if messages else say(lang, "story_no_facts", id=story_id)

    async def why(self, lang: str, args: Sequence[str]) -> str:
        if len(args) != 1:
            return say(lang, "why_usage")
        arg = args[0].strip("<>").split("|", 1)[0]  # Slack wraps links as <url|label>
        lookups = self.lookups
        if "://" in arg:
            key = await lookups._dedup_get("x", digest8("u\x00" + canonicalize_url(arg)))
        else:
            key = digest8("a\x00" + arg)
        raw = await lookups._dedup_get("r", key) if key else None
        record = decode_record(raw) if raw else None
        if record is None:
            return plain(text(lang, "why_unknown", what=arg[:200]))
        lines = await lookups._explain(lang, record, by_url="://" in arg)
        return _clip("\n".join(plain(line) for line in lines))

    async def feeds(self, lang: str) -> str:
        feeds = await self.lookups.all_feeds()
        if not feeds:
            return say(lang, "feeds_none")
        lines = [say(lang, "feeds_head")]
        for feed in feeds[:50]:
            status = plain(await self.lookups._feed_status(lang, feed.url))
            shown = feed.url if valid_feed_url(feed.url) else say(lang, "feed_local")
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
