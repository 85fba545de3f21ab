"""Everything the bot says in a chat, in German and English (pure).

Texts are Telegram HTML. :func:`text` fills placeholders through markupsafe,
so every value is escaped unless it is already :class:`~markupsafe.Markup`;
a feed title or a user's pattern can never break the markup or inject a link.
The command list (names, descriptions, where they are offered) lives here too,
so ``/help`` and the menu registered with ``setMyCommands`` never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from digests.labels import labels
from digests.render import TELEGRAM_LIMIT, telegram_length
from digests.subscriptions import Subscription

LANGUAGES = ("de", "en")
FACT_CHARS = 1200  # one timeline line: far below a message, so packing never cuts markup


@dataclass(frozen=True, slots=True)
class Command:
    """One bot command. ``where``: private, admin (group admins), group (members), owner."""

    name: str
    args: str
    de: str
    en: str
    where: frozenset[str]
    args_de: str = ""

    def description(self, language: str) -> str:
        return self.de if language == "de" else self.en

    def arguments(self, language: str) -> str:
        return (self.args_de or self.args) if language == "de" else self.args


def _cmd(name: str, args: str, de: str, en: str, where: str, args_de: str = "") -> Command:
    return Command(name, args, de, en, frozenset(where.split()), args_de)


COMMANDS: tuple[Command, ...] = (
    _cmd("start", "", "Begrüßung und Kurzanleitung", "Welcome and quick start", "private"),
    _cmd("help", "", "Alle Befehle", "All commands", "private admin group"),
    _cmd(
        "subscribe",
        "[feed …]",
        "Digests in diesem Chat/Thema abonnieren",
        "Get digests in this chat/topic",
        "private admin",
        "[Quelle …]",
    ),
    _cmd("unsubscribe", "", "Abo beenden", "Stop the digests", "private admin"),
    _cmd(
        "settings",
        "[option value]",
        "Sprache, Takt, Vorschau, Ruhezeiten",
        "Language, schedule, previews, quiet hours",
        "private admin",
        "[Option Wert]",
    ),
    _cmd(
        "filter",
        "[+word | -word | +/regex/ | clear]",
        "Stichwortfilter",
        "Keyword filters",
        "private admin",
        "[+Wort | -Wort | +/Regex/ | clear]",
    ),
    _cmd("digest", "", "Digest jetzt senden", "Send the digest now", "private admin group"),
    _cmd("stories", "", "Aktuelle Meldungen", "Recent stories", "private admin group"),
    _cmd("story", "<id>", "Fakten einer Meldung", "A story's facts", "private admin group"),
    _cmd(
        "why",
        "<url | article id>",
        "Warum gepostet oder unterdrückt?",
        "Why posted or suppressed?",
        "private admin group",
        "<URL | Artikel-ID>",
    ),
    _cmd("feeds", "", "Quellen und ihr Zustand", "Feeds and their health", "private admin"),
    _cmd("export", "", "Quellen als OPML", "Feeds as OPML", "private admin"),
    _cmd("pause", "", "Digests anhalten", "Pause the digests", "private admin"),
    _cmd("resume", "", "Digests fortsetzen", "Resume the digests", "private admin"),
    _cmd("addfeed", "<url> [name]", "Quelle hinzufügen", "Add a feed", "owner", "<url> [Name]"),
    _cmd("removefeed", "<url>", "Quelle entfernen", "Remove a feed", "owner"),
    _cmd(
        "import",
        "",
        "OPML-Datei importieren (als Dokument mit Beschriftung /import)",
        "Import an OPML file (send it with the caption /import)",
        "owner",
    ),
    _cmd("stats", "", "Betriebszahlen", "Operating figures", "owner"),
)
COMMAND_NAMES = frozenset(c.name for c in COMMANDS)


def commands_for(where: str) -> list[Command]:
    """The commands offered in one menu (``owner`` also gets everything private)."""
    if where == "owner":
        return [c for c in COMMANDS if c.where & {"private", "owner"}]
    return [c for c in COMMANDS if where in c.where]


def choose_language(subscription_language: str | None, user_language: str | None) -> str:
    """The chat's subscription language wins; else German for ``de*`` users, else English."""
    if subscription_language in LANGUAGES:
        return subscription_language
    return "de" if (user_language or "").lower().startswith("de") else "en"


