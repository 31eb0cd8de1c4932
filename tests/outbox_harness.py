"""Members, accounts and a dispatcher wired to the fake Bot API, for delivery tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from bot.channels.delivery import RateLimits
from bot.channels.telegram import TelegramSender
from bot.db import Database
from bot.models import Member, OutboxMessage
from bot.services.organisations import OrganisationService
from bot.settings import Settings
from jobs.dispatcher import Dispatcher, DispatchSettings
from tests.fakes.telegram_api import FakeTelegramServer
from tests.harness import linked as linked_account
from tests.secret import TEST_SECRET_KEY

FAST = RateLimits(per_second=500, burst=50, per_chat_interval=0.0)
QUICK_RETRIES = DispatchSettings(
    batch_size=20,
    backoff_base=0.01,
    poll_interval=0.05,
    progress_interval=0.0,
    claim_timeout=timedelta(seconds=1),
)
FIRST_CHAT = 10_000


@dataclass(frozen=True)
class Unit:
    id: int
    member_ids: list[int]
    chats: list[int]


async def add_unit(
    database: Database,
    path: list[str],
    linked: int,
    unlinked: int = 0,
    first_chat: int = FIRST_CHAT,
    channel: str = "telegram",
) -> Unit:
    """A unit with `linked` members linked on `channel` (chat ids from `first_chat`) and
    `unlinked` members with no account."""
    member_ids, chats = [], []
    async with database.session() as session, session.begin():
        unit = await OrganisationService(session).ensure_path(path)
        for index in range(linked + unlinked):
            member = Member(
                card_number=f"{first_chat + index}",
                full_name=f"Đảng viên {first_chat + index}",
                organisation_id=unit.id,
            )
            session.add(member)
            await session.flush()
            member_ids.append(member.id)
            if index < linked:
                chat = first_chat + index
                chats.append(chat)
                session.add(linked_account(member.id, str(chat), channel))
    return Unit(unit.id, member_ids, chats)


async def statuses(database: Database) -> dict[str, int]:
    async with database.session() as session:
        rows = (await session.scalars(select(OutboxMessage.status))).all()
    counts: dict[str, int] = {}
    for status in rows:
        counts[status] = counts.get(status, 0) + 1
    return counts


def telegram_sender(
    server: FakeTelegramServer, database_url: str, limits: RateLimits = FAST
) -> TelegramSender:
    settings = Settings.from_mapping(
        {
            "SOTAY_DATABASE_URL": database_url,
            "TELEGRAM_TOKEN": server.token,
            "SOTAY_SECRET_KEY": TEST_SECRET_KEY,
            "TELEGRAM_BASE_URL": server.base_url,
        }
    )
    return TelegramSender(settings, limits=limits)


def dispatcher(
    database: Database, sender: TelegramSender, settings: DispatchSettings = QUICK_RETRIES
) -> Dispatcher:
    return Dispatcher(database, {"telegram": sender}, settings=settings)
