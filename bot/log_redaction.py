"""Secrets never reach the logs: a filter on the handlers that masks them.

Secrets come from the environment only (the bot token, a Redis URL with a
password, webhook URLs and signing secrets), but they still end up in log
records: httpx logs every request URL (a Bot API URL contains the token), an
exception may quote a URL with its password, a traceback shows arguments.

:class:`Redactor` masks (a) every secret it was given, wherever it appears,
and (b) what looks like a secret even when nobody registered it: Telegram bot
tokens and the password part of ``scheme://user:password@host`` URLs. It is a
filter on the *handlers* (logging applies a logger's filters only to records
logged through that very logger, not to those propagated from child loggers
such as ``httpx`` or ``telegram.ext``), and it masks the formatted message,
the exception text and the stack text before any handler formats them.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from bot.config import Config

MASK = "***"
# Secrets shorter than this are not masked by value: "1" or "ab" would garble every line.
MIN_SECRET_CHARS = 6
# A Bot API token: the bot's numeric id, a colon, 35 characters of base64url.
_BOT_TOKEN = re.compile(r"\b\d{5,16}:[A-Za-z0-9_-]{30,}")
# user:password@ in a URL; the user name stays readable, the password goes.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@")


class Redactor(logging.Filter):
    """Masks registered secrets and secret-shaped text in every record it sees."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Register more secrets (e.g. webhook secrets known only once their sinks exist)."""
        with self._lock:
            known = set(self._secrets)
            for secret in secrets:
                if secret and len(secret) >= MIN_SECRET_CHARS:
                    known.add(secret)
            # Longest first, so a secret containing another is masked whole.
            self._secrets = tuple(sorted(known, key=len, reverse=True))

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        text = _BOT_TOKEN.sub(MASK, text)
        return _URL_PASSWORD.sub(lambda m: m.group("head") + MASK + "@", text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: let the handler report it as usual
            return True
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            # Formatted here, masked, and cached where every Formatter looks first.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def config_secrets(cfg: Config) -> list[str]:
    """Every secret the configuration holds (all of them came from the environment)."""
    secrets = [cfg.telegram.token]
    secrets += _url_secrets(cfg.redis.url)
    serve = cfg.serve
    secrets += [
        serve.telegram_secret,
        serve.ingest_token,
        serve.ingest_secret,
        serve.slack_signing_secret,
        serve.mattermost_token,
        serve.commands_secret,
    ]
    for hook in cfg.webhooks:
        # A webhook URL is itself the credential (Slack, Discord, Teams embed a token in it).
        secrets += [hook.url, *_url_secrets(hook.url)]
        secrets += [hook.token, hook.secret]
    return [s for s in secrets if isinstance(s, str) and s]


def _url_secrets(url: str) -> list[str]:
    if not url:
        return []
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return [password, unquote(password)] if password else []


def install(secrets: Iterable[str], logger: logging.Logger | None = None) -> Redactor:
    """Attach one :class:`Redactor` to every handler of ``logger`` (default: the root).

    Call after the handlers exist (``logging.basicConfig``). Installing twice adds
    the new secrets to the redactor already there.
    """
    target = logger or logging.getLogger()
    existing = next(
        (f for h in target.handlers for f in h.filters if isinstance(f, Redactor)), None
    )
    redactor = existing or Redactor()
    redactor.add(*secrets)
    for handler in target.handlers:
        if redactor not in handler.filters:
            handler.addFilter(redactor)
    return redactor


__all__ = ["MASK", "Redactor", "config_secrets", "install"]
