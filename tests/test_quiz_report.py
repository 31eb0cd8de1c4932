"""The results of a quiz for the trainer who scheduled it: at closing, through the outbox and
the dispatcher, with participation per unit, averages, pass rates and the questions most
often missed; «Tải báo cáo» and /baocaoquiz answer with the workbook and the chart, only to
those whose scope covers the quiz; `sotay quiz report` writes the same workbook."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from bot.chat import ChatCore
from bot.cli import main
from bot.db import Database
from bot.messages import Channel, ChannelTraits, Incoming
from bot.models import (
    AuditEntry,
    Organisation,
    OutboxMessage,
    Quiz,
    QuizQuestionRow,
)
from bot.services import Shared
from bot.services.handbook import HandbookIndex
from bot.services.meetings.when import format_when
from bot.settings import Settings
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from handlers.quiz import StartQuiz
from handlers.quiz_report import ShowReport
from jobs.dispatcher import Dispatcher
from jobs.quizzes import QuizScheduler
from tests.clock import Clock
from tests.fakes.telegram_api import FakeTelegramServer
from tests.harness import grant, linked, say
from tests.outbox_harness import QUICK_RETRIES, telegram_sender
from tests.quiz_harness import (
    BEFORE_OPENING,
    CLOSES,
    COMMITTEE,
    HCM,
    JUSTICE,
    OFFICE,
    OPENS,
    TelegramMember,
    buttons_of,
    member_id,
    pick,
    schedule,
    trainer,
)
from tests.secretaries_harness import MEMBER, SECRETARY, SIBLING
from tests.telegram_harness import running_channel, telegram_settings

TRAINER = SECRETARY  # Văn phòng's secretary, trainer of the whole committee
TITLE = "Tìm hiểu Điều lệ Đảng"
ZALO = ChannelTraits(has_buttons=False, text_limit=2000)


def t(key: str, **values: object) -> str:
    return text(f"quiz_report.{key}", **values)


@dataclass(frozen=True)
class Answer:
    question: str
    correct: bool


@dataclass(frozen=True)
class Closed:
    quiz_id: int
    answers: list[Answer]  # in the order given: the member's three, then the sibling's two


async def take(
    database: Database, core: ChatCore, card: str, quiz_id: int, rights: list[bool]
) -> list[Answer]:
    """The member starts the quiz and answers right or wrong as told; the questions are
    read from what the bot showed."""
    (shown,) = await say(core, card, button=StartQuiz(quiz_id).pack())
    given = []
    for number, right in enumerate(rights):
        # A question follows the verdict on the one before, in the same message.
        line = next(line for line in shown.text.split("\n") if line.startswith("Câu "))
        question = line.partition(": ")[2]
        given.append(Answer(question, right))
        replies = await say(core, card, button=await pick(database, shown, right=right))
        if number + 1 < len(rights):
            shown = replies[-1]
    return given


@pytest.fixture
async def closed(
    database: Database, settings: Settings, handbook: HandbookIndex, units: dict[str, int]
) -> Closed:
    """A three-question quiz (pass mark 60%) for Văn phòng and Sở Tư pháp, scheduled by
    the trainer: the Văn phòng member gets 2 of 3 (passed), the Sở Tư pháp secretary
    answers two questions, one right, and stops (scored 1/3 at closing); the trainer,
    invited too, does not take it. Then it closes."""
    await grant(database, TRAINER, "trainer", COMMITTEE)
    clock = Clock(BEFORE_OPENING)
    quiz_id = await schedule(
        database,
        clock,
        [units[OFFICE], units[JUSTICE]],
        by=await trainer(database, TRAINER),
    )
    clock.set(OPENS)
    await QuizScheduler(database, settings, clock=clock).run_due()
    core = ChatCore(
        database, build_router(), Shared(settings, handbook, clock, render=render_notice)
    )
    answers = await take(database, core, MEMBER, quiz_id, [True, False, True])
    answers += await take(database, core, SIBLING, quiz_id, [False, True])
    clock.set(CLOSES)
    assert await QuizScheduler(database, settings, clock=clock).run_due() == 1
    return Closed(quiz_id, answers)


async def unit_order(database: Database) -> list[str]:
    """The two units in the order reports list them (their place in the tree)."""
    async with database.session() as session:
        rows = await session.scalars(
            select(Organisation.name)
            .where(Organisation.name.in_([OFFICE, JUSTICE]))
            .order_by(Organisation.path)
        )
        return list(rows)


async def most_missed(database: Database, answers: list[Answer]) -> list[str]:
    """The message's lines for the questions answered wrong, worked out from the answers."""
    tally: dict[str, list[int]] = {}
    for answer in answers:
        counts = tally.setdefault(answer.question, [0, 0])
        counts[0] += 1
        counts[1] += not answer.correct
    async with database.session() as session:
        ids = {
            question: await session.scalar(
                select(QuizQuestionRow.id).where(QuizQuestionRow.text == question)
            )
            for question in tally
        }
    missed = sorted(
        ((q, n, wrong) for q, (n, wrong) in tally.items() if wrong),
        key=lambda item: (-round(100 * item[2] / item[1]), -item[2], ids[item[0]]),
    )
    return [
        t(
            "missed_line",
            number=number,
            question=q if len(q) <= 70 else q[:69].rstrip() + "…",
            percent=round(100 * wrong / n),
            wrong=wrong,
            answered=n,
        )
        for number, (q, n, wrong) in enumerate(missed, start=1)
    ]


