"""The Telegram bot's wiring: the application, its handlers, its menus, long polling.

Wiring only — the handlers are in :mod:`bot.commands`, the texts in
:mod:`digests.help_texts`. Nothing here runs at import: the composition root
calls :func:`build_application` with the loaded config and an open Redis
client, then :func:`run_bot` until its ``stop`` event is set (``run_polling``
owns the event loop and the signal handlers, so it cannot run inside the CLI's
``asyncio.run``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import traceback
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

import redis.asyncio as aioredis
from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.commands import Callback, Commands, Context
from bot.config import Config
from bot.errors import ConfigError
from bot.keys import Keys
from digests.help_texts import COMMAND_NAMES, choose_language, commands_for, text

log = logging.getLogger(__name__)

#: Update types the bot asks for; my_chat_member is how it learns it was removed or blocked.
ALLOWED_UPDATES = (
    Update.MESSAGE,
    Update.CHANNEL_POST,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
)
MAX_MENU = 100
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
# New messages and channel posts only: editing an old "/subscribe" must not run it again.
_NEW = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
_IMPORT_CAPTION = filters.CaptionRegex(r"(?i)^/import(@\w+)?(\s|$)")


def api_urls(base: str) -> tuple[str, str]:
    """PTB's ``base_url`` and ``base_file_url`` for a Bot API server root.

    PTB appends the token (``{base_url}{token}/{method}``), so both end in ``/bot``;
    a configured URL that already ends in ``/bot`` is accepted as well.
    """
    root = base.rstrip("/")
    root = root.removesuffix("/bot")
    return f"{root}/bot", f"{root}/file/bot"


class _RedactToken(logging.Filter):
    """httpx logs every request URL at INFO, and Bot API URLs contain the token."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), None
        return True


def _guard_logs(token: str) -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactToken) and f.token == token for f in logger.filters):
        logger.addFilter(_RedactToken(token))


def _menus() -> list[tuple[BotCommandScope, str]]:
    return [
        (BotCommandScopeAllPrivateChats(), "private"),
        (BotCommandScopeAllGroupChats(), "group"),
        (BotCommandScopeAllChatAdministrators(), "admin"),
    ]


def menu(where: str, language: str) -> list[BotCommand]:
    commands = [BotCommand(c.name, c.description(language)) for c in commands_for(where)]
    if len(commands) > MAX_MENU or not all(_COMMAND_NAME.fullmatch(c.command) for c in commands):
        raise ValueError(f"menu {where!r} breaks Telegram's command rules")
    return commands


async def register_commands(bot: Bot, owners: Sequence[int]) -> None:
    """The command menus per scope, in English (the default) and German."""
    for scope, where in _menus():
        for language in ("en", "de"):
            code = None if language == "en" else language
            await bot.set_my_commands(menu(where, language), scope=scope, language_code=code)
    for owner in owners:
        # An owner who never opened a chat with the bot has no chat yet: skip, not fail.
        with contextlib.suppress(BadRequest, Forbidden):
            for language in ("en", "de"):
                code = None if language == "en" else language
                await bot.set_my_commands(
                    menu("owner", language), scope=BotCommandScopeChat(owner), language_code=code
                )


def _on_error(token: str) -> Callable[[object, Context], Coroutine[Any, Any, None]]:
    async def on_error(update: object, context: Context) -> None:
        error = context.error
        detail = "".join(traceback.format_exception(error)) if error else "unknown error"
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("update %s failed: %s", update_id, detail.replace(token, "<token>"))
        if not isinstance(update, Update) or isinstance(error, Forbidden | RetryAfter):
            return
        user = update.effective_user
        language = choose_language(None, user.language_code if user else None)
        with contextlib.suppress(TelegramError):
            if update.callback_query is not None:
                await update.callback_query.answer(text(language, "error"))
            elif update.effective_message is not None:
                await update.effective_message.reply_text(text(language, "error"))

    return on_error


async def _answer_stale(update: Update, context: Context) -> None:
    # A button from an older version of the bot: stop the client's spinner, nothing more.
    if update.callback_query is not None:
        await update.callback_query.answer()


