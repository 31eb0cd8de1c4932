"""What the outbox dispatcher needs from a messenger: deliver one reply to one chat, and say
plainly why it could not. Each adapter implements `Sender` and classifies its API's errors
into the exceptions below."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.messages import Channel, Reply


class DeliveryError(Exception):
    """Base of every delivery failure; `reason` is short and holds no personal data."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RecipientBlocked(DeliveryError):
    """The member blocked the bot or the account is gone (Telegram 403): stop sending to it."""


class ChatNotFound(DeliveryError):
    """The chat does not exist for this bot (Telegram 400 chat not found): fail the row."""


class RetryLater(DeliveryError):
    """The messenger asks to slow down (429): pause all sending for `retry_after` seconds."""

    def __init__(self, reason: str, retry_after: float) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class TransientError(DeliveryError):
    """A timeout, a network error or a 5xx: retry with backoff."""


class SenderUnauthorized(DeliveryError):
    """The bot token is refused (401): stop this messenger's sender, keep the rows."""


class PermanentError(DeliveryError):
    """Any other refusal: retrying will not help."""


@dataclass(frozen=True)
class RateLimits:
    """Sending limits of a messenger; short bursts up to `burst` messages are allowed."""

    per_second: float
    burst: int
    per_chat_interval: float  # seconds between two messages to the same chat


class Sender(Protocol):
    channel: Channel
    limits: RateLimits
    # True where buttons are shown as a numbered list: the dispatcher then stores the
    # choices for the account, so that a digit typed later picks one.
    numbered_choices: bool

    async def deliver(self, chat_id: str, reply: Reply) -> str:
        """Send the reply (split to the messenger's length limit); return the id of the
        last message sent. Raises a DeliveryError subclass when it cannot."""
        ...

    async def edit(self, chat_id: str, message_id: str, text: str) -> None:
        """Replace the text of a message sent earlier (progress reports). Messengers that
        cannot edit send a new message instead."""
        ...
