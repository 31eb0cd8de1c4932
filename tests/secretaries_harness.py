"""Demo units with secretaries and linked members (talk to the core as them with
tests.harness.say)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from bot.db import Database
from bot.demo import seed_demo
from bot.models import ChannelAccount, Member, Organisation, RoleGrant
from tests.harness import linked

SECRETARY, SIBLING, MEMBER = "90000001", "90000004", "90000003"
NOTICE = "Chi bộ họp thường kỳ lúc 19h30 thứ Sáu tuần này tại hội trường."


@pytest.fixture
async def units(database: Database) -> dict[str, int]:
    """Demo data; secretaries of Chi bộ Văn phòng and of Chi bộ Sở Tư pháp; the secretary
    and one more Văn phòng member linked on Telegram, the third (Trần Thị Bình) not linked."""
    async with database.session() as session, session.begin():
        await seed_demo(session)
        await session.execute(update(ChannelAccount).values(member_id=None))  # the console
        ids = {
            name: await session.scalar(select(Organisation.id).where(Organisation.name == name))
            for name in ("Chi bộ Văn phòng", "Chi bộ Sở Tư pháp")
        }
        for card, unit in ((SECRETARY, "Chi bộ Văn phòng"), (SIBLING, "Chi bộ Sở Tư pháp")):
            member_id = await session.scalar(select(Member.id).where(Member.card_number == card))
            session.add(
                RoleGrant(
                    member_id=member_id,
                    role="secretary",
                    organisation_id=ids[unit],
                    granted_by="test",
                )
            )
        for card in (SECRETARY, SIBLING, MEMBER):
            member_id = await session.scalar(select(Member.id).where(Member.card_number == card))
            session.add(linked(member_id, card))
    return {k: v for k, v in ids.items() if v is not None}
