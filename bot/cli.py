"""The ``digestbot`` command: wiring only; the work happens in the modules it calls."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import redis.asyncio as aioredis
import telegram
from redis.exceptions import RedisError

from bot.collector import tune_collector
from bot.config import FORMATS, Config, FeedConfig, RedisConfig, load_config
from bot.dedup_store import DedupSettings, DedupStore
from bot.errors import BotError, InputError, store_problem
from bot.feed_state import FeedStateStore
from bot.handover import release_pending
from bot.ingest_stream import IngestStream
from bot.keys import Keys
from bot.log_redaction import config_secrets
from bot.log_redaction import install as install_redaction
from bot.netguard import guard_from_config
from bot.outbox import Outbox
from bot.pipeline import CLAIM_BATCH, Pipeline
from bot.poller import Poller
from bot.ratelimit import Limits
from bot.redis_conn import open_redis
from bot.runner import Runner
from bot.sinks import ConsoleSink, Sink
from bot.source_lines import SourceLines
from bot.sources import load_path
from bot.story_store import StoryStore
from bot.subscription_store import SubscriptionStore
from bot.telegram_bot import api_urls, build_application, run_bot
from bot.telegram_sender import SenderSettings, TelegramSender
from digests.digest import Outcome
from digests.models import Article
from digests.render import TELEGRAM_LIMIT, render_messages

log = logging.getLogger("digestbot")
CONFIG_ENV = "DIGESTBOT_CONFIG"
# Graceful shutdown: in-flight sends get SENDER_STOP_GRACE_S, everything SHUTDOWN_S.
SENDER_STOP_GRACE_S = 5.0
SHUTDOWN_S = 7.0


def _config_path(arg: str | None) -> str | None:
    if arg:
        return arg
    if os.environ.get(CONFIG_ENV):
        return os.environ[CONFIG_ENV]
    return "config.toml" if Path("config.toml").exists() else None


def _dedup_settings(cfg: Config) -> DedupSettings:
    return DedupSettings(
        ttl_days=cfg.dedup.ttl_days,
        shards=cfg.dedup.shards,
        near_threshold=cfg.dedup.near_threshold,
    )


@contextlib.asynccontextmanager
async def _store(cfg: Config, fresh: bool = False) -> AsyncIterator[aioredis.Redis]:
    """The configured store, or throwaway state that leaves the configured store untouched."""
    if not fresh:
        async with open_redis(cfg.redis, cfg.data_dir) as client:
            yield client
        return
    with tempfile.TemporaryDirectory(prefix="digestbot-fresh-") as tmp:
        async with open_redis(RedisConfig(), Path(tmp)) as client:
            yield client


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _pipeline(cfg: Config, client: aioredis.Redis, keys: Keys) -> Pipeline:
    stories = StoryStore(
        client, keys, window_hours=cfg.stories.window_hours, ttl_days=cfg.stories.inactivity_days
    )
    return Pipeline(
        DedupStore(client, keys, _dedup_settings(cfg)),
        stories,
        cfg.digest,
        cfg.stories,
        SourceLines(client, keys),
    )


def _all_feeds(cfg: Config, added: Mapping[bytes | str, bytes | str]) -> list[FeedConfig]:
    """Configured feeds first, then those added at run time with ``feeds add``."""
    feeds = list(cfg.feeds)
    known = {f.url for f in feeds}
    for url, raw in sorted((_text(k), _text(v)) for k, v in added.items()):
        if url in known:
            continue
        data = json.loads(raw)
        feeds.append(FeedConfig(url=url, name=data.get("name", "")))
    return feeds


def _sinks(cfg: Config) -> list[Sink]:
    return [ConsoleSink(s.format, s.language) for s in cfg.sinks]


def _limits(cfg: Config) -> Limits:
    return Limits(
        global_per_second=cfg.telegram.global_per_second,
        per_chat_per_second=cfg.telegram.per_chat_per_second,
        per_group_per_minute=cfg.telegram.per_group_per_minute,
    )


async def _serve_telegram(
    cfg: Config, client: aioredis.Redis, keys: Keys, outbox: Outbox, stop: asyncio.Event
) -> list[asyncio.Task[None]]:
    """The bot (commands by long polling), the sender and the scheduler, as tasks."""
    store = SubscriptionStore(client, keys)

    async def deliver_now(target: str) -> int:
        return await outbox.flush_now(target, datetime.now(UTC))

    app = build_application(cfg, client, keys, deliver_now=deliver_now)
    if cfg.telegram.base_url:
        api, files = api_urls(cfg.telegram.base_url)
        bot = telegram.Bot(cfg.telegram.token, base_url=api, base_file_url=files)
    else:
        bot = telegram.Bot(cfg.telegram.token)
    # Its grace for in-flight digests fits the whole shutdown into SIGTERM's 10 s.
    settings = SenderSettings(
        stop_grace_s=SENDER_STOP_GRACE_S,
        claim_idle_ms=int(cfg.poller.takeover_after * 1000),
        # A dead sender's in-flight parts are free again as soon as its messages are
        # taken over; never shorter than a slow Telegram request.
        inflight_lease_ms=int(max(10.0, cfg.poller.takeover_after) * 1000),
    )
    sender = TelegramSender(bot, store, client, keys, _limits(cfg), settings=settings)

    async def send(stop: asyncio.Event) -> None:
        async with bot:
            try:
                await sender.run(stop)
            finally:
                # Its unfinished digests go to the next sender at once, not after a minute.
                await release_pending(
                    client, sender.stream, settings.group, sender.consumer, settings.claim_idle_ms
                )

    return [
        asyncio.create_task(run_bot(app, stop), name="telegram-bot"),
        asyncio.create_task(send(stop), name="telegram-sender"),
        asyncio.create_task(outbox.run_scheduler(stop), name="scheduler"),
    ]


async def cmd_run(cfg: Config, args: argparse.Namespace) -> int:
    async with _store(cfg) as client:
        keys = Keys(cfg.redis.prefix)
        feeds = _all_feeds(cfg, await client.hgetall(keys.feeds_added()))
        if not feeds:
            print(
                f"{cfg.path}: no feeds configured (add [[feeds]] or `digestbot feeds add`)",
                file=sys.stderr,
            )
            return 2
        pipeline = _pipeline(cfg, client, keys)
        outbox = Outbox(client, keys, SubscriptionStore(client, keys))
        guard = guard_from_config(cfg.security)
        async with Poller(cfg.poller, FeedStateStore(client, keys), guard=guard) as poller:
            journal = IngestStream(
                client,
                keys,
                os.environ.get("DIGESTBOT_WORKER") or None,
                claim_idle_ms=int(cfg.poller.takeover_after * 1000),
            )
            runner = Runner(cfg, poller, pipeline, _sinks(cfg), outbox=outbox, journal=journal)
            if args.once:
                report = await runner.cycle(feeds, force=True)
                await journal.resign()
                for name, error in report.feed_errors.items():
                    print(f"feed {name}: {error}", file=sys.stderr)
                print(
                    f"{len(feeds)} feeds, {report.articles} articles: "
                    f"{report.count('new_story')} new stories, {report.count('update')} updates, "
                    f"{report.count('duplicate')} duplicates, "
                    f"{len(report.feed_errors)} feed errors",
                    file=sys.stderr,
                )
                return 0
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            tasks: list[asyncio.Task[None]] = []
            if cfg.telegram.token:
                tasks = await _serve_telegram(cfg, client, keys, outbox, stop)
            else:
                log.warning("no DIGESTBOT_TELEGRAM_TOKEN: digests go to the console sinks only")
            try:
                await runner.run_forever(feeds, stop)
            finally:
                stop.set()
                await _wind_down(tasks)
            with contextlib.suppress(RedisError):
                await journal.resign()
            return 0


async def _wind_down(tasks: Sequence[asyncio.Task[None]]) -> None:
    """Let the tasks finish after ``stop`` (sends drain, pollers stop), then cut off the rest.

    SIGTERM must end the process within 10 s: the sender gets SENDER_STOP_GRACE_S for
    in-flight digests, and whatever still runs after SHUTDOWN_S is cancelled (a cancelled
    send stays pending in the outbox and goes out after the restart).
    """
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_S)
    for task in pending:
        log.warning("stopping: %s did not finish in %gs, cancelled", task.get_name(), SHUTDOWN_S)
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def cmd_serve(cfg: Config, args: argparse.Namespace) -> int:
    """Webhook mode: the HTTP server of ``bot.server`` with the senders and the poller."""
    from bot.server import Server, serve

    async with _store(cfg) as client:
        keys = Keys(cfg.redis.prefix)
        server = Server(cfg, client, keys, _pipeline(cfg, client, keys))
        await serve(server, host=args.host or "", port=args.port)
    return 0


async def cmd_deadletters(cfg: Config, args: argparse.Namespace) -> int:
    from bot.deadletters import DeadLetters

    async with _store(cfg) as client:
        letters = DeadLetters(client, Keys(cfg.redis.prefix))
        if args.dl_command == "list":
            for letter in await letters.oldest(args.limit):
                print(letter.line())
            return 0
        if not args.ids and not args.all:
            print("name dead-letter ids, or --all", file=sys.stderr)
            return 2
        if args.dl_command == "retry":
            moved = await letters.retry(args.ids, everything=args.all)
            print(f"{len(moved)} dead letters queued again")
            return 0
        dropped = await letters.drop(args.ids, everything=args.all)
        print(f"{dropped} dead letters dropped")
        return 0


def _progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _load_inputs(paths: Sequence[str], now: datetime) -> list[Article]:
    articles: list[Article] = []
    for raw in paths:
        loaded = load_path(Path(raw), now=now)
        for problem in loaded.errors:
            print(f"warning: {problem}", file=sys.stderr)
        articles.extend(loaded.articles)
    return articles


def explain_text(article_id: str, explain: dict[str, Any]) -> str:
    """The pipeline's reasons for one article, as a reader-friendly block."""
    lines = [f"why {article_id}:"]
    dedup = explain.get("dedup", {})
    if dedup.get("kind", "new") != "new":
        lines.append(
            f"  duplicate ({dedup['kind']}, {dedup['reason']}) of {dedup['duplicate_of']}, "
            f"similarity {dedup['similarity']}"
        )
    story = explain.get("story")
    if story is not None:
        verdict = f"joined {story['joined']}" if story["joined"] else "started a new story"
        ranked = ", ".join(
            f"{c.get('story')} {c.get('total', '?')}" for c in story.get("candidates", [])
        )
        lines.append(
            f"  story: {verdict} (threshold {story['threshold']}; candidates: {ranked or 'none'})"
        )
    for item in explain.get("sentences", []):
        text = item["sentence"].replace("\n", " ")[:140]
        if item["decision"] == "posted":
            lines.append(f"  posted  [{item['type']}] {text}")
        elif item["decision"] == "known":
            lines.append(
                f"  known   [{item['type']}] {text}\n"
                f"          = {item['matched'][:140]} ({item['score']}: {item['reason']})"
            )
        else:
            lines.append(f"  skipped ({item['reason']}) {text}")
    return "\n".join(lines)


