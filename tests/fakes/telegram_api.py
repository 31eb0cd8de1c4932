"""A fake Telegram Bot API server for end-to-end tests.

The server speaks the Bot API wire protocol (``/bot<token>/<method>``, form, JSON or multipart
bodies, ``{"ok": ..., "result": ...}`` answers) closely enough for python-telegram-bot to run
against it unmodified. Tests inject updates (``push_*``), inspect what the bot did (``calls``,
``sent_messages``, ``wait_for``) and inject faults (``fail_next``, ``block_chat``, rate limits).
It answers the methods the bot calls (python-telegram-bot's start-up, polling and webhook
set-up included) and getWebhookInfo for webhook tests; any other is refused as unknown.

Everything runs on the test's event loop and binds 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import itertools
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, ClassVar

from aiohttp import web

from tests.fakes.base import ApiError, Call, ChatId, FakeApiServer, Params, client_gone

DEFAULT_TOKEN = "123456:TEST-token"

Handler = Callable[[Params], Awaitable[Any]]

# Methods that produce a new message: delays and rate limits apply to them.
SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})

# Form values that are plain strings; every other form value is JSON-encoded by clients.
_TEXT_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "url",
        "secret_token",
        "ip_address",
        "language_code",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "action",
        "file_id",
        "photo",
        "document",
    }
)
# Values that are objects/arrays but may arrive as JSON strings even inside a JSON body.
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
    }
)

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


# The request being served by the current handler task (used to spot abandoned long polls).
_current_request: contextvars.ContextVar[web.Request] = contextvars.ContextVar("request")


def _client_gone() -> bool:
    return client_gone(_current_request.get(None))


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    file_name: str
    mime_type: str
    content: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.content)


def _normalize_chat_id(value: Any) -> ChatId | None:
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value


def _normalized(params: Params) -> Params:
    if "chat_id" in params:
        params["chat_id"] = _normalize_chat_id(params["chat_id"])
    return params


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode_value(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in _TEXT_FIELDS and key not in _JSON_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def _read_params(request: web.Request) -> Params:
    """Read parameters from the query string and a form, multipart or JSON body."""
    params: Params = {key: _decode_value(key, value) for key, value in request.query.items()}
    if request.method != "POST" or not request.can_read_body:
        return _normalized(params)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "Bad Request: can't parse JSON body") from None
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: JSON body must be an object")
        # As the Bot API does: a string is read as the same field sent in a form would be
        # (PTB's JSON payload sends every value so: "10", "{\"inline_keyboard\": …}").
        for key, value in body.items():
            params[key] = _decode_value(key, value)
        return _normalized(params)
    files: dict[str, UploadedFile] = {}
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            files[key] = UploadedFile(
                file_name=value.filename,
                mime_type=value.content_type,
                content=value.file.read(),
            )
        else:
            params[key] = _decode_value(key, value)
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            attached = files.pop(value.removeprefix("attach://"), None)
            if attached is not None:
                params[key] = attached
    params.update(files)
    return _normalized(params)


class FakeTelegramServer(FakeApiServer):
    """An in-process fake of the Telegram Bot API (see module docstring)."""

    DESCRIPTIONS: ClassVar[dict[int, str]] = {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        409: "Conflict",
        429: "Too Many Requests",
        500: "Internal Server Error",
        502: "Bad Gateway",
    }
    BLOCKED = "Forbidden: bot was blocked by the user"

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "test_bot",
        bot_first_name: str = "Test Bot",
        rate_limit_per_second: float | None = None,
        per_chat_rate_limit: bool = False,
    ) -> None:
        super().__init__(token)
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.rate_limit_per_second = rate_limit_per_second
        self.per_chat_rate_limit = per_chat_rate_limit
        self.send_delay = 0.0

        self._last_update_id = 0
        self._pending: list[dict[str, Any]] = []
        self._poll_generation = 0

        self._message_ids: dict[ChatId, itertools.count[int]] = {}
        self._messages: dict[ChatId, dict[int, dict[str, Any]]] = {}
        self._first_names: dict[ChatId, str] = {}
        self._callback_ids = itertools.count(1)
        self._known_callbacks: set[str] = set()
        self._file_ids = itertools.count(1)
        self._files: dict[str, UploadedFile] = {}

        self._send_times: deque[float] = deque()
        self._chat_send_times: dict[ChatId, float] = {}

        self.webhook: dict[str, Any] = {}

        handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "answerCallbackQuery": self._answer_callback_query,
            "editMessageText": self._edit_message_text,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getFile": self._get_file,
        }
        # Telegram method names are case-insensitive.
        self._methods = {name.lower(): (name, handler) for name, handler in handlers.items()}

    # ----------------------------------------------------------------------------- lifecycle

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.*}", self._handle_file)

    @property
    def bot_url(self) -> str:
        """The ``base_url`` to give python-telegram-bot (it appends the token)."""
        return f"{self.base_url}/bot"

    @property
    def file_url(self) -> str:
        """The ``base_file_url`` to give python-telegram-bot."""
        return f"{self.base_url}/file/bot"

    # ----------------------------------------------------------------------------- recording

    def chat_key(self, value: Any) -> ChatId | None:
        return _normalize_chat_id(value)

    def sent_messages(self, chat_id: ChatId | None = None) -> list[Params]:
        """Params of the successful sendMessage calls, in order."""
        return [call.params for call in self.calls_to("sendMessage", chat_id=chat_id) if call.ok]

    def clear(self) -> None:
        """Forget recorded calls (queued updates, messages and faults are kept)."""
        self.calls.clear()

    def get_message(self, chat_id: ChatId, message_id: int) -> dict[str, Any] | None:
        """The current state (after edits) of a message in a chat, if it exists."""
        message = self._messages.get(chat_id, {}).get(message_id)
        return copy.deepcopy(message) if message is not None else None

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued and not yet confirmed by a getUpdates offset."""
        return copy.deepcopy(self._pending)

    # ----------------------------------------------------------------------------- updates

    def push_update(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (``update_id`` is assigned if missing)."""
        update = dict(raw)
        if "update_id" not in update:
            update["update_id"] = self._next_update_id()
        self._last_update_id = max(self._last_update_id, int(update["update_id"]))
        callback = update.get("callback_query")
        if isinstance(callback, dict) and "id" in callback:
            self._known_callbacks.add(str(callback["id"]))
        self._pending.append(update)
        self._wake()
        return copy.deepcopy(update)

    def push_message(
        self, user_id: int, text: str, *, first_name: str = "Test", chat_id: ChatId | None = None
    ) -> dict[str, Any]:
        return self.push_update(
            self.make_message_update(user_id, text, first_name=first_name, chat_id=chat_id)
        )

    def push_contact(
        self,
        user_id: int,
        phone_number: str,
        *,
        contact_user_id: int | None = None,
        with_user_id: bool = True,
        first_name: str = "Test",
    ) -> dict[str, Any]:
        return self.push_update(
            self.make_contact_update(
                user_id,
                phone_number,
                contact_user_id=contact_user_id,
                with_user_id=with_user_id,
                first_name=first_name,
            )
        )

    def push_sticker(self, user_id: int, *, first_name: str = "Test") -> dict[str, Any]:
        return self.push_update(self.make_sticker_update(user_id, first_name=first_name))

    def push_photo(
        self, user_id: int, *, caption: str | None = None, first_name: str = "Test"
    ) -> dict[str, Any]:
        return self.push_update(
            self.make_photo_update(user_id, caption=caption, first_name=first_name)
        )

    def push_document(
        self,
        user_id: int,
        content: bytes,
        *,
        file_name: str,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        first_name: str = "Test",
    ) -> dict[str, Any]:
        """A file the user sends; the bot can fetch it with getFile and the file route."""
        return self.push_update(
            self.make_document_update(
                user_id,
                content,
                file_name=file_name,
                mime_type=mime_type,
                caption=caption,
                first_name=first_name,
            )
        )

    def push_callback(
        self, user_id: int, data: str, *, message_id: int | None = None, first_name: str = "Test"
    ) -> dict[str, Any]:
        return self.push_update(
            self.make_callback_update(user_id, data, message_id=message_id, first_name=first_name)
        )

    def make_message_update(
        self, user_id: int, text: str, *, first_name: str = "Test", chat_id: ChatId | None = None
    ) -> dict[str, Any]:
        """A private-chat text message update (not queued); commands get an entity."""
        extra: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            extra["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        return self._user_message_update(user_id, first_name, extra, chat_id=chat_id)

    def make_contact_update(
        self,
        user_id: int,
        phone_number: str,
        *,
        contact_user_id: int | None = None,
        with_user_id: bool = True,
        first_name: str = "Test",
    ) -> dict[str, Any]:
        """A shared contact; ``contact_user_id`` defaults to the sender (own contact)."""
        contact: dict[str, Any] = {"phone_number": phone_number, "first_name": first_name}
        if with_user_id:
            contact["user_id"] = user_id if contact_user_id is None else contact_user_id
        return self._user_message_update(user_id, first_name, {"contact": contact})

    def make_sticker_update(self, user_id: int, *, first_name: str = "Test") -> dict[str, Any]:
        number = next(self._file_ids)
        sticker = {
            "file_id": f"fake-sticker-{number}",
            "file_unique_id": f"fake-sticker-unique-{number}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return self._user_message_update(user_id, first_name, {"sticker": sticker})

    def make_photo_update(
        self, user_id: int, *, caption: str | None = None, first_name: str = "Test"
    ) -> dict[str, Any]:
        upload = UploadedFile("photo.jpg", "image/jpeg", b"fake-jpeg")
        extra: dict[str, Any] = {"photo": self._photo_sizes(upload)}
        if caption is not None:
            extra["caption"] = caption
        return self._user_message_update(user_id, first_name, extra)

    def make_document_update(
        self,
        user_id: int,
        content: bytes,
        *,
        file_name: str,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        first_name: str = "Test",
    ) -> dict[str, Any]:
        file_id = self._register_file(UploadedFile(file_name, mime_type, content))
        document = {
            "file_id": file_id,
            "file_unique_id": f"unique-{file_id}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(content),
        }
        extra: dict[str, Any] = {"document": document}
        if caption is not None:
            extra["caption"] = caption
        return self._user_message_update(user_id, first_name, extra)

    def make_callback_update(
        self, user_id: int, data: str, *, message_id: int | None = None, first_name: str = "Test"
    ) -> dict[str, Any]:
        """A callback query on a bot message (default: the last one the bot sent that chat)."""
        chat_id: ChatId = user_id
        self._first_names.setdefault(chat_id, first_name)
        message = self._bot_message_for_callback(chat_id, message_id)
        return {
            "update_id": self._next_update_id(),
            "callback_query": {
                "id": str(next(self._callback_ids)),
                "from": self._user(user_id, first_name),
                "chat_instance": f"instance-{chat_id}",
                "data": data,
                "message": message,
            },
        }

    # ----------------------------------------------------------------------------- faults

    def _default_description(self, status: int, retry_after: int | None) -> str:
        if status == 429 and retry_after is not None:
            return f"Too Many Requests: retry after {retry_after}"
        return super()._default_description(status, retry_after)

    def set_delay(self, seconds: float) -> None:
        """Delay every answer to a send method by ``seconds``."""
        self.send_delay = seconds

    # ----------------------------------------------------------------------------- HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return ApiError(401, "Unauthorized").response()
        entry = self._methods.get(request.match_info["method"].lower())
        if entry is None:
            return ApiError(404, "Not Found").response()
        name, handler = entry
        received = time.monotonic()
        try:
            params = await _read_params(request)
        except ApiError as error:
            return error.response()
        call = Call(name, params, received)
        _current_request.set(request)
        # Long polls are visible while pending; other calls once answered (so that a test
        # woken by wait_for sees the outcome).
        if name == "getUpdates":
            self.calls.append(call)
        try:
            result = await self._dispatch(name, handler, params)
        except ApiError as error:
            call.error_code, call.description = error.code, error.description
            response = error.response()
        else:
            response = web.json_response({"ok": True, "result": result})
        if name != "getUpdates":
            self.calls.append(call)
        self._wake()
        return response

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return ApiError(401, "Unauthorized").response()
        # "files/<file id><suffix>", as getFile answers.
        upload = self._files.get(PurePosixPath(request.match_info["path"]).stem)
        if upload is None:
            return ApiError(404, "Not Found").response()
        return web.Response(body=upload.content, content_type=upload.mime_type)

    async def _dispatch(self, name: str, handler: Handler, params: Params) -> Any:
        if name in SEND_METHODS and self.send_delay > 0:
            await self._sleep_unless_closing(self.send_delay)
        self._check_faults(name, params)
        if name in SEND_METHODS:
            self._check_rate_limit(params)
        return await handler(params)

    def _check_rate_limit(self, params: Params) -> None:
        now = time.monotonic()
        while self._send_times and self._send_times[0] <= now - 1.0:
            self._send_times.popleft()
        limit = self.rate_limit_per_second
        if limit is not None and len(self._send_times) >= limit:
            raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        chat_id = _normalize_chat_id(params.get("chat_id"))
        if self.per_chat_rate_limit and chat_id is not None:
            last = self._chat_send_times.get(chat_id)
            if last is not None and now - last < 1.0:
                raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
            self._chat_send_times[chat_id] = now
        self._send_times.append(now)

    async def _sleep_unless_closing(self, seconds: float) -> None:
        deadline = asyncio.get_running_loop().time() + seconds
        while not self._closing:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return
            await self._wait_for_news(remaining)

    # ----------------------------------------------------------------------------- methods

    async def _get_me(self, params: Params) -> dict[str, Any]:
        return dict(self.bot_user)

    async def _get_updates(self, params: Params) -> list[dict[str, Any]]:
        if self.webhook.get("url"):
            raise ApiError(409, WEBHOOK_CONFLICT)
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        self._confirm(offset)
        # A newer getUpdates terminates an older pending one, like Telegram does.
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake()
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if _client_gone():
                # The client cancelled this poll (PTB does on stop); nobody reads the answer.
                return []
            if generation != self._poll_generation:
                raise ApiError(409, POLL_CONFLICT)
            if self._pending:
                return copy.deepcopy(self._pending[:limit])
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 or self._closing:
                return []
            await self._wait_for_news(remaining)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    async def _send_message(self, params: Params) -> dict[str, Any]:
        chat_id = self._require_chat(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return self._store_bot_message(chat_id, {"text": text}, params)

    async def _send_photo(self, params: Params) -> dict[str, Any]:
        chat_id = self._require_chat(params)
        upload = self._resolve_file(params.get("photo"), "photo.jpg", "image/jpeg")
        extra = {"photo": self._photo_sizes(upload)}
        return self._store_bot_message(chat_id, extra, params)

    async def _send_document(self, params: Params) -> dict[str, Any]:
        chat_id = self._require_chat(params)
        upload = self._resolve_file(params.get("document"), "document", "application/octet-stream")
        file_id = self._register_file(upload)
        document = {
            "file_id": file_id,
            "file_unique_id": f"unique-{file_id}",
            "file_name": upload.file_name,
            "mime_type": upload.mime_type,
            "file_size": upload.size,
        }
        return self._store_bot_message(chat_id, {"document": document}, params)

    async def _answer_callback_query(self, params: Params) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._known_callbacks:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        return True

    async def _edit_message_text(self, params: Params) -> dict[str, Any] | bool:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        return self._edit(params, {"text": text})

    def _edit(self, params: Params, changes: dict[str, Any]) -> dict[str, Any] | bool:
        if "inline_message_id" in params:
            return True
        chat_id = self._require_chat(params)
        message = self._messages.get(chat_id, {}).get(_int(params.get("message_id")))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        _validate_markup(markup)
        # Like Telegram, an edit without reply_markup removes the inline keyboard.
        new_markup = markup if _is_inline(markup) else None
        unchanged = all(message.get(key) == value for key, value in changes.items())
        if unchanged and message.get("reply_markup") == new_markup:
            raise ApiError(400, NOT_MODIFIED)
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        if new_markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = new_markup
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    async def _set_webhook(self, params: Params) -> bool:
        url = params.get("url") or ""
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if not url:
            self.webhook = {}
            return True
        self.webhook = {
            key: params[key]
            for key in ("url", "secret_token", "max_connections", "allowed_updates", "ip_address")
            if params.get(key) is not None
        }
        self._wake()
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = {}
        return True

    async def _get_webhook_info(self, params: Params) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        for key in ("max_connections", "allowed_updates", "ip_address"):
            if key in self.webhook:
                info[key] = self.webhook[key]
        return info

    async def _get_file(self, params: Params) -> dict[str, Any]:
        file_id = str(params.get("file_id", ""))
        upload = self._files.get(file_id)
        if upload is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        # Telegram keeps the suffix of the file's name in its path ("documents/file_3.xlsx").
        suffix = PurePosixPath(upload.file_name).suffix
        return {
            "file_id": file_id,
            "file_unique_id": f"unique-{file_id}",
            "file_size": upload.size,
            "file_path": f"files/{file_id}{suffix}",
        }

    # ----------------------------------------------------------------------------- messages

    def _require_chat(self, params: Params) -> ChatId:
        chat_id = _normalize_chat_id(params.get("chat_id"))
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        return chat_id

    def _chat(self, chat_id: ChatId) -> dict[str, Any]:
        if isinstance(chat_id, int) and chat_id < 0:
            return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}
        first_name = self._first_names.get(chat_id, "Test")
        return {"id": chat_id, "type": "private", "first_name": first_name}

    @staticmethod
    def _user(user_id: int, first_name: str) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "vi"}

    def _next_update_id(self) -> int:
        self._last_update_id += 1
        return self._last_update_id

    def _next_message_id(self, chat_id: ChatId) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    def _new_message(self, chat_id: ChatId, sender: dict[str, Any]) -> dict[str, Any]:
        return {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": sender,
        }

    def _user_message_update(
        self,
        user_id: int,
        first_name: str,
        extra: dict[str, Any],
        *,
        chat_id: ChatId | None = None,
    ) -> dict[str, Any]:
        chat: ChatId = user_id if chat_id is None else chat_id
        self._first_names.setdefault(chat, first_name)
        message = self._new_message(chat, self._user(user_id, first_name)) | extra
        self._messages.setdefault(chat, {})[message["message_id"]] = message
        return {"update_id": self._next_update_id(), "message": copy.deepcopy(message)}

    def _store_bot_message(
        self, chat_id: ChatId, extra: dict[str, Any], params: Params
    ) -> dict[str, Any]:
        markup = params.get("reply_markup")
        _validate_markup(markup)
        caption = params.get("caption")
        if isinstance(caption, str) and _utf16_len(caption) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        message = self._new_message(chat_id, dict(self.bot_user)) | extra
        if caption:
            message["caption"] = caption
        # Telegram only echoes inline keyboards; reply keyboards are not part of a Message.
        if _is_inline(markup):
            message["reply_markup"] = markup
        self._messages.setdefault(chat_id, {})[message["message_id"]] = message
        return copy.deepcopy(message)

    def _bot_message_for_callback(self, chat_id: ChatId, message_id: int | None) -> dict[str, Any]:
        messages = self._messages.setdefault(chat_id, {})
        if message_id is None:
            bot_ids = [mid for mid, msg in messages.items() if msg["from"].get("is_bot")]
            if bot_ids:
                message_id = max(bot_ids)
        message = messages.get(message_id) if message_id is not None else None
        if message is None:
            # No such message: invent a bot message so the handler can edit it.
            message = self._new_message(chat_id, dict(self.bot_user)) | {"text": "(message)"}
            if message_id is not None:
                message["message_id"] = message_id
            messages[message["message_id"]] = message
        return copy.deepcopy(message)

    def _register_file(self, upload: UploadedFile) -> str:
        file_id = f"fake-file-{next(self._file_ids)}"
        self._files[file_id] = upload
        return file_id

    def _resolve_file(self, value: Any, default_name: str, default_mime: str) -> UploadedFile:
        if isinstance(value, UploadedFile):
            return value
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        if isinstance(value, str) and value:
            name = value.rstrip("/").rsplit("/", 1)[-1] or default_name
            return UploadedFile(name, default_mime, value.encode())
        raise ApiError(400, "Bad Request: there is no file in the request")

    def _photo_sizes(self, upload: UploadedFile) -> list[dict[str, Any]]:
        file_id = self._register_file(upload)
        return [
            {
                "file_id": f"{file_id}-small",
                "file_unique_id": f"unique-{file_id}-small",
                "width": 90,
                "height": 90,
                "file_size": upload.size,
            },
            {
                "file_id": file_id,
                "file_unique_id": f"unique-{file_id}",
                "width": 800,
                "height": 800,
                "file_size": upload.size,
            },
        ]


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, "Bad Request: message identifier is not specified") from None


def _is_inline(markup: Any) -> bool:
    return isinstance(markup, dict) and "inline_keyboard" in markup


def _validate_markup(markup: Any) -> None:
    """Reject callback data Telegram would reject (1-64 bytes)."""
    if not _is_inline(markup):
        return
    for row in markup["inline_keyboard"]:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
