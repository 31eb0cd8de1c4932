"""The one aiohttp web app: health check and messenger webhooks. Secrets are checked in
constant time before the body is read."""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web

from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)

TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_WEBHOOK_BYTES = 1024 * 1024


def _secret_matches(request: web.Request, header: str, secret: str) -> bool:
    given = request.headers.get(header, "")
    return hmac.compare_digest(given.encode(), secret.encode())


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_web_app(telegram: TelegramChannel | None, telegram_secret: str | None) -> web.Application:
    app = web.Application(client_max_size=MAX_WEBHOOK_BYTES)
    app.router.add_get("/healthz", healthz)
    if telegram is not None and telegram_secret is not None:
        secret = telegram_secret

        async def telegram_webhook(request: web.Request) -> web.Response:
            if not _secret_matches(request, TELEGRAM_SECRET_HEADER, secret):
                log.warning("Telegram webhook: refused a call with a missing or wrong secret")
                return web.Response(status=403, text="forbidden")
            try:
                data = await request.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                return web.Response(status=400, text="malformed JSON")
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                return web.Response(status=400, text="not a Telegram update")
            try:
                await telegram.feed_webhook(data)
            except ValueError:
                return web.Response(status=400, text="not a Telegram update")
            return web.Response(text="ok")

        app.router.add_post(TELEGRAM_WEBHOOK_PATH, telegram_webhook)
    return app
