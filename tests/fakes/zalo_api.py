"""A fake Zalo Bot Platform API server for end-to-end tests.

It speaks the API as documented at https://bot.zaloplatforms.com/docs: ``POST
/bot<token>/<method>`` with JSON bodies, ``{"ok": true, "result": ...}`` answers and ``{"ok":
false, "error_code": ..., "description": ...}`` errors (HTTP status = error code).
``getUpdates`` long-polls and answers ONE update per call, with no offset: an update is gone
once answered. A poll that ends empty answers error 408 (what real clients handle; the
documentation is silent), or ``{"ok": true}`` without a result with ``empty_poll="empty"``.

Tests queue updates (``push_*``), build webhook bodies (``make_*_update``), inspect what the
bot did (``calls``, ``sent_texts``, ``wait_for``) and inject faults (``fail_next``,
``rate_limit``, ``block_chat``, ``missing_chat``, ``revoke_token``). Everything runs on the
test's event loop and binds 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Literal

from aiohttp import web

from tests.fakes.base import ApiError, Call, FakeApiServer, Params, client_gone

DEFAULT_TOKEN = "1234567890:fake-zalo-access-key"
TEXT_LIMIT = 2000

Handler = Callable[[Params, web.Request], Awaitable[Any]]

# The real wording of these errors is not documented; they only need to be recognisable.
WEBHOOK_ACTIVE = "Conflict: getUpdates is not available while a webhook is set"


class FakeZaloServer(FakeApiServer):
    """An in-process fake of the Zalo Bot API (see the module docstring)."""

    DESCRIPTIONS: ClassVar[dict[int, str]] = {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        408: "Request timeout",
        429: "Too Many Requests",
        500: "Internal Server Error",
        502: "Bad Gateway",
    }
    # The real wording is not documented; it only needs to be recognisable.
    BLOCKED = "Forbidden: the user blocked the bot"

    def __init__(
        self, *, token: str = DEFAULT_TOKEN, empty_poll: Literal["408", "empty"] = "408"
    ) -> None:
        super().__init__(token)
        self.empty_poll = empty_poll
        self.bot_info = {
            "id": token.split(":", 1)[0],
            "account_name": "bot.sotay",
            "account_type": "BASIC",
            "can_join_groups": False,
        }
        self.webhook: dict[str, Any] = {}
        self._pending: list[dict[str, Any]] = []
        self._message_ids = itertools.count(1)
        self._revoked = False
        self._methods: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
        }

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle)

    # ----------------------------------------------------------------------------- recording

    def sent_texts(self, chat_id: str | None = None) -> list[str]:
        """The texts of the successful sendMessage calls (to ``chat_id``), in order."""
        return [
            call.params["text"] for call in self.calls_to("sendMessage", chat_id=chat_id) if call.ok
        ]

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued and not yet answered to a getUpdates call."""
        return copy.deepcopy(self._pending)

    # ----------------------------------------------------------------------------- updates

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        self._pending.append(copy.deepcopy(update))
        self._wake()
        return update

    def push_text(
        self, user_id: str, text: str, *, display_name: str = "Đảng viên"
    ) -> dict[str, Any]:
        return self.push_update(self.make_text_update(user_id, text, display_name=display_name))

    def push_image(self, user_id: str, *, caption: str | None = None) -> dict[str, Any]:
        return self.push_update(self.make_image_update(user_id, caption=caption))

    def push_sticker(self, user_id: str) -> dict[str, Any]:
        return self.push_update(self.make_sticker_update(user_id))

    def push_unsupported(self, user_id: str, *, with_message: bool = True) -> dict[str, Any]:
        return self.push_update(self.make_unsupported_update(user_id, with_message=with_message))

    def make_text_update(
        self, user_id: str, text: str, *, display_name: str = "Đảng viên"
    ) -> dict[str, Any]:
        return self._update("message.text.received", user_id, {"text": text}, display_name)

    def make_image_update(self, user_id: str, *, caption: str | None = None) -> dict[str, Any]:
        extra: dict[str, Any] = {"photo_url": "https://photo.example.vn/anh.jpg"}
        if caption is not None:
            extra["caption"] = caption
        return self._update("message.image.received", user_id, extra)

    def make_sticker_update(self, user_id: str) -> dict[str, Any]:
        extra = {"sticker": "0e078a2fb66a5f34067b", "url": "https://zalo-api.zadn.vn/sticker.png"}
        return self._update("message.sticker.received", user_id, extra)

    def make_unsupported_update(self, user_id: str, *, with_message: bool = True) -> dict[str, Any]:
        """Content Zalo hides from bots; some reports say such events carry no message."""
        update = self._update("message.unsupported.received", user_id, {})
        if not with_message:
            del update["message"]
        return update

    def _update(
        self, event: str, user_id: str, extra: dict[str, Any], display_name: str = "Đảng viên"
    ) -> dict[str, Any]:
        message = {
            "from": {"id": user_id, "display_name": display_name, "is_bot": False},
            "chat": {"id": user_id, "chat_type": "PRIVATE"},
            "message_id": self._next_message_id(),
            "date": int(time.time() * 1000),  # milliseconds, unlike Telegram
            **extra,
        }
        return {"event_name": event, "message": message}

    # ----------------------------------------------------------------------------- faults

    def rate_limit(self, count: int, *, retry_after: int | None = None) -> None:
        """A 429 storm: the next ``count`` sendMessage calls are refused."""
        self.fail_next(
            "sendMessage",
            429,
            "Too Many Requests: quota exceeded",
            retry_after=retry_after,
            count=count,
        )

    def revoke_token(self) -> None:
        """Every call answers 401, as for a token that was reset in Zalo Bot Manager."""
        self._revoked = True

    # ----------------------------------------------------------------------------- HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        params: Params = dict(request.query)
        if request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                return ApiError(400, "Bad Request: body is not JSON").response()
            if not isinstance(body, dict):
                return ApiError(400, "Bad Request: body must be an object").response()
            params.update(body)
        call = Call(name, params, time.monotonic())
        try:
            if self._revoked or request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            handler = self._methods.get(name)
            if handler is None:
                raise ApiError(404, "Not Found: no such method")
            self._check_faults(name, params)
            result = await handler(params, request)
        except ApiError as error:
            call.error_code, call.description = error.code, error.description
            response = error.response()
        else:
            body = {"ok": True} if result is None else {"ok": True, "result": result}
            response = web.json_response(body)
        self.calls.append(call)
        self._wake()
        return response

    # ----------------------------------------------------------------------------- methods

    async def _get_me(self, params: Params, request: web.Request) -> dict[str, Any]:
        return dict(self.bot_info)

    async def _get_updates(self, params: Params, request: web.Request) -> dict[str, Any] | None:
        if self.webhook:
            raise ApiError(409, WEBHOOK_ACTIVE)
        try:
            timeout = min(max(float(params.get("timeout", 30)), 0.0), 60.0)
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: timeout must be a number of seconds") from None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if client_gone(request):
                # The client gave up on this poll: keep the update for the next one.
                return None
            if self._pending:
                return self._pending.pop(0)
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                break
            await self._wait_for_news(remaining)
        if self.empty_poll == "408":
            raise ApiError(408, "Request timeout")
        return None

    def _require_chat(self, params: Params) -> str:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, str) or not chat_id:
            raise ApiError(400, "Bad Request: chat_id is required")
        return chat_id

    def _sent(self) -> dict[str, Any]:
        return {"message_id": self._next_message_id(), "date": int(time.time() * 1000)}

    def _next_message_id(self) -> str:
        return f"{next(self._message_ids):020x}"

    async def _send_message(self, params: Params, request: web.Request) -> dict[str, Any]:
        self._require_chat(params)
        text = params.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= TEXT_LIMIT:
            raise ApiError(400, f"Bad Request: text must be 1 to {TEXT_LIMIT} characters")
        return self._sent()

    async def _send_photo(self, params: Params, request: web.Request) -> dict[str, Any]:
        self._require_chat(params)
        photo = params.get("photo")
        if not isinstance(photo, str) or not photo.startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: photo must be a URL")
        caption = params.get("caption")
        if caption is not None and (not isinstance(caption, str) or len(caption) > TEXT_LIMIT):
            raise ApiError(400, f"Bad Request: caption must be at most {TEXT_LIMIT} characters")
        return self._sent()

    async def _send_chat_action(self, params: Params, request: web.Request) -> None:
        self._require_chat(params)
        if params.get("action") not in ("typing", "upload_photo"):
            raise ApiError(400, "Bad Request: unknown action")

    async def _set_webhook(self, params: Params, request: web.Request) -> dict[str, Any]:
        url, secret = params.get("url"), params.get("secret_token")
        if not isinstance(url, str) or not url.startswith("https://"):
            raise ApiError(400, "Bad Request: url must be an https:// URL")
        if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
            raise ApiError(400, "Bad Request: secret_token must be 8 to 256 characters")
        self.webhook = {"url": url, "secret_token": secret, "updated_at": int(time.time() * 1000)}
        return {"url": url, "updated_at": self.webhook["updated_at"]}

    async def _delete_webhook(self, params: Params, request: web.Request) -> dict[str, Any]:
        self.webhook = {}
        return {"url": "", "updated_at": int(time.time() * 1000)}

    async def _get_webhook_info(self, params: Params, request: web.Request) -> dict[str, Any]:
        return {"url": self.webhook.get("url", ""), "updated_at": self.webhook.get("updated_at", 0)}
