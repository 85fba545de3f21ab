"""The Telegram Bot API emulator, driven by the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.telegram_emulator import RateLimits, TelegramEmulator, parse_html, utf16_len

pytest_plugins = ["tests.telegram_fixtures"]
# PTB 22 warns on every read of RetryAfter.retry_after (an int now, a timedelta later)
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")

PRIVATE = 1001
GROUP = -2001
SUPERGROUP = -1002003
FORUM = -1002004
CHANNEL = -1002005
ALICE = 1001
BOB = 1002


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def configure(emu: TelegramEmulator) -> TelegramEmulator:
    emu.add_user(ALICE, "Alice", username="alice")
    emu.add_user(BOB, "Bob")
    emu.add_chat(PRIVATE, "private")
    emu.add_chat(GROUP, "group", title="News group", admins=[ALICE], members=[BOB])
    emu.add_chat(SUPERGROUP, "supergroup", title="Super", admins=[ALICE], username="supernews")
    emu.add_chat(FORUM, "supergroup", title="Forum", is_forum=True, admins=[ALICE])
    emu.add_chat(CHANNEL, "channel", title="Channel", admins=[ALICE])
    return emu


@pytest.fixture
def emu() -> Iterator[TelegramEmulator]:
    """No flood limits: for tests about content and errors."""
    with TelegramEmulator(limits=RateLimits(enabled=False)) as emulator:
        yield configure(emulator)
    assert not emulator.internal_errors, emulator.internal_errors


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limited(telegram_emulator: TelegramEmulator, clock: FakeClock) -> TelegramEmulator:
    """Default flood limits on a fake clock."""
    telegram_emulator.clock = clock
    return configure(telegram_emulator)


def seconds(value: int | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# ------------------------------------------------------------------------------- basics


async def test_get_me_and_tokens(emu: TelegramEmulator) -> None:
    async with emu.make_bot() as bot:
        assert bot.username == "digest_test_bot"
        assert bot.id == emu.bot_id
    with pytest.raises(InvalidToken):
        async with emu.make_bot("7000000001:wrong-test-token"):
            pass
    with pytest.raises(InvalidToken):
        async with emu.make_bot("not-a-token"):
            pass
    assert emu.stats.rejected == 2
    assert [e.status for e in emu.stats.errors] == [401, 404]


def test_json_body_form_body_and_unknown_method(emu: TelegramEmulator) -> None:
    def post(method: str, body: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            f"{emu.api_url}{emu.token}/{method}",
            data=body,
            headers={"Content-Type": content_type},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    status, answer = post(
        "sendMessage", json.dumps({"chat_id": PRIVATE, "text": "json"}).encode(), "application/json"
    )
    assert status == 200
    assert answer["ok"] is True
    assert answer["result"]["text"] == "json"
    status, answer = post(
        "sendmessage",
        b"chat_id=1001&text=%3Cb%3Eform%3C%2Fb%3E&parse_mode=HTML",
        "application/x-www-form-urlencoded",
    )
    assert status == 200
    assert answer["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 4}]
    status, answer = post("sendCarrierPigeon", b"{}", "application/json")
    assert (status, answer) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    status, answer = post("sendMessage", b'{"chat_id": 42, "text": "x"}', "application/json")
    assert status == 400
    assert answer == {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
    assert emu.texts(PRIVATE) == ["json", "form"]


# ------------------------------------------------------------------------------- HTML


async def test_valid_nested_html(emu: TelegramEmulator) -> None:
    html = (
        '<b>Bold <i>both</i></b> <a href="https://example.org/?a=1&amp;b=2">link</a> '
        '<pre><code class="language-python">x = 1</code></pre> <code>c</code> '
        "<blockquote expandable>quote</blockquote> <tg-spoiler>s</tg-spoiler> "
        '<span class="tg-spoiler">p</span> <U>u</U> <del>d</del> '
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> '
        "&lt;&gt;&amp;&quot;&#65;&#x42; 😀<b>e</b>"
    )
    async with emu.make_bot() as bot:
        message = await bot.send_message(PRIVATE, html, parse_mode=ParseMode.HTML)
    text = 'Bold both link x = 1 c quote s p u d 👍 <>&"AB 😀e'
    assert message.text == text
    got = [(e.type, text[: e.offset], e.length) for e in message.entities]
    assert got[:2] == [("bold", "", 9), ("italic", "Bold ", 4)]
    by_type = {e.type: e for e in message.entities}
    assert by_type["text_link"].url == "https://example.org/?a=1&b=2"
    assert by_type["pre"].language == "python"
    assert by_type["code"].length == 1
    assert by_type["expandable_blockquote"].length == 5
    assert by_type["custom_emoji"].custom_emoji_id == "5368324170671202286"
    assert by_type["underline"].length == 1
    assert by_type["strikethrough"].length == 1
    assert sum(e.type == "spoiler" for e in message.entities) == 2
    # the last bold "e" comes after an astral character: UTF-16 offsets
    last = message.entities[-1]
    assert (last.type, last.offset) == ("bold", utf16_len(text) - 1)
    sent = emu.sent(PRIVATE)[-1]
    assert (sent.raw_text, sent.text, sent.parse_mode) == (html, text, "HTML")


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("line<br>break", 'Unsupported start tag "br" at byte offset 4'),
        ("<p>para</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("<b>unclosed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("AT&T", 'Character "&" must be escaped as "&amp;" at byte offset 2'),
        ("ü&nbsp;", 'Character "&" must be escaped as "&amp;" at byte offset 2'),
        ("&#0;", "byte offset 0"),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("<a href=https://x.org>x</a>", "Unexpected end of name token at byte offset 13"),
        ("<b foo>x</b>", 'Expected equal sign in declaration of an attribute of the tag "b"'),
        ("<blockquote><blockquote>x</blockquote></blockquote>", "Nested blockquotes"),
    ],
)
async def test_invalid_html_is_rejected(emu: TelegramEmulator, html: str, error: str) -> None:
    async with emu.make_bot() as bot:
        with pytest.raises(BadRequest) as caught:
            await bot.send_message(PRIVATE, html, parse_mode=ParseMode.HTML)
    # PTB drops "Bad Request: " and lower-cases the rest
    assert caught.value.message.startswith("Can't parse entities: ")
    assert error.lower() in caught.value.message.lower()
    assert emu.sent(PRIVATE) == []
    assert emu.stats.rejected == 1
    assert emu.stats.errors[0].description.startswith("Bad Request: can't parse entities: ")


def test_parse_html_details() -> None:
    assert parse_html("a &gt; b &#x1F600; &#128512;") == ("a > b 😀 😀", [])
    text, entities = parse_html("<b>x</>y")  # "</>" closes the innermost tag, as in tdlib
    assert (text, entities) == ("xy", [{"type": "bold", "offset": 0, "length": 1}])
    assert parse_html("<B>x</B>")[1] == [{"type": "bold", "offset": 0, "length": 1}]
    assert parse_html("<a href='https://a.b/'>x</a>")[1][0]["url"] == "https://a.b/"
    assert parse_html("<b></b>x") == ("x", [])  # empty entities vanish
    assert parse_html("a > b") == ("a > b", [])  # a bare ">" is accepted by Telegram
    assert parse_html("AT&T", strict_entities=False) == ("AT&T", [])
    assert parse_html("&lt", strict_entities=False) == ("<", [])


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("a" * 4096, True),
        ("a" * 4097, False),
        ("😀" * 2048, True),  # 4096 UTF-16 units
        ("😀" * 2048 + "a", False),
        ("ü" * 4096, True),  # 8192 UTF-8 bytes but 4096 units
        ("<b>" + "a" * 4096 + "</b>", True),  # tags do not count
        ("&amp;" * 4096, True),  # entities count once decoded
        ("&amp;" * 4097, False),
        ("\n  " + "a" * 4096 + "  \n", True),  # outer whitespace is trimmed
    ],
)
async def test_length_limit_in_utf16_units(emu: TelegramEmulator, text: str, ok: bool) -> None:
    async with emu.make_bot() as bot:
        if ok:
            await bot.send_message(PRIVATE, text, parse_mode=ParseMode.HTML)
            assert utf16_len(emu.sent(PRIVATE)[0].text) == 4096
        else:
            with pytest.raises(BadRequest, match="Message is too long"):
                await bot.send_message(PRIVATE, text, parse_mode=ParseMode.HTML)


@pytest.mark.parametrize("text", ["   ", "<b> </b>\n", ""])
async def test_empty_text(emu: TelegramEmulator, text: str) -> None:
    async with emu.make_bot() as bot:
        with pytest.raises(BadRequest, match="Message text is empty"):
            await bot.send_message(PRIVATE, text, parse_mode=ParseMode.HTML)


async def test_lenient_entities_like_the_real_server() -> None:
    with TelegramEmulator(strict_html_entities=False) as emu:
        emu.add_chat(PRIVATE)
        async with emu.make_bot() as bot:
            message = await bot.send_message(PRIVATE, "<b>AT&T</b>", parse_mode=ParseMode.HTML)
        assert message.text == "AT&T"


# ------------------------------------------------------------------------------- chats


async def test_chat_errors(emu: TelegramEmulator) -> None:
    emu.add_chat(-1009001, "channel", title="Demoted", bot_is_admin=False)
    emu.add_chat(-1009002, "channel", title="Gone", bot_is_member=False)
    async with emu.make_bot() as bot:
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(424242, "hi")
        with pytest.raises(BadRequest, match="Need administrator rights in the channel chat"):
            await bot.send_message(-1009001, "hi")
        with pytest.raises(Forbidden, match="bot is not a member of the channel chat"):
            await bot.send_message(-1009002, "hi")
        channel_post = await bot.send_message(CHANNEL, "post")
        by_username = await bot.send_message("@supernews", "hello")
    assert channel_post.sender_chat is not None and channel_post.from_user is None
    assert by_username.chat.id == SUPERGROUP
    assert emu.stats.rejected == 3


async def test_get_chat_member_and_administrators(emu: TelegramEmulator) -> None:
    async with emu.make_bot() as bot:
        chat = await bot.get_chat(SUPERGROUP)
        assert (chat.type, chat.title, chat.username) == ("supergroup", "Super", "supernews")
        assert (await bot.get_chat(FORUM)).is_forum
        assert (await bot.get_chat_member(SUPERGROUP, ALICE)).status == "creator"
        assert (await bot.get_chat_member(GROUP, BOB)).status == "member"
        assert (await bot.get_chat_member(SUPERGROUP, BOB)).status == "left"
        assert (await bot.get_chat_member(CHANNEL, emu.bot_id)).status == "administrator"
        admins = await bot.get_chat_administrators(CHANNEL)
        assert {m.user.id for m in admins} == {ALICE, emu.bot_id}
        with pytest.raises(BadRequest, match="no administrators in the private chat"):
            await bot.get_chat_administrators(PRIVATE)
        with pytest.raises(BadRequest, match="User not found"):
            await bot.get_chat_member(GROUP, 999)
        await bot.send_chat_action(FORUM, "typing")


async def test_forum_threads(emu: TelegramEmulator) -> None:
    topic = emu.add_topic(FORUM, "Sports")
    async with emu.make_bot() as bot:
        message = await bot.send_message(FORUM, "goal", message_thread_id=topic)
        assert message.message_thread_id == topic and message.is_topic_message
        await bot.send_message(FORUM, "general")
        with pytest.raises(BadRequest, match="Message thread not found"):
            await bot.send_message(FORUM, "x", message_thread_id=topic + 100)
        with pytest.raises(BadRequest, match="Message thread not found"):
            await bot.send_message(SUPERGROUP, "x", message_thread_id=topic)
    assert [(m.text, m.thread_id) for m in emu.sent(FORUM)] == [("goal", topic), ("general", None)]
    assert message.message_id > topic  # the topic's service message took an id


async def test_options_are_recorded(emu: TelegramEmulator) -> None:
    async with emu.make_bot() as bot:
        first = await bot.send_message(PRIVATE, "first")
        second = await bot.send_message(
            PRIVATE,
            "second https://example.org",
            reply_parameters=ReplyParameters(first.message_id),
            disable_notification=True,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
        assert second.message_id == first.message_id + 1
        assert second.reply_to_message is not None
        assert second.reply_to_message.text == "first"
        with pytest.raises(BadRequest, match="Message to be replied not found"):
            await bot.send_message(PRIVATE, "x", reply_parameters=ReplyParameters(999))
        await bot.send_message(
            PRIVATE,
            "allowed",
            reply_parameters=ReplyParameters(999, allow_sending_without_reply=True),
        )
    one, two, three = emu.sent(PRIVATE)
    assert (one.reply_to, one.disable_notification, one.link_preview_disabled) == (
        None,
        False,
        False,
    )
    assert (two.reply_to, two.disable_notification, two.link_preview_disabled) == (
        first.message_id,
        True,
        True,
    )
    assert three.reply_to is None
    assert one.time <= two.time <= three.time


async def test_edit_and_delete(emu: TelegramEmulator) -> None:
    async with emu.make_bot() as bot:
        message = await bot.send_message(PRIVATE, "<b>v1</b>", parse_mode=ParseMode.HTML)
        edited = await bot.edit_message_text(
            "<b>v2</b>", PRIVATE, message.message_id, parse_mode=ParseMode.HTML
        )
        assert isinstance(edited, type(message)) and edited.text == "v2"
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_text(
                "<b>v2</b>", PRIVATE, message.message_id, parse_mode=ParseMode.HTML
            )
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await bot.edit_message_text("x", PRIVATE, 777)
        with pytest.raises(BadRequest, match="Can't parse entities"):
            await bot.edit_message_text("<x>", PRIVATE, message.message_id, parse_mode="HTML")
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more")]])
        await bot.edit_message_reply_markup(PRIVATE, message.message_id, reply_markup=keyboard)
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_reply_markup(PRIVATE, message.message_id, reply_markup=keyboard)
        assert await bot.delete_message(PRIVATE, message.message_id)
        with pytest.raises(BadRequest, match="Message to delete not found"):
            await bot.delete_message(PRIVATE, message.message_id)
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await bot.edit_message_text("v3", PRIVATE, message.message_id)
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(
                PRIVATE,
                "x",
                reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton("Too long", callback_data="x" * 65)]]
                ),
            )
    (sent,) = emu.sent(PRIVATE)
    assert (sent.text, sent.edits, sent.deleted) == ("v2", ["<b>v1</b>", "<b>v2</b>"], True)


# ------------------------------------------------------------------------------- limits and faults


async def test_per_chat_limit_allows_a_small_burst(
    limited: TelegramEmulator, clock: FakeClock
) -> None:
    async with limited.make_bot() as bot:
        for i in range(3):
            await bot.send_message(PRIVATE, f"burst {i}")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(PRIVATE, "too fast")
        assert seconds(caught.value.retry_after) == 1
        clock.advance(1.0)
        await bot.send_message(PRIVATE, "after a second")
        with pytest.raises(RetryAfter):
            await bot.send_message(PRIVATE, "again too fast")
        clock.advance(5.0)
        for i in range(3):
            await bot.send_message(PRIVATE, f"burst again {i}")
    assert limited.stats.too_many == 2
    assert limited.stats.rejected == 2
    assert len(limited.sent(PRIVATE)) == 7
    assert [e.status for e in limited.stats.errors] == [429, 429]


async def test_group_limit_twenty_per_minute(limited: TelegramEmulator, clock: FakeClock) -> None:
    async with limited.make_bot() as bot:
        for i in range(20):
            await bot.send_message(GROUP, f"news {i}")
            clock.advance(1.0)
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(GROUP, "one too many")
        assert seconds(caught.value.retry_after) == 40  # the first one leaves the window at 60 s
        await bot.send_message(PRIVATE, "private chats are not group-limited")
        clock.advance(40.0)
        await bot.send_message(GROUP, "room again")
    assert limited.stats.too_many == 1
    assert len(limited.sent(GROUP)) == 21


async def test_global_limit_thirty_per_second(limited: TelegramEmulator, clock: FakeClock) -> None:
    for user in range(31):
        limited.add_chat(50_000 + user)
    async with limited.make_bot() as bot:
        for user in range(30):
            await bot.send_message(50_000 + user, "broadcast")
        with pytest.raises(RetryAfter):
            await bot.send_message(50_030, "broadcast")
        clock.advance(1.0)
        await bot.send_message(50_030, "broadcast")
    assert limited.stats.too_many == 1


async def test_injected_retry_after_holds_the_chat(
    limited: TelegramEmulator, clock: FakeClock
) -> None:
    limited.fail_next(PRIVATE, "retry_after", retry_after=7)
    async with limited.make_bot() as bot:
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(PRIVATE, "one")
        assert seconds(caught.value.retry_after) == 7
        clock.advance(3.0)
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(PRIVATE, "retried too early")
        assert seconds(caught.value.retry_after) == 4
        clock.advance(4.0)
        await bot.send_message(PRIVATE, "one")
    assert limited.texts(PRIVATE) == ["one"]
    assert limited.stats.too_many == 2


async def test_forbidden(emu: TelegramEmulator) -> None:
    emu.fail_next(PRIVATE, "forbidden")
    emu.fail_next(GROUP, "forbidden")
    async with emu.make_bot() as bot:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(PRIVATE, "x")
        await bot.send_message(PRIVATE, "fine again")
        with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
            await bot.send_message(GROUP, "x")
        emu.block(SUPERGROUP)
        for _ in range(2):
            with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
                await bot.send_message(SUPERGROUP, "x")
        emu.unblock(SUPERGROUP)
        await bot.send_message(SUPERGROUP, "back")
    assert emu.stats.rejected == 4
    assert [e.chat_id for e in emu.stats.errors_for("sendMessage", 403)] == [
        PRIVATE,
        GROUP,
        SUPERGROUP,
        SUPERGROUP,
    ]


async def test_migrate(emu: TelegramEmulator) -> None:
    emu.fail_next(GROUP, "migrate")
    async with emu.make_bot() as bot:
        with pytest.raises(ChatMigrated) as caught:
            await bot.send_message(GROUP, "x")
        new_id = caught.value.new_chat_id
        assert new_id == int(f"-100{abs(GROUP)}")
        with pytest.raises(ChatMigrated):
            await bot.send_message(GROUP, "still the old id")
        message = await bot.send_message(new_id, "moved")
        assert message.chat.type == "supergroup"
    assert emu.chat(new_id).title == "News group"
    assert emu.texts(new_id) == ["moved"]


async def test_migrate_notifies_with_service_messages(emu: TelegramEmulator) -> None:
    new_id = emu.migrate(GROUP, -1005555)
    async with emu.make_bot() as bot:
        updates = await bot.get_updates()
    assert [u.message.migrate_to_chat_id for u in updates if u.message] == [-1005555, None]
    assert updates[1].message is not None and updates[1].message.migrate_from_chat_id == GROUP
    assert new_id == -1005555


async def test_server_errors(emu: TelegramEmulator) -> None:
    emu.fail_next(PRIVATE, "server_error")
    emu.fail_next(PRIVATE, "server_error", status=502)
    emu.fail_next(PRIVATE, "server_error", deliver=True)
    async with emu.make_bot() as bot:
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(PRIVATE, "a")
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(PRIVATE, "b")
        with pytest.raises(NetworkError):
            await bot.send_message(PRIVATE, "delivered despite the error")
        await bot.send_message(PRIVATE, "c")
    assert emu.texts(PRIVATE) == ["delivered despite the error", "c"]
    assert emu.stats.server_errors == 3
    assert emu.stats.rejected == 0


async def test_delay_fault_times_out_the_client(emu: TelegramEmulator) -> None:
    from telegram.error import TimedOut

    emu.fail_next(PRIVATE, "delay", delay=0.3)
    async with emu.make_bot() as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(PRIVATE, "slow", read_timeout=0.1)
    # the server went on after the delay, as Telegram may
    await asyncio.to_thread(emu.wait_for_messages, PRIVATE, 1, 3.0)


# ------------------------------------------------------------------------------- commands


async def test_my_commands(emu: TelegramEmulator) -> None:
    commands = [BotCommand("start", "Subscribe"), BotCommand("digest_now", "Send a digest")]
    async with emu.make_bot() as bot:
        assert await bot.set_my_commands(commands)
        assert await bot.set_my_commands(commands[:1], language_code="de")
        assert await bot.set_my_commands(
            [BotCommand("feeds", "Manage feeds")], scope=BotCommandScopeAllChatAdministrators()
        )
        assert await bot.set_my_commands(
            [BotCommand("mute", "Mute")], scope=BotCommandScopeChat(SUPERGROUP)
        )
        assert [c.command for c in await bot.get_my_commands()] == ["start", "digest_now"]
        assert [c.command for c in await bot.get_my_commands(language_code="de")] == ["start"]
        admin = await bot.get_my_commands(scope=BotCommandScopeAllChatAdministrators())
        assert [c.command for c in admin] == ["feeds"]
        assert await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats()) == ()
        assert await bot.delete_my_commands(scope=BotCommandScopeChat(SUPERGROUP))
        assert await bot.get_my_commands(scope=BotCommandScopeChat(SUPERGROUP)) == ()
        bad: list[tuple[list[BotCommand], str]] = [
            ([BotCommand("Start", "x")], "Bot_command_invalid"),
            ([BotCommand("a" * 33, "x")], "Command is too long"),
            ([BotCommand("ok", "")], "Command description must be non-empty"),
            ([BotCommand("ok", "d" * 257)], "Command description is too long"),
            ([BotCommand(f"c{i}", "x") for i in range(101)], "Bot_commands_too_much"),
        ]
        for invalid, error in bad:
            with pytest.raises(BadRequest, match=error):
                await bot.set_my_commands(invalid)
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.set_my_commands(commands, scope=BotCommandScopeChat(12345))
        assert await bot.set_my_commands([BotCommand("a" * 32, "d" * 256)] * 100)
    assert emu.my_commands(language_code="de") == [{"command": "start", "description": "Subscribe"}]


# ------------------------------------------------------------------------------- updates


async def test_get_updates_offset_timeout_and_allowed_updates(emu: TelegramEmulator) -> None:
    first = emu.push_message(PRIVATE, text="hello")
    emu.push_my_chat_member(GROUP, "member", from_user_id=ALICE)
    emu.push_update({"chat_member": {"x": 1}})  # not delivered by default
    async with emu.make_bot() as bot:
        updates = await bot.get_updates(timeout=0)
        assert [u.update_id for u in updates][:1] == [first["update_id"]]
        assert len(updates) == 2
        assert (await bot.get_updates(offset=updates[0].update_id + 1))[0].my_chat_member
        assert await bot.get_updates(offset=updates[-1].update_id + 1) == ()
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await bot.get_updates(timeout=30) == ()  # capped by max_poll_timeout
        assert loop.time() - started < 2.0

        async def later() -> None:
            await asyncio.sleep(0.1)
            emu.push_message(PRIVATE, text="while polling")

        task = asyncio.create_task(later())
        updates = await bot.get_updates(timeout=5)
        await task
        assert [u.message.text for u in updates if u.message] == ["while polling"]
        emu.push_message(GROUP, ALICE, "filtered out")
        emu.push_callback_query(PRIVATE, data="x", message_id=updates[0].message.message_id)
        allowed = await bot.get_updates(
            offset=updates[0].update_id + 1, allowed_updates=["callback_query"]
        )
        assert [u.callback_query.data for u in allowed if u.callback_query] == ["x"]
        assert len(allowed) == 1


async def test_webhook_methods_and_conflict(emu: TelegramEmulator) -> None:
    async with emu.make_bot() as bot:
        with pytest.raises(BadRequest, match=r"(?i)An HTTPS URL must be provided"):
            await bot.set_webhook("http://bot.example.org/hook")
        with pytest.raises(BadRequest, match=r"(?i)ports 80, 88, 443 or 8443"):
            await bot.set_webhook("https://bot.example.org:8444/hook")
        with pytest.raises(BadRequest, match=r"(?i)unallowed characters"):
            await bot.set_webhook("https://bot.example.org/hook", secret_token="no spaces")
        assert await bot.set_webhook(
            "https://bot.example.org:8443/hook",
            secret_token="s3cr3t_-",
            allowed_updates=["message"],
            max_connections=10,
        )
        info = await bot.get_webhook_info()
        assert (info.url, info.max_connections, info.allowed_updates) == (
            "https://bot.example.org:8443/hook",
            10,
            ("message",),
        )
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        emu.push_message(PRIVATE, text="pending")
        assert (await bot.get_webhook_info()).pending_update_count == 1
        assert await bot.delete_webhook(drop_pending_updates=True)
        assert (await bot.get_webhook_info()).url == ""
        assert await bot.get_updates() == ()


async def test_webhook_delivery() -> None:
    received: list[tuple[dict[str, Any], str | None]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((json.loads(body), self.headers.get("X-Telegram-Bot-Api-Secret-Token")))
            status = 500 if len(received) == 1 else 200  # the first attempt fails
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with TelegramEmulator(strict_webhook_urls=False) as emu:
            emu.add_chat(PRIVATE)
            url = f"http://127.0.0.1:{server.server_address[1]}/hook"
            async with emu.make_bot() as bot:
                await bot.set_webhook(url, secret_token="topsecret")
                update = emu.push_message(PRIVATE, text="/start")
                for _ in range(300):
                    if len(received) >= 2:
                        break
                    await asyncio.sleep(0.01)
                info = await bot.get_webhook_info()
            assert (
                info.last_error_message
                == "Wrong response from the webhook: 500 Internal Server Error"
            )
            assert info.pending_update_count == 0
            assert [d.status for d in emu.webhook_deliveries] == [500, 200]
    finally:
        server.shutdown()
        server.server_close()
    assert [r[0] for r in received] == [update, update]
    assert {r[1] for r in received} == {"topsecret"}
    parsed = Update.de_json(received[1][0], None)
    assert parsed.message is not None and parsed.message.text == "/start"


async def test_application_answers_commands(emu: TelegramEmulator) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id,
            f"<b>Hi</b> {update.effective_user.first_name if update.effective_user else ''}",
            parse_mode=ParseMode.HTML,
            message_thread_id=update.effective_message.message_thread_id
            if update.effective_message and update.effective_message.is_topic_message
            else None,
        )

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer("Noted")
        await query.edit_message_text(f"chose {query.data}")

    async def digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
        await context.bot.send_message(update.effective_chat.id, "pick", reply_markup=keyboard)

    topic = emu.add_topic(FORUM, "Tech")
    app = emu.application_builder().build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("digest", digest))
    app.add_handler(CallbackQueryHandler(button))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.05)
        try:
            emu.push_message(PRIVATE, text="/start")
            emu.push_message(GROUP, BOB, "/start@digest_test_bot")
            emu.push_message(GROUP, BOB, "/start@another_bot")  # not for us
            emu.push_message(FORUM, ALICE, "/start", thread_id=topic)
            (reply,) = await emu.wait_for_messages_async(PRIVATE, 1)
            (group_reply,) = await emu.wait_for_messages_async(GROUP, 1)
            (forum_reply,) = await emu.wait_for_messages_async(FORUM, 1)
            emu.push_message(PRIVATE, text="/digest")
            picker = (await emu.wait_for_messages_async(PRIVATE, 2))[-1]
            query_id = emu.push_callback_query(PRIVATE, data="a", message_id=picker.message_id)
            for _ in range(300):
                if picker.text == "chose a":
                    break
                await asyncio.sleep(0.01)
        finally:
            await app.updater.stop()
            await app.stop()
    assert (reply.text, reply.entities) == (
        "Hi Alice",
        [{"type": "bold", "offset": 0, "length": 2}],
    )
    assert group_reply.text == "Hi Bob"
    assert (forum_reply.text, forum_reply.thread_id) == ("Hi Alice", topic)
    assert picker.text == "chose a" and picker.reply_markup is None
    assert emu.callback_answers[query_id].answered
    assert emu.callback_answers[query_id].text == "Noted"
    assert len(emu.sent(GROUP)) == 1
    assert emu.stats.rejected == 0
    assert emu.pending_updates() == []


async def test_kicked_bot_gets_my_chat_member_and_403(emu: TelegramEmulator) -> None:
    seen: list[str] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.my_chat_member is not None
        seen.append(update.my_chat_member.new_chat_member.status)

    from telegram.ext import ChatMemberHandler

    app = emu.application_builder().build()
    app.add_handler(ChatMemberHandler(record, ChatMemberHandler.MY_CHAT_MEMBER))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.05)
        try:
            emu.push_my_chat_member(PRIVATE, "kicked")
            emu.push_my_chat_member(SUPERGROUP, "left", from_user_id=ALICE)
            for _ in range(300):
                if len(seen) == 2:
                    break
                await asyncio.sleep(0.01)
            with pytest.raises(Forbidden, match="blocked by the user"):
                await app.bot.send_message(PRIVATE, "x")
            with pytest.raises(Forbidden, match="not a member of the supergroup chat"):
                await app.bot.send_message(SUPERGROUP, "x")
        finally:
            await app.updater.stop()
            await app.stop()
    assert seen == ["kicked", "left"]


# ------------------------------------------------------------------------------- files


async def test_document_upload_and_download(emu: TelegramEmulator) -> None:
    opml = b'<?xml version="1.0"?>\r\n<opml version="2.0"><body>\r\n--\r\n</body></opml>\n'
    async with emu.make_bot() as bot:
        message = await bot.send_document(
            PRIVATE,
            InputFile(opml, filename="feeds.opml"),
            caption="<b>Your feeds</b>",
            parse_mode=ParseMode.HTML,
        )
        assert message.document is not None
        assert message.document.file_name == "feeds.opml"
        assert message.caption == "Your feeds"
        file = await bot.get_file(message.document.file_id)
        assert file.file_path is not None and file.file_path.startswith(emu.file_url)
        assert bytes(await file.download_as_bytearray()) == opml
        # re-send by file_id
        again = await bot.send_document(GROUP, message.document.file_id)
        assert again.document is not None and again.document.file_id == message.document.file_id
        with pytest.raises(BadRequest, match="Invalid file_id"):
            await bot.get_file("nope")
        with pytest.raises(BadRequest, match="Message caption is too long"):
            await bot.send_document(PRIVATE, InputFile(b"x", filename="a.txt"), caption="c" * 1025)
    (sent,) = emu.sent(PRIVATE)
    assert sent.document is not None and sent.document.data == opml
    assert sent.caption == "Your feeds"
    path = sent.document.file_path
    for url, status in [
        (f"{emu.file_url}7000000001:wrong-test-token/{path}", 401),
        (f"{emu.file_url}{emu.token}/documents/missing.opml", 404),
    ]:
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(url, timeout=5)
        assert caught.value.code == status


async def test_second_poller_terminates_the_first(emu: TelegramEmulator) -> None:
    async with emu.make_bot() as first, emu.make_bot() as second:
        waiting = asyncio.create_task(first.get_updates(timeout=5))
        await asyncio.sleep(0.1)
        assert await second.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await waiting


async def test_bot_downloads_a_pushed_document(emu: TelegramEmulator) -> None:
    opml = "<opml><body><outline xmlUrl='https://ex.org/rss' text='Ünïcode'/></body></opml>"
    got: list[bytes] = []

    async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.document is not None
        file = await update.message.document.get_file()
        got.append(bytes(await file.download_as_bytearray()))
        await update.message.reply_text(
            f"imported {update.message.document.file_name}", do_quote=True
        )

    app = emu.application_builder().build()
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.05)
        try:
            emu.push_message(PRIVATE, document=("subscriptions.opml", opml.encode(), "text/x-opml"))
            (reply,) = await emu.wait_for_messages_async(PRIVATE, 1)
        finally:
            await app.updater.stop()
            await app.stop()
    assert got == [opml.encode()]
    assert reply.text == "imported subscriptions.opml"
    assert reply.reply_to is not None


def test_sync_usage_and_wait_timeout() -> None:
    emu = TelegramEmulator(limits=RateLimits(enabled=False)).start()
    try:
        emu.add_chat(PRIVATE)
        with pytest.raises(TimeoutError, match="0 of 1 messages"):
            emu.wait_for_messages(PRIVATE, 1, timeout=0.1)
        assert emu.sent(12345) == []
    finally:
        emu.stop()
    emu.stop()  # idempotent
