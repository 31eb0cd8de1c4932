"""The one aiohttp web app: health check and messenger webhooks. Secrets are checked in
constant time, as bytes, before the body is read; then only a JSON body of a bounded size is
read, and the update is stored in the intake (bot/channels/intake.py) before the 200."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.channels.telegram import TelegramChannel
from bot.channels.webhook_guard import LogThrottle, read_json_body, secret_matches
from bot.channels.zalo import ZaloChannel

log = logging.getLogger(__name__)

TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ZALO_WEBHOOK_PATH = "/zalo/webhook"
ZALO_SECRET_HEADER = "X-Bot-Api-Secret-Token"
# Telegram and Zalo updates are a few kilobytes; a larger body is refused unread.
MAX_WEBHOOK_BYTES = 256 * 1024

# Takes a decoded JSON object; raises ValueError when it is not the messenger's update.
Feed = Callable[[dict[str, Any]], Awaitable[None]]


def _webhook(messenger: str, header: str, secret: str, feed: Feed) -> web.Handler:
    throttle = LogThrottle()

    async def handle(request: web.Request) -> web.StreamResponse:
        source = request.remote or "?"
        if not secret_matches(request, header, secret.encode()):
            throttle.warning(
                log,
                source,
                "secret",
                "%s webhook: refused a call with a missing or wrong secret",
                messenger,
            )
            return web.Response(status=403, text="forbidden")
        data, refusal = await read_json_body(request, MAX_WEBHOOK_BYTES)
        if refusal is not None:
            throttle.warning(
                log, source, "body", "%s webhook: refused a body (%s)", messenger, refusal.reason
            )
            return refusal
        try:
            if not isinstance(data, dict):
                raise ValueError("not an object")
            await feed(data)
        except ValueError:
            throttle.warning(
                log, source, "update", "%s webhook: refused a body that is not an update", messenger
            )
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


def build_web_app(
    telegram: TelegramChannel | None,
    telegram_secret: str | None,
    *,
    zalo: ZaloChannel | None = None,
    zalo_secret: str | None = None,
) -> web.Application:
    """Routes a webhook for each messenger given with its secret."""
    app = web.Application(client_max_size=MAX_WEBHOOK_BYTES)
    app.router.add_get("/healthz", healthz)
    if telegram is not None and telegram_secret is not None:
        handler = _webhook(
            "Telegram", TELEGRAM_SECRET_HEADER, telegram_secret, _telegram_feed(telegram)
        )
        app.router.add_post(TELEGRAM_WEBHOOK_PATH, handler)
    if zalo is not None and zalo_secret is not None:
        handler = _webhook("Zalo", ZALO_SECRET_HEADER, zalo_secret, zalo.feed_webhook)
        app.router.add_post(ZALO_WEBHOOK_PATH, handler)
    return app
