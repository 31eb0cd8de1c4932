"""The Telegram adapter on python-telegram-bot: polling by default, or fed by the web app's
webhook route, both through the durable intake (bot/channels/intake.py): an update is
stored before it is acknowledged (a webhook's 200, getUpdates' next offset) and handled
from the table. It only translates; the conversation lives in the handlers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from pathlib import PurePosixPath
from typing import Any

from telegram import (
    Bot,
    CallbackQuery,
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
from telegram.warnings import PTBUserWarning

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
from bot.channels.telegram_http import AiohttpRequest
from bot.channels.text_split import split_text
from bot.chat import ChatCore
from bot.db import Database
from bot.messages import (
    Attachment,
    Channel,
    ChannelTraits,
    Contact,
    Incoming,
    Media,
    Reply,
    without_nul,
)
from bot.services.files import FetchedFile, FileTooLarge, FileUnavailable
from bot.services.intake import Arrival
from bot.settings import Settings

log = logging.getLogger(__name__)

# Replies are sent with Bot.do_api_request, which hands back Telegram's answer as it came:
# send_message would read each into a Message that a reply never looks at (an eighth of the
# CPU of a handbook question: issue #16, throughput). PTB warns when do_api_request names an
# endpoint it has a method for, which is the point here.
# getUpdates likewise, so that each update is stored as Telegram sent it, not as PTB writes it
# back (Update.to_dict, a sixth of the cost of reading it).
_SEND_MESSAGE = "send_message"
_GET_UPDATES = "get_updates"
warnings.filterwarnings(
    "ignore",
    message=r"Please use 'Bot\.(send_message|get_updates)'",
    category=PTBUserWarning,
)
# Updates this process stored, as PTB read them: most are handled here, and are then not read
# again from their stored dicts (issue #16, throughput). Those another process handles are
# let go, the oldest first, past this many.
PARSED_KEPT = 2000

TELEGRAM_TRAITS = ChannelTraits(has_buttons=True, text_limit=4096, can_share_contact=True)
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
POLL_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)
POLL_READ_TIMEOUT = 5.0


def parse(data: dict[str, Any], bot: Bot | None = None) -> Update:
    """A webhook body or getUpdates result read by PTB. Raises ValueError for a body that is
    not a Telegram update (a wrong shape, a date no calendar has)."""
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise ValueError("no update_id")
    try:
        return Update.de_json(data, bot)
    except (AttributeError, KeyError, TypeError, ValueError, OverflowError, OSError) as exc:
        raise ValueError("not a Telegram update") from exc


def arrival(data: dict[str, Any]) -> Arrival:
    """A webhook body or getUpdates result as the intake stores it; ValueError as parse()."""
    return _arrival(parse(data), data)


def _arrival(update: Update, data: dict[str, Any]) -> Arrival:
    chat = update.effective_chat
    return Arrival(str(update.update_id), str(chat.id) if chat is not None else "", data)


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
                message.contact.phone_number, str(contact_user) if contact_user else None
            ),
        )
    if isinstance(message.text, str):
        return Incoming(**base, text=without_nul(message.text))
    attachment = _attachment(message)
    caption = message.caption if isinstance(message.caption, str) else None
    return Incoming(
        **base,
        attachment=attachment,
        text=None if caption is None else without_nul(caption),
        media=_media(message, attachment),
    )


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
    def __init__(
        self,
        settings: Settings,
        core: ChatCore,
        *,
        database: Database | None = None,
        poll_timeout: int = 10,
        backoff: tuple[float, ...] = POLL_BACKOFF,
    ) -> None:
        if settings.telegram_token is None:
            raise ValueError("TelegramChannel needs TELEGRAM_TOKEN")
        self._settings = settings
        self._core = core
        self._poll_timeout = poll_timeout
        self._backoff = backoff
        # A channel run on its own (tests, benchmarks) opens the database itself.
        self._own_database = database is None
        self._database = database or Database(settings.database_url)
        self.application: Application[Any, Any, Any, Any, Any, Any] = (
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
            # Updates are fetched and handled through the intake, not PTB's updater.
            .updater(None)
            .build()
        )
        self.intake = Intake(self._database, Channel.TELEGRAM, self._handle)
        self._poller: asyncio.Task[None] | None = None
        self._parsed: dict[int, Update] = {}

    async def start(self) -> None:
        await self.application.initialize()
        # First what a stopped process left in the table, then what is new.
        await self.intake.start()
        bot = self.application.bot
        if self._settings.telegram_webhook_mode:
            await bot.set_webhook(
                url=self._settings.telegram_webhook_url or "",
                secret_token=self._settings.telegram_webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            await bot.delete_webhook()  # getUpdates answers 409 while a webhook is set
            self._poller = asyncio.create_task(self._poll())
        log.info(
            "Telegram: started (%s)",
            "webhook" if self._settings.telegram_webhook_mode else "polling",
        )

    @property
    def started(self) -> bool:
        """Answering updates (for /readyz)."""
        return self.intake.running

    async def stop(self) -> None:
        if self._poller is not None:
            # It waits on getUpdates, a pause or the intake's short insert: an update not
            # stored is not confirmed either, and Telegram hands it over again.
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        await self.intake.stop()
        await self.application.shutdown()
        if self._own_database:
            await self._database.dispose()

    async def receive(self, data: dict[str, Any]) -> None:
        """Stores an update the web app received, before it answers 200. Raises ValueError
        for a body that is not an update."""
        update = parse(data, self.application.bot)
        self._keep([update])
        await self.intake.store([_arrival(update, data)])

    def _keep(self, updates: list[Update]) -> None:
        """Keeps updates about to be stored for their handling (PARSED_KEPT)."""
        for update in updates:
            self._parsed[update.update_id] = update
        while len(self._parsed) > PARSED_KEPT:
            del self._parsed[next(iter(self._parsed))]

    async def _poll(self) -> None:
        """getUpdates in a loop. Telegram drops the updates before `offset` when it is
        asked for the next ones, so the offset moves on only once they are stored."""
        bot = self.application.bot
        offset: int | None = None
        failures = 0
        while True:
            try:
                batch = await bot.do_api_request(
                    _GET_UPDATES,
                    api_kwargs={
                        "offset": offset,
                        "timeout": self._poll_timeout,
                        "allowed_updates": ALLOWED_UPDATES,
                    },
                    # As Bot.get_updates: the long poll's own seconds, then the usual wait.
                    read_timeout=self._poll_timeout + POLL_READ_TIMEOUT,
                )
                if batch:
                    updates = [Update.de_json(data, bot) for data in batch]
                    self._keep(updates)
                    arrivals = [_arrival(u, data) for u, data in zip(updates, batch, strict=True)]
                    await self.intake.store(arrivals)
                    offset = updates[-1].update_id + 1
                failures = 0
            except Exception as error:  # network, Telegram, the database
                failures += 1
                delay = self._backoff[min(failures, len(self._backoff)) - 1]
                log.warning(
                    "Telegram: getUpdates failed (%s); retrying in %.0f s",
                    type(error).__name__,
                    delay,
                )
                await asyncio.sleep(delay)

    async def send(self, chat_id: str, replies: list[Reply]) -> None:
        bot = self.application.bot
        for reply in replies:
            await _send_media(bot, chat_id, reply.media)
            chunks = split_text(reply.text, TELEGRAM_TRAITS.text_limit) or ["…"]
            for index, chunk in enumerate(chunks):
                last = index == len(chunks) - 1
                await bot.do_api_request(
                    _SEND_MESSAGE,
                    api_kwargs={
                        "chat_id": chat_id,
                        "text": chunk,
                        "reply_markup": _markup(reply) if last else None,
                    },
                )
            if reply.document is not None:
                await bot.send_document(
                    chat_id=chat_id,
                    document=InputFile(reply.document.content, filename=reply.document.filename),
                )

    async def _handle(self, raw: dict[str, Any]) -> None:
        """Handles a stored update. A pressed button is handled first and its spinner
        stopped after, best effort: Telegram refuses to answer a query older than about
        15 s (after downtime, behind a backlog), and that must not drop the press."""
        update = self._parsed.pop(raw.get("update_id"), None) or Update.de_json(
            raw, self.application.bot
        )
        try:
            incoming = to_incoming(update)
            if incoming is None:
                self._core.ignored(Channel.TELEGRAM)
            else:
                await self._core.answer(incoming, TELEGRAM_TRAITS, self.send)
        finally:
            if update.callback_query is not None:
                await _answer_query(update.callback_query)


async def _answer_query(query: CallbackQuery) -> None:
    try:
        await query.answer()
    except TelegramError as error:
        log.info("Telegram: a handled button press could not be answered (%s)", error.message)


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
