"""[serve], [webhook_delivery] and [[webhooks]]: secrets from the environment only."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Config, load_config, sink_env
from bot.errors import ConfigError

HOOK = '[[webhooks]]\nname = "news-room"\nplatform = "slack"\nchannel = "C1"\n'


def load(tmp_path: Path, body: str, env: dict[str, str] | None = None) -> Config:
    path = tmp_path / "c.toml"
    path.write_text(body)
    return load_config(path, env=env or {})


def test_webhook_url_and_secrets_come_from_the_environment(tmp_path: Path) -> None:
    env = {
        sink_env("news-room", "URL"): "https://hooks.slack.com/services/T/B/xyz",
        "DIGESTBOT_WEBHOOK_SECRET": "tg_secret-1",
        "DIGESTBOT_INGEST_TOKEN": "tok",
    }
    cfg = load(tmp_path, HOOK, env)
    hook = cfg.webhooks[0]
    assert sink_env("news-room", "URL") == "DIGESTBOT_SINK_NEWS_ROOM_URL"
    assert hook.url.endswith("/xyz") and hook.target == "webhook:news-room"
    assert cfg.serve.telegram_secret == "tg_secret-1" and cfg.serve.ingest_token == "tok"
    for secret in ("xyz", "tg_secret-1", "tok"):
        assert secret not in repr(cfg)


@pytest.mark.parametrize(
    ("body", "key", "problem"),
    [
        (HOOK + 'url = "https://x"\n', "webhooks[0].url", "DIGESTBOT_SINK_NEWS_ROOM_URL"),
        (HOOK.replace("news-room", "News Room"), "webhooks[0].name", "a-z"),
        (HOOK.replace("slack", "irc"), "webhooks[0].platform", "one of"),
        (HOOK + "forum = true\n", "webhooks[0].forum", "only Discord"),
        (HOOK + HOOK, "webhooks[1].name", "twice"),
        ('[[webhooks]]\nname = "m"\nplatform = "matrix"\n', "webhooks[0].room", "Matrix room"),
        (
            '[serve]\ntelegram_webhook_url = "https://bot.example/telegram"\n',
            "serve.telegram_webhook_url",
            "DIGESTBOT_WEBHOOK_SECRET",
        ),
        ("[serve]\ntelegram_max_connections = 101\n", "serve.telegram_max_connections", "1 to 100"),
        ("[serve]\ncommand_deadline = 3.5\n", "serve.command_deadline", "between"),
        ("[webhook_delivery]\nmax_attempts = 0\n", "webhook_delivery.max_attempts", ">= 1"),
    ],
)
def test_bad_serve_and_webhook_values(tmp_path: Path, body: str, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, body)
    assert info.value.key == key
    assert problem in str(info.value)


def test_a_bad_telegram_secret_is_named_by_its_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, "", {"DIGESTBOT_WEBHOOK_SECRET": "has spaces"})
    assert info.value.key == "DIGESTBOT_WEBHOOK_SECRET"
    assert "has spaces" not in str(info.value)
