"""The values every adapter and handler speak: what arrived, what to answer, and what the
messenger can show."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Channel(StrEnum):
    TELEGRAM = "telegram"
    ZALO = "zalo"
    CONSOLE = "console"


@dataclass(frozen=True)
class ChannelTraits:
    """What a messenger can show; the core adapts replies and input to it."""

    has_buttons: bool
    text_limit: int
    # Telegram proves a shared contact belongs to the sender; other messengers cannot.
    can_share_contact: bool = False


class Attachment(StrEnum):
    """Non-text content; the bot only reads text, but it answers these politely."""

    STICKER = "sticker"
    PHOTO = "photo"
    DOCUMENT = "document"
    OTHER = "other"
    # Zalo hides some senders' content and says only that something arrived.
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class Contact:
    """A contact shared through the messenger; `user_id` is whose contact card it is."""

    phone_number: str
    user_id: str | None


@dataclass(frozen=True)
class Media:
    """A photo or document already on the messenger's servers, sent again by its id."""

    kind: Attachment
    file_id: str
    channel: Channel


@dataclass(frozen=True)
class Incoming:
    channel: Channel
    sender_id: str
    chat_id: str
    text: str | None = None
    button_data: str | None = None
    contact: Contact | None = None
    attachment: Attachment | None = None
    # The attachment itself, where the messenger lets the bot send it on (Telegram).
    media: Media | None = None
    # What the flow's preparer made of the message before its transaction (router.flow).
    prepared: object | None = None

    @property
    def command(self) -> str | None:
        """`/start@SotayBot arg` → "start"; None for text that is not a command."""
        if not self.text or not self.text.startswith("/"):
            return None
        word = self.text[1:].split(maxsplit=1)[0] if len(self.text) > 1 else ""
        return word.split("@", 1)[0].lower()

    @property
    def command_args(self) -> str:
        """What follows the command: "/lenh 12" and the tappable "/lenh_12" both give "12"."""
        parts = (self.text or "").split(maxsplit=1)
        if len(parts) > 1:
            return parts[1].strip()
        suffix = (self.command or "").rpartition("_")[2]
        return suffix if suffix.isdigit() else ""


@dataclass(frozen=True)
class Button:
    label: str
    data: str
    # Where buttons become a list to answer by typing, a key ("A") is shown and accepted
    # instead of the number.
    key: str | None = None


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes


@dataclass(frozen=True)
class Reply:
    text: str
    # Rows of buttons; messengers without buttons show them as a numbered list.
    buttons: tuple[tuple[Button, ...], ...] = field(default=())
    # A button that shares the member's own verified phone number (Telegram only).
    contact_request: str | None = None
    # Take away a contact-request keyboard shown earlier.
    clear_keyboard: bool = False
    document: Document | None = None
    # Sent before the text; a messenger that cannot show it says so in the text.
    media: Media | None = None

    @property
    def flat_buttons(self) -> list[Button]:
        return [button for row in self.buttons for button in row]


def without_nul(value: str) -> str:
    """Text as the adapters pass it on: PostgreSQL text cannot hold a NUL byte, and no
    member means one."""
    return value.replace("\x00", "")
