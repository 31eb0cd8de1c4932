"""Quiz windows as data: invitations at opening only to the target units' linked members,
once across restarts; the reminder before closing; closing scores what stands; permission
to schedule; the shipped bank synced idempotently; spreadsheet import all or nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.db import Database
from bot.models import OutboxMessage, Quiz, QuizAttempt, QuizQuestionRow, RoleGrant
from bot.services.permissions import PermissionDenied
from bot.services.quizzes.lifecycle import Due, Event
from bot.settings import Settings
from jobs.quizzes import WAKE_JOB, QuizScheduler
from tests.clock import Clock
from tests.harness import services
from tests.quiz_harness import BEFORE_OPENING, CLOSES, OPENS, member_id, schedule
from tests.quiz_harness import trainer as quiz_trainer
from tests.secretaries_harness import MEMBER, SECRETARY, SIBLING


@pytest.fixture
def clock() -> Clock:
    return Clock(BEFORE_OPENING)


def scheduler(database: Database, settings: Settings, clock: Clock) -> QuizScheduler:
    return QuizScheduler(database, settings, clock=clock)


async def outbox(database: Database, kind: str) -> list[str | None]:
    async with database.session() as session:
        rows = await session.scalars(
            select(OutboxMessage.chat_id).where(OutboxMessage.kind == kind)
        )
        return sorted(chat or "" for chat in rows)


async def test_invitations_at_opening_go_once_to_the_target_units_linked_members(
    database: Database, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    await schedule(database, clock, [units["Chi bộ Văn phòng"]])
    assert await scheduler(database, settings, clock).run_due() == 0
    assert await outbox(database, "quiz_invitation") == []
    clock.set(OPENS + timedelta(minutes=1))
    assert await scheduler(database, settings, clock).run_due() == 1
    # The third Văn phòng member is not linked; Sở Tư pháp is not a target.
    assert await outbox(database, "quiz_invitation") == sorted([SECRETARY, MEMBER])
    assert await scheduler(database, settings, clock).run_due() == 0  # a restart
    assert len(await outbox(database, "quiz_invitation")) == 2
    async with database.session() as session:
        payload = await session.scalar(select(OutboxMessage.payload).limit(1))
    assert payload is not None
    assert payload["text"].startswith("📝 Bài trắc nghiệm: Tìm hiểu Điều lệ Đảng")
    assert [label for row in payload["buttons"] for label, _ in row] == ["Bắt đầu"]


async def test_the_reminder_before_closing_skips_those_who_finished(
    database: Database, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    quiz_id = await schedule(database, clock, [units["Chi bộ Văn phòng"]], question_count=1)
    clock.set(OPENS)
    await scheduler(database, settings, clock).run_due()
    secretary = await member_id(database, SECRETARY)
    async with database.session() as session, session.begin():
        quizzes = services(session, clock).quiz_attempts
        attempt = await quizzes.start(quiz_id, secretary, units["Chi bộ Văn phòng"])
        assert isinstance(attempt, QuizAttempt)
        assert await quizzes.current(attempt) is not None
        await quizzes.answer(attempt.id, secretary, 0, 0)
    clock.set(CLOSES - timedelta(hours=23))
    assert await scheduler(database, settings, clock).run_due() == 1
    assert await outbox(database, "quiz_reminder") == [MEMBER]
    assert await scheduler(database, settings, clock).run_due() == 0


async def test_closing_scores_unfinished_attempts_as_they_stand(
    database: Database, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    quiz_id = await schedule(database, clock, [units["Chi bộ Văn phòng"]])
    clock.set(OPENS)
    await scheduler(database, settings, clock).run_due()
    member = await member_id(database, MEMBER)
    async with database.session() as session, session.begin():
        quizzes = services(session, clock).quiz_attempts
        attempt = await quizzes.start(quiz_id, member, units["Chi bộ Văn phòng"])
        assert isinstance(attempt, QuizAttempt)
        shown = await quizzes.current(attempt)
        assert shown is not None
        await quizzes.answer(attempt.id, member, 0, shown.correct_shown)
    clock.set(CLOSES)
    assert await scheduler(database, settings, clock).run_due() == 1
    async with database.session() as session:
        quiz = await session.get(Quiz, quiz_id)
        attempt = await session.scalar(select(QuizAttempt))
    assert quiz is not None and quiz.state == "closed"
    assert attempt is not None and attempt.finished_at == CLOSES
    assert (attempt.score, attempt.passed) == (33, False)


async def test_a_quiz_found_after_its_window_closes_without_invitations(
    database: Database, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    await schedule(database, clock, [units["Chi bộ Văn phòng"]])
    clock.set(CLOSES + timedelta(hours=1))  # the process was down the whole window
    assert await scheduler(database, settings, clock).run_due() == 1
    assert await outbox(database, "quiz_invitation") == []


async def test_the_scheduler_wakes_at_the_next_moment(
    database: Database, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    await schedule(database, clock, [units["Chi bộ Văn phòng"]])
    worker = scheduler(database, settings, clock)
    await worker.start()
    try:
        job = worker._scheduler.get_job(WAKE_JOB)
        assert job is not None
        assert job.next_run_time == OPENS
    finally:
        worker.stop()


async def test_a_trainer_schedules_only_for_units_in_their_scope(
    database: Database, clock: Clock, units: dict[str, int]
) -> None:
    trainer = await member_id(database, SIBLING)
    async with database.session() as session, session.begin():
        session.add(
            RoleGrant(
                member_id=trainer,
                role="trainer",
                organisation_id=units["Chi bộ Sở Tư pháp"],
                granted_by="test",
            )
        )
    by = await quiz_trainer(database, SIBLING)
    with pytest.raises(PermissionDenied):
        await schedule(database, clock, [units["Chi bộ Văn phòng"]], by=by)
    assert await schedule(database, clock, [units["Chi bộ Sở Tư pháp"]], by=by)
    # A secretary is not a trainer.
    with pytest.raises(PermissionDenied):
        await schedule(
            database,
            clock,
            [units["Chi bộ Văn phòng"]],
            by=await quiz_trainer(database, SECRETARY),
        )


async def test_the_shipped_bank_is_synced_once(database: Database, clock: Clock) -> None:
    async with database.session() as session, session.begin():
        assert await services(session, clock).quiz_catalogue.sync_shipped() == 91
    async with database.session() as session, session.begin():
        assert await services(session, clock).quiz_catalogue.sync_shipped() == 0
        assert await session.scalar(select(func.count()).select_from(QuizQuestionRow)) == 91


HEADER = "Câu hỏi,A,B,C,D,Đáp án,Giải thích,Chủ đề,Độ khó\n"
GOOD = "Đảng viên dự bị có quyền biểu quyết không?,Có,Không,,,B,Điều 5.,Quyền,dễ\n"
BAD = "Câu không có đáp án,Có,Không,,,,Giải thích,Chủ đề,\n"


async def test_import_writes_nothing_when_a_row_is_bad(
    database: Database, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)
    bad = tmp_path / "Đợt 1.csv"
    bad.write_text(HEADER + GOOD + BAD, encoding="utf-8")
    assert await asyncio.to_thread(main, ["quiz", "import", str(bad)]) != 0
    async with database.session() as session:
        assert await session.scalar(select(func.count()).select_from(QuizQuestionRow)) == 0
    good = tmp_path / "Đợt 1.csv"
    good.write_text(HEADER + GOOD, encoding="utf-8")
    assert await asyncio.to_thread(main, ["quiz", "import", str(good)]) == 0
    async with database.session() as session:
        rows = (
            await session.execute(select(QuizQuestionRow.bank_id, QuizQuestionRow.answer))
        ).all()
    assert rows == [("dot-1", 1)]


async def test_schedule_from_the_command_line(
    database: Database, database_url: str, units: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)
    command = [
        "quiz",
        "schedule",
        "--title",
        "Ôn tập",
        "--units",
        "Đảng bộ tỉnh Demo/Đảng bộ Khối các cơ quan và doanh nghiệp/Chi bộ Văn phòng",
        "--questions",
        "10",
        "--opens",
        "2026-12-01 08:00",
        "--closes",
        "2026-12-04 08:00",
        "--seconds-per-question",
        "45",
    ]
    assert await asyncio.to_thread(main, command) == 0
    async with database.session() as session:
        quiz = await session.scalar(select(Quiz))
    assert quiz is not None
    assert (quiz.opens_at, quiz.closes_at, quiz.seconds_per_question) == (OPENS, CLOSES, 45)
    assert (quiz.pass_mark, quiz.attempts_allowed, quiz.state) == (70, 1, "scheduled")


async def test_the_report_lists_units_and_members_with_their_best_score(
    database: Database,
    database_url: str,
    clock: Clock,
    units: dict[str, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    quiz_id = await schedule(database, clock, [units["Chi bộ Văn phòng"]], question_count=1)
    clock.set(OPENS)
    member = await member_id(database, MEMBER)
    async with database.session() as session, session.begin():
        found = services(session, clock)
        await found.quizzes.run_due(Due(quiz_id, Event.OPEN))
        quizzes = found.quiz_attempts
        attempt = await quizzes.start(quiz_id, member, units["Chi bộ Văn phòng"])
        assert isinstance(attempt, QuizAttempt)
        shown = await quizzes.current(attempt)
        assert shown is not None
        await quizzes.answer(attempt.id, member, 0, shown.correct_shown)
    monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)
    out, chart = tmp_path / "ket-qua.xlsx", tmp_path / "ket-qua.png"
    command = ["quiz", "report", "--quiz", str(quiz_id), "--out", str(out), "--chart", str(chart)]
    assert await asyncio.to_thread(main, command) == 0
    workbook = openpyxl.load_workbook(out, read_only=True)
    by_unit = [list(row) for row in workbook["Theo đơn vị"].iter_rows(values_only=True)]
    assert by_unit[1:] == [["Chi bộ Văn phòng", 3, 1, 1, 100]]
    by_member = [list(row) for row in workbook["Theo đảng viên"].iter_rows(values_only=True)]
    assert sorted(row[3] for row in by_member[1:]) == ["chưa làm xong", "chưa làm xong", "đạt"]
    workbook.close()
    assert chart.read_bytes().startswith(b"\x89PNG")
