"""The bot's chat commands: short handlers over the subscription, feed and story stores.

A handler receives a :class:`Request` (the message, who asked, the target the
chat or forum topic maps to, its subscription and the reply language) from one
of three guards, which also decide who may run it: :meth:`Commands.everyone`,
:meth:`Commands.admins` (chat administrators in groups, supergroups and
channels; anyone in a private chat) and :meth:`Commands.owners` (the user ids
in ``telegram.owners``). Replies are Telegram HTML from :mod:`digests.help_texts`.
"""

from __future__ import annotations

import html
import json
import logging
import re
import struct
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import redis.asyncio as aioredis
from markupsafe import Markup
from telegram import (
    Bot,
    CallbackQuery,
    ChatMember,
    ChatMemberRestricted,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.command_limit import CommandRateLimiter
from bot.config import Config, FeedConfig
from bot.dedup_store import EXACT_REASONS, SIG_BYTES, DedupSettings
from bot.feed_state import FeedStateStore
from bot.keys import Keys
from bot.story_store import StoryStore
from bot.subscription_store import SubscriptionStore, telegram_target
from digests.fingerprints import digest8
from digests.help_texts import (
    COMMAND_NAMES,
    choose_language,
    filter_list,
    help_text,
    pack,
    settings_summary,
    story_messages,
    text,
    usage,
)
from digests.opml import OpmlError, build_opml, parse_opml, valid_feed_url
from digests.stories import StoryProfile, profile_from_dict
from digests.subscriptions import Subscription, SubscriptionError, check_pattern
from digests.urls import canonicalize_url

log = logging.getLogger(__name__)

ADMIN_CACHE_SECONDS = 60.0
COMMANDS_PER_MINUTE = 20
MAX_IMPORT_BYTES = 1 << 20
# The longest command taken: "/addfeed <url of up to 2048 characters> <name>" fits.
MAX_COMMAND_CHARS = 2500
RECENT_STORIES = 10
STORY_SCAN = 60  # newest story ids looked at for /stories
MAX_STORY_FACTS = 200
MAX_STORY_MESSAGES = 5
MAX_LISTED = 50
_STORY_ID = re.compile(r"s?(\d{1,12})")

Context = ContextTypes.DEFAULT_TYPE
Callback = Callable[[Update, Context], Coroutine[Any, Any, None]]
DeliverNow = Callable[[str], Awaitable[int]]


@dataclass(slots=True)
class Request:
    """One command or button press, resolved to the subscription it concerns."""

    message: Message
    user: User | None
    target: str
    topic: bool
    sub: Subscription | None
    lang: str
    args: list[str]
    rest: str  # the text after the command word, spaces kept
    query: CallbackQuery | None = None


Handler = Callable[[Request, Context], Awaitable[None]]


class AdminCache:
    """Chat administrators, fetched once per chat and kept briefly.

    One ``getChatAdministrators`` per chat and minute instead of a call per command;
    a demoted admin keeps their rights for at most ``ttl`` seconds.
    """

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._chats: dict[int, tuple[float, frozenset[int]]] = {}

    async def is_admin(self, bot: Bot, chat_id: int, user_id: int) -> bool:
        now = self.clock()
        cached = self._chats.get(chat_id)
        if cached is None or cached[0] <= now:
            try:
                members = await bot.get_chat_administrators(chat_id)
            except TelegramError as exc:
                log.info("chat %s: administrators unavailable (%s)", chat_id, exc)
                return False
            cached = (now + self.ttl, frozenset(m.user.id for m in members))
            self._chats[chat_id] = cached
        return user_id in cached[1]

    def forget(self, chat_id: int) -> None:
        self._chats.pop(chat_id, None)


def _target_of(message: Message) -> tuple[str, bool]:
    # Only forum topics are separate destinations; a reply chain in a plain group also
    # carries a message_thread_id, which must not split the chat's subscription.
    thread = message.message_thread_id if message.is_topic_message else None
    return telegram_target(message.chat_id, thread), thread is not None


def _plain(html_text: str) -> str:
    """Telegram HTML as plain text, for callback answers (which have no parse mode)."""
    return html.unescape(re.sub(r"<[^>]*>", "", html_text))[:200]


def _switch(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("on", "an", "yes", "ja", "1", "true"):
        return True
    if lowered in ("off", "aus", "no", "nein", "0", "false"):
        return False
    raise SubscriptionError(f"expected on or off, got {value!r}")


def _mode_changes(value: str) -> dict[str, Any]:
    lowered = value.strip().lower()
    if lowered in ("instant", "sofort"):
        return {"mode": "instant"}
    if lowered in ("daily", "täglich", "taeglich"):
        return {"mode": "daily"}
    if lowered.isdigit():
        return {"mode": "interval", "interval_minutes": int(lowered)}
    raise SubscriptionError("mode: instant, daily or a number of minutes")


def _quiet_changes(value: str) -> dict[str, Any]:
    if value.strip().lower() in ("off", "aus", "none", "-"):
        return {"quiet_start": "", "quiet_end": ""}
    start, sep, end = value.replace("–", "-").partition("-")
    if not sep:
        raise SubscriptionError("quiet hours: HH:MM-HH:MM or off")
    return {"quiet_start": start.strip(), "quiet_end": end.strip()}


def _max_changes(value: str) -> dict[str, Any]:
    if not value.strip().isdigit():
        raise SubscriptionError("max stories: a number")
    return {"max_stories": int(value)}


_SETTINGS: dict[str, Callable[[str], dict[str, Any]]] = {
    "language": lambda v: {"language": v.strip().lower()},
    "mode": _mode_changes,
    "daily": lambda v: {"mode": "daily", "daily_at": v.strip()},
    "interval": lambda v: _mode_changes(v if v.strip().isdigit() else "?"),
    "timezone": lambda v: {"timezone": v.strip()},
    "quiet": _quiet_changes,
    "previews": lambda v: {"link_previews": _switch(v)},
    "silent": lambda v: {"silent": _switch(v)},
    "updates": lambda v: {"update_mode": v.strip().lower()},
    "max": _max_changes,
}
_SETTING_ALIASES = {
    "lang": "language",
    "sprache": "language",
    "tz": "timezone",
    "zeitzone": "timezone",
    "preview": "previews",
    "vorschau": "previews",
    "ruhezeiten": "quiet",
    "lautlos": "silent",
    "update": "updates",
}


def setting_changes(option: str, value: str) -> dict[str, Any] | None:
    """``/settings <option> <value>`` as subscription fields; None for an unknown option."""
    name = option.strip().lower()
    parse = _SETTINGS.get(_SETTING_ALIASES.get(name, name))
    return parse(value) if parse else None


def button_changes(data: str) -> dict[str, Any] | None:
    """The fields one settings button sets (callback data ``set:<what>:<value>``)."""
    _, what, value = [*data.split(":", 2), "", ""][:3]
    choices: dict[str, dict[str, dict[str, Any]]] = {
        "lang": {"de": {"language": "de"}, "en": {"language": "en"}},
        "mode": {
            "instant": {"mode": "instant"},
            "30": {"mode": "interval", "interval_minutes": 30},
            "60": {"mode": "interval", "interval_minutes": 60},
            "180": {"mode": "interval", "interval_minutes": 180},
            "daily": {"mode": "daily", "daily_at": "08:00"},
        },
        "prev": {"1": {"link_previews": True}, "0": {"link_previews": False}},
        "silent": {"1": {"silent": True}, "0": {"silent": False}},
        "upd": {u: {"update_mode": u} for u in ("new", "reply", "edit")},
        "max": {n: {"max_stories": int(n)} for n in ("5", "10", "20")},
    }
    return choices.get(what, {}).get(value)


def settings_keyboard(sub: Subscription, lang: str) -> InlineKeyboardMarkup:
    def button(label: str, data: str, current: bool = False) -> InlineKeyboardButton:
        return InlineKeyboardButton(("✓ " if current else "") + label, callback_data=f"set:{data}")

    def onoff(value: bool) -> str:
        return _plain(text(lang, "on" if value else "off"))

    every = sub.mode == "interval"
    return InlineKeyboardMarkup(
        [
            [
                button("Deutsch", "lang:de", sub.language == "de"),
                button("English", "lang:en", sub.language == "en"),
            ],
            [button(_plain(text(lang, "btn_instant")), "mode:instant", sub.mode == "instant")]
            + [
                button(f"{n} min", f"mode:{n}", every and sub.interval_minutes == n)
                for n in (30, 60, 180)
            ],
            [button(_plain(text(lang, "btn_daily")), "mode:daily", sub.mode == "daily")],
            [
                button(
                    f"{_plain(text(lang, 'btn_previews'))}: {onoff(sub.link_previews)}",
                    f"prev:{int(not sub.link_previews)}",
                ),
                button(
                    f"{_plain(text(lang, 'btn_silent'))}: {onoff(sub.silent)}",
                    f"silent:{int(not sub.silent)}",
                ),
            ],
            [
                button(_plain(text(lang, f"upd_{u}")), f"upd:{u}", sub.update_mode == u)
                for u in ("new", "reply", "edit")
            ],
            [
                button(_plain(text(lang, "btn_max", n=n)), f"max:{n}", sub.max_stories == n)
                for n in (5, 10, 20)
            ],
        ]
    )


def _feed_label(feed: FeedConfig) -> str:
    # The label the poller gives articles as their source, so wants_feed() can match it.
    return feed.name or feed.url


def match_feeds(
    words: Sequence[str], rest: str, feeds: Sequence[FeedConfig]
) -> tuple[list[str], list[str]]:
    """Feed labels named by ``/subscribe`` arguments (URL or name), and the unknown words."""
    by_key = {}
    for feed in feeds:
        by_key[feed.url.casefold()] = _feed_label(feed)
        if feed.name:
            by_key[feed.name.casefold()] = _feed_label(feed)
    if rest and rest.casefold() in by_key:
        return [by_key[rest.casefold()]], []
    found, unknown = [], []
    for word in words:
        label = by_key.get(word.casefold())
        if label is None:
            unknown.append(word)
        elif label not in found:
            found.append(label)
    return found, unknown


def cannot_post_reason(chat_type: str, member: ChatMember) -> str:
    """Why the bot can no longer post in a chat, given its new membership ("": it can)."""
    status = member.status
    if status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        return (
            "blocked by the user" if chat_type == ChatType.PRIVATE else "bot removed from the chat"
        )
    if chat_type == ChatType.CHANNEL and status != ChatMemberStatus.ADMINISTRATOR:
        return "bot is not an administrator of the channel"
    if isinstance(member, ChatMemberRestricted) and not member.can_send_messages:
        return "bot may not send messages in the chat"
    return ""


@dataclass(frozen=True, slots=True)
class DedupRecord:
    """A decision record of the dedup store, decoded (see ``bot.dedup_store``)."""

    kind: Literal["new", "exact", "near"]
    article_id: str
    original_key: bytes = b""
    reason: str = ""
    similarity: float = 0.0


def decode_record(record: bytes) -> DedupRecord | None:
    if record[:1] == b"N":
        name = record[1 + SIG_BYTES :].split(b"\0", 1)[0]
        return DedupRecord("new", name.decode("utf-8", "replace"))
    if record[:1] == b"D" and len(record) >= 14:
        reason_index = record[9]
        (similarity,) = struct.unpack("<f", record[10:14])
        ident = record[14:].split(b"\0", 1)[0].decode("utf-8", "replace")
        if 1 <= reason_index <= len(EXACT_REASONS):
            return DedupRecord("exact", ident, record[1:9], EXACT_REASONS[reason_index - 1])
        return DedupRecord("near", ident, record[1:9], "minhash", float(similarity))
    return None


@dataclass
class Commands:
    """Every command handler, bound to one store; build with :func:`bot.telegram_bot`."""

    cfg: Config
    client: aioredis.Redis
    keys: Keys
    deliver_now: DeliverNow | None = None
    commands_per_minute: int = COMMANDS_PER_MINUTE
    limiter: CommandRateLimiter = field(init=False)
    admins_cache: AdminCache = field(init=False)

    def __post_init__(self) -> None:
        self.subs = SubscriptionStore(self.client, self.keys)
        self.feed_states = FeedStateStore(self.client, self.keys)
        self.stories = StoryStore(
            self.client,
            self.keys,
            window_hours=self.cfg.stories.window_hours,
            ttl_days=self.cfg.stories.inactivity_days,
        )
        self.dedup = DedupSettings(
            ttl_days=self.cfg.dedup.ttl_days,
            shards=self.cfg.dedup.shards,
            near_threshold=self.cfg.dedup.near_threshold,
        )
        self.owner_ids = frozenset(self.cfg.telegram.owners)
        self.limiter = CommandRateLimiter(self.client, self.keys, self.commands_per_minute)
        self.admins_cache = AdminCache(ADMIN_CACHE_SECONDS)

    # guards ------------------------------------------------------------------------
    async def _request(self, update: Update, context: Context) -> Request | None:
        message = update.effective_message
        if message is None:
            return None
        target, topic = _target_of(message)
        sub = await self.subs.get(target)
        user = update.effective_user
        # A channel post has no user to take a language from: use the configured one.
        spoken = user.language_code if user else self.cfg.digest.language
        lang = choose_language(sub.language if sub else None, spoken)
        words = (message.text or message.caption or "").split(maxsplit=1)
        rest = words[1].strip() if len(words) > 1 else ""
        args = list(context.args or []) if context.args is not None else rest.split()
        return Request(message, user, target, topic, sub, lang, args, rest, update.callback_query)

    async def _may_manage(self, req: Request, bot: Bot) -> bool:
        chat = req.message.chat
        if chat.type == ChatType.PRIVATE:
            return True
        if req.query is None:
            # Posting *as the chat* (a channel post, an anonymous group admin) is only
            # possible for its administrators.
            sender = req.message.sender_chat
            if sender is not None and sender.id == chat.id:
                return True
        if req.user is None:
            return False
        return await self.admins_cache.is_admin(bot, chat.id, req.user.id)

    async def _refuse(self, req: Request, key: str) -> None:
        if req.query is not None:
            await req.query.answer(_plain(text(req.lang, key)), show_alert=True)
        else:
            await self.say(req, key)

    def everyone(self, handler: Handler) -> Callback:
        async def run(update: Update, context: Context) -> None:
            req = await self._request(update, context)
            if req is not None:
                await handler(req, context)

        return run

    def admins(self, handler: Handler) -> Callback:
        async def run(update: Update, context: Context) -> None:
            req = await self._request(update, context)
            if req is None:
                return
            if await self._may_manage(req, context.bot):
                await handler(req, context)
            else:
                await self._refuse(req, "not_admin")

        return run

    def owners(self, handler: Handler) -> Callback:
        async def run(update: Update, context: Context) -> None:
            req = await self._request(update, context)
            if req is None:
                return
            if req.user is not None and req.user.id in self.owner_ids:
                await handler(req, context)
            else:
                await self._refuse(req, "not_owner")

        return run

    async def throttle(self, update: Update, context: Context) -> None:
        """Runs before every handler: commands and button presses over the limit stop here."""
        message = update.effective_message
        is_command = message is not None and (message.text or message.caption or "")[:1] == "/"
        if update.callback_query is None and not is_command:
            return
        sender = update.effective_user or update.effective_chat
        if sender is None:
            return
        verdict = await self.limiter.hit(sender.id)
        # Telegram bounds a message at 4096 characters; other front ends may not.
        text_len = len(message.text or message.caption or "") if message is not None else 0
        refusal = "rate_limited" if verdict == "note" else ""
        if verdict == "ok":
            if not is_command or text_len <= MAX_COMMAND_CHARS:
                return
            refusal = "too_long"
        if refusal:
            req = await self._request(update, context)
            if req is not None:
                await self._refuse(req, refusal)
        raise ApplicationHandlerStop

    # replies -----------------------------------------------------------------------
    async def reply(self, req: Request, html_text: str, **kwargs: Any) -> Message:
        return await req.message.reply_text(html_text, **kwargs)

    async def say(self, req: Request, key: str, **values: object) -> Message:
        return await self.reply(req, text(req.lang, key, **values))

    async def _need_sub(self, req: Request) -> Subscription | None:
        if req.sub is None:
            await self.say(req, "not_subscribed")
        return req.sub

    # general -----------------------------------------------------------------------
    async def start(self, req: Request, context: Context) -> None:
        await self.say(req, "start")

    async def help(self, req: Request, context: Context) -> None:
        owner = req.user is not None and req.user.id in self.owner_ids
        await self.reply(req, help_text(req.lang, owner=owner))

    async def unknown(self, req: Request, context: Context) -> None:
        command = req.message.text.split(maxsplit=1)[0][1:] if req.message.text else ""
        name, _, addressed = command.partition("@")
        if addressed and addressed.lower() != (context.bot.username or "").lower():
            return  # meant for another bot in the same group
        if req.message.chat.type != ChatType.PRIVATE and not addressed:
            return  # a group's other bots may know it: stay quiet unless asked by name
        if name.lower() in COMMAND_NAMES:
            await self.reply(req, usage(req.lang, name.lower()))
        else:
            await self.say(req, "unknown_command", name=name[:32])

    # subscription ------------------------------------------------------------------
    async def subscribe(self, req: Request, context: Context) -> None:
        wanted, unknown = match_feeds(req.args, req.rest, await self.all_feeds())
        if unknown:
            await self.say(req, "unknown_feeds", names=", ".join(unknown)[:500])
            return
        if req.sub is not None and req.sub.active and not wanted:
            await self.say(req, "resubscribed", feeds=self._feeds_text(req.sub, req.lang))
            return
        base = req.sub or Subscription(
            target=req.target,
            chat_type=req.message.chat.type,
            language=req.lang,
            created_by=req.user.id if req.user else 0,
        )
        sub = base.with_changes(
            feeds=tuple(wanted) or base.feeds, active=True, deactivated_reason=""
        )
        await self.subs.put(sub)
        place = Markup(text(req.lang, "place_topic" if req.topic else "place_chat"))
        await self.say(req, "subscribed", place=place, feeds=self._feeds_text(sub, req.lang))

    def _feeds_text(self, sub: Subscription, lang: str) -> str:
        return ", ".join(sub.feeds) if sub.feeds else text(lang, "all_feeds")

    async def unsubscribe(self, req: Request, context: Context) -> None:
        if await self._need_sub(req):
            await self.subs.delete(req.target)
            await self.say(req, "unsubscribed")

    async def settings(self, req: Request, context: Context) -> None:
        sub = await self._need_sub(req)
        if sub is None:
            return
        if not req.args:
            summary = settings_summary(sub, req.lang, topic=req.topic)
            await self.reply(req, summary, reply_markup=settings_keyboard(sub, req.lang))
            return
        if len(req.args) < 2:
            await self.say(req, "settings_usage")
            return
        try:
            changes = setting_changes(req.args[0], " ".join(req.args[1:]))
            if changes is None:
                await self.say(req, "settings_usage")
                return
            sub = sub.with_changes(**changes)
        except SubscriptionError as exc:
            await self.say(req, "settings_invalid", error=str(exc))
            return
        await self.subs.put(sub)
        summary = settings_summary(sub, sub.language, topic=req.topic)
        await self.reply(req, f"{text(sub.language, 'settings_saved')}\n\n{summary}")

    async def settings_button(self, req: Request, context: Context) -> None:
        query = req.query
        if query is None:
            return
        changes = button_changes(query.data or "")
        if req.sub is None:
            await query.answer(_plain(text(req.lang, "not_subscribed")), show_alert=True)
            return
        if changes is None:
            await query.answer()  # a button this version no longer knows
            return
        sub = req.sub.with_changes(**changes)
        if sub == req.sub:
            await query.answer()
            return
        await self.subs.put(sub)
        await query.answer(_plain(text(sub.language, "settings_saved")))
        await query.edit_message_text(
            settings_summary(sub, sub.language, topic=req.topic),
            reply_markup=settings_keyboard(sub, sub.language),
        )

    async def filter(self, req: Request, context: Context) -> None:
        sub = await self._need_sub(req)
        if sub is None:
            return
        arg = req.rest
        if not arg:
            await self.reply(req, filter_list(sub, req.lang))
            return
        if arg.lower() == "clear":
            await self.subs.put(sub.with_changes(include=(), exclude=()))
            await self.say(req, "filter_cleared")
            return
        if arg.lower().startswith("del ") or arg.lower().startswith("rm "):
            await self._filter_remove(req, sub, arg.split(maxsplit=1)[1].strip())
            return
        if arg[0] not in "+-" or not arg[1:].strip():
            await self.say(req, "filter_usage")
            return
        pattern = arg[1:].strip()
        which = "include" if arg[0] == "+" else "exclude"
        current: tuple[str, ...] = getattr(sub, which)
        if pattern in current:
            await self.say(req, "filter_exists")
            return
        try:
            check_pattern(pattern)
            sub = sub.with_changes(**{which: (*current, pattern)})
        except SubscriptionError as exc:
            await self.say(req, "filter_bad", error=str(exc))
            return
        await self.subs.put(sub)
        await self.say(req, "filter_added", pattern=f"{arg[0]}{pattern}")

    async def _filter_remove(self, req: Request, sub: Subscription, pattern: str) -> None:
        bare = pattern[1:] if pattern[:1] in "+-" and len(pattern) > 1 else pattern
        include = tuple(p for p in sub.include if p not in (pattern, bare))
        exclude = tuple(p for p in sub.exclude if p not in (pattern, bare))
        if (include, exclude) == (sub.include, sub.exclude):
            await self.say(req, "filter_missing", pattern=pattern)
            return
        await self.subs.put(sub.with_changes(include=include, exclude=exclude))
        await self.say(req, "filter_removed", pattern=pattern)

    async def pause(self, req: Request, context: Context) -> None:
        sub = await self._need_sub(req)
        if sub is None:
            return
        if sub.paused:
            await self.say(req, "already_paused")
            return
        await self.subs.put(sub.with_changes(paused=True))
        await self.say(req, "paused")

    async def resume(self, req: Request, context: Context) -> None:
        sub = await self._need_sub(req)
        if sub is None:
            return
        if not sub.paused:
            await self.say(req, "not_paused")
            return
        await self.subs.put(sub.with_changes(paused=False))
        await self.say(req, "resumed")

    async def digest(self, req: Request, context: Context) -> None:
        if await self._need_sub(req) is None:
            return
        if self.deliver_now is None:
            await self.client.sadd(self.keys.digest_requests(), req.target)
            await self.say(req, "digest_queued")
            return
        count = await self.deliver_now(req.target)
        if count:
            await self.say(req, "digest_sent", count=count)
        else:
            await self.say(req, "digest_nothing")

    # stories -----------------------------------------------------------------------
    async def _profiles(self, story_ids: Sequence[str]) -> list[StoryProfile]:
        pipe = self.client.pipeline(transaction=False)
        for sid in story_ids:
            pipe.hget(self.keys.story_meta(sid), "profile")
        return [profile_from_dict(json.loads(raw)) for raw in await pipe.execute() if raw]

    async def recent_stories(self, limit: int = RECENT_STORIES) -> list[StoryProfile]:
        newest = int(await self.client.get(self.keys.story_seq()) or 0)
        ids = [f"s{n}" for n in range(newest, max(0, newest - STORY_SCAN), -1)]
        profiles = await self._profiles(ids)
        profiles.sort(key=lambda p: p.last_seen, reverse=True)
        return profiles[:limit]

    async def stories_list(self, req: Request, context: Context) -> None:
        profiles = await self.recent_stories()
        if not profiles:
            await self.say(req, "stories_none")
            return
        lines = [text(req.lang, "stories_head")]
        for p in profiles:
            count = text(req.lang, "articles", n=p.article_count)
            lines.append(str(Markup("<code>{}</code> {} · {}").format(p.id, p.title[:200], count)))
        lines.append(text(req.lang, "stories_foot"))
        for message in pack(lines):
            await self.reply(req, message)

    async def story(self, req: Request, context: Context) -> None:
        match = _STORY_ID.fullmatch(req.args[0].lower()) if len(req.args) == 1 else None
        if match is None:
            await self.reply(req, usage(req.lang, "story"))
            return
        story_id = f"s{int(match.group(1))}"
        found = await self._profiles([story_id])
        if not found:
            await self.say(req, "story_unknown", id=story_id)
            return
        profile = found[0]
        facts = (await self.stories.facts(story_id))[:MAX_STORY_FACTS]
        messages = story_messages(
            story_id,
            profile.title,
            profile.article_count,
            profile.sources,
            [(f.type, f.text) for f in facts],
            req.lang,
        )
        for message in messages[:MAX_STORY_MESSAGES]:
            await self.reply(req, message)

    # why ---------------------------------------------------------------------------
    def _slot(self, digest: bytes) -> int:
        # Mirrors the dedup script's shard(): the first two bytes, big-endian, mod shards.
        return (digest[0] * 256 + digest[1]) % self.dedup.shards

    async def _dedup_get(self, kind: Literal["x", "r"], digest: bytes) -> bytes | None:
        """The newest value of ``digest`` in the exact (x) or record (r) hashes."""
        current = int(datetime.now(UTC).timestamp()) // self.dedup.epoch_seconds
        slot = self._slot(digest)
        build = self.keys.dedup_exact if kind == "x" else self.keys.dedup_records
        pipe = self.client.pipeline(transaction=False)
        for back in range(self.dedup.live_epochs):
            pipe.hget(build(current - back, slot), digest)
        found: bytes | None = next((v for v in await pipe.execute() if v), None)
        return found

    async def _story_line(self, lang: str, article_id: str) -> str:
        story_id = await self.stories.story_of(article_id)
        profiles = await self._profiles([story_id]) if story_id else []
        if not profiles:
            return text(lang, "why_no_story")
        p = profiles[0]
        count = text(lang, "articles", n=p.article_count)
        return text(lang, "why_story", id=p.id, title=p.title[:200], articles=count)

    async def why(self, req: Request, context: Context) -> None:
        if len(req.args) != 1 or len(req.args[0]) > 2048:
            await self.reply(req, usage(req.lang, "why"))
            return
        arg = req.args[0]
        lines = [str(Markup("🔎 <code>{}</code>").format(arg))]
        if "://" in arg:
            canonical = canonicalize_url(arg)
            if canonical != arg:
                lines.append(text(req.lang, "why_normalised", url=canonical))
            key = await self._dedup_get("x", digest8("u\x00" + canonical))
        else:
            key = digest8("a\x00" + arg)
        raw = await self._dedup_get("r", key) if key else None
        record = decode_record(raw) if raw else None
        if record is None:
            await self.say(req, "why_unknown", what=arg[:200])
            return
        lines.extend(await self._explain(req.lang, record, by_url="://" in arg))
        await self.reply(req, "\n".join(lines))

    async def _explain(self, lang: str, record: DedupRecord, *, by_url: bool) -> list[str]:
        if record.kind == "new":
            key = "why_by_url" if by_url else "why_posted"
            return [
                text(lang, key, article=record.article_id),
                await self._story_line(lang, record.article_id),
            ]
        original_raw = await self._dedup_get("r", record.original_key)
        original = decode_record(original_raw) if original_raw else None
        original_id = original.article_id if original else "?"
        if record.kind == "exact":
            reason = text(lang, f"reason_{record.reason}")
            line = text(lang, "why_exact", reason=Markup(reason), original=original_id)
        else:
            similarity = f"{record.similarity:.2f}"
            line = text(lang, "why_near", original=original_id, similarity=similarity)
        return [line, await self._story_line(lang, original_id)]

    # feeds -------------------------------------------------------------------------
    async def all_feeds(self) -> list[FeedConfig]:
        """Configured feeds first, then those added at run time (CLI or /addfeed)."""
        feeds = list(self.cfg.feeds)
        known = {f.url for f in feeds}
        added = await self.client.hgetall(self.keys.feeds_added())
        for raw_url, raw in sorted(added.items()):
            url = raw_url.decode() if isinstance(raw_url, bytes) else str(raw_url)
            if url in known:
                continue
            try:
                name = str(json.loads(raw).get("name", ""))
            except (ValueError, AttributeError):
                name = ""
            feeds.append(FeedConfig(url=url, name=name))
        return feeds

    async def _feed_status(self, lang: str, url: str) -> str:
        state = await self.feed_states.get(url)
        if state.deactivated:
            return text(lang, "feed_off", reason=state.deactivated[:100])
        if state.failures:
            return text(lang, "feed_failing", failures=state.failures)
        return text(lang, "feed_ok" if state.last_ok else "feed_new")

    async def feeds(self, req: Request, context: Context) -> None:
        feeds = await self.all_feeds()
        if not feeds:
            await self.say(req, "feeds_none")
            return
        lines = [text(req.lang, "feeds_head")]
        for feed in feeds[:MAX_LISTED]:
            status = Markup(await self._feed_status(req.lang, feed.url))
            # Local paths say nothing to a chat user and reveal the server's file layout.
            shown = feed.url if valid_feed_url(feed.url) else text(req.lang, "feed_local")
            name = feed.name or shown
            lines.append(str(Markup("• <b>{}</b> – {}\n  {}").format(name, status, shown)))
        if len(feeds) > MAX_LISTED:
            lines.append(f"… +{len(feeds) - MAX_LISTED}")
        for message in pack(lines):
            await self.reply(req, message)

    async def addfeed(self, req: Request, context: Context) -> None:
        if not req.args:
            await self.reply(req, usage(req.lang, "addfeed"))
            return
        url, name = req.args[0], " ".join(req.args[1:])[:200]
        if not valid_feed_url(url):
            await self.say(req, "addfeed_bad", url=url[:300])
            return
        if any(f.url == url for f in await self.all_feeds()):
            await self.say(req, "addfeed_exists", url=url)
            return
        await self.client.hset(self.keys.feeds_added(), url, json.dumps({"name": name}))
        await self.say(req, "addfeed_ok", url=url)

    async def removefeed(self, req: Request, context: Context) -> None:
        if len(req.args) != 1:
            await self.reply(req, usage(req.lang, "removefeed"))
            return
        url = req.args[0]
        if await self.client.hdel(self.keys.feeds_added(), url):
            await self.say(req, "removefeed_ok", url=url)
        elif any(f.url == url for f in self.cfg.feeds):
            await self.say(req, "removefeed_configured", url=url)
        else:
            await self.say(req, "removefeed_unknown", url=url[:300])

    async def import_opml(self, req: Request, context: Context) -> None:
        replied = req.message.reply_to_message
        document = req.message.document or (replied.document if replied else None)
        if document is None:
            await self.say(req, "import_usage")
            return
        if (document.file_size or 0) > MAX_IMPORT_BYTES:
            await self.say(req, "import_too_big", kib=MAX_IMPORT_BYTES // 1024)
            return
        data = bytes(await (await document.get_file()).download_as_bytearray())
        if len(data) > MAX_IMPORT_BYTES:
            await self.say(req, "import_too_big", kib=MAX_IMPORT_BYTES // 1024)
            return
        try:
            found = parse_opml(data)
        except OpmlError as exc:
            await self.say(req, "import_bad", error=str(exc))
            return
        known = {f.url for f in await self.all_feeds()}
        fresh = {url: json.dumps({"name": title}) for url, title in found if url not in known}
        if fresh:
            await self.client.hset(self.keys.feeds_added(), mapping=fresh)  # type: ignore[arg-type]
        await self.say(req, "import_done", added=len(fresh), known=len(found) - len(fresh))

    async def export(self, req: Request, context: Context) -> None:
        feeds = [(f.url, f.name) for f in await self.all_feeds() if valid_feed_url(f.url)]
        if not feeds:
            await self.say(req, "export_none")
            return
        await req.message.reply_document(
            document=build_opml(feeds),
            filename="digestbot-feeds.opml",
            caption=text(req.lang, "export_caption", count=len(feeds)),
        )

    # operations --------------------------------------------------------------------
    async def stats(self, req: Request, context: Context) -> None:
        feeds = await self.all_feeds()
        states = [await self.feed_states.get(f.url) for f in feeds]
        subs = await self.subs.all()
        outbox_key = self.keys.outbox_stream()
        outbox: object = (
            await self.client.xlen(outbox_key)
            if await self.client.exists(outbox_key)
            else text(req.lang, "stats_no_outbox")
        )
        body = text(
            req.lang,
            "stats",
            feeds=len(feeds),
            added=len(feeds) - len(self.cfg.feeds),
            failing=sum(1 for s in states if s.failures and not s.deactivated),
            off=sum(1 for s in states if s.deactivated),
            stories=int(await self.client.get(self.keys.story_seq()) or 0),
            subs=len(subs),
            active=sum(1 for s in subs if s.active),
            paused=sum(1 for s in subs if s.paused),
            outbox=outbox,
        )
        off = [s for s in subs if not s.active][:MAX_LISTED]
        if off:
            lines = Markup("\n").join(
                Markup("<code>{}</code>: {}").format(s.target, s.deactivated_reason or "?")
                for s in off
            )
            body += "\n\n" + text(req.lang, "stats_deactivated", lines=lines)
        for message in pack(body.split("\n")):
            await self.reply(req, message)

    # chat membership ---------------------------------------------------------------
    async def membership(self, update: Update, context: Context) -> None:
        """The bot was added, removed, blocked or (in a channel) demoted or promoted."""
        change = update.my_chat_member
        if change is None:
            return
        chat = change.chat
        self.admins_cache.forget(chat.id)
        reason = cannot_post_reason(chat.type, change.new_chat_member)
        # Deactivated, not deleted: settings and filters are back when the bot is.
        for sub in await self.subs.for_chat(chat.id):
            if reason and sub.active:
                await self.subs.put(sub.with_changes(active=False, deactivated_reason=reason))
            elif not reason and not sub.active:
                await self.subs.put(sub.with_changes(active=True, deactivated_reason=""))
        added = change.old_chat_member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)
        if not reason and added and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP):
            lang = choose_language(None, change.from_user.language_code)
            await context.bot.send_message(chat.id, text(lang, "hello_group"))

    async def migrated(self, update: Update, context: Context) -> None:
        """A group became a supergroup: its subscriptions follow it to the new chat id."""
        message = update.effective_message
        if message is not None and message.migrate_to_chat_id:
            moved = await self.subs.migrate_chat(message.chat_id, message.migrate_to_chat_id)
            log.info("chat %s migrated: %d subscriptions moved", message.chat_id, len(moved))
