"""The Zalo adapter on the Zalo Bot Platform API (https://bot.zaloplatforms.com/docs), a
Telegram-shaped HTTP API spoken here with aiohttp: polling by default, or fed by the web app's
webhook route. Zalo has no buttons, so they are sent as numbered choices the member answers
with a digit (`ChatCore` keeps the list), and it cannot send files.

Not built on the python-zalo-bot SDK: its webhook methods call `asyncio.run`, which cannot
run inside the event loop this process already runs (Telegram, the web app, the dispatcher).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp

from bot.channels.choices import numbered
from bot.channels.delivery import (
    ChatNotFound,
    DeliveryError,
    PermanentError,
    RateLimits,
    RecipientBlocked,
    RetryLater,
    SenderUnauthorized,
    TransientError,
)
from bot.channels.intake import Intake
from bot.channels.text_split import split_text
from bot.chat import ChatCore
from bot.db import Database
from bot.messages import Attachment, Channel, ChannelTraits, Incoming, Reply, without_nul
from bot.services.intake import Arrival
from bot.settings import Settings
from bot.texts import text

log = logging.getLogger(__name__)

ZALO_TRAITS = ChannelTraits(has_buttons=False, text_limit=2000, can_share_contact=False)

TEXT_EVENT = "message.text.received"
_ATTACHMENTS = {
    "message.image.received": Attachment.PHOTO,
    "message.sticker.received": Attachment.STICKER,
    # Zalo hides the content of some senders' messages from bots and says only this.
    "message.unsupported.received": Attachment.UNSUPPORTED,
}

# A long poll that ends without an update answers error_code 408 (seen in the OpenClaw and
# Hermes adapters; the documentation does not say), or an empty result: both mean "poll again".
POLL_TIMEOUT_CODE = 408
POLL_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)
# Zalo's documentation gives no retry_after on a 429 (it may be a daily quota): wait long.
DEFAULT_RETRY_AFTER = 60.0
# A reply is retried once after a 429 if Zalo asks for at most this many seconds.
MAX_REPLY_RETRY_WAIT = 5.0
REQUEST_TIMEOUT = 20.0


class ZaloApiError(Exception):
    """An error answer of the Bot API. Its text never holds the token (it is in the URL)."""

    def __init__(
        self, method: str, code: int | None, description: str, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{method}: {code} {description}")
        self.code = code
        self.description = description
        self.retry_after = retry_after


def _describe(error: BaseException) -> str:
    """For logs: API errors say what Zalo answered; network errors only their kind, since
    some aiohttp errors quote the URL and with it the token."""
    return str(error) if isinstance(error, ZaloApiError) else type(error).__name__


def _retry_after(body: Mapping[str, Any], headers: Mapping[str, str]) -> float | None:
    """From a Telegram-style `parameters.retry_after` or an HTTP Retry-After header."""
    parameters = body.get("parameters")
    value = parameters.get("retry_after") if isinstance(parameters, dict) else None
    if value is None:
        value = headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class ZaloApi:
    """POSTs JSON to `<base>/bot<token>/<method>`; answers are `{ok, result}` or
    `{ok: false, error_code, description}`."""

    def __init__(self, base_url: str, token: str) -> None:
        self._url = f"{base_url}/bot{token}"
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, within: float = REQUEST_TIMEOUT
    ) -> Any:
        """The `result` of a successful call (None when there is none), answered `within`
        seconds. Raises ZaloApiError, or aiohttp.ClientError / TimeoutError when Zalo could
        not be reached."""
        if self._session is None:
            raise RuntimeError("ZaloApi is not started")
        async with self._session.post(
            f"{self._url}/{method}",
            json=params or {},
            timeout=aiohttp.ClientTimeout(total=within),
        ) as response:
            try:
                body = await response.json(content_type=None)
            except (json.JSONDecodeError, UnicodeDecodeError):
                body = None
            status, reason, headers = response.status, response.reason or "", response.headers
        if not isinstance(body, dict):
            raise ZaloApiError(method, status, f"not a Bot API answer ({reason})")
        if body.get("ok") is True and status < 400:
            return body.get("result")
        code = body.get("error_code")
        if not isinstance(code, int):
            # The error code is in the body; the HTTP status stands in when it is not.
            code = status if status >= 400 else None
        description = str(body.get("description") or reason or "error")
        raise ZaloApiError(method, code, description, _retry_after(body, headers))

    async def send_message(self, chat_id: str, message: str) -> str:
        """Sends one text of at most 2,000 characters; returns Zalo's message id."""
        result = await self.call("sendMessage", {"chat_id": chat_id, "text": message})
        return str(result.get("message_id", "")) if isinstance(result, dict) else ""


def parse_update(data: object) -> dict[str, Any]:
    """The update in a webhook body. Reports differ on whether Zalo wraps webhook updates in
    `{ok, result}` like getUpdates answers, so both forms are taken. Raises ValueError for
    anything else."""
    if isinstance(data, dict) and data.get("ok") is True and "result" in data:
        data = data["result"]
    if not isinstance(data, dict) or not isinstance(data.get("event_name"), str):
        raise ValueError("not a Zalo update")
    return data