_EN: dict[str, str] = {
    "start": (
        "<b>Hello!</b> I read news feeds, drop repeats, group articles into stories "
        "and post only the <i>new facts</i> of each story.\n\n"
        "/subscribe – get digests here\n/settings – language, schedule, previews\n"
        "/help – all commands"
    ),
    "help_head": "<b>Commands</b>",
    "help_owner": "<b>Owner commands</b>",
    "help_foot": (
        "In groups and channels only administrators change the subscription. "
        "Examples: <code>/filter +Kyiv</code>, <code>/settings quiet 22:00-07:00</code>, "
        "<code>/settings timezone Europe/Berlin</code>, <code>/settings daily 07:30</code>."
    ),
    "usage": "Usage: <code>{call}</code>",
    "unknown_command": "I don't know /{name}. Send /help for the list of commands.",
    "not_admin": "Sorry, only administrators of this chat can change its digests.",
    "not_owner": "Sorry, only the bot's owners can do that.",
    "rate_limited": "You are sending commands very fast. Please wait a minute and try again.",
    "too_long": "That command is too long. Please shorten it.",
    "error": "Sorry, something went wrong on my side. Please try again later.",
    "not_subscribed": "This chat has no subscription yet. Send /subscribe first.",
    "subscribed": "Subscribed. This {place} now gets digests of {feeds}.\nChange it: /settings",
    "resubscribed": "Already subscribed ({feeds}). Change it: /settings",
    "place_chat": "chat",
    "place_topic": "topic",
    "all_feeds": "all feeds",
    "unknown_feeds": "Unknown feeds: {names}. Send /feeds for the list.",
    "unsubscribed": "Unsubscribed. No more digests here.",
    "settings_head": "<b>Settings</b> for this {place}",
    "settings_saved": "Saved.",
    "settings_invalid": "Not changed: {error}",
    "settings_usage": (
        "Usage: <code>/settings</code> (buttons) or <code>/settings option value</code>:\n"
        "language de|en · mode instant|30|60|180|daily · daily HH:MM · "
        "timezone Europe/Berlin · quiet 22:00-07:00|off · previews on|off · "
        "silent on|off · updates new|reply|edit · max 1–50"
    ),
    "s_language": "Language",
    "s_mode": "Delivery",
    "s_timezone": "Time zone",
    "s_quiet": "Quiet hours",
    "s_previews": "Link previews",
    "s_silent": "Silent",
    "s_updates": "Story updates",
    "s_max": "Max stories per digest",
    "s_filters": "Filters",
    "s_status": "Status",
    "s_feeds": "Feeds",
    "mode_instant": "instant",
    "mode_interval": "every {minutes} min",
    "mode_daily": "daily at {time}",
    "on": "on",
    "off": "off",
    "none": "none",
    "upd_new": "new message",
    "upd_reply": "reply to the first",
    "upd_edit": "edit the first",
    "status_active": "active",
    "status_paused": "paused",
    "status_inactive": "inactive ({reason})",
    "btn_daily": "daily 08:00",
    "btn_instant": "instant",
    "btn_previews": "Previews",
    "btn_silent": "Silent",
    "btn_max": "max {n}",
    "filter_none": "No filters: every story is posted.",
    "filter_list": "<b>Filters</b>\n{lines}",
    "filter_include": "must contain one of",
    "filter_exclude": "must not contain",
    "filter_added": "Filter added: {pattern}",
    "filter_removed": "Filter removed: {pattern}",
    "filter_missing": "No such filter: {pattern}",
    "filter_cleared": "All filters removed.",
    "filter_exists": "That filter is already set.",
    "filter_bad": "Filter refused: {error}",
    "filter_usage": (
        "Usage: <code>/filter +word</code> (must contain), <code>/filter -word</code> "
        "(must not contain), <code>/filter +/regex/</code>, <code>/filter del word</code>, "
        "<code>/filter clear</code>, <code>/filter</code> (list)"
    ),
    "digest_sent": "Digest sent: {count} message(s).",
    "digest_nothing": "Nothing new since the last digest.",
    "digest_queued": "Your digest is queued and follows shortly.",
    "paused": "Paused. Send /resume to get digests again.",
    "resumed": "Resumed. Digests are on again.",
    "already_paused": "Already paused.",
    "not_paused": "Not paused.",
    "stories_none": "No stories yet.",
    "stories_head": "<b>Recent stories</b>",
    "stories_foot": "Facts of one story: <code>/story &lt;id&gt;</code>",
    "articles": "{n} article(s)",
    "story_unknown": "No story {id} (unknown, or expired).",
    "story_meta": "{id} · {articles} · {sources}",
    "story_no_facts": "No facts stored for this story.",
    "why_unknown": (
        "I know nothing about {what}: it was never seen, or it is older than the duplicate memory."
    ),
    "why_posted": "<b>Posted</b>: article <code>{article}</code> was accepted as new.",
    "why_by_url": (
        "This address is on record for article <code>{article}</code>, which was accepted "
        "as new. Any later copy (same address, same or nearly the same text) was "
        "suppressed as a repeat of it."
    ),
    "why_exact": (
        "<b>Suppressed</b>: an exact repeat (same {reason}) of article <code>{original}</code>."
    ),
    "why_near": (
        "<b>Suppressed</b>: a near-duplicate of article <code>{original}</code> "
        "(text similarity {similarity})."
    ),
    "why_story": "Story {id}: {title} ({articles}). Facts: <code>/story {id}</code>",
    "why_no_story": "It is not linked to a story (any more).",
    "why_normalised": "Address normalised to {url}",
    "reason_guid": "feed item id",
    "reason_url": "address",
    "reason_content": "text",
    "feeds_none": "No feeds configured.",
    "feeds_head": "<b>Feeds</b>",
    "feed_ok": "ok",
    "feed_failing": "failing ({failures}×)",
    "feed_off": "deactivated: {reason}",
    "feed_new": "not polled yet",
    "feed_local": "local file",
    "addfeed_bad": "That is not an http(s) feed URL: {url}",
    "addfeed_ok": "Feed added: {url}\nIt is polled from the next cycle on.",
    "addfeed_exists": "Already a feed: {url}",
    "removefeed_ok": "Feed removed: {url}",
    "removefeed_configured": "{url} is in the configuration file; remove it there and restart.",
    "removefeed_unknown": "Not a feed: {url}",
    "import_usage": (
        "Send an OPML file as a document with the caption /import, or reply to one with /import."
    ),
    "import_too_big": "The file is too large (at most {kib} KiB).",
    "import_bad": "Could not import: {error}",
    "import_done": "Imported {added} feed(s); {known} already known.",
    "export_none": "No http(s) feeds to export.",
    "export_caption": "{count} feed(s)",
    "stats": (
        "<b>Stats</b>\nFeeds: {feeds} ({added} added at run time, {failing} failing, "
        "{off} deactivated)\nStories created: {stories}\n"
        "Subscriptions: {subs} ({active} active, {paused} paused)\nOutbox: {outbox}"
    ),
    "stats_deactivated": "<b>Deactivated</b>\n{lines}",
    "stats_no_outbox": "n/a",
    "hello_group": "Hello! An administrator can send /subscribe to get news digests here. /help",
}

