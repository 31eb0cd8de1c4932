"""Invented demo data: a provincial committee, two Party committees, four chi bộ and their
members, and the console account linked to one of them. Safe to run again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.console import CONSOLE_USER
from bot.messages import Channel
from bot.models import ChannelAccount, Member, utcnow
from bot.services.audit import AuditService
from bot.services.organisations import OrganisationService

PROVINCE = "Đảng bộ tỉnh Demo"
# (Party committee, chi bộ, [(card number, name, birth date, probationary)])
_UNITS: list[tuple[str, str, list[tuple[str, str, date, bool]]]] = [
    (
        "Đảng bộ Khối các cơ quan và doanh nghiệp",
        "Chi bộ Văn phòng",
        [
            ("90000001", "Nguyễn Văn An", date(1980, 3, 12), False),
            ("90000002", "Trần Thị Bình", date(1986, 7, 2), False),
            ("90000003", "Lê Minh Châu", date(1998, 11, 20), True),
        ],
    ),
    (
        "Đảng bộ Khối các cơ quan và doanh nghiệp",
        "Chi bộ Sở Tư pháp",
        [
            ("90000004", "Phạm Quốc Dũng", date(1975, 1, 30), False),
            ("90000005", "Hoàng Thị Hà", date(1990, 5, 9), False),
            ("90000006", "Vũ Đức Khang", date(1983, 9, 17), False),
        ],
    ),
    (
        "Đảng bộ xã Hòa An",
        "Chi bộ thôn Đông",
        [
            ("90000007", "Đặng Văn Lộc", date(1962, 4, 4), False),
            ("90000008", "Bùi Thị Mai", date(1979, 12, 25), False),
            ("90000009", "Đỗ Thanh Nam", date(2001, 6, 14), True),
        ],
    ),
    (
        "Đảng bộ xã Hòa An",
        "Chi bộ thôn Tây",
        [
            ("90000010", "Ngô Thị Oanh", date(1970, 8, 8), False),
            ("90000011", "Dương Văn Phúc", date(1988, 2, 19), False),
            ("90000012", "Lý Thị Quỳnh", date(1995, 10, 1), False),
        ],
    ),
]
CONSOLE_MEMBER_CARD = "90000002"


@dataclass(frozen=True)
class SeedResult:
    members_created: int
    units: int


async def roster_is_empty(session: AsyncSession) -> bool:
    return not await session.scalar(select(func.count()).select_from(Member))


async def seed_demo(session: AsyncSession) -> SeedResult:
    organisations = OrganisationService(session)
    created = 0
    for committee, chi_bo, people in _UNITS:
        unit = await organisations.ensure_path([PROVINCE, committee, chi_bo])
        for card, name, born, probationary in people:
            exists = await session.scalar(select(Member.id).where(Member.card_number == card))
            if exists is None:
                session.add(
                    Member(
                        card_number=card,
                        full_name=name,
                        birth_date=born,
                        # Invented numbers from a range no operator assigns.
                        phone=f"0900000{card[-3:]}",
                        organisation_id=unit.id,
                        probationary=probationary,
                    )
                )
                created += 1
    await session.flush()
    await _link_console(session)
    if created:
        await AuditService(session).record("cli", "demo.seed", members=created)
    return SeedResult(members_created=created, units=len(_UNITS))


async def _link_console(session: AsyncSession) -> None:
    member_id = await session.scalar(
        select(Member.id).where(Member.card_number == CONSOLE_MEMBER_CARD)
    )
    account = await session.scalar(
        select(ChannelAccount).where(
            ChannelAccount.channel == Channel.CONSOLE, ChannelAccount.external_id == CONSOLE_USER
        )
    )
    if account is None:
        account = ChannelAccount(
            channel=Channel.CONSOLE, external_id=CONSOLE_USER, chat_id=CONSOLE_USER
        )
        session.add(account)
    if account.member_id is None:
        account.member_id = member_id
        account.linked_at = utcnow()