EXPECTED_UNITS = {
    # invited: linked accounts (Trần Thị Bình and two Sở Tư pháp members have none)
    OFFICE: "mời 2 · bắt đầu 1 · làm hết bài 1 · điểm TB 67% · đạt 1/1 (100%)",
    JUSTICE: "mời 1 · bắt đầu 1 · làm hết bài 0 · điểm TB 33% · đạt 0/1 (0%)",
}
OVERALL = "mời 3 · bắt đầu 2 · làm hết bài 1 · điểm TB 50% · đạt 1/2 (50%)"


async def test_the_trainer_gets_the_results_through_the_outbox_at_closing(
    database: Database, database_url: str, closed: Closed
) -> None:
    async with database.session() as session:
        rows = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "quiz_report"))
        )
    assert [row.chat_id for row in rows] == [TRAINER]
    async with FakeTelegramServer() as server:
        sender = telegram_sender(server, database_url)
        await sender.start()
        worker = Dispatcher(
            database, {"telegram": sender}, settings=QUICK_RETRIES, clock=Clock(CLOSES)
        )
        while await worker.drain_once():
            pass
        await sender.stop()
    (message,) = server.sent_messages(int(TRAINER))[-1:]
    expected = [
        t("title_closed", title=TITLE, id=closed.quiz_id, closes=format_when(CLOSES, HCM)),
        t("legend", pass_mark=60),
        "",
        *[
            t("unit_line", unit=unit, figures=EXPECTED_UNITS[unit])
            for unit in await unit_order(database)
        ],
        t("overall_line", figures=OVERALL),
        "",
        t("missed_title"),
        *await most_missed(database, closed.answers),
        "",
        t("download", id=closed.quiz_id),
    ]
    assert message["text"].split("\n") == expected
    assert buttons_of(message) == {"Tải báo cáo": ShowReport(closed.quiz_id).pack()}


def sheet(workbook: Any, name: str) -> list[list[object]]:
    return [list(row) for row in workbook[name].iter_rows(values_only=True)]