_DE: dict[str, str] = {
    "start": (
        "<b>Hallo!</b> Ich lese Nachrichtenquellen, verwerfe Wiederholungen, fasse Artikel "
        "zu Meldungen zusammen und poste nur die <i>neuen Fakten</i> jeder Meldung.\n\n"
        "/subscribe – Digests hier erhalten\n/settings – Sprache, Takt, Vorschau\n"
        "/help – alle Befehle"
    ),
    "help_head": "<b>Befehle</b>",
    "help_owner": "<b>Befehle für Betreiber</b>",
    "help_foot": (
        "In Gruppen und Kanälen ändern nur Administratoren das Abo. "
        "Beispiele: <code>/filter +Kiew</code>, <code>/settings quiet 22:00-07:00</code>, "
        "<code>/settings timezone Europe/Berlin</code>, <code>/settings daily 07:30</code>."
    ),
    "usage": "Aufruf: <code>{call}</code>",
    "unknown_command": "/{name} kenne ich nicht. /help zeigt alle Befehle.",
    "not_admin": "Das dürfen leider nur Administratoren dieses Chats ändern.",
    "not_owner": "Das dürfen leider nur die Betreiber des Bots.",
    "rate_limited": "Sehr viele Befehle in kurzer Zeit. Bitte warte eine Minute.",
    "too_long": "Dieser Befehl ist zu lang. Bitte kürzer fassen.",
    "error": "Entschuldigung, bei mir ist etwas schiefgegangen. Bitte versuche es später.",
    "not_subscribed": "Dieser Chat hat noch kein Abo. Sende zuerst /subscribe.",
    "subscribed": "Abonniert. {place} erhält jetzt Digests von {feeds}.\nÄndern: /settings",
    "resubscribed": "Schon abonniert ({feeds}). Ändern: /settings",
    "place_chat": "Dieser Chat",
    "place_topic": "Dieses Thema",
    "all_feeds": "allen Quellen",
    "unknown_feeds": "Unbekannte Quellen: {names}. /feeds zeigt die Liste.",
    "unsubscribed": "Abo beendet. Hier kommen keine Digests mehr.",
    "settings_head": "<b>Einstellungen</b> – {place}",
    "settings_saved": "Gespeichert.",
    "settings_invalid": "Nicht geändert: {error}",
    "settings_usage": (
        "Aufruf: <code>/settings</code> (Knöpfe) oder <code>/settings Option Wert</code>:\n"
        "language de|en · mode instant|30|60|180|daily · daily HH:MM · "
        "timezone Europe/Berlin · quiet 22:00-07:00|off · previews on|off · "
        "silent on|off · updates new|reply|edit · max 1–50"
    ),
    "s_language": "Sprache",
    "s_mode": "Zustellung",
    "s_timezone": "Zeitzone",
    "s_quiet": "Ruhezeiten",
    "s_previews": "Linkvorschau",
    "s_silent": "Lautlos",
    "s_updates": "Updates einer Meldung",
    "s_max": "Höchstens Meldungen pro Digest",
    "s_filters": "Filter",
    "s_status": "Status",
    "s_feeds": "Quellen",
    "mode_instant": "sofort",
    "mode_interval": "alle {minutes} Min.",
    "mode_daily": "täglich um {time}",
    "on": "an",
    "off": "aus",
    "none": "keine",
    "upd_new": "neue Nachricht",
    "upd_reply": "Antwort auf die erste",
    "upd_edit": "erste bearbeiten",
    "status_active": "aktiv",
    "status_paused": "angehalten",
    "status_inactive": "inaktiv ({reason})",
    "btn_daily": "täglich 08:00",
    "btn_instant": "sofort",
    "btn_previews": "Vorschau",
    "btn_silent": "Lautlos",
    "btn_max": "max. {n}",
    "filter_none": "Keine Filter: jede Meldung wird gepostet.",
    "filter_list": "<b>Filter</b>\n{lines}",
    "filter_include": "muss eines enthalten",
    "filter_exclude": "darf nicht enthalten",
    "filter_added": "Filter hinzugefügt: {pattern}",
    "filter_removed": "Filter entfernt: {pattern}",
    "filter_missing": "Diesen Filter gibt es nicht: {pattern}",
    "filter_cleared": "Alle Filter entfernt.",
    "filter_exists": "Diesen Filter gibt es schon.",
    "filter_bad": "Filter abgelehnt: {error}",
    "filter_usage": (
        "Aufruf: <code>/filter +Wort</code> (muss enthalten), <code>/filter -Wort</code> "
        "(darf nicht enthalten), <code>/filter +/Regex/</code>, <code>/filter del Wort</code>, "
        "<code>/filter clear</code>, <code>/filter</code> (Liste)"
    ),
    "digest_sent": "Digest gesendet: {count} Nachricht(en).",
    "digest_nothing": "Seit dem letzten Digest gibt es nichts Neues.",
    "digest_queued": "Dein Digest ist eingereiht und kommt gleich.",
    "paused": "Angehalten. Mit /resume geht es weiter.",
    "resumed": "Fortgesetzt. Digests kommen wieder.",
    "already_paused": "Schon angehalten.",
    "not_paused": "Nicht angehalten.",
    "stories_none": "Noch keine Meldungen.",
    "stories_head": "<b>Aktuelle Meldungen</b>",
    "stories_foot": "Fakten einer Meldung: <code>/story &lt;id&gt;</code>",
    "articles": "{n} Artikel",
    "story_unknown": "Keine Meldung {id} (unbekannt oder abgelaufen).",
    "story_meta": "{id} · {articles} · {sources}",
    "story_no_facts": "Zu dieser Meldung sind keine Fakten gespeichert.",
    "why_unknown": (
        "Über {what} weiß ich nichts: nie gesehen, oder älter als das Gedächtnis für Duplikate."
    ),
    "why_posted": "<b>Gepostet</b>: Artikel <code>{article}</code> wurde als neu angenommen.",
    "why_by_url": (
        "Diese Adresse gehört zu Artikel <code>{article}</code>, der als neu angenommen "
        "wurde. Spätere Kopien (gleiche Adresse, gleicher oder fast gleicher Text) wurden "
        "als Wiederholung unterdrückt."
    ),
    "why_exact": (
        "<b>Unterdrückt</b>: exakte Wiederholung (gleiche {reason}) von Artikel "
        "<code>{original}</code>."
    ),
    "why_near": (
        "<b>Unterdrückt</b>: fast gleich wie Artikel <code>{original}</code> "
        "(Textähnlichkeit {similarity})."
    ),
    "why_story": "Meldung {id}: {title} ({articles}). Fakten: <code>/story {id}</code>",
    "why_no_story": "Er gehört (nicht mehr) zu einer Meldung.",
    "why_normalised": "Adresse normalisiert zu {url}",
    "reason_guid": "Eintrags-ID",
    "reason_url": "Adresse",
    "reason_content": "Text",
    "feeds_none": "Keine Quellen eingerichtet.",
    "feeds_head": "<b>Quellen</b>",
    "feed_ok": "ok",
    "feed_failing": "fehlerhaft ({failures}×)",
    "feed_off": "abgeschaltet: {reason}",
    "feed_new": "noch nicht abgerufen",
    "feed_local": "lokale Datei",
    "addfeed_bad": "Das ist keine http(s)-Feed-Adresse: {url}",
    "addfeed_ok": "Quelle hinzugefügt: {url}\nSie wird ab dem nächsten Durchlauf abgerufen.",
    "addfeed_exists": "Schon eine Quelle: {url}",
    "removefeed_ok": "Quelle entfernt: {url}",
    "removefeed_configured": (
        "{url} steht in der Konfigurationsdatei; dort entfernen und neu starten."
    ),
    "removefeed_unknown": "Keine Quelle: {url}",
    "import_usage": (
        "Sende eine OPML-Datei als Dokument mit der Beschriftung /import oder antworte "
        "auf eine mit /import."
    ),
    "import_too_big": "Die Datei ist zu groß (höchstens {kib} KiB).",
    "import_bad": "Import nicht möglich: {error}",
    "import_done": "{added} Quelle(n) importiert; {known} schon bekannt.",
    "export_none": "Keine http(s)-Quellen zum Exportieren.",
    "export_caption": "{count} Quelle(n)",
    "stats": (
        "<b>Statistik</b>\nQuellen: {feeds} ({added} zur Laufzeit hinzugefügt, {failing} "
        "fehlerhaft, {off} abgeschaltet)\nAngelegte Meldungen: {stories}\n"
        "Abos: {subs} ({active} aktiv, {paused} angehalten)\nPostausgang: {outbox}"
    ),
    "stats_deactivated": "<b>Abgeschaltet</b>\n{lines}",
    "stats_no_outbox": "–",
    "hello_group": (
        "Hallo! Ein Administrator kann mit /subscribe hier Nachrichten-Digests bestellen. /help"
    ),
}