def _wire(app: Application, c: Commands) -> None:
    app.add_handler(TypeHandler(Update, c.throttle), group=-1)
    routes: list[tuple[str, Callback]] = [
        ("start", c.everyone(c.start)),
        ("help", c.everyone(c.help)),
        ("subscribe", c.admins(c.subscribe)),
        ("unsubscribe", c.admins(c.unsubscribe)),
        ("settings", c.admins(c.settings)),
        ("filter", c.admins(c.filter)),
        ("pause", c.admins(c.pause)),
        ("resume", c.admins(c.resume)),
        ("digest", c.everyone(c.digest)),
        ("stories", c.everyone(c.stories_list)),
        ("story", c.everyone(c.story)),
        ("why", c.everyone(c.why)),
        ("feeds", c.everyone(c.feeds)),
        ("export", c.everyone(c.export)),
        ("addfeed", c.owners(c.addfeed)),
        ("removefeed", c.owners(c.removefeed)),
        ("import", c.owners(c.import_opml)),
        ("stats", c.owners(c.stats)),
    ]
    if {name for name, _ in routes} != COMMAND_NAMES:
        raise ValueError("the routes and the command list in digests.help_texts disagree")
    for name, callback in routes:
        # /digest may wait on a whole delivery; it must not hold up everyone else's commands.
        app.add_handler(CommandHandler(name, callback, filters=_NEW, block=name != "digest"))
    app.add_handler(
        MessageHandler(_NEW & filters.Document.ALL & _IMPORT_CAPTION, c.owners(c.import_opml))
    )
    app.add_handler(CallbackQueryHandler(c.admins(c.settings_button), pattern=r"^set:"))
    app.add_handler(CallbackQueryHandler(_answer_stale))
    app.add_handler(ChatMemberHandler(c.membership, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, c.migrated))
    app.add_handler(MessageHandler(_NEW & filters.COMMAND, c.everyone(c.unknown)))


def build_application(
    cfg: Config,
    client: aioredis.Redis,
    keys: Keys,
    *,
    deliver_now: Callable[[str], Awaitable[int]] | None = None,
    builder: ApplicationBuilder | None = None,
    commands_per_minute: int | None = None,
) -> Application:
    """The bot, ready for :func:`run_bot` (or a webhook server feeding ``update_queue``).

    ``deliver_now(target)`` sends a subscription's digest at once and returns the number
    of messages sent; without it ``/digest`` queues a request for the scheduler.
    ``builder`` lets tests pass a pre-configured :class:`ApplicationBuilder` (request
    objects, timeouts); token and base URL still come from ``cfg``.
    """
    token = cfg.telegram.token
    if not token:
        raise ConfigError(cfg.path, "telegram.token", "not set: export DIGESTBOT_TELEGRAM_TOKEN")
    _guard_logs(token)
    defaults = Defaults(
        parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
    )
    owners = cfg.telegram.owners

    async def post_init(app: Application) -> None:
        try:
            await register_commands(app.bot, owners)
        except TelegramError as exc:
            # A missing menu is cosmetic; the bot must still come up.
            log.warning("setMyCommands failed: %s", exc)

    builder = (builder or ApplicationBuilder()).token(token).defaults(defaults)
    if cfg.telegram.base_url:
        api, files = api_urls(cfg.telegram.base_url)
        builder = builder.base_url(api).base_file_url(files)
    app = builder.post_init(post_init).build()
    per_minute = commands_per_minute or cfg.security.commands_per_minute
    _wire(app, Commands(cfg, client, keys, deliver_now, per_minute))
    app.add_error_handler(_on_error(token))
    return app


async def run_bot(
    app: Application,
    stop: asyncio.Event,
    *,
    poll_timeout: int = 10,
) -> None:
    """Long-poll until ``stop`` is set, then stop cleanly (pending updates are acknowledged)."""
    updater = app.updater
    if updater is None:
        raise ValueError("long polling needs an application built with an updater")
    async with app:  # initialize() … shutdown()
        if app.post_init is not None:
            # Only run_polling/run_webhook call post_init themselves.
            await app.post_init(app)
        await app.start()
        await updater.start_polling(timeout=poll_timeout, allowed_updates=list(ALLOWED_UPDATES))
        try:
            await stop.wait()
        finally:
            if updater.running:
                await updater.stop()
            if app.running:
                await app.stop()
