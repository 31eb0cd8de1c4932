"""Units ranked by a month of daily questions (/xephang): units only, never members, within
the reader's scope. (A quiz's ranking is checked in tests/test_quiz_report.py, in the
results delivered through the fake Bot API and in the workbook.)"""

from __future__ import annotations

from bot.chat import ChatCore
from bot.db import Database
from bot.settings import Settings
from bot.texts import text
from handlers.daily import DailyAnswerButton
from tests.clock import Clock
from tests.harness import grant, say
from tests.quiz_harness import member_id
from tests.secretaries_harness import MEMBER, SECRETARY, SIBLING
from tests.test_daily_question import at, run, sends, subscribe

COMMITTEE = "Đảng bộ Khối các cơ quan và doanh nghiệp"
OFFICE, JUSTICE = "Chi bộ Văn phòng", "Chi bộ Sở Tư pháp"
NAMES = ("Nguyễn Văn An", "Trần Thị Bình", "Lê Minh Châu", "Phạm Quốc Dũng")


def line(rank: int, unit: str, participation: int, took_part: int, average: str) -> str:
    return text(
        "rankings.month_line",
        rank=rank,
        unit=unit,
        participation=participation,
        took_part=took_part,
        members=3,
        average=average,
    )


async def test_units_are_ranked_by_the_months_daily_questions(
    chat: ChatCore, database: Database, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    for card in (MEMBER, SECRETARY, SIBLING):
        await subscribe(chat, card, "19:00")
    clock.set(at(25, 19))
    assert await run(database, settings, clock) == 3
    by_member = {s.member_id: s for s in await sends(database)}
    member_send = by_member[await member_id(database, MEMBER)]
    secretary_send = by_member[await member_id(database, SECRETARY)]
    # Văn phòng: the member right, the secretary wrong; Sở Tư pháp's secretary answers nothing.
    for card, send, right in ((MEMBER, member_send, True), (SECRETARY, secretary_send, False)):
        shown = send.right_shown if right else (send.right_shown + 1) % len(send.order)
        await say(chat, card, button=DailyAnswerButton(send.id, shown).pack())
    # Dũng also trains the committee's units: he sees both chi bộ, ranked.
    await grant(database, SIBLING, "trainer", COMMITTEE)
    (ranking,) = await say(chat, SIBLING, "/xephang")
    assert ranking.text == "\n".join(
        [
            text("rankings.month_title", month="11/2026", root=COMMITTEE),
            line(1, OFFICE, 67, 2, "50%"),
            line(2, JUSTICE, 0, 0, text("rankings.no_average")),
        ]
    )
    assert not any(name in ranking.text for name in NAMES)
    # The Văn phòng secretary sees their own chi bộ only.
    (own,) = await say(chat, SECRETARY, "/xephang 11/2026")
    assert own.text == "\n".join(
        [
            text("rankings.month_title", month="11/2026", root=OFFICE),
            line(1, OFFICE, 67, 2, "50%"),
        ]
    )
    (earlier,) = await say(chat, SECRETARY, "/xephang 10/2026")
    assert earlier.text.endswith(line(1, OFFICE, 0, 0, text("rankings.no_average")))
    (usage,) = await say(chat, SECRETARY, "/xephang tháng trước")
    assert usage.text == text("rankings.usage")
    (member,) = await say(chat, MEMBER, "/xephang")
    assert member.text == text("secretary.not_allowed")