_TEXTS = {"en": _EN, "de": _DE}


def _t(language: str, key: str, **values: object) -> Markup:
    template = _TEXTS.get(language, _EN).get(key) or _EN[key]
    return Markup(template).format(**values)


def text(language: str, key: str, **values: object) -> str:
    """The message ``key`` in ``language`` with ``values`` escaped into it.

    Pass :class:`~markupsafe.Markup` for a value that is already HTML.
    """
    return str(_t(language, key, **values))


def usage(language: str, name: str) -> str:
    args = next((c.arguments(language) for c in COMMANDS if c.name == name), "")
    return text(language, "usage", call=f"/{name} {args}".strip())


def help_text(language: str, *, owner: bool) -> str:
    def lines(commands: Iterable[Command]) -> list[str]:
        return [
            str(
                Markup("/{name} {args}– {what}").format(
                    name=c.name,
                    args=f"{c.arguments(language)} " if c.args else "",
                    what=c.description(language),
                )
            )
            for c in commands
        ]

    parts = [text(language, "help_head"), *lines(c for c in COMMANDS if "owner" not in c.where)]
    if owner:
        owned = (c for c in COMMANDS if "owner" in c.where)
        parts += ["", text(language, "help_owner"), *lines(owned)]
    parts += ["", text(language, "help_foot")]
    return "\n".join(parts)


