"""The Telegram adapter on python-telegram-bot: polling by default, or fed by the web app's
webhook route. It only translates; the conversation lives in the handlers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import AIORateLimiter, Application

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
from bot.channels.intake import Entry, IntakeProcessor, check_depth
from bot.channels.telegram_http import AiohttpRequest
from bot.channels.text_split import split_text
from bot.chat import ChatCore
from bot.messages import Attachment, Channel, ChannelTraits, Contact, Incoming, Media, Reply
from bot.services.files import FetchedFile, FileTooLarge, FileUnavailable
from bot.settings import Settings

log = logging.getLogger(__name__)

TELEGRAM_TRAITS = ChannelTraits(has_buttons=True, text_limit=4096, can_share_contact=True)
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
# Seconds to wait after a failed getUpdates, growing with each failure in a row.
POLL_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)


def to_incoming(update: Update) -> Incoming | None:
    """The part of an update the conversation needs; None for what the bot ignores
    (group chats, channel posts, edits)."""
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or user is None or chat.type != chat.PRIVATE:
        return None
    base = {"channel": Channel.TELEGRAM, "sender_id": str(user.id), "chat_id": str(chat.id)}
    if update.callback_query is not None:
        return Incoming(**base, button_data=update.callback_query.data or "")
    message = update.message
    if message is None:
        return None
    if message.contact is not None:
        contact_user = message.contact.user_id
        return Incoming(
            **base,
            contact=Contact(
                clean_text(message.contact.phone_number) or "",
                str(contact_user) if contact_user else None,
            ),
        )
    if isinstance(message.text, str):
        return Incoming(**base, text=clean_text(message.text))
    attachment = _attachment(message)
    return Incoming(
        **base,
        attachment=attachment,
        text=clean_text(message.caption),
        media=_media(message, attachment),
    )


def clean_text(value: object) -> str | None:
    """Text as the conversation may store it: NUL bytes dropped (PostgreSQL refuses them in
    text), anything that is not a string (a forged update) taken as no text."""
    if not isinstance(value, str):
        return None
    return value.replace("\x00", "")


def intake_entry(data: dict[str, Any], bot: Bot) -> Entry:
    """A webhook body or polled update as the intake stores it. Raises ValueError for what
    is not a Telegram update (no update_id, wrong shapes, dates out of range, deep nesting)."""
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise ValueError("no update_id")
    check_depth(data)
    try:
        update = Update.de_json(data, bot)
    except (AttributeError, KeyError, TypeError, ValueError, OverflowError, OSError) as exc:
        raise ValueError("not a Telegram update") from exc
    if update is None:
        raise ValueError("not a Telegram update")
    chat = update.effective_chat
    return Entry(str(update_id), "" if chat is None else str(chat.id), data)


def _media(message: Message, attachment: Attachment) -> Media | None:
    if attachment is Attachment.PHOTO:
        return Media(attachment, message.photo[-1].file_id, Channel.TELEGRAM)  # largest size
    if attachment is Attachment.DOCUMENT and message.document is not None:
        return Media(attachment, message.document.file_id, Channel.TELEGRAM)
    return None


def _attachment(message: Message) -> Attachment:
    if message.sticker is not None:
        return Attachment.STICKER
    if message.photo:
        return Attachment.PHOTO
    if message.document is not None:
        return Attachment.DOCUMENT
    return Attachment.OTHER


Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


def _markup(reply: Reply) -> Markup | None:
    """One markup per message: a contact request, inline buttons, or taking a keyboard away."""
    if reply.contact_request is not None:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(reply.contact_request, request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    if reply.buttons:
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
                for row in reply.buttons
            ]
        )
    return ReplyKeyboardRemove() if reply.clear_keyboard else None


async def _send_media(bot: Bot, chat_id: str, media: Media | None) -> None:
    """A photo or document sent on by its Telegram file id, before the text."""
    if media is None or media.channel is not Channel.TELEGRAM:
        return
    if media.kind is Attachment.PHOTO:
        await bot.send_photo(chat_id=chat_id, photo=media.file_id)
    else:
        await bot.send_document(chat_id=chat_id, document=media.file_id)


class TelegramChannel:
    """Polls (or is fed by the webhook route) into the durable intake, and answers what the
    intake hands back (bot/channels/intake.py)."""

    channel = Channel.TELEGRAM
    traits = TELEGRAM_TRAITS

    def __init__(self, settings: Settings, core: ChatCore, *, poll_timeout: int = 10) -> None:
        if settings.telegram_token is None:
            raise ValueError("TelegramChannel needs TELEGRAM_TOKEN")
        self._settings = settings
        self._core = core
        self._poll_timeout = poll_timeout
        builder = (
            Application.builder()
            .token(settings.telegram_token)
            .base_url(f"{settings.telegram_base_url}/bot")
            .base_file_url(f"{settings.telegram_base_url}/file/bot")
            # aiohttp rather than PTB's default httpx: much less CPU per Bot API request.
            .request(AiohttpRequest(connection_pool_size=256))
            .get_updates_request(AiohttpRequest(connection_pool_size=1))
            # Retries a reply once after a 429 instead of dropping it. Replies are not
            # held to the 30-a-second pace of bulk notices (the outbox dispatcher keeps that
            # one): a member is waiting for each, and Telegram's 429 still says when to wait.
            .rate_limiter(AIORateLimiter(overall_max_rate=0, max_retries=1))
            # Updates go through the intake, not PTB's update queue and updater.
            .updater(None)
        )
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.intake = IntakeProcessor(core.database, core, self)
        self._stop = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._answering: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.application.initialize()
        bot = self.application.bot
        if self._settings.telegram_webhook_mode:
            await bot.set_webhook(
                url=self._settings.telegram_webhook_url or "",
                secret_token=self._settings.telegram_webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            # getUpdates answers 409 while a webhook is set.
            await bot.delete_webhook()
            self._poller = asyncio.create_task(self._poll())
        self._stop.clear()
        self._answering = asyncio.create_task(self.intake.run(self._stop))
        log.info(
            "Telegram: started (%s)",
            "webhook" if self._settings.telegram_webhook_mode else "polling",
        )

    async def stop(self) -> None:
        """Ends the long poll at once (what it fetched is stored or will be fetched again),
        then lets the updates in hand finish."""
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        self._stop.set()
        if self._answering is not None:
            await self._answering
            self._answering = None
        await self.application.shutdown()

    async def feed_webhook(self, data: dict[str, Any]) -> None:
        """Stores an update the web app received; it is answered from the intake. Raises
        ValueError for a body that is not an update."""
        await self.intake.receive([intake_entry(data, self.application.bot)])

    async def _poll(self) -> None:
        """getUpdates in a loop. The offset that confirms updates to Telegram is only sent
        once they are stored, so a crash in between has Telegram send them again."""
        bot = self.application.bot
        offset = 0
        failures = 0
        while True:
            try:
                updates = await bot.get_updates(
                    offset=offset,
                    timeout=self._poll_timeout,
                    allowed_updates=ALLOWED_UPDATES,
                    read_timeout=self._poll_timeout + 10,
                )
                entries, offset_after = _polled(updates, offset)
                await self.intake.receive(entries)
            except (TelegramError, OSError) as error:
                failures += 1
                delay = POLL_BACKOFF[min(failures, len(POLL_BACKOFF)) - 1]
                log.warning("Telegram: getUpdates failed (%r); retrying in %.0f s", error, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            offset = offset_after

    def incoming(self, payload: dict[str, Any]) -> Incoming | None:
        update = Update.de_json(payload, self.application.bot)
        return None if update is None else to_incoming(update)

    async def deliver(
        self, payload: dict[str, Any], incoming: Incoming, replies: list[Reply]
    ) -> None:
        """Sends the replies, then stops the spinner on a pressed button. The press is
        already handled: Telegram refuses to answer queries older than about 15 s, and that
        must not lose it. Raises TransientError or RetryLater when the replies may go
        through later."""
        try:
            await self.send(incoming.chat_id, replies)
        except TelegramError as error:
            failure = _classify(error)
            if isinstance(failure, TransientError | RetryLater):
                raise failure from None
            # Update contents are not logged: they may hold phone or card numbers.
            log.error("Telegram: could not send a reply: %r", error)
        callback = payload.get("callback_query")
        if isinstance(callback, dict) and isinstance(callback.get("id"), str):
            try:
                await self.application.bot.answer_callback_query(callback["id"])
            except TelegramError as error:
                log.info("Telegram: a button press was not acknowledged: %r", error)

    async def send(self, chat_id: str, replies: list[Reply]) -> None:
        bot = self.application.bot
        for reply in replies:
            await _send_media(bot, chat_id, reply.media)
            chunks = split_text(reply.text, TELEGRAM_TRAITS.text_limit) or ["…"]
            for index, chunk in enumerate(chunks):
                last = index == len(chunks) - 1
                await bot.send_message(
                    chat_id=chat_id, text=chunk, reply_markup=_markup(reply) if last else None
                )
            if reply.document is not None:
                await bot.send_document(
                    chat_id=chat_id,
                    document=InputFile(reply.document.content, filename=reply.document.filename),
                )


def _polled(updates: Sequence[Update], offset: int) -> tuple[list[Entry], int]:
    """The updates of a getUpdates answer as the intake stores them, and the offset that
    confirms them."""
    entries = []
    for update in updates:
        offset = max(offset, update.update_id + 1)
        chat = update.effective_chat
        entries.append(
            Entry(str(update.update_id), "" if chat is None else str(chat.id), update.to_dict())
        )
    return entries, offset


def _classify(error: TelegramError) -> DeliveryError:
    """PTB's exceptions in the dispatcher's terms. Messages hold no personal data."""
    if isinstance(error, RetryAfter):
        retry = error.retry_after
        seconds = retry if isinstance(retry, int | float) else retry.total_seconds()
        return RetryLater("429 flood control", float(seconds))
    if isinstance(error, Forbidden):
        return RecipientBlocked("403 blocked or deactivated")
    if isinstance(error, InvalidToken):
        return SenderUnauthorized("401 token refused")
    if isinstance(error, BadRequest):
        if "chat not found" in error.message.lower():
            return ChatNotFound("400 chat not found")
        return PermanentError(f"400 {error.message[:150]}")
    if isinstance(error, TimedOut | NetworkError):
        return TransientError(f"network: {type(error).__name__}")
    return PermanentError(type(error).__name__)


class TelegramSender:
    """Delivers outbox messages through its own Bot, without PTB's rate limiter: the
    dispatcher paces sends itself and must see every 429."""

    channel = Channel.TELEGRAM
    numbered_choices = False

    def __init__(self, settings: Settings, *, limits: RateLimits, connections: int = 32) -> None:
        if settings.telegram_token is None:
            raise ValueError("TelegramSender needs TELEGRAM_TOKEN")
        self.limits = limits
        self.bot = Bot(
            settings.telegram_token,
            base_url=f"{settings.telegram_base_url}/bot",
            request=AiohttpRequest(connection_pool_size=connections),
        )

    async def start(self) -> None:
        await self.bot.initialize()

    async def stop(self) -> None:
        await self.bot.shutdown()

    async def deliver(self, chat_id: str, reply: Reply) -> str:
        chunks = split_text(reply.text, TELEGRAM_TRAITS.text_limit) or ["…"]
        message_id = ""
        try:
            await _send_media(self.bot, chat_id, reply.media)
            for index, chunk in enumerate(chunks):
                last = index == len(chunks) - 1
                message = await self.bot.send_message(
                    chat_id=chat_id, text=chunk, reply_markup=_markup(reply) if last else None
                )
                message_id = str(message.message_id)
        except TelegramError as error:
            raise _classify(error) from None
        return message_id

    async def edit(self, chat_id: str, message_id: str, text: str) -> None:
        try:
            await self.bot.edit_message_text(text, chat_id=chat_id, message_id=int(message_id))
        except TelegramError as error:
            raise _classify(error) from None


class TelegramFiles:
    """Downloads a file a member sent (a trainer's question sheet) for the handlers, through
    `bot.services.files`: getFile, then the file route of the same Bot API server."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def fetch(self, file_id: str, max_bytes: int) -> FetchedFile:
        try:
            file = await self._bot.get_file(file_id)
            # Telegram says the size before the download; a missing size is checked after.
            if file.file_size is not None and file.file_size > max_bytes:
                raise FileTooLarge(f"{file.file_size} bytes")
            content = bytes(await file.download_as_bytearray())
        except BadRequest as error:
            # The Bot API hands over files of at most 20 MB.
            if "too big" in error.message.lower():
                raise FileTooLarge(error.message) from None
            raise FileUnavailable(error.message) from None
        except TelegramError as error:
            raise FileUnavailable(type(error).__name__) from None
        if len(content) > max_bytes:
            raise FileTooLarge(f"{len(content)} bytes")
        # Telegram keeps the suffix of the name the file was sent with ("file_3.xlsx").
        return FetchedFile(PurePosixPath(file.file_path or "").name, content)
