"""The one aiohttp web app: health and readiness checks, metrics, and messenger webhooks.
Secrets are checked in constant time before the body is read."""

from __future__ import annotations

import hmac
import json
import logging
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
MAX_WEBHOOK_BYTES = 1024 * 1024

# Takes a decoded JSON object; raises ValueError when it is not the messenger's update.
Feed = Callable[[dict[str, Any]], Awaitable[None]]


def _secret_matches(request: web.Request, header: str, secret: str) -> bool:
    given = request.headers.get(header, "")
    return hmac.compare_digest(given.encode(), secret.encode())


def _webhook(messenger: str, header: str, secret: str, feed: Feed) -> web.Handler:
    async def handle(request: web.Request) -> web.Response:
        if not _secret_matches(request, header, secret):
            log.warning("%s webhook: refused a call with a missing or wrong secret", messenger)
            return web.Response(status=403, text="forbidden")
        try:
            data = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.Response(status=400, text="malformed JSON")
        try:
            if not isinstance(data, dict):
                raise ValueError("not an object")
            await feed(data)
        except ValueError:
            return web.Response(status=400, text=f"not a {messenger} update")
        return web.Response(text="ok")

    return handle


def _telegram_feed(telegram: TelegramChannel) -> Feed:
    async def feed(data: dict[str, Any]) -> None:
        if not isinstance(data.get("update_id"), int):
            raise ValueError("no update_id")
        await telegram.feed_webhook(data)

    return feed


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
    app = web.Application(client_max_size=MAX_WEBHOOK_BYTES)
    app.router.add_get("/healthz", healthz)
    _add_operator_routes(app, readiness, metrics)
    if telegram is not None and telegram_secret is not None:
        handler = _webhook(
            "Telegram", TELEGRAM_SECRET_HEADER, telegram_secret, _telegram_feed(telegram)
        )
        app.router.add_post(TELEGRAM_WEBHOOK_PATH, handler)
    if zalo is not None and zalo_secret is not None:
        handler = _webhook("Zalo", ZALO_SECRET_HEADER, zalo_secret, zalo.feed_webhook)
        app.router.add_post(ZALO_WEBHOOK_PATH, handler)
    if admin is not None:  # the web console (bot/web)
        app.add_subapp("/admin", admin)
    return app
