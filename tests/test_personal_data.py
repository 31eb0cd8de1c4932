"""Issue #14 item 6: /dulieu exports and /xoadulieu erases a member's data table by table, as
the registry (bot/services/personal_data.py) says; every column of every table is in the
registry or marked as holding no personal data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from bot.chat import ChatCore
from bot.db import Database
from bot.messages import Channel, ChannelTraits, Incoming
from bot.models import (
    ActivationCode,
    AuditEntry,
    Base,
    Broadcast,
    ChannelAccount,
    CommitteeQuestion,
    ConversationState,
    DailyCard,
    DailyQuestion,
    DailySubscription,
    Meeting,
    MeetingResponse,
    Member,
    OutboxMessage,
    Quiz,
    QuizAnswer,
    QuizAttempt,
    QuizQuestionRow,
    WebLogin,
)
from bot.services.personal_data import NOT_PERSONAL, REGISTRY, Erasure, Owner
from tests.harness import linked, say
from tests.secretaries_harness import MEMBER, SECRETARY

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
REASON = "khám bệnh tim mạch, gọi 0912345678"
MARKS = {
    "state": "ghi-chu-trang-thai-7731",
    "question": "câu-hỏi-gửi-ban-tổ-chức-7732",
    "answer": "câu-trả-lời-của-ban-7733",
    "outbox": "tin-nhắn-đã-gửi-7734",
    "handbook": "đảng viên dự bị mấy tháng 7735",
}
ZALO_USER = "zalo-user-7736"
ZALO = ChannelTraits(has_buttons=False, text_limit=2000)


def test_every_column_is_in_the_registry_or_marked_not_personal() -> None:
    personal = {(h.table, c) for h in REGISTRY for c in h.columns}
    plain = {(table, c) for table, columns in NOT_PERSONAL.items() for c in columns}
    every = {(t.name, c.name) for t in Base.metadata.sorted_tables for c in t.columns}
    assert every - personal - plain == set(), "classify these columns"
    assert personal - every == set() and plain - every == set(), "no such columns"
    assert personal & plain == set()
    for holding in REGISTRY:
        assert holding.reason
        table = Base.metadata.tables[holding.table]
        assert set(holding.exported) <= set(table.c.keys())
        assert set(holding.cleared) <= set(table.c.keys())
        assert (holding.erasure is Erasure.CLEAR) == bool(holding.cleared)
        assert (holding.export is None) == (not holding.exported)


async def _seed(database: Database) -> tuple[int, list[int]]:
    """MEMBER's data in every table that can hold it; returns the member and accounts."""
    async with database.session() as session, session.begin():
        member = await session.scalar(select(Member).where(Member.card_number == MEMBER))
        secretary = await session.scalar(select(Member.id).where(Member.card_number == SECRETARY))
        assert member is not None
        member.preferred_channel = "zalo"
        zalo = linked(member.id, ZALO_USER, channel="zalo")
        session.add(zalo)
        await session.flush()
        accounts = list(
            await session.scalars(
                select(ChannelAccount.id).where(ChannelAccount.member_id == member.id)
            )
        )
        session.add(ConversationState(account_id=zalo.id, flow="x", data={"n": MARKS["state"]}))
        session.add(
            CommitteeQuestion(
                account_id=accounts[0],
                organisation_id=member.organisation_id,
                question=MARKS["question"],
                answer=MARKS["answer"],
                answered_by=secretary,
                answered_at=NOW,
            )
        )
        for status, key in (("sent", f"reminder:1/m{member.id}"), ("pending", None)):
            session.add(
                OutboxMessage(
                    kind="reminder",
                    member_id=member.id,
                    account_id=accounts[0],
                    channel="telegram",
                    chat_id=MEMBER,
                    payload={"text": MARKS["outbox"]},
                    status=status,
                    idempotency_key=key,
                )
            )
        meeting = Meeting(
            organisation_id=member.organisation_id,
            kind="regular",
            title="Họp chi bộ",
            place="Hội trường",
            starts_at=NOW,
            created_by=f"member:{secretary}",
        )
        session.add(meeting)
        await session.flush()
        session.add(
            MeetingResponse(
                meeting_id=meeting.id,
                occurrence_at=NOW,
                member_id=member.id,
                answer="absent",
                reason=REASON,
                attended=False,
            )
        )
        quiz = Quiz(
            title="Điều lệ",
            created_by="test",
            question_count=1,
            opens_at=NOW,
            closes_at=NOW + timedelta(days=1),
        )
        question = QuizQuestionRow(
            bank_id="b",
            question_id="q1",
            text="?",
            choices=["a", "b"],
            answer=0,
            explanation=".",
            topic="t",
            difficulty="easy",
        )
        session.add_all([quiz, question])
        await session.flush()
        attempt = QuizAttempt(quiz_id=quiz.id, member_id=member.id, number=1, score=80)
        session.add(attempt)
        await session.flush()
        session.add(QuizAnswer(attempt_id=attempt.id, question_id=question.id, correct=True))
        member.named_in_rankings = True
        session.add(DailySubscription(member_id=member.id, send_minute=7 * 60, since=NOW))
        session.add(
            DailyCard(
                member_id=member.id,
                question_id=question.id,
                box=2,
                due_on=NOW.date(),
                answered_at=NOW,
            )
        )
        session.add(
            DailyQuestion(
                member_id=member.id,
                organisation_id=member.organisation_id,
                day=NOW.date(),
                question_id=question.id,
                choices=["a", "b"],
                right=0,
                sent_at=NOW,
                chosen=0,
                correct=True,
                answered_at=NOW,
            )
        )
        session.add(
            AuditEntry(
                actor=f"member:{secretary}", action="codes.issue", target=f"member:{member.id}"
            )
        )
        session.add(Broadcast(actor=f"member:{member.id}", sender_member_id=member.id, text="TB"))
        session.add(
            WebLogin(member_id=member.id, token_hash="h" * 64, expires_at=NOW, issued_by="t")
        )
        session.add(
            ActivationCode(member_id=member.id, code_hash="c" * 64, expires_at=NOW, issued_by="t")
        )
        return member.id, accounts