async def test_the_button_answers_with_the_workbook_and_the_chart(
    database: Database, database_url: str, handbook: HandbookIndex, closed: Closed
) -> None:
    async with FakeTelegramServer() as server:
        settings = telegram_settings(server, database_url)
        core = ChatCore(
            database,
            build_router(),
            Shared(settings, handbook, Clock(CLOSES), render=render_notice),
        )
        async with running_channel(settings, core):
            trainer = TelegramMember(server, TRAINER)
            summary, _ = await trainer.press(ShowReport(closed.quiz_id).pack(), expect=2)
            documents = await trainer.turn(lambda: None, expect=2, method="sendDocument")
    lines = summary["text"].split("\n")
    assert lines[0] == t(
        "title_closed", title=TITLE, id=closed.quiz_id, closes=format_when(CLOSES, HCM)
    )
    assert t("overall_line", figures=OVERALL) in lines
    xlsx, png = (params["document"] for params in documents)
    assert xlsx.file_name == f"ket-qua-trac-nghiem-{closed.quiz_id}.xlsx"
    assert png.file_name.endswith(".png") and png.content.startswith(b"\x89PNG")
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)
    order = await unit_order(database)
    assert workbook.sheetnames == [
        "Tổng hợp",
        "Theo đơn vị",
        "Xếp hạng",
        "Theo đảng viên",
        *order,
        "Câu sai nhiều",
        "Câu trả lời",
    ]
    totals = {
        OFFICE: [OFFICE, 3, 2, 1, 1, 1, 1, 100, 67],
        JUSTICE: [JUSTICE, 3, 1, 1, 0, 1, 0, 0, 33],
    }
    assert sheet(workbook, "Tổng hợp")[1:] == [
        *(totals[unit] for unit in order),
        ["Toàn bộ", 6, 3, 2, 1, 2, 1, 50, 50],
    ]
    assert sheet(workbook, OFFICE)[1:] == [
        ["Lê Minh Châu", "có", 1, "có", 67, "đạt"],
        ["Nguyễn Văn An", "có", 0, "không", None, "chưa làm xong"],
        ["Trần Thị Bình", "không", 0, "không", None, "chưa làm xong"],
    ]
    assert sheet(workbook, JUSTICE)[1:] == [
        ["Hoàng Thị Hà", "không", 0, "không", None, "chưa làm xong"],
        ["Phạm Quốc Dũng", "có", 1, "không", 33, "chưa đạt"],
        ["Vũ Đức Khang", "không", 0, "không", None, "chưa làm xong"],
    ]
    answers = sheet(workbook, "Câu trả lời")[1:]
    by_member = {
        name: [(row[3], row[4], row[7]) for row in answers if row[0] == name]
        for name in ("Lê Minh Châu", "Phạm Quốc Dũng")
    }
    outcome = {True: "đúng", False: "sai"}
    assert by_member == {
        "Lê Minh Châu": [
            (n, a.question, outcome[a.correct]) for n, a in enumerate(closed.answers[:3], 1)
        ],
        "Phạm Quốc Dũng": [
            (n, a.question, outcome[a.correct]) for n, a in enumerate(closed.answers[3:], 1)
        ],
    }
    assert len(answers) == 5
    missed = sheet(workbook, "Câu sai nhiều")[1:]
    assert sum(row[2] for row in missed) == 5  # type: ignore[misc]
    assert sum(row[3] for row in missed) == 2  # type: ignore[misc]
    workbook.close()
    async with database.session() as session:
        audit = await session.scalar(select(AuditEntry).where(AuditEntry.action == "quiz.report"))
    assert audit is not None and audit.target == f"quiz:{closed.quiz_id}"


async def test_only_those_whose_scope_covers_the_quiz_see_it(
    database: Database, settings: Settings, handbook: HandbookIndex, closed: Closed
) -> None:
    core = ChatCore(
        database, build_router(), Shared(settings, handbook, Clock(CLOSES), render=render_notice)
    )
    refused = t("not_allowed", id=closed.quiz_id)
    # A member, a secretary who is no trainer, and a trainer of one of the two units.
    (member,) = await say(core, MEMBER, f"/baocaoquiz {closed.quiz_id}")
    (sibling,) = await say(core, SIBLING, button=ShowReport(closed.quiz_id).pack())
    await grant(database, SIBLING, "trainer", JUSTICE)
    (partial,) = await say(core, SIBLING, f"/baocaoquiz_{closed.quiz_id}")
    (missing,) = await say(core, TRAINER, "/baocaoquiz 999999")
    assert [r.text for r in (member, sibling, partial)] == [refused] * 3
    assert missing.text == t("not_allowed", id=999999)
    (listing,) = await say(core, TRAINER, "/baocaoquiz")
    assert listing.text == t("choose")
    assert [(b.label, b.data) for b in listing.flat_buttons] == [
        (f"#{closed.quiz_id} {TITLE}", ShowReport(closed.quiz_id).pack())
    ]
    (nothing,) = await say(core, SIBLING, "/baocaoquiz")
    assert nothing.text == t("none")
    (usage,) = await say(core, TRAINER, "/baocaoquiz hôm qua")
    assert usage.text == t("usage")


