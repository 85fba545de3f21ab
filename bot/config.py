"""Configuration: one TOML file, secrets from the environment only.

Every key and its default is documented in ``config.example.toml``; the
defaults below are the single source of truth for those values. Loading never
raises anything but :class:`ConfigError`, whose message names the file, the
key and the problem in one line.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bot.errors import ConfigError
from digests.stories import DEFAULT_THRESHOLD, WINDOW

FULL_TEXT_MODES = ("auto", "always", "never")
FORMATS = ("text", "telegram", "markdown", "json")
SINK_FORMATS = ("text", "telegram", "markdown")
SINK_TYPES = ("console",)
LANGUAGES = ("de", "en")
ENV_PREFIX = "DIGESTBOT_"
WEBHOOK_PLATFORMS = ("slack", "discord", "mattermost", "teams", "matrix", "generic")
_WEBHOOK_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
# Telegram's rule for setWebhook's secret_token.
_TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass(frozen=True, slots=True)
class RedisConfig:
    url: str = ""
    prefix: str = "digestbot"
    embedded_port: int = 0
    connect_timeout: float = 5.0
    cluster: bool = False


@dataclass(frozen=True, slots=True)
class PollerConfig:
    interval: int = 600
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_body_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    max_failures: int = 10
    concurrency: int = 20
    per_host_concurrency: int = 2
    backoff_base: float = 60.0
    backoff_max: float = 6 * 3600.0
    user_agent: str = "digestbot/0.1 (news digest bot; +https://example.invalid/digestbot)"
    page_max_bytes: int = 2 * 1024 * 1024
    takeover_after: float = 60.0


@dataclass(frozen=True, slots=True)
class DedupConfig:
    ttl_days: int = 30
    near_threshold: float = 0.5
    shards: int = 1024


@dataclass(frozen=True, slots=True)
class DigestConfig:
    language: str = "en"
    max_facts: int = 8


@dataclass(frozen=True, slots=True)
class StoryConfig:
    threshold: float = DEFAULT_THRESHOLD
    window_hours: float = WINDOW.total_seconds() / 3600
    inactivity_days: float = 14.0
    workers: str = "one"


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    base_url: str = ""
    owners: tuple[int, ...] = ()
    global_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    per_group_per_minute: float = 20.0
    token: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class FeedConfig:
    url: str
    name: str = ""
    interval: int | None = None
    full_text: str = "auto"
    language: str = ""


@dataclass(frozen=True, slots=True)
class SinkConfig:
    type: str = "console"
    format: str = "text"
    language: str = "en"


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """``digestbot serve``: the HTTP server, its endpoints' bounds and their secrets.

    The secrets come from the environment only (see ``config.example.toml``); an
    endpoint whose secret is not set answers 404, so nothing is ever open by accident.
    """

    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = 1024 * 1024
    poll: bool = True
    telegram_webhook_url: str = ""
    telegram_max_connections: int = 40
    telegram_drop_pending_updates: bool = False
    ingest_max_articles: int = 100
    command_deadline: float = 2.5
    signature_tolerance: int = 300
    slack_response_url_prefix: str = "https://hooks.slack.com/"
    telegram_secret: str = field(default="", repr=False)
    ingest_token: str = field(default="", repr=False)
    ingest_secret: str = field(default="", repr=False)
    slack_signing_secret: str = field(default="", repr=False)
    mattermost_token: str = field(default="", repr=False)
    commands_secret: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class WebhookDeliveryConfig:
    """The webhook sender: request timeout, retries and the longest 429 wait obeyed."""

    timeout: float = 10.0
    max_attempts: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_retry_after: float = 300.0


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """One outgoing webhook; its subscription target is ``webhook:<name>``.

    ``url`` (and Matrix's access ``token``, the generic sink's signing ``secret``)
    come from ``DIGESTBOT_SINK_<NAME>_URL`` / ``_TOKEN`` / ``_SECRET``.
    """

    name: str
    platform: str
    channel: str = ""
    room: str = ""
    language: str = "en"
    feeds: tuple[str, ...] = ()
    forum: bool = False
    url: str = field(default="", repr=False)
    token: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)

    @property
    def target(self) -> str:
        return f"webhook:{self.name}"


@dataclass(frozen=True, slots=True)
class SecurityConfig:
    """Hardening bounds: the SSRF guard's allowlist and the per-user command limit."""

    allow_private: bool = False
    allow: tuple[str, ...] = ()
    resolve_timeout: float = 5.0
    commands_per_minute: int = 20