async def _dump(database: Database) -> str:
    """Every value of every table, as text."""
    async with database.session() as session:
        values = []
        for table in Base.metadata.sorted_tables:
            for row in await session.execute(select(table)):
                values += [str(value) for value in row]
    return "\n".join(values)


async def _count(database: Database, holding_rows: object) -> int:
    async with database.session() as session:
        return int(await session.scalar(select(func.count()).where(holding_rows)) or 0)


async def test_dulieu_and_xoadulieu_cover_every_table(
    database: Database, core: ChatCore, units: dict[str, int]
) -> None:
    member_id, accounts = await _seed(database)
    # A handbook question asked in chat, with a phone number in it.
    await say(core, MEMBER, MARKS["handbook"] + ", số tôi 0912 345 678")
    stored = await _dump(database)
    assert MARKS["handbook"] in stored and "0912 345 678" not in stored  # masked when logged

    (reply,) = await say(core, MEMBER, "/dulieu")
    assert reply.document is not None
    exported = json.loads(reply.document.content)
    content = reply.document.content.decode()
    for holding in REGISTRY:
        if holding.export is not None:
            assert exported[holding.export], holding.export
    for mark in MARKS.values():
        assert mark in content, mark
    assert REASON in content
    assert exported["bai_trac_nghiem"][0]["score"] == 80
    assert exported["tra_loi_hop"][0]["attended"] is False
    assert exported["dang_vien"]["so_the"] == "***0003"

    async with database.session() as session:
        owner_keys = [h for h in REGISTRY if h.rows is not None]
        (asker,) = await session.scalars(text("SELECT asker_key FROM handbook_queries"))
    owner = Owner(member_id, tuple(sorted(accounts)), (asker,))
    before = {id(h): await _count(database, h.rows(owner)) for h in owner_keys}  # type: ignore[misc]

    await say(core, MEMBER, "/xoadulieu")
    await say(core, MEMBER, button="erase:yes")

    dump = await _dump(database)
    for mark in MARKS.values():
        assert mark not in dump, mark
    assert REASON not in dump and ZALO_USER not in dump
    async with database.session() as session:
        chat_ids = set(await session.scalars(select(ChannelAccount.chat_id)))
        chat_ids |= set(await session.scalars(select(OutboxMessage.chat_id)))
        keys = set(await session.scalars(select(OutboxMessage.idempotency_key)))
        statuses = sorted(await session.scalars(select(OutboxMessage.status)))
        (erase,) = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "account.erase")
        )
    assert MEMBER not in chat_ids and keys == {None}
    assert statuses == ["cancelled", "sent"]  # the pending message is never sent
    assert erase.details["committee_questions"] == 1 and erase.details["outbox"] == 2

    for holding in owner_keys:
        rows = holding.rows(owner)  # type: ignore[misc]
        if holding.erasure is Erasure.DELETE:
            assert await _count(database, rows) == 0, holding.table
        elif holding.erasure is Erasure.KEEP:
            # (The audit log gains the erasure's own lines.)
            assert await _count(database, rows) >= before[id(holding)], holding.table
    # Cleared columns: emptied, the rows kept for their reason.
    async with database.session() as session:
        response = await session.scalar(select(MeetingResponse))
        attempt = await session.scalar(select(QuizAttempt))
        member = await session.get(Member, member_id)
        erased = list(
            await session.scalars(select(ChannelAccount).where(ChannelAccount.id.in_(accounts)))
        )
    assert response is not None and response.reason is None and response.attended is False
    assert attempt is not None and attempt.score == 80
    assert member is not None and member.preferred_channel is None and member.active
    assert [(a.external_id, a.member_id, a.consent_at) for a in erased] == [
        (f"erased-{a}", None, None) for a in sorted(accounts)
    ]


async def test_erasure_on_a_messenger_without_buttons(
    database: Database, core: ChatCore, units: dict[str, int]
) -> None:
    """On Zalo the erase question is answered with its number; the numbered choices the
    core stores after the reply must not trip over the erased rows."""
    async with database.session() as session, session.begin():
        member_id = await session.scalar(select(Member.id).where(Member.card_number == MEMBER))
        session.add(linked(member_id, ZALO_USER, channel="zalo"))

    async def zalo(body: str) -> str:
        (reply,) = await core.handle(Incoming(Channel.ZALO, ZALO_USER, ZALO_USER, text=body), ZALO)
        return reply.text

    await zalo("/xoadulieu")
    assert (
        await zalo("1")
        == "Đã xóa dữ liệu trò chuyện và hủy liên kết. Khi muốn dùng lại, gửi /start."
    )
    async with database.session() as session:
        assert not list(
            await session.scalars(
                select(ChannelAccount).where(ChannelAccount.external_id == ZALO_USER)
            )
        )
