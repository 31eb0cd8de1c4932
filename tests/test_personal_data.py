"""A member's data rights table by table: every column that can hold a member's data is
classified (bot/services/personal_data.py), `/dulieu` exports each section, and after
`/xoadulieu` no table holds the member's messenger id, their questions to the committee and
the answers, the texts sent to them, their absence reasons or their name and phone in
handbook questions. Attendance and quiz results stay, for the reasons classified."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from bot.chat import ChatCore
from bot.db import Database
from bot.demo import seed_demo
from bot.models import (
    ActivationCode,
    Base,
    CommitteeQuestion,
    ConversationState,
    HandbookQuery,
    Meeting,
    MeetingResponse,
    Member,
    OutboxMessage,
    Quiz,
    QuizAttempt,
    RoleGrant,
)
from bot.services.personal_data import HANDLING, NOT_MEMBER_DATA, Fate
from tests.harness import linked, say

TELEGRAM_ID = "5550001"
QUESTION = "Tôi muốn hỏi riêng về việc chuyển sinh hoạt đảng XQ17"
ANSWER = "Đồng chí liên hệ văn phòng cấp ủy, phòng 203 ZR42"
NOTICE = "Tin nhắn riêng gửi đồng chí Bình KW93"
REASON = "khám bệnh tim mạch, gọi 0912 345 678"
HANDBOOK = "Tôi là Trần Thị Bình, số 0900.000.002, hỏi về đảng phí"


def test_every_column_of_every_table_is_classified() -> None:
    """Fails when a column or table is added without saying what erasure does to it."""
    seen = set()
    for table in Base.metadata.sorted_tables:
        if table.name in NOT_MEMBER_DATA:
            continue
        for column in table.columns:
            key = (table.name, column.name)
            seen.add(key)
            assert key in HANDLING, f"classify {key} in bot/services/personal_data.py"
    assert set(HANDLING) == seen, "HANDLING names columns that no longer exist"
    for key, handling in HANDLING.items():
        if handling.fate is Fate.KEPT or handling.export is None:
            assert handling.why, f"{key}: say why it is kept or not exported"
    assert all(NOT_MEMBER_DATA.values())


async def _seed(database: Database) -> int:
    """Bình (demo card 90000002) on Telegram, with something in every table about her."""
    now = datetime.now(UTC)
    async with database.session() as session, session.begin():
        await seed_demo(session)
        member = await session.scalar(select(Member).where(Member.card_number == "90000002"))
        secretary = await session.scalar(select(Member.id).where(Member.card_number == "90000001"))
        assert member is not None
        member.preferred_channel = "telegram"
        session.add(RoleGrant(member_id=member.id, role="trainer", granted_by="test"))
        account = linked(member.id, TELEGRAM_ID)
        account.consent_version, account.consent_at = "2026-11", now
        session.add(account)
        await session.flush()
        meeting = Meeting(
            organisation_id=member.organisation_id,
            kind="regular",
            title="Sinh hoạt chi bộ",
            place="Hội trường",
            starts_at=now - timedelta(days=3),
            created_by="test",
        )
        quiz = Quiz(
            title="Điều lệ Đảng",
            created_by="test",
            question_count=5,
            opens_at=now - timedelta(days=5),
            closes_at=now - timedelta(days=1),
        )
        session.add_all([meeting, quiz])
        await session.flush()
        session.add_all(
            [
                ConversationState(account_id=account.id, flow="x", step="y", data={"q": QUESTION}),
                CommitteeQuestion(
                    account_id=account.id,
                    organisation_id=member.organisation_id,
                    question=QUESTION,
                    answer=ANSWER,
                    answered_by=secretary,
                    answered_at=now,
                ),
                OutboxMessage(
                    kind="broadcast",
                    member_id=member.id,
                    account_id=account.id,
                    channel="telegram",
                    chat_id=TELEGRAM_ID,
                    payload={"text": NOTICE},
                    status="sent",
                    message_id="777",
                ),
                MeetingResponse(
                    meeting_id=meeting.id,
                    occurrence_at=now - timedelta(days=3),
                    member_id=member.id,
                    answer="absent",
                    reason=REASON,
                    answered_at=now,
                    attended=False,
                ),
                HandbookQuery(question=HANDBOOK, answered=False, score=0.0),
                QuizAttempt(quiz_id=quiz.id, member_id=member.id, number=9, score=80, passed=True),
                ActivationCode(
                    member_id=member.id,
                    code_hash="f" * 64,
                    expires_at=now + timedelta(days=3),
                    issued_by="test",
                ),
            ]
        )
        return member.id


async def test_my_data_exports_every_section(core: ChatCore, database: Database) -> None:
    await _seed(database)
    (reply,) = await say(core, TELEGRAM_ID, "/dulieu")
    assert reply.document is not None
    data = json.loads(reply.document.content)
    for key, handling in HANDLING.items():
        if handling.export is not None:
            assert data.get(handling.export), f"{key}: section {handling.export} is empty"
    assert data["cau_hoi_gui_cap_uy"] == [
        {"cau_hoi": QUESTION, "hoi_luc": data["cau_hoi_gui_cap_uy"][0]["hoi_luc"],
         "tra_loi": ANSWER, "tra_loi_luc": data["cau_hoi_gui_cap_uy"][0]["tra_loi_luc"]}
    ]  # fmt: skip
    (absence,) = [row for row in data["diem_danh"] if row["ly_do_vang"]]
    assert absence["ly_do_vang"] == REASON and absence["co_mat"] is False
    assert {"lan": 9, "diem": 80, "dat": True}.items() <= data["trac_nghiem"][-1].items()
    assert data["tin_nhan_bot_gui"][-1]["noi_dung"] == NOTICE
    assert "0900000002" not in reply.document.content.decode()


async def _dump(database: Database) -> str:
    """Every value of every table, as text."""
    parts = []
    async with database.session() as session:
        for table in Base.metadata.sorted_tables:
            rows = await session.execute(text(f"SELECT * FROM {table.name}"))
            parts.extend(_readable(value) for row in rows for value in row)
    return "\n".join(parts)


def _readable(value: object) -> str:
    """JSON columns come back as text with \\u escapes on SQLite: decode them."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.dumps(json.loads(value), ensure_ascii=False)
        except ValueError:
            return value
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)


async def test_erasure_leaves_no_chat_data_in_any_table(core: ChatCore, database: Database) -> None:
    member_id = await _seed(database)
    before = await _dump(database)
    assert all(value in before for value in (TELEGRAM_ID, QUESTION, ANSWER, NOTICE, REASON))
    await say(core, TELEGRAM_ID, "/xoadulieu")
    await say(core, TELEGRAM_ID, button="erase:yes")
    after = await _dump(database)
    for value in (TELEGRAM_ID, QUESTION, ANSWER, NOTICE, REASON, "0912 345 678", "Trần Thị Bình,"):
        assert value not in after, value
    assert "0900.000.002" not in after and "[đã xóa]" in after
    async with database.session() as session:
        # Kept, with their reasons: attendance counts and quiz results.
        response = await session.scalar(
            select(MeetingResponse).where(MeetingResponse.member_id == member_id)
        )
        attempt = await session.scalar(
            select(QuizAttempt).where(QuizAttempt.member_id == member_id, QuizAttempt.number == 9)
        )
        member = await session.get(Member, member_id)
    assert response is not None and response.attended is False and response.reason is None
    assert attempt is not None and attempt.score == 80
    assert member is not None and member.full_name == "Trần Thị Bình"