@dataclass(frozen=True, slots=True)
class Config:
    path: str = "<defaults>"
    data_dir: Path = Path("data")
    redis: RedisConfig = field(default_factory=RedisConfig)
    poller: PollerConfig = field(default_factory=PollerConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    stories: StoryConfig = field(default_factory=StoryConfig)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    feeds: tuple[FeedConfig, ...] = ()
    sinks: tuple[SinkConfig, ...] = (SinkConfig(),)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    serve: ServeConfig = field(default_factory=ServeConfig)
    webhook_delivery: WebhookDeliveryConfig = field(default_factory=WebhookDeliveryConfig)
    webhooks: tuple[WebhookConfig, ...] = ()


T = TypeVar("T")


class _Reader:
    """Reads typed values out of one TOML table, naming the key on error."""

    def __init__(self, path: str, table: Mapping[str, Any], prefix: str) -> None:
        self.path = path
        self.table = table
        self.prefix = prefix
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def fail(self, name: str, problem: str) -> ConfigError:
        return ConfigError(self.path, self.key(name), problem)

    def get(self, name: str, default: T, check: Callable[[Any], T | None], what: str) -> T:
        self.seen.add(name)
        if name not in self.table:
            return default
        raw = self.table[name]
        value = check(raw)
        if value is None:
            raise self.fail(name, f"expected {what}, got {raw!r}")
        return value

    def integer(self, name: str, default: int, low: int = 0) -> int:
        def check(v: Any) -> int | None:
            return v if isinstance(v, int) and not isinstance(v, bool) and v >= low else None

        return self.get(name, default, check, f"an integer >= {low}")

    def number(
        self, name: str, default: float, low: float = 0.0, high: float | None = None
    ) -> float:
        def check(v: Any) -> float | None:
            if isinstance(v, bool) or not isinstance(v, int | float):
                return None
            if v < low or (high is not None and v > high):
                return None
            return float(v)

        bounds = f"between {low} and {high}" if high is not None else f">= {low}"
        return self.get(name, default, check, f"a number {bounds}")

    def string(self, name: str, default: str, choices: tuple[str, ...] | None = None) -> str:
        def check(v: Any) -> str | None:
            if not isinstance(v, str):
                return None
            return v if choices is None or v in choices else None

        what = "one of " + ", ".join(repr(c) for c in choices) if choices else "a string"
        return self.get(name, default, check, what)

    def done(self) -> None:
        extra = sorted(set(self.table) - self.seen)
        if extra:
            raise self.fail(extra[0], "unknown key (see config.example.toml)")


def _table(path: str, data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(path, name, f"expected a table [{name}], got {type(value).__name__}")
    return value


def _redis(path: str, data: Mapping[str, Any], env: Mapping[str, str]) -> RedisConfig:
    r = _Reader(path, _table(path, data, "redis"), "redis.")
    d = RedisConfig()
    url = r.string("url", d.url)
    prefix = r.string("prefix", d.prefix)
    port = r.integer("embedded_port", d.embedded_port)
    timeout = r.number("connect_timeout", d.connect_timeout, 0.1, 120)
    cluster = r.get(
        "cluster", d.cluster, lambda v: v if isinstance(v, bool) else None, "true/false"
    )
    r.done()
    url = env.get(ENV_PREFIX + "REDIS_URL", url).strip()
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(path, "redis.url", "must start with redis://, rediss:// or unix://")
    if not prefix or any(c in prefix for c in " {}"):
        raise ConfigError(path, "redis.prefix", "must be non-empty without spaces or braces")
    if cluster and not url:
        raise ConfigError(path, "redis.cluster", "needs redis.url (a node of the cluster)")
    return RedisConfig(
        url=url, prefix=prefix, embedded_port=port, connect_timeout=timeout, cluster=cluster
    )


def _poller(path: str, data: Mapping[str, Any]) -> PollerConfig:
    r = _Reader(path, _table(path, data, "poller"), "poller.")
    d = PollerConfig()
    cfg = PollerConfig(
        interval=r.integer("interval", d.interval, 1),
        connect_timeout=r.number("connect_timeout", d.connect_timeout, 0.1, 300),
        read_timeout=r.number("read_timeout", d.read_timeout, 0.1, 600),
        max_body_bytes=r.integer("max_body_bytes", d.max_body_bytes, 1024),
        max_redirects=r.integer("max_redirects", d.max_redirects, 0),
        max_failures=r.integer("max_failures", d.max_failures, 1),
        concurrency=r.integer("concurrency", d.concurrency, 1),
        per_host_concurrency=r.integer("per_host_concurrency", d.per_host_concurrency, 1),
        backoff_base=r.number("backoff_base", d.backoff_base, 0.0),
        backoff_max=r.number("backoff_max", d.backoff_max, 0.0),
        user_agent=r.string("user_agent", d.user_agent),
        page_max_bytes=r.integer("page_max_bytes", d.page_max_bytes, 1024),
        takeover_after=r.number("takeover_after", d.takeover_after, 1.0, 86400.0),
    )
    r.done()
    return cfg


def _dedup(path: str, data: Mapping[str, Any]) -> DedupConfig:
    r = _Reader(path, _table(path, data, "dedup"), "dedup.")
    d = DedupConfig()
    cfg = DedupConfig(
        ttl_days=r.integer("ttl_days", d.ttl_days, 1),
        near_threshold=r.number("near_threshold", d.near_threshold, 0.05, 1.0),
        shards=r.integer("shards", d.shards, 1),
    )
    r.done()
    return cfg


def _digest(path: str, data: Mapping[str, Any]) -> DigestConfig:
    r = _Reader(path, _table(path, data, "digest"), "digest.")
    d = DigestConfig()
    cfg = DigestConfig(
        language=r.string("language", d.language, LANGUAGES),
        max_facts=r.integer("max_facts", d.max_facts, 1),
    )
    r.done()
    return cfg


def _stories(path: str, data: Mapping[str, Any]) -> StoryConfig:
    r = _Reader(path, _table(path, data, "stories"), "stories.")
    d = StoryConfig()
    cfg = StoryConfig(
        threshold=r.number("threshold", d.threshold, 0.0, 1.0),
        window_hours=r.number("window_hours", d.window_hours, 1.0),
        inactivity_days=r.number("inactivity_days", d.inactivity_days, 0.1),
        workers=r.string("workers", d.workers, ("one", "all")),
    )
    r.done()
    if cfg.inactivity_days * 24 < cfg.window_hours:
        raise r.fail("inactivity_days", "must cover stories.window_hours (a story must outlive it)")
    return cfg


def _telegram(path: str, data: Mapping[str, Any], env: Mapping[str, str]) -> TelegramConfig:
    table = _table(path, data, "telegram")
    if "token" in table:
        raise ConfigError(
            path, "telegram.token", "secrets never go in files: set DIGESTBOT_TELEGRAM_TOKEN"
        )
    r = _Reader(path, table, "telegram.")
    base_url = r.string("base_url", "")
    owners = r.get(
        "owners",
        (),
        lambda v: (
            tuple(v)
            if isinstance(v, list)
            and all(isinstance(x, int) and not isinstance(x, bool) for x in v)
            else None
        ),
        "a list of Telegram user ids (integers)",
    )
    d = TelegramConfig()
    limits = {
        "global_per_second": r.number("global_per_second", d.global_per_second, 0.1),
        "per_chat_per_second": r.number("per_chat_per_second", d.per_chat_per_second, 0.01),
        "per_group_per_minute": r.number("per_group_per_minute", d.per_group_per_minute, 0.1),
    }
    r.done()
    if base_url and not base_url.startswith(("http://", "https://")):
        raise ConfigError(path, "telegram.base_url", "must be an http(s):// URL")
    return TelegramConfig(
        base_url=base_url,
        owners=owners,
        token=env.get(ENV_PREFIX + "TELEGRAM_TOKEN", "").strip(),
        **limits,
    )


def _feeds(path: str, data: Mapping[str, Any], base: Path) -> tuple[FeedConfig, ...]:
    raw = data.get("feeds", [])
    if not isinstance(raw, list):
        raise ConfigError(path, "feeds", "expected an array of tables [[feeds]]")
    feeds: list[FeedConfig] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ConfigError(path, f"feeds[{i}]", "expected a table")
        r = _Reader(path, item, f"feeds[{i}].")
        url = r.string("url", "")
        if not url:
            raise r.fail("url", "missing: every feed needs a url (http(s):// or a local path)")
        if "://" not in url:
            # Local paths are relative to the config file, so a config works from any cwd.
            url = str((base / url).resolve())
        elif not url.startswith(("http://", "https://", "file://")):
            raise r.fail("url", "must be http://, https://, file:// or a local path")
        interval = r.integer("interval", 0, 0) or None
        feeds.append(
            FeedConfig(
                url=url,
                name=r.string("name", ""),
                interval=interval,
                full_text=r.string("full_text", "auto", FULL_TEXT_MODES),
                language=r.string("language", ""),
            )
        )
        r.done()
    return tuple(feeds)


def _sinks(path: str, data: Mapping[str, Any]) -> tuple[SinkConfig, ...]:
    raw = data.get("sinks")
    if raw is None:
        return (SinkConfig(),)
    if not isinstance(raw, list):
        raise ConfigError(path, "sinks", "expected an array of tables [[sinks]]")
    sinks = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ConfigError(path, f"sinks[{i}]", "expected a table")
        r = _Reader(path, item, f"sinks[{i}].")
        sinks.append(
            SinkConfig(
                type=r.string("type", "console", SINK_TYPES),
                format=r.string("format", "text", SINK_FORMATS),
                language=r.string("language", "en", LANGUAGES),
            )
        )
        r.done()
    return tuple(sinks)


def _boolean(r: _Reader, name: str, default: bool) -> bool:
    return r.get(name, default, lambda v: v if isinstance(v, bool) else None, "true or false")


def _serve(path: str, data: Mapping[str, Any], env: Mapping[str, str]) -> ServeConfig:
    r = _Reader(path, _table(path, data, "serve"), "serve.")
    d = ServeConfig()
    values: dict[str, Any] = {
        "host": r.string("host", d.host),
        "port": r.integer("port", d.port, 0),
        "max_body_bytes": r.integer("max_body_bytes", d.max_body_bytes, 1024),
        "poll": _boolean(r, "poll", d.poll),
        "telegram_webhook_url": r.string("telegram_webhook_url", d.telegram_webhook_url),
        "telegram_max_connections": r.integer(
            "telegram_max_connections", d.telegram_max_connections, 1
        ),
        "telegram_drop_pending_updates": _boolean(
            r, "telegram_drop_pending_updates", d.telegram_drop_pending_updates
        ),
        "ingest_max_articles": r.integer("ingest_max_articles", d.ingest_max_articles, 1),
        "command_deadline": r.number("command_deadline", d.command_deadline, 0.1, 2.9),
        "signature_tolerance": r.integer("signature_tolerance", d.signature_tolerance, 1),
        "slack_response_url_prefix": r.string(
            "slack_response_url_prefix", d.slack_response_url_prefix
        ),
    }
    r.done()
    if values["port"] > 65535:
        raise r.fail("port", "must be at most 65535")
    if values["telegram_max_connections"] > 100:
        raise r.fail("telegram_max_connections", "Telegram allows 1 to 100")
    hook = values["telegram_webhook_url"]
    if hook and not hook.startswith(("http://", "https://")):
        raise r.fail("telegram_webhook_url", "must be an http(s):// URL")
    if not values["slack_response_url_prefix"].startswith(("http://", "https://")):
        raise r.fail("slack_response_url_prefix", "must be an http(s):// URL prefix")
    secrets = {
        "telegram_secret": "WEBHOOK_SECRET",
        "ingest_token": "INGEST_TOKEN",
        "ingest_secret": "INGEST_SECRET",
        "slack_signing_secret": "SLACK_SIGNING_SECRET",
        "mattermost_token": "MATTERMOST_TOKEN",
        "commands_secret": "COMMANDS_SECRET",
    }
    for name, var in secrets.items():
        values[name] = env.get(ENV_PREFIX + var, "").strip()
    telegram_secret = values["telegram_secret"]
    if telegram_secret and not _TELEGRAM_SECRET.fullmatch(telegram_secret):
        raise ConfigError(
            path, "DIGESTBOT_WEBHOOK_SECRET", "Telegram allows 1-256 of A-Z a-z 0-9 _ -"
        )
    if hook and not telegram_secret:
        raise r.fail("telegram_webhook_url", "needs DIGESTBOT_WEBHOOK_SECRET in the environment")
    return ServeConfig(**values)


def _webhook_delivery(path: str, data: Mapping[str, Any]) -> WebhookDeliveryConfig:
    r = _Reader(path, _table(path, data, "webhook_delivery"), "webhook_delivery.")
    d = WebhookDeliveryConfig()
    cfg = WebhookDeliveryConfig(
        timeout=r.number("timeout", d.timeout, 0.1, 120),
        max_attempts=r.integer("max_attempts", d.max_attempts, 1),
        backoff_base=r.number("backoff_base", d.backoff_base, 0.0),
        backoff_max=r.number("backoff_max", d.backoff_max, 0.0),
        max_retry_after=r.number("max_retry_after", d.max_retry_after, 0.0),
    )
    r.done()
    return cfg


def sink_env(name: str, what: str) -> str:
    """The environment variable holding a webhook's URL, TOKEN or SECRET."""
    return f"{ENV_PREFIX}SINK_{name.upper().replace('-', '_')}_{what}"


def _webhooks(
    path: str, data: Mapping[str, Any], env: Mapping[str, str]
) -> tuple[WebhookConfig, ...]:
    raw = data.get("webhooks", [])
    if not isinstance(raw, list):
        raise ConfigError(path, "webhooks", "expected an array of tables [[webhooks]]")
    hooks: list[WebhookConfig] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ConfigError(path, f"webhooks[{i}]", "expected a table")
        for secret in ("url", "token", "secret"):
            if secret in item:
                hint = sink_env(str(item.get("name", "NAME")), secret.upper())
                raise ConfigError(
                    path, f"webhooks[{i}].{secret}", f"secrets never go in files: set {hint}"
                )
        r = _Reader(path, item, f"webhooks[{i}].")
        name = r.string("name", "")
        if not _WEBHOOK_NAME.fullmatch(name):
            raise r.fail("name", "1-40 of a-z 0-9 _ - (it names the environment variables)")
        if any(h.name == name for h in hooks):
            raise r.fail("name", f"{name!r} is used twice")
        feeds = r.get(
            "feeds",
            (),
            lambda v: (
                tuple(v) if isinstance(v, list) and all(isinstance(x, str) for x in v) else None
            ),
            "a list of feed names",
        )
        hook = WebhookConfig(
            name=name,
            platform=r.string("platform", "", WEBHOOK_PLATFORMS),
            channel=r.string("channel", ""),
            room=r.string("room", ""),
            language=r.string("language", "en", LANGUAGES),
            feeds=feeds,
            forum=_boolean(r, "forum", False),
            url=env.get(sink_env(name, "URL"), "").strip(),
            token=env.get(sink_env(name, "TOKEN"), "").strip(),
            secret=env.get(sink_env(name, "SECRET"), "").strip(),
        )
        r.done()
        if not hook.platform:
            raise r.fail("platform", "missing: one of " + ", ".join(WEBHOOK_PLATFORMS))
        if hook.forum and hook.platform != "discord":
            raise r.fail("forum", "only Discord webhooks post to forum channels")
        if hook.platform == "matrix" and not hook.room:
            raise r.fail("room", "missing: a Matrix room id like !abc:example.org")
        if hook.url and not hook.url.startswith(("http://", "https://")):
            raise ConfigError(path, sink_env(name, "URL"), "must be an http(s):// URL")
        hooks.append(hook)
    return tuple(hooks)


def _security(path: str, data: Mapping[str, Any]) -> SecurityConfig:
    r = _Reader(path, _table(path, data, "security"), "security.")
    d = SecurityConfig()
    allow_private = r.get(
        "allow_private", d.allow_private, lambda v: v if isinstance(v, bool) else None, "true/false"
    )
    allow = r.get(
        "allow",
        d.allow,
        lambda v: (
            tuple(v) if isinstance(v, list) and all(isinstance(x, str) for x in v) else None
        ),
        "a list of host names, IP addresses or CIDR networks",
    )
    cfg = SecurityConfig(
        allow_private=allow_private,
        allow=allow,
        resolve_timeout=r.number("resolve_timeout", d.resolve_timeout, 0.1, 60),
        commands_per_minute=r.integer("commands_per_minute", d.commands_per_minute, 1),
    )
    r.done()
    try:
        # Parsed here only to name a bad entry at load time; bot.netguard uses it.
        from bot.netguard import Allowlist

        Allowlist.parse(allow)
    except ValueError as exc:
        raise r.fail("allow", str(exc)) from None
    return cfg


TOP_LEVEL = {
    "data_dir",
    "redis",
    "poller",
    "dedup",
    "digest",
    "stories",
    "telegram",
    "feeds",
    "sinks",
    "security",
    "serve",
    "webhook_delivery",
    "webhooks",
}


def parse_config(
    data: Mapping[str, Any], *, path: str, base: Path, env: Mapping[str, str]
) -> Config:
    """Validate an already-decoded TOML document into a :class:`Config`."""
    for key in data:
        if key not in TOP_LEVEL:
            raise ConfigError(path, key, "unknown key (see config.example.toml)")
    data_dir = data.get("data_dir", "data")
    if not isinstance(data_dir, str) or not data_dir:
        raise ConfigError(path, "data_dir", f"expected a directory path, got {data_dir!r}")
    data_path = Path(env.get(ENV_PREFIX + "DATA_DIR", data_dir))
    if not data_path.is_absolute():
        data_path = base / data_path
    return Config(
        path=path,
        data_dir=data_path,
        redis=_redis(path, data, env),
        poller=_poller(path, data),
        dedup=_dedup(path, data),
        digest=_digest(path, data),
        stories=_stories(path, data),
        telegram=_telegram(path, data, env),
        feeds=_feeds(path, data, base),
        sinks=_sinks(path, data),
        security=_security(path, data),
        serve=_serve(path, data, env),
        webhook_delivery=_webhook_delivery(path, data),
        webhooks=_webhooks(path, data, env),
    )


def load_config(path: str | Path | None, env: Mapping[str, str] | None = None) -> Config:
    """Load the TOML file at ``path`` (or defaults when None) into a :class:`Config`."""
    env = os.environ if env is None else env
    if path is None:
        return parse_config({}, path="<defaults>", base=Path.cwd(), env=env)
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(str(p), "", f"cannot read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(str(p), "", "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(p), "", f"invalid TOML: {exc}") from None
    return parse_config(data, path=str(p), base=p.resolve().parent, env=env)