async def test_on_zalo_the_figures_come_without_files(
    database: Database, settings: Settings, handbook: HandbookIndex, closed: Closed
) -> None:
    async with database.session() as session, session.begin():
        session.add(linked(await member_id(database, TRAINER), "zalo-trainer", "zalo"))
    core = ChatCore(
        database, build_router(), Shared(settings, handbook, Clock(CLOSES), render=render_notice)
    )
    incoming = Incoming(
        Channel.ZALO, "zalo-trainer", "zalo-trainer", button_data=ShowReport(closed.quiz_id).pack()
    )
    (reply,) = await core.handle(incoming, ZALO)
    assert reply.document is None
    assert t("overall_line", figures=OVERALL) in reply.text.split("\n")
    assert reply.text.endswith(t("files_elsewhere", id=closed.quiz_id))


async def test_the_command_line_writes_the_same_workbook(
    database: Database,
    database_url: str,
    handbook: HandbookIndex,
    closed: Closed,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)
    out = tmp_path / "ket-qua.xlsx"
    command = ["quiz", "report", "--quiz", str(closed.quiz_id), "--out", str(out)]
    assert await asyncio.to_thread(main, command) == 0
    async with FakeTelegramServer() as server:
        settings = telegram_settings(server, database_url)
        core = ChatCore(
            database,
            build_router(),
            Shared(settings, handbook, Clock(CLOSES), render=render_notice),
        )
        async with running_channel(settings, core):
            trainer = TelegramMember(server, TRAINER)
            await trainer.say(f"/baocaoquiz {closed.quiz_id}", expect=2)
            (xlsx, _) = await trainer.turn(lambda: None, expect=2, method="sendDocument")
    from_chat = openpyxl.load_workbook(io.BytesIO(xlsx["document"].content), read_only=True)
    from_cli = openpyxl.load_workbook(out, read_only=True)
    assert from_cli.sheetnames == from_chat.sheetnames
    for name in from_cli.sheetnames:
        assert sheet(from_cli, name) == sheet(from_chat, name), name
    from_chat.close()
    from_cli.close()


async def test_a_quiz_scheduled_on_the_command_line_reports_to_the_member_named(
    database: Database,
    database_url: str,
    units: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)
    command = [
        "quiz",
        "schedule",
        "--title",
        "Ôn tập",
        "--units",
        f"Đảng bộ tỉnh Demo/{COMMITTEE}/{OFFICE}",
        "--questions",
        "5",
        "--opens",
        "2026-12-01 08:00",
        "--closes",
        "2026-12-04 08:00",
    ]
    assert await asyncio.to_thread(main, [*command, "--notify", "00000000"]) != 0
    assert await asyncio.to_thread(main, [*command, "--notify", TRAINER]) == 0
    assert await asyncio.to_thread(main, command) == 0
    async with database.session() as session:
        quizzes = list(await session.scalars(select(Quiz).order_by(Quiz.id)))
    assert [quiz.report_to_member_id for quiz in quizzes] == [
        await member_id(database, TRAINER),
        None,
    ]


async def test_nothing_is_sent_when_nobody_is_named(
    database: Database, settings: Settings, units: dict[str, int]
) -> None:
    clock = Clock(BEFORE_OPENING)
    await schedule(database, clock, [units[OFFICE]])
    clock.set(CLOSES)
    assert await QuizScheduler(database, settings, clock=clock).run_due() == 1
    async with database.session() as session:
        kinds = list(await session.scalars(select(OutboxMessage.kind)))
    assert "quiz_report" not in kinds