def _mode(sub: Subscription, language: str) -> Markup:
    if sub.mode == "interval":
        return _t(language, "mode_interval", minutes=sub.interval_minutes)
    if sub.mode == "daily":
        return _t(language, "mode_daily", time=sub.daily_at)
    return _t(language, "mode_instant")


def settings_summary(sub: Subscription, language: str, *, topic: bool) -> str:
    """The ``/settings`` message: every option of ``sub`` on its own line."""

    def on_off(value: bool) -> Markup:
        return _t(language, "on" if value else "off")

    # Plain str values are escaped by format(); Markup ones are already HTML.
    if not sub.active:
        status = _t(language, "status_inactive", reason=sub.deactivated_reason or "?")
    else:
        status = _t(language, "status_paused" if sub.paused else "status_active")
    quiet = f"{sub.quiet_start}–{sub.quiet_end}" if sub.quiet_start else _t(language, "off")
    filters = len(sub.include) + len(sub.exclude)
    rows: list[tuple[str, str | Markup]] = [
        ("s_status", status),
        ("s_language", "Deutsch" if sub.language == "de" else "English"),
        ("s_mode", _mode(sub, language)),
        ("s_timezone", sub.timezone),
        ("s_quiet", quiet),
        ("s_previews", on_off(sub.link_previews)),
        ("s_silent", on_off(sub.silent)),
        ("s_updates", _t(language, f"upd_{sub.update_mode}")),
        ("s_max", str(sub.max_stories)),
        ("s_feeds", ", ".join(sub.feeds) or _t(language, "all_feeds")),
        ("s_filters", str(filters) if filters else _t(language, "none")),
    ]
    place = _t(language, "place_topic" if topic else "place_chat")
    head = text(language, "settings_head", place=place)
    body = [str(Markup("{}: <b>{}</b>").format(_t(language, k), v)) for k, v in rows]
    return "\n".join([head, *body])


