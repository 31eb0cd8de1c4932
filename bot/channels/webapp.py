"""The one aiohttp web app: health and readiness checks, metrics, and messenger webhooks.
Secrets are checked in constant time before the body is read; a webhook stores the update
(bot/channels/intake.py) before it answers 200."""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel

if TYPE_CHECKING:
    from bot.metrics import Metrics
    from bot.readiness import Readiness

log = logging.getLogger(__name__)

TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ZALO_WEBHOOK_PATH = "/zalo/webhook"
ZALO_SECRET_HEADER = "X-Bot-Api-Secret-Token"
# An update is a few kilobytes; the web console's uploads (rosters, question banks) need the
# app's larger limit, so the webhooks check their own, before reading.
MAX_WEBHOOK_BYTES = 256 * 1024
MAX_REQUEST_BYTES = 1024 * 1024
# A refused caller is logged once a minute at most: a flood must not flood the log.
REFUSAL_LOG_INTERVAL = 60.0

# Takes a decoded JSON object and stores it; raises ValueError when it is not the
# messenger's update.
Receive = Callable[[dict[str, Any]], Awaitable[None]]


def _secret_matches(request: web.Request, header: str, secret: str) -> bool:
    """Compares the header's bytes as sent: a value that is not UTF-8 is only wrong."""
    wanted = header.lower().encode()
    given = next((v for k, v in request.raw_headers if k.lower() == wanted), b"")
    return hmac.compare_digest(given, secret.encode())


class RefusalLog:
    """One warning per source per interval."""

    def __init__(self, interval: float = REFUSAL_LOG_INTERVAL) -> None:
        self._interval = interval
        self._last: dict[str, float] = {}

    def should_log(self, source: str) -> bool:
        now = time.monotonic()
        if len(self._last) > 10_000:  # many sources: forget the quiet ones
            self._last = {k: t for k, t in self._last.items() if now - t < self._interval}
        last = self._last.get(source)
        if last is not None and now - last < self._interval:
            return False
        self._last[source] = now
        return True


class BodyTooLarge(Exception):
    pass


async def _read_body(request: web.Request, limit: int) -> bytes:
    """The body, read no further than `limit` bytes: the declared length is checked before
    anything is read, and the bytes as they stream in (a length may be absent or false)."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.readany():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _webhook(messenger: str, header: str, secret: str, receive: Receive) -> web.Handler:
    refusals = RefusalLog()

    async def handle(request: web.Request) -> web.Response:
        if not _secret_matches(request, header, secret):
            if refusals.should_log(request.remote or "?"):
                log.warning("%s webhook: refused a call with a missing or wrong secret", messenger)
            return web.Response(status=403, text="forbidden")
        if request.content_type != "application/json":
            return web.Response(status=415, text="application/json only")
        try:
            data = json.loads(await _read_body(request, MAX_WEBHOOK_BYTES))
        except BodyTooLarge:
            return web.Response(status=413, text="too large")
        except (ValueError, RecursionError):  # not JSON, not UTF-8, nested too deep
            return web.Response(status=400, text="malformed JSON")
        try:
            if not isinstance(data, dict):
                raise ValueError("not an object")
            # Stored before the 200: what is acknowledged is never lost.
            await receive(data)
        except (ValueError, RecursionError):
            return web.Response(status=400, text=f"not a {messenger} update")
        return web.Response(text="ok")

    return handle


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def _add_operator_routes(
    app: web.Application, readiness: Readiness | None, metrics: Metrics | None
) -> None:
    # Imported here: the webhook routes need neither prometheus-client nor alembic.
    if readiness is not None:
        from bot.readiness import readyz_handler

        app.router.add_get("/readyz", readyz_handler(readiness))
    if metrics is not None:
        from bot.metrics import metrics_handler

        app.router.add_get("/metrics", metrics_handler(metrics))


def build_web_app(
    telegram: TelegramChannel | None,
    telegram_secret: str | None,
    *,
    zalo: ZaloChannel | None = None,
    zalo_secret: str | None = None,
    admin: web.Application | None = None,
    readiness: Readiness | None = None,
    metrics: Metrics | None = None,
) -> web.Application:
    """Routes a webhook for each messenger given with its secret, and /readyz and /metrics
    when given what they report."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app.router.add_get("/healthz", healthz)
    _add_operator_routes(app, readiness, metrics)
    if telegram is not None and telegram_secret is not None:
        handler = _webhook("Telegram", TELEGRAM_SECRET_HEADER, telegram_secret, telegram.receive)
        app.router.add_post(TELEGRAM_WEBHOOK_PATH, handler)
    if zalo is not None and zalo_secret is not None:
        handler = _webhook("Zalo", ZALO_SECRET_HEADER, zalo_secret, zalo.receive)
        app.router.add_post(ZALO_WEBHOOK_PATH, handler)
    if admin is not None:  # the web console (bot/web)
        app.add_subapp("/admin", admin)
    return app
