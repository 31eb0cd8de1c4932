"""What the fake messenger API servers share: the recorded call, the error answer, fault
rules (fail the next calls, blocked and missing chats), serving on 127.0.0.1 and waiting for
calls. Each fake adds its own wire format and methods."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Self

from aiohttp import web

ChatId = int | str
Params = dict[str, Any]


@dataclass
class Call:
    """One API request as the server saw it."""

    method: str
    params: Params
    time: float
    error_code: int | None = None
    description: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None

    @property
    def chat_id(self) -> ChatId | None:
        """The chat as the client sent it."""
        return self.params.get("chat_id")


@dataclass
class _FailRule:
    method: str
    status: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: ChatId | None


class ApiError(Exception):
    """An error answer: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def response(self) -> web.Response:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return web.json_response(body, status=self.code)


def client_gone(request: web.Request | None) -> bool:
    """Whether the client of ``request`` hung up (an abandoned long poll)."""
    if request is None:
        return False
    transport = request.transport
    return transport is None or transport.is_closing()


class FakeApiServer:
    """Serving, call recording and fault injection; subclasses add routes and methods."""

    DESCRIPTIONS: ClassVar[dict[int, str]] = {}
    BLOCKED: ClassVar[str] = "Forbidden"
    CHAT_NOT_FOUND: ClassVar[str] = "Bad Request: chat not found"

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[Call] = []
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._closing = False
        self._wakeup = asyncio.Event()
        self._fail_rules: list[_FailRule] = []
        self._blocked: set[ChatId] = set()
        self._missing: set[ChatId] = set()

    # ----------------------------------------------------------------------------- lifecycle

    def _add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        app = web.Application()
        self._add_routes(app)
        self._closing = False
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving; pending long polls end at once."""
        self._closing = True
        self._wake()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``; clients append ``/bot<token>/<method>``."""
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://127.0.0.1:{self._port}"

    # ----------------------------------------------------------------------------- recording

    def chat_key(self, value: Any) -> ChatId | None:
        """A chat id as this messenger compares them."""
        return None if value is None else str(value)

    def calls_to(self, method: str, *, chat_id: ChatId | None = None) -> list[Call]:
        wanted = self.chat_key(chat_id)
        return [
            call
            for call in self.calls
            if call.method == method
            and (wanted is None or self.chat_key(call.params.get("chat_id")) == wanted)
        ]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        *,
        chat_id: ChatId | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the fixture API, like asyncio.wait_for
    ) -> list[Call]:
        """Wait until ``count`` calls to ``method`` (to ``chat_id``) were answered, failed ones
        included; return them all. Raises AssertionError listing every call on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = self.calls_to(method, chat_id=chat_id)
            if len(found) >= count:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = "\n".join(f"  {call}" for call in self.calls) or "  (none)"
                target = method + (f" to chat {chat_id}" if chat_id is not None else "")
                raise AssertionError(
                    f"expected {count} call(s) to {target} within {timeout}s, "
                    f"got {len(found)}; calls seen:\n{seen}"
                )
            await self._wait_for_news(remaining)

    async def _wait_for_news(self, seconds: float) -> None:
        wakeup = self._wakeup
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wakeup.wait(), seconds)

    def _wake(self) -> None:
        """Wake everything waiting for news (long polls, wait_for, delays)."""
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    # ----------------------------------------------------------------------------- faults

    def _default_description(self, status: int, retry_after: int | None) -> str:
        return self.DESCRIPTIONS.get(status, "Error")

    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        count: int = 1,
        chat_id: ChatId | None = None,
    ) -> None:
        """Answer the next ``count`` calls to ``method`` (to ``chat_id``) with an error."""
        text = description or self._default_description(status, retry_after)
        rule = _FailRule(method, status, text, retry_after, count, self.chat_key(chat_id))
        self._fail_rules.append(rule)

    def block_chat(self, chat_id: ChatId) -> None:
        """Every call to this chat answers 403."""
        self._blocked.add(self.chat_key(chat_id))  # type: ignore[arg-type]

    def unblock_chat(self, chat_id: ChatId) -> None:
        self._blocked.discard(self.chat_key(chat_id))  # type: ignore[arg-type]

    def missing_chat(self, chat_id: ChatId) -> None:
        """Every call to this chat answers 400 "chat not found"."""
        self._missing.add(self.chat_key(chat_id))  # type: ignore[arg-type]

    def _check_faults(self, name: str, params: Params) -> None:
        chat = self.chat_key(params.get("chat_id"))
        for rule in self._fail_rules:
            if rule.method == name and (rule.chat_id is None or rule.chat_id == chat):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._fail_rules.remove(rule)
                raise ApiError(rule.status, rule.description, rule.retry_after)
        if chat is None:
            return
        if chat in self._blocked:
            raise ApiError(403, self.BLOCKED)
        if chat in self._missing:
            raise ApiError(400, self.CHAT_NOT_FOUND)