def filter_list(sub: Subscription, language: str) -> str:
    if not sub.include and not sub.exclude:
        return text(language, "filter_none")
    lines = [f"+{p}" for p in sub.include] + [f"-{p}" for p in sub.exclude]
    body = Markup("\n").join(Markup("<code>{}</code>").format(line) for line in lines)
    return text(language, "filter_list", lines=body)


def pack(blocks: Sequence[str], limit: int = TELEGRAM_LIMIT) -> list[str]:
    """HTML blocks joined by newlines into as few messages as fit ``limit``.

    Blocks are never cut, so tags stay balanced; callers keep each block short.
    """
    messages: list[str] = []
    current = ""
    for block in blocks:
        joined = f"{current}\n{block}" if current else block
        if current and telegram_length(joined) > limit:
            messages.append(current)
            current = block
        else:
            current = joined
    if current:
        messages.append(current)
    return messages


def _clip(value: str, limit: int = FACT_CHARS) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def story_messages(
    story_id: str,
    title: str,
    article_count: int,
    sources: Sequence[str],
    facts: Sequence[tuple[str, str]],
    language: str,
    limit: int = TELEGRAM_LIMIT,
) -> list[str]:
    """A story's fact timeline (``(type, text)`` oldest first) as Telegram HTML messages."""
    names = labels(language)
    meta = text(
        language,
        "story_meta",
        id=story_id,
        articles=text(language, "articles", n=article_count),
        sources=", ".join(_clip(s, 100) for s in sources[:10]) or "–",
    )
    blocks = [str(Markup("<b>{}</b>\n<i>{}</i>\n").format(_clip(title, 300), Markup(meta)))]
    if not facts:
        blocks.append(text(language, "story_no_facts"))
    for number, (kind, fact) in enumerate(facts, 1):
        label = names.get(kind, kind)
        blocks.append(str(Markup("{}. <i>{}</i>: {}").format(number, label, _clip(fact))))
    return pack(blocks, limit)
