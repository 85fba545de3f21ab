"""``digestbot serve``: one ASGI app (Starlette on uvicorn) for webhook mode.

Endpoints (each bounds its body, answers malformed input with 400 and a reason,
and answers 404 while its secret is not configured):

- ``POST /telegram``: Telegram updates. ``X-Telegram-Bot-Api-Secret-Token`` is
  compared in constant time (wrong or missing: 403, nothing processed); updates
  go to the same PTB handlers as long polling, through ``update_queue``. On start
  ``setWebhook`` is called with the secret, the allowed updates,
  ``max_connections`` and ``drop_pending_updates``.
- ``GET /healthz``: Redis reachable, poller alive, outbox lag (503 when not).
- ``GET /metrics``: Prometheus text format (see :mod:`bot.metrics`).
- ``POST /ingest``: articles pushed as JSON (:mod:`bot.ingest`), authorised by a
  bearer token or an ``X-Hub-Signature-256`` HMAC, through the same pipeline and
  outbox as the poller.
- ``POST /slack/commands`` (v0 signature, 5-minute tolerance; answers within
  ``command_deadline`` or defers to ``response_url``), ``POST
  /mattermost/commands`` (the command's token) and ``POST /commands`` (JSON signed
  per Standard Webhooks): :mod:`bot.chat_commands`.

Around them run the Telegram sender, the webhook sender, the scheduler and
(``serve.poll``) the poller, as tasks of the server's lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import signal
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import redis.asyncio as aioredis
import uvicorn
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot.chat_commands import ChatCommands, CommandRequest, command_text, ensure_subscriptions
from bot.config import Config
from bot.errors import IngestError, ServeError
from bot.feed_state import FeedStateStore
from bot.ingest import decode_json, parse_articles
from bot.ingest_stream import IngestStream
from bot.keys import Keys
from bot.metrics import CONTENT_TYPE, Metrics
from bot.netguard import guard_from_config
from bot.outbox import Outbox
from bot.pipeline import Pipeline
from bot.poller import Poller
from bot.ratelimit import Limits
from bot.request_auth import (
    bearer,
    same,
    verify_hub_signature,
    verify_slack,
    verify_standard_webhooks,
)
from bot.runner import CycleReport, Runner
from bot.subscription_store import SubscriptionStore
from bot.telegram_bot import ALLOWED_UPDATES, build_application
from bot.telegram_sender import SenderSettings, TelegramSender
from bot.webhook_sender import WebhookSender, WebhookSenderSettings

log = logging.getLogger(__name__)

BODY_TIMEOUT_S = 10.0
INGEST_LOCK_TIMEOUT_S = 20.0
MAX_FORM_FIELDS = 50
MAX_COMMAND_TEXT = 2048
TELEGRAM_HEADER = "x-telegram-bot-api-secret-token"


class HttpProblem(Exception):
    """An answer other than success: the status and a reason fit to show the caller."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _problem(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": reason}, status_code=status)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, at most ``limit`` bytes (413 beyond), read within a time bound."""
    declared = request.headers.get("content-length", "")
    if declared:
        if not declared.isdigit():
            raise HttpProblem(400, "bad Content-Length")
        if int(declared) > limit:
            raise HttpProblem(413, f"body larger than {limit} bytes")

    async def read() -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HttpProblem(413, f"body larger than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        return await asyncio.wait_for(read(), BODY_TIMEOUT_S)
    except TimeoutError:
        raise HttpProblem(408, "body not received in time") from None


def _form(body: bytes) -> dict[str, str]:
    try:
        fields = parse_qs(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise HttpProblem(400, f"malformed form body: {exc}") from None
    return {k: v[0] for k, v in fields.items()}


def _headers(request: Request) -> dict[str, str]:
    return {k.lower(): v for k, v in request.headers.items()}


@dataclass(slots=True)
class PollerState:
    enabled: bool = False
    started: float = 0.0
    last_cycle: float = 0.0
    tick: float = 60.0
    task: asyncio.Task[None] | None = None

    def alive(self, now: float) -> bool:
        if not self.enabled:
            return True
        if self.task is None or self.task.done():
            return False
        # A cycle can take its feeds' read timeouts; three ticks without one is a hang.
        return now - max(self.last_cycle, self.started) <= max(3 * self.tick, 180.0)


@dataclass
class Server:
    """The runtime of ``digestbot serve``; :meth:`app` is the ASGI application."""

    cfg: Config
    client: aioredis.Redis
    keys: Keys
    pipeline: Pipeline
    telegram_builder: ApplicationBuilder | None = None
    telegram_settings: SenderSettings | None = None
    webhook_settings: WebhookSenderSettings | None = None
    metrics: Metrics = field(default_factory=Metrics)
    poller_state: PollerState = field(default_factory=PollerState)

    def __post_init__(self) -> None:
        self.store = SubscriptionStore(self.client, self.keys)
        self.outbox = Outbox(self.client, self.keys, self.store, platforms=("telegram", "webhook"))
        self.commands = ChatCommands(self.cfg, self.client, self.keys, self.deliver_now)
        self.lock = asyncio.Lock()
        # Polled and pushed articles alike go through the ingest journal (see bot.ingest_stream).
        self.journal = IngestStream(
            self.client,
            self.keys,
            os.environ.get("DIGESTBOT_WORKER") or None,
            claim_idle_ms=int(self.cfg.poller.takeover_after * 1000),
        )
        self.stop_event = asyncio.Event()
        self.runner: Runner | None = None
        self.telegram: Application | None = None
        self.telegram_sender: TelegramSender | None = None
        self.webhook_sender: WebhookSender | None = None
        self.http = httpx.AsyncClient(timeout=5.0, follow_redirects=False)
        self._tasks: list[asyncio.Task[Any]] = []
        self._background: set[asyncio.Task[Any]] = set()
        self._exit = contextlib.AsyncExitStack()

    # -- lifecycle ---------------------------------------------------------------------------

    async def deliver_now(self, target: str) -> int:
        return await self.outbox.flush_now(target, datetime.now(UTC))

    async def notify_owners(self, message: str) -> None:
        log.warning("owners: %s", message)
        if self.telegram is None:
            return
        for owner in self.cfg.telegram.owners:
            with contextlib.suppress(TelegramError):
                await self.telegram.bot.send_message(owner, message, parse_mode=None)

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            # Whatever started (the bot, senders) stops again: the lifespan's finally won't run.
            await self.stop()
            raise

    async def _start(self) -> None:
        self.stop_event.clear()
        await ensure_subscriptions(self.store, self.cfg.webhooks)
        if self.cfg.telegram.token:
            await self._start_telegram()
        self.webhook_sender = WebhookSender(
            self.client,
            self.keys,
            self.cfg.webhooks,
            self.cfg.webhook_delivery,
            owners_notify=self.notify_owners,
            settings=self.webhook_settings,
            guard=guard_from_config(self.cfg.security),
        )
        self._spawn(self.webhook_sender.run(self.stop_event), "webhook-sender")
        self._spawn(self.outbox.run_scheduler(self.stop_event), "scheduler")
        runner = await self._runner()
        if self.cfg.serve.poll:
            self.poller_state = PollerState(enabled=True, started=time.time())
            self.poller_state.task = self._spawn(self._poll(runner), "poller")

    async def _runner(self) -> Runner:
        """The runner of polled and pushed articles, made on first use."""
        if self.runner is None:
            # The poller also fetches full texts of pushed teasers: made without polling too.
            poller = await self._exit.enter_async_context(
                Poller(
                    self.cfg.poller,
                    FeedStateStore(self.client, self.keys),
                    guard=guard_from_config(self.cfg.security),
                )
            )
            self.runner = Runner(
                self.cfg, poller, self.pipeline, [], outbox=self.outbox, journal=self.journal
            )
        return self.runner

    async def _start_telegram(self) -> None:
        builder = (self.telegram_builder or ApplicationBuilder()).updater(None)
        app = build_application(
            self.cfg, self.client, self.keys, deliver_now=self.deliver_now, builder=builder
        )
        await app.initialize()
        self.telegram = app
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        serve = self.cfg.serve
        if serve.telegram_webhook_url:
            await app.bot.set_webhook(
                serve.telegram_webhook_url,
                secret_token=serve.telegram_secret,
                allowed_updates=list(ALLOWED_UPDATES),
                max_connections=serve.telegram_max_connections,
                drop_pending_updates=serve.telegram_drop_pending_updates,
            )
        limits = Limits(
            global_per_second=self.cfg.telegram.global_per_second,
            per_chat_per_second=self.cfg.telegram.per_chat_per_second,
            per_group_per_minute=self.cfg.telegram.per_group_per_minute,
        )
        self.telegram_sender = TelegramSender(
            app.bot,
            self.store,
            self.client,
            self.keys,
            limits,
            owners_notify=self.notify_owners,
            settings=self.telegram_settings,
        )
        self._spawn(self.telegram_sender.run(self.stop_event), "telegram-sender")

    def _spawn(self, work: Awaitable[None], name: str) -> asyncio.Task[None]:
        async def guarded() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s stopped", name)

        task = asyncio.create_task(guarded(), name=name)
        self._tasks.append(task)
        return task

    async def stop(self) -> None:
        self.stop_event.set()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._tasks, *self._background, return_exceptions=True)
        self._tasks.clear()
        if self.telegram is not None:
            # The webhook stays set: Telegram keeps updates while we restart.
            with contextlib.suppress(Exception):
                if self.telegram.running:
                    await self.telegram.stop()
                await self.telegram.shutdown()
            self.telegram = None
        if self.webhook_sender is not None:
            await self.webhook_sender.aclose()
        await self._exit.aclose()
        await self.http.aclose()

    async def _poll(self, runner: Runner) -> None:
        state = self.poller_state
        configured = [float(f.interval or self.cfg.poller.interval) for f in self.cfg.feeds]
        state.tick = max(1.0, min([*configured, 60.0]))
        while not self.stop_event.is_set():
            try:
                feeds = await self.commands.lookups.all_feeds()
                if feeds:
                    async with self.lock:
                        report = await runner.cycle(feeds)
                    self.metrics.observe_outcomes(report.outcomes, "poll")
                    self.metrics.observe_cycle(len(report.feed_errors))
                state.last_cycle = time.time()
            except (RedisError, OSError) as exc:
                # Try again next tick; /healthz turns "stalled" if this goes on.
                log.warning("polling cycle failed: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), state.tick)

    # -- the app -----------------------------------------------------------------------------

    def app(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(_app: Starlette) -> AsyncIterator[None]:
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        def endpoint(
            name: str, handler: Callable[[Request], Awaitable[Response]]
        ) -> Callable[[Request], Awaitable[Response]]:
            async def run(request: Request) -> Response:
                try:
                    response = await handler(request)
                except HttpProblem as exc:
                    response = _problem(exc.status, exc.reason)
                except Exception:
                    log.exception("%s failed", name)
                    response = _problem(500, "internal error")
                self.metrics.requests.labels(name, str(response.status_code)).inc()
                return response

            return run

        routes = [
            Route("/telegram", endpoint("telegram", self.telegram_update), methods=["POST"]),
            Route("/healthz", endpoint("healthz", self.healthz), methods=["GET"]),
            Route("/metrics", endpoint("metrics", self.metrics_page), methods=["GET"]),
            Route("/ingest", endpoint("ingest", self.ingest), methods=["POST"]),
            Route("/slack/commands", endpoint("slack", self.slack_command), methods=["POST"]),
            Route(
                "/mattermost/commands",
                endpoint("mattermost", self.mattermost_command),
                methods=["POST"],
            ),
            Route("/commands", endpoint("commands", self.generic_command), methods=["POST"]),
        ]
        return Starlette(routes=routes, lifespan=lifespan)

    # -- endpoints ---------------------------------------------------------------------------

    async def telegram_update(self, request: Request) -> Response:
        secret = self.cfg.serve.telegram_secret
        app = self.telegram
        if app is None or not secret:
            raise HttpProblem(404, "Telegram webhook not configured")
        given = request.headers.get(TELEGRAM_HEADER, "")
        if not hmac.compare_digest(given.encode("utf-8", "replace"), secret.encode()):
            raise HttpProblem(403, "wrong or missing secret token")
        body = await read_body(request, self.cfg.serve.max_body_bytes)
        try:
            data = decode_json(body)
        except IngestError as exc:
            raise HttpProblem(400, str(exc)) from None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise HttpProblem(400, "not a Telegram update (no update_id)")
        try:
            update = Update.de_json(data, app.bot)
        except Exception as exc:  # PTB raises KeyError/TypeError/ValueError on odd shapes
            raise HttpProblem(400, f"not a Telegram update: {type(exc).__name__}") from None
        await app.update_queue.put(update)
        return JSONResponse({"ok": True})

    async def healthz(self, request: Request) -> Response:
        now = time.time()
        checks: dict[str, Any] = {}
        healthy = True
        try:
            await self.client.ping()
            oldest = await self.client.xrange(self.keys.outbox_stream(), count=1)
            oldest_hook = await self.client.xrange(self.keys.webhook_stream(), count=1)
            firsts = [_stream_ms(m[0][0]) for m in (oldest, oldest_hook) if m]
            checks["redis"] = "ok"
            checks["outbox_lag_seconds"] = round(now - min(firsts) / 1000, 3) if firsts else 0.0
        except (RedisError, OSError) as exc:
            healthy = False
            checks["redis"] = f"unreachable: {type(exc).__name__}"
        state = self.poller_state
        checks["poller"] = (
            "disabled" if not state.enabled else ("ok" if state.alive(now) else "stalled")
        )
        healthy = healthy and state.alive(now)
        if state.last_cycle:
            checks["last_poll_age_seconds"] = round(now - state.last_cycle, 3)
        checks["ok"] = healthy
        return JSONResponse(checks, status_code=200 if healthy else 503)

    async def metrics_page(self, request: Request) -> Response:
        if self.telegram_sender is not None:
            stats = self.telegram_sender.stats
            self.metrics.fold_sender("telegram", stats, stats.sent + stats.edited)
        if self.webhook_sender is not None:
            self.metrics.fold_sender(
                "webhook", self.webhook_sender.stats, self.webhook_sender.stats.sent
            )
        with contextlib.suppress(RedisError, OSError):
            await self.metrics.refresh_redis(self.client, self.keys)
        return Response(self.metrics.render(), media_type=CONTENT_TYPE)

    async def ingest(self, request: Request) -> Response:
        serve = self.cfg.serve
        if not serve.ingest_token and not serve.ingest_secret:
            raise HttpProblem(404, "ingest not configured")
        body = await read_body(request, serve.max_body_bytes)
        headers = _headers(request)
        token = bearer(headers)
        if not (
            (token and same(token, serve.ingest_token))
            or verify_hub_signature(serve.ingest_secret, headers, body)
        ):
            raise HttpProblem(401, "bad or missing bearer token / X-Hub-Signature-256")
        now = datetime.now(UTC)
        try:
            articles = parse_articles(body, max_articles=serve.ingest_max_articles, now=now)
        except IngestError as exc:
            raise HttpProblem(400, str(exc)) from None
        # Journaled first: once this answers, the articles are safe whatever happens next.
        await self.journal.add([(article.source, article) for article in articles])
        report = CycleReport()
        if await _acquire(self.lock, INGEST_LOCK_TIMEOUT_S):
            try:
                # The pipeline's leader processes them now; any other worker leaves them to it.
                await (await self._runner()).drain([], report, now)
            finally:
                self.lock.release()
        self.metrics.observe_outcomes(report.outcomes, "ingest")
        done = {o.article.id: o for o in report.outcomes}
        results = [
            {
                "id": a.id,
                "status": done[a.id].status if a.id in done else "queued",
                "story": done[a.id].story_id if a.id in done else None,
                "new_facts": len(done[a.id].new_facts) if a.id in done else 0,
            }
            for a in articles
        ]
        queued = any(r["status"] == "queued" for r in results)
        return JSONResponse({"ok": True, "results": results}, status_code=202 if queued else 200)

    async def _first_time(self, kind: str, token: str) -> None:
        """Refuse a signed request seen before (a replay within the signature tolerance)."""
        key = self.keys.request_seen(kind, token)
        ttl = 2 * self.cfg.serve.signature_tolerance
        if not await self.client.set(key, "1", nx=True, ex=ttl):
            raise HttpProblem(409, "request already processed (replayed?)")

    async def _run_command(self, req: CommandRequest) -> str:
        return await self.commands.run(req)

    async def slack_command(self, request: Request) -> Response:
        serve = self.cfg.serve
        if not serve.slack_signing_secret:
            raise HttpProblem(404, "Slack commands not configured")
        body = await read_body(request, serve.max_body_bytes)
        if not verify_slack(
            serve.slack_signing_secret,
            _headers(request),
            body,
            time.time(),
            serve.signature_tolerance,
        ):
            raise HttpProblem(401, "bad or stale Slack signature")
        await self._first_time("slack", request.headers.get("x-slack-signature", ""))
        form = _form(body)
        if form.get("ssl_check"):
            return JSONResponse({"ok": True})
        req = CommandRequest(
            "slack",
            form.get("channel_id", "")[:64],
            command_text(form.get("command", "")[:64], form.get("text", ""))[:MAX_COMMAND_TEXT],
            form.get("user_id", "")[:64],
        )
        response_url = form.get("response_url", "")
        task = asyncio.create_task(self._run_command(req))
        done, _ = await asyncio.wait({task}, timeout=serve.command_deadline)
        if task in done:
            return JSONResponse(_slack_answer(task.result()))
        # Slack gives up after 3 s: say so now, and post the answer to response_url later.
        if response_url.startswith(serve.slack_response_url_prefix):
            self._keep(self._answer_later(task, response_url))
            return JSONResponse(_slack_answer("Working on it…"))
        task.cancel()
        return JSONResponse(_slack_answer("That took too long; please try again."))

    def _keep(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _answer_later(self, task: asyncio.Task[str], response_url: str) -> None:
        try:
            reply = await asyncio.wait_for(task, 60.0)
        except Exception as exc:
            reply = f"The command failed: {type(exc).__name__}"
        with contextlib.suppress(httpx.HTTPError):
            # Slack's answer to this is of no use: its body is not even read.
            async with self.http.stream("POST", response_url, json=_slack_answer(reply)):
                pass

    async def mattermost_command(self, request: Request) -> Response:
        serve = self.cfg.serve
        if not serve.mattermost_token:
            raise HttpProblem(404, "Mattermost commands not configured")
        body = await read_body(request, serve.max_body_bytes)
        form = _form(body)
        token = form.get("token", "") or bearer(_headers(request))
        if not same(token, serve.mattermost_token):
            raise HttpProblem(401, "bad or missing token")
        req = CommandRequest(
            "mattermost",
            form.get("channel_id", "")[:64],
            command_text(form.get("command", "")[:64], form.get("text", ""))[:MAX_COMMAND_TEXT],
            form.get("user_id", "")[:64],
        )
        try:
            reply = await asyncio.wait_for(self._run_command(req), 4 * serve.command_deadline)
        except TimeoutError:
            reply = "That took too long; please try again."
        return JSONResponse({"response_type": "ephemeral", "text": reply})

    async def generic_command(self, request: Request) -> Response:
        serve = self.cfg.serve
        if not serve.commands_secret:
            raise HttpProblem(404, "signed commands not configured")
        body = await read_body(request, serve.max_body_bytes)
        if not verify_standard_webhooks(
            serve.commands_secret, _headers(request), body, time.time(), serve.signature_tolerance
        ):
            raise HttpProblem(401, "bad or stale webhook-signature")
        await self._first_time("commands", request.headers.get("webhook-id", ""))
        try:
            data = decode_json(body)
        except IngestError as exc:
            raise HttpProblem(400, str(exc)) from None
        if not isinstance(data, dict):
            raise HttpProblem(400, "expected a JSON object {target, command}")
        target, command = data.get("target", ""), data.get("command", "")
        if not isinstance(target, str) or not isinstance(command, str) or not command.strip():
            raise HttpProblem(400, "'target' and 'command' must be strings, command non-empty")
        req = CommandRequest("generic", target[:64], command[:MAX_COMMAND_TEXT])
        try:
            reply = await asyncio.wait_for(self._run_command(req), 4 * serve.command_deadline)
        except TimeoutError:
            raise HttpProblem(504, "the command took too long") from None
        return JSONResponse({"ok": True, "text": reply})


async def _acquire(lock: asyncio.Lock, timeout: float) -> bool:
    """Take ``lock`` within ``timeout``; never leaves it taken when giving up.

    (``wait_for(lock.acquire())`` can time out just as the lock was granted, and then
    nobody releases it.)
    """
    attempt = asyncio.ensure_future(lock.acquire())
    done, _ = await asyncio.wait({attempt}, timeout=timeout)
    if attempt in done:
        return True
    attempt.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await attempt
    if attempt.done() and not attempt.cancelled():
        lock.release()  # granted while being cancelled
    return False


def _stream_ms(msg_id: bytes | str | None) -> int:
    """The milliseconds part of a stream id: when the message was added."""
    text = msg_id.decode() if isinstance(msg_id, bytes) else str(msg_id)
    return int(text.split("-", 1)[0])


def _slack_answer(reply: str) -> dict[str, Any]:
    escaped = reply.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return {"response_type": "ephemeral", "text": escaped}


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: it re-raises a caught SIGTERM after
    shutting down, which would end ``digestbot serve`` with -15 instead of 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def request_exit(self) -> None:
        self.should_exit = True


async def serve(
    server: Server,
    *,
    host: str = "",
    port: int | None = None,
    sock: socket.socket | None = None,
    ready: Callable[[uvicorn.Server], None] | None = None,
    handle_signals: bool = True,
) -> None:
    """Run ``server`` on uvicorn until SIGINT/SIGTERM (or ``should_exit`` is set)."""
    config = uvicorn.Config(
        server.app(),
        host=host or server.cfg.serve.host,
        port=server.cfg.serve.port if port is None else port,
        lifespan="on",
        log_level="warning",
        access_log=False,
        server_header=False,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=15,
        limit_concurrency=256,
    )
    uv = _Uvicorn(config)
    if ready is not None:
        ready(uv)
    loop = asyncio.get_running_loop()
    stops = (signal.SIGINT, signal.SIGTERM) if handle_signals else ()
    for sig in stops:
        loop.add_signal_handler(sig, uv.request_exit)
    try:
        await uv.serve(sockets=[sock] if sock is not None else None)
    finally:
        for sig in stops:
            loop.remove_signal_handler(sig)
    if not uv.started:
        raise ServeError("the HTTP server did not start (see the log above)")