def arrival(data: object) -> Arrival:
    """A webhook body or getUpdates result as the intake stores it. Zalo numbers no update:
    its message id is the key, or for an event without one the body's digest, so that a
    redelivery is still stored once. Raises ValueError for anything but an update."""
    update = parse_update(data)
    message = update.get("message")
    message = message if isinstance(message, dict) else {}
    key = message.get("message_id")
    if not isinstance(key, str | int) or isinstance(key, bool) or not str(key):
        canonical = json.dumps(update, sort_keys=True, ensure_ascii=False)
        key = "sha256:" + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
    chat = message.get("chat")
    chat_id = _id(chat) if isinstance(chat, dict) else None
    return Arrival(str(key)[:64], (chat_id or "")[:64], update)


def _id(party: Mapping[str, Any]) -> str | None:
    value = party.get("id")
    return str(value) if isinstance(value, str | int) and str(value) else None


def to_incoming(update: Mapping[str, Any]) -> Incoming | None:
    """The part of an update the conversation needs; None for what the bot ignores (group
    chats, other bots, events without a message such as unsupported content from protected
    accounts, which leaves nobody to answer)."""
    message = update.get("message")
    if not isinstance(message, dict):
        return None
    sender, chat = message.get("from"), message.get("chat")
    if not isinstance(sender, dict) or not isinstance(chat, dict) or sender.get("is_bot"):
        return None
    sender_id, chat_id = _id(sender), _id(chat)
    # Only an explicit group is skipped, should Zalo leave chat_type out of private chats.
    if sender_id is None or chat_id is None or chat.get("chat_type", "PRIVATE") != "PRIVATE":
        return None
    event = update.get("event_name")
    if event == TEXT_EVENT:
        body = message.get("text")
        if not isinstance(body, str):
            # A text event whose text is not text (a number, a boolean) says nothing.
            return Incoming(Channel.ZALO, sender_id, chat_id, attachment=Attachment.UNSUPPORTED)
        return Incoming(Channel.ZALO, sender_id, chat_id, text=without_nul(body))
    attachment = _ATTACHMENTS.get(str(event))
    if attachment is None:
        return None
    return Incoming(Channel.ZALO, sender_id, chat_id, attachment=attachment)


def render(reply: Reply, choices: list[str]) -> list[str]:
    """The texts that carry one reply on Zalo, each at most 2,000 characters: split on
    paragraphs, a note instead of a file, and the numbered choices at the end."""
    parts = [reply.text.strip()]
    if reply.document is not None:
        parts.append(text("zalo.no_files", filename=reply.document.filename))
    if reply.media is not None:
        parts.append(text("zalo.no_media"))
    if choices:
        parts.append("\n".join(choices))
    whole = "\n\n".join(part for part in parts if part)
    return split_text(whole, ZALO_TRAITS.text_limit) or ["…"]