def _write_outcome(out: TextIO, outcome: Outcome, args: argparse.Namespace, language: str) -> None:
    if args.format == "json":
        record = outcome.replay_record(explain=args.explain)
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    if outcome.entry is not None:
        limit = TELEGRAM_LIMIT if args.format == "telegram" else 100_000
        for message in render_messages([outcome.entry], args.format, language, limit):
            out.write(message + "\n\n")
    if args.explain:
        out.write(explain_text(outcome.article.id, outcome.explain) + "\n\n")


async def cmd_replay(cfg: Config, args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    articles = _load_inputs(args.paths, now)
    language = args.language or cfg.digest.language
    show_progress = sys.stderr.isatty() and len(articles) >= 50
    async with _store(cfg, fresh=args.fresh) as client:
        keys = Keys(cfg.redis.prefix)
        pipeline = _pipeline(cfg, client, keys)
        out = sys.stdout
        done = 0
        for start in range(0, len(articles), CLAIM_BATCH):
            chunk = articles[start : start + CLAIM_BATCH]
            for outcome in await pipeline.process_many(chunk, now):
                _write_outcome(out, outcome, args, language)
            done += len(chunk)
            if show_progress:
                _progress(done, len(articles))
        out.flush()
    return 0


def cmd_check_config(cfg: Config, args: argparse.Namespace) -> int:
    print(
        f"{cfg.path}: ok ({len(cfg.feeds)} feeds, {len(cfg.sinks)} sinks, "
        f"redis: {'embedded in ' + str(cfg.data_dir) if not cfg.redis.url else 'by URL'})"
    )
    return 0


async def cmd_feeds(cfg: Config, args: argparse.Namespace) -> int:
    async with _store(cfg) as client:
        keys = Keys(cfg.redis.prefix)
        states = FeedStateStore(client, keys)
        if args.feeds_command == "add":
            url = args.url
            if "://" not in url:
                url = str(Path(url).resolve())
            elif not url.startswith(("http://", "https://", "file://")):
                raise InputError(f"{args.url}: feeds must be http(s):// URLs or local paths")
            await client.hset(keys.feeds_added(), url, json.dumps({"name": args.name or ""}))
            print(f"added {url}")
            return 0
        if args.feeds_command == "remove":
            removed = await client.hdel(keys.feeds_added(), args.url)
            if not removed:
                configured = any(f.url == args.url for f in cfg.feeds)
                hint = " (it is in the config file: remove it there)" if configured else ""
                print(f"{args.url}: not an added feed{hint}", file=sys.stderr)
                return 1
            print(f"removed {args.url}")
            return 0
        feeds = _all_feeds(cfg, await client.hgetall(keys.feeds_added()))
        for feed in feeds:
            state = await states.get(feed.url)
            status = (
                f"deactivated: {state.deactivated}"
                if state.deactivated
                else (f"failing ({state.failures}): {state.last_error}" if state.failures else "ok")
            )
            print(f"{feed.name or '-'}\t{feed.url}\t{status}")
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digestbot",
        description="Poll news feeds, drop repeats, and post digests of only the new facts.",
    )
    parser.add_argument(
        "-c",
        "--config",
        help=f"TOML config file (default: ${CONFIG_ENV} or "
        "./config.toml when present, else built-in defaults)",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="poll the configured feeds and deliver digests")
    run.add_argument("--once", action="store_true", help="one cycle over all feeds, then exit")

    replay = sub.add_parser("replay", help="feed articles from files through the pipeline")
    replay.add_argument("paths", nargs="+", metavar="PATH", help="JSONL, feed files or folders")
    replay.add_argument("--format", choices=[f for f in FORMATS], default="json")
    replay.add_argument(
        "--fresh",
        action="store_true",
        help="throwaway state; the configured store is left untouched",
    )
    replay.add_argument("--explain", action="store_true", help="say why for every decision")
    replay.add_argument("--language", choices=["de", "en"], help="label language")

    sub.add_parser("check-config", help="validate the configuration file and exit")

    feeds = sub.add_parser("feeds", help="list, add or remove feeds")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    feeds_sub.add_parser("list", help="list feeds and their health")
    add = feeds_sub.add_parser("add", help="add a feed at run time")
    add.add_argument("url")
    add.add_argument("--name", default="")
    remove = feeds_sub.add_parser("remove", help="remove a feed added at run time")
    remove.add_argument("url")

    serve = sub.add_parser("serve", help="webhook mode: HTTP server, senders and poller")
    serve.add_argument("--host", default="", help="listen address (default: serve.host)")
    serve.add_argument("--port", type=int, default=None, help="port (default: serve.port)")

    dead = sub.add_parser("deadletters", help="list, retry or drop undeliverable digests")
    dead_sub = dead.add_subparsers(dest="dl_command", required=True, metavar="ACTION")
    listing = dead_sub.add_parser("list", help="the dead letters, oldest first")
    listing.add_argument("--limit", type=int, default=100)
    for action, what in (("retry", "queue again"), ("drop", "delete")):
        act = dead_sub.add_parser(action, help=f"{what} dead letters")
        act.add_argument("ids", nargs="*", metavar="ID")
        act.add_argument("--all", action="store_true", help=f"{what} every dead letter")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cfg = load_config(_config_path(args.config))
        # Before anything can log: tokens and passwords never reach the log output.
        install_redaction(config_secrets(cfg))
        tune_collector()
        if args.command == "check-config":
            return cmd_check_config(cfg, args)
        if args.command == "run":
            return asyncio.run(cmd_run(cfg, args))
        if args.command == "replay":
            return asyncio.run(cmd_replay(cfg, args))
        if args.command == "serve":
            return asyncio.run(cmd_serve(cfg, args))
        if args.command == "deadletters":
            return asyncio.run(cmd_deadletters(cfg, args))
        return asyncio.run(cmd_feeds(cfg, args))
    except BotError as exc:
        print(f"digestbot: {exc}", file=sys.stderr)
        return exc.exit_code
    except RedisError as exc:
        # Mid-run failures of the store (the connection, maxmemory): nothing half-done is
        # acknowledged, so the next run resumes; one line says what to fix.
        print(f"digestbot: {store_problem(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`digestbot replay ... | head`): not a failure of ours.
        # Python would report the pipe again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
