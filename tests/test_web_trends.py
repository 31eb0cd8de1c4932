"""Tổng quan's week-by-week charts (server-side SVG): members linking a messenger within the
viewer's scope, and for admins the handbook questions asked and not found."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from bot.messages import Channel
from bot.models import ChannelAccount, HandbookQuery, Member
from tests.web_harness import ADMIN, MEMBER, SECRETARY, SIBLING_SECRETARY, Console

pytestmark = pytest.mark.usefixtures("console")
_BAR = re.compile(r"<title>Tuần từ (\d\d/\d\d): (\d+)</title>")


def chart(page: str, chart_id: str) -> list[tuple[str, int]]:
    figure = page.split(f'id="{chart_id}"')[1].split("</figure>")[0]
    return [(week, int(n)) for week, n in _BAR.findall(figure)]


async def _link(console: Console, card: str, days_ago: int) -> None:
    async with console.database.session() as session, session.begin():
        member = await session.scalar(select(Member.id).where(Member.card_number == card))
        session.add(
            ChannelAccount(
                channel=Channel.TELEGRAM,
                external_id=card,
                chat_id=card,
                member_id=member,
                linked_at=console.clock() - timedelta(days=days_ago),
            )
        )


async def test_links_per_week_within_the_secretarys_scope(console: Console) -> None:
    # The test clock stands on Wednesday 25/11/2026: this week began on Monday 23/11.
    await _link(console, MEMBER, days_ago=7)
    await _link(console, SECRETARY, days_ago=0)
    await _link(console, SIBLING_SECRETARY, days_ago=0)  # another chi bộ
    await _link(console, "90000003", days_ago=200)  # before the twelve weeks
    await console.sign_in(SECRETARY)
    page = await (await console.client.get("/admin/")).text()
    weekly = chart(page, "linked-weekly")
    assert len(weekly) == 12
    assert weekly[-2:] == [("16/11", 1), ("23/11", 1)]
    assert sum(n for _, n in weekly) == 2
    totals = chart(page, "linked-total-weekly")
    assert totals[0] == ("07/09", 1) and totals[-2:] == [("16/11", 2), ("23/11", 3)]
    assert 'id="asked-weekly"' not in page  # not attributable to a unit: admins only


async def test_admins_see_handbook_questions_per_week(console: Console) -> None:
    now = console.clock()
    async with console.database.session() as session, session.begin():
        await session.execute(delete(HandbookQuery))  # the demo's, asked at seeding time
        for days, answered in ((0, True), (0, False), (14, False), (15, True)):
            session.add(
                HandbookQuery(
                    asked_at=now - timedelta(days=days),
                    question="Đảng phí?",
                    answered=answered,
                    score=0.5,
                )
            )
    await console.sign_in(ADMIN)
    page = await (await console.client.get("/admin/")).text()
    asked, missed = chart(page, "asked-weekly"), chart(page, "missed-weekly")
    assert [(w, n) for w, n in asked if n] == [("09/11", 2), ("23/11", 2)]
    assert [(w, n) for w, n in missed if n] == [("09/11", 1), ("23/11", 1)]