class ZaloChannel:
    def __init__(
        self,
        settings: Settings,
        core: ChatCore,
        *,
        database: Database | None = None,
        poll_timeout: int = 30,
        backoff: Sequence[float] = POLL_BACKOFF,
    ) -> None:
        if settings.zalo_token is None:
            raise ValueError("ZaloChannel needs ZALO_TOKEN")
        self._settings = settings
        self._core = core
        self._poll_timeout = poll_timeout
        self._backoff = backoff
        self._api = ZaloApi(settings.zalo_base_url, settings.zalo_token)
        # A channel run on its own (tests, benchmarks) opens the database itself.
        self._own_database = database is None
        self._database = database or Database(settings.database_url)
        # Received updates are stored, then handled from the table (bot/channels/intake.py).
        self.intake = Intake(self._database, Channel.ZALO, self._handle)
        self._poller: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._api.start()
        try:
            await self._api.call("getMe")  # a refused token stops the start here
            if self._settings.zalo_webhook_mode:
                await self._api.call(
                    "setWebhook",
                    {
                        "url": self._settings.zalo_webhook_url,
                        "secret_token": self._settings.zalo_webhook_secret,
                    },
                )
            else:
                # getUpdates answers nothing while a webhook is set.
                await self._api.call("deleteWebhook")
            await self.intake.start()
        except BaseException:
            await self._api.close()
            raise
        if not self._settings.zalo_webhook_mode:
            self._poller = asyncio.create_task(self._poll())
        log.info("Zalo: started (%s)", "webhook" if self._settings.zalo_webhook_mode else "polling")

    @property
    def started(self) -> bool:
        """Answering updates (for /readyz)."""
        return self.intake.running

    async def stop(self) -> None:
        """Ends the long poll at once, then answers the updates in hand; those not begun
        wait in the table for the next start."""
        if self._poller is not None:
            # The poller only waits on getUpdates, a pause or the intake's insert:
            # cancelling loses nothing that was stored.
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        await self.intake.stop()
        await self._api.close()
        if self._own_database:
            await self._database.dispose()

    async def receive(self, data: dict[str, Any]) -> None:
        """Stores an update the web app received, before it answers 200. Raises ValueError
        for a body that is not an update."""
        await self.intake.store([arrival(data)])

    async def send(self, chat_id: str, replies: list[Reply]) -> None:
        for reply, choices in numbered(replies):
            for message in render(reply, choices):
                await self._send_text(chat_id, message)

    async def _send_text(self, chat_id: str, message: str) -> None:
        try:
            await self._api.send_message(chat_id, message)
        except ZaloApiError as error:
            wait = error.retry_after if error.retry_after is not None else 1.0
            if error.code != 429 or wait > MAX_REPLY_RETRY_WAIT:
                raise
            # Retried once instead of dropping the reply, as on Telegram.
            await asyncio.sleep(wait)
            await self._api.send_message(chat_id, message)

    async def _poll(self) -> None:
        """getUpdates in a loop; Zalo answers one update per call and keeps no offset."""
        failures = 0
        while True:
            try:
                update = await self._api.call(
                    "getUpdates",
                    {"timeout": str(self._poll_timeout)},
                    within=self._poll_timeout + REQUEST_TIMEOUT,
                )
            except ZaloApiError as error:
                if error.code == POLL_TIMEOUT_CODE:
                    failures = 0
                    continue
                failures += 1
                await self._pause(failures, error, error.retry_after or 0.0)
                continue
            except (aiohttp.ClientError, TimeoutError) as error:
                failures += 1
                await self._pause(failures, error, 0.0)
                continue
            failures = 0
            if update is None:
                continue
            try:
                received = arrival(update)
            except ValueError:
                log.warning("Zalo: getUpdates answered something that is not an update")
                continue
            try:
                await self.intake.store([received])
            except Exception as error:
                # Zalo keeps no offset to ask again with: the update is lost, as it would
                # be by any crash between getUpdates and the insert.
                failures += 1
                await self._pause(failures, error, 0.0)

    async def _pause(self, failures: int, error: BaseException, at_least: float) -> None:
        delay = max(self._backoff[min(failures, len(self._backoff)) - 1], at_least)
        log.warning("Zalo: getUpdates failed (%s); retrying in %.0f s", _describe(error), delay)
        await asyncio.sleep(delay)

    async def _handle(self, update: dict[str, Any]) -> None:
        incoming = to_incoming(update)
        if incoming is None:
            self._core.ignored(Channel.ZALO)
            return
        try:
            await self._core.answer(incoming, ZALO_TRAITS, self.send)
        except (ZaloApiError, aiohttp.ClientError, TimeoutError) as error:
            log.error("Zalo: could not send a reply: %s", _describe(error))


def classify(error: ZaloApiError) -> DeliveryError:
    """A Bot API error in the dispatcher's terms. Zalo documents no error catalogue; these
    follow the HTTP meaning of the codes it uses (401, 403, 404, 429, 5xx)."""
    code, description = error.code, error.description[:150]
    if code == 429:
        retry = error.retry_after if error.retry_after is not None else DEFAULT_RETRY_AFTER
        return RetryLater("429 rate limit or quota", retry)
    if code == 401:
        return SenderUnauthorized("401 token refused")
    if code == 403:
        return RecipientBlocked("403 blocked or not allowed")
    if code == 404 or (code == 400 and "not found" in description.lower()):
        return ChatNotFound(f"{code} chat not found")
    if code is None or code == POLL_TIMEOUT_CODE or code >= 500:
        return TransientError(f"{code} {description}")
    return PermanentError(f"{code} {description}")


class ZaloSender:
    """Delivers outbox messages through its own HTTP session; the dispatcher paces them."""

    channel = Channel.ZALO
    numbered_choices = True

    def __init__(self, settings: Settings) -> None:
        if settings.zalo_token is None:
            raise ValueError("ZaloSender needs ZALO_TOKEN")
        rate = settings.zalo_rate_per_second
        # A second's worth of messages may go at once; one a second to the same chat.
        self.limits = RateLimits(rate, max(1, int(rate)), 1.0)
        self._api = ZaloApi(settings.zalo_base_url, settings.zalo_token)

    async def start(self) -> None:
        await self._api.start()

    async def stop(self) -> None:
        await self._api.close()

    async def deliver(self, chat_id: str, reply: Reply) -> str:
        # Choices are numbered from 1 as in a reply; the dispatcher stores them for the
        # account so that a digit typed later picks them.
        ((_, choices),) = numbered([reply])
        return await self._send_all(chat_id, render(reply, choices))

    async def edit(self, chat_id: str, message_id: str, text: str) -> None:
        """Zalo cannot edit a message: the new text is sent as a new one."""
        await self._send_all(chat_id, split_text(text, ZALO_TRAITS.text_limit) or ["…"])

    async def _send_all(self, chat_id: str, messages: list[str]) -> str:
        message_id = ""
        try:
            for message in messages:
                message_id = await self._api.send_message(chat_id, message)
        except ZaloApiError as error:
            raise classify(error) from None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise TransientError(f"network: {type(error).__name__}") from None
        return message_id
