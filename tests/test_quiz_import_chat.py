"""/nhapcauhoi: a trainer sends a question sheet as a document on Telegram (fetched with
getFile from the fake Bot API); it is checked like `sotay quiz import`, saved whole or not at
all, and the bank is then offered by /taoquiz. Zalo hands bots no files."""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from bot.chat import ChatCore
from bot.cli import main
from bot.db import Database
from bot.models import AuditEntry, QuizQuestionRow
from bot.services import Shared, uploads
from bot.services.handbook import HandbookIndex
from bot.services.quizzes.bank import (
    MAX_ROWS,
    MAX_UNPACKED_BYTES,
    QuizFileError,
    read_question_file,
)
from bot.services.uploads import ParseTooCostly, off_loop
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from handlers.quiz_import import MAX_FILE_BYTES
from tests.clock import Clock
from tests.fakes.telegram_api import FakeTelegramServer
from tests.fakes.zalo_api import FakeZaloServer
from tests.harness import grant, linked
from tests.quiz_harness import (
    COMMITTEE,
    OFFICE,
    TelegramMember,
    buttons_of,
    member_id,
    spin,
    telegram_with_files,
)
from tests.secretaries_harness import MEMBER, SECRETARY
from tests.telegram_harness import telegram_settings
from tests.zalo_harness import running_zalo, zalo_settings

TRAINER = SECRETARY
HEADER = ["Câu hỏi", "A", "B", "C", "D", "Đáp án", "Giải thích", "Chủ đề", "Độ khó"]
ROWS = [
    ["Nghị quyết 57 bàn về lĩnh vực nào?", "Khoa học, công nghệ", "Nông nghiệp", "Du lịch", "",
     "A", "Đột phá phát triển khoa học, công nghệ.", "Nghị quyết 57", "dễ"],
    ["Ai chịu trách nhiệm chính về chuyển đổi số?", "Người đứng đầu", "Văn thư", "", "",
     "A", "Người đứng đầu trực tiếp chỉ đạo.", "Nghị quyết 57", ""],
    ["Mục tiêu đến năm nào?", "2030", "2050", "2025", "2045",
     "A", "Mục tiêu đến năm 2030, tầm nhìn 2045.", "Nghị quyết 57", "khó"],
]  # fmt: skip
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def t(key: str, **values: object) -> str:
    return text(f"quiz_import.{key}", **values)


def xlsx(rows: list[list[str]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in [HEADER, *rows]:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv(lines: list[str]) -> bytes:
    return "\n".join(lines).encode()


@pytest.fixture
async def telegram(
    database: Database, database_url: str, handbook: HandbookIndex, units: dict[str, int]
) -> AsyncIterator[FakeTelegramServer]:
    await grant(database, TRAINER, "trainer", COMMITTEE)
    async with FakeTelegramServer() as server:
        settings = telegram_settings(server, database_url)
        shared = Shared(settings, handbook, Clock(), render=render_notice)
        core = ChatCore(database, build_router(), shared)
        async with telegram_with_files(settings, core, shared):
            yield server


async def bank_rows(database: Database, bank: str) -> list[tuple[str, str, int]]:
    async with database.session() as session:
        rows = await session.execute(
            select(QuizQuestionRow.question_id, QuizQuestionRow.text, QuizQuestionRow.answer)
            .where(QuizQuestionRow.bank_id == bank)
            .order_by(QuizQuestionRow.question_id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_a_good_sheet_is_imported_and_offered_by_taoquiz(
    database: Database, telegram: FakeTelegramServer
) -> None:
    trainer = TelegramMember(telegram, TRAINER)
    (ask,) = await trainer.say("/nhapcauhoi")
    assert ask["text"] == t("ask_name")
    (ask_file,) = await trainer.say("Nghị quyết 57")
    assert ask_file["text"] == t("ask_file", bank="nghi-quyet-57", limit_mb=2)
    (done,) = await trainer.send_file(xlsx(ROWS), "Câu hỏi NQ57.xlsx", mime_type=XLSX)
    assert done["text"] == t("imported", total=3, bank="nghi-quyet-57", added=3, updated=0)
    stored = await bank_rows(database, "nghi-quyet-57")
    assert stored == [
        ("q01", "Nghị quyết 57 bàn về lĩnh vực nào?", 0),
        ("q02", "Ai chịu trách nhiệm chính về chuyển đổi số?", 0),
        ("q03", "Mục tiêu đến năm nào?", 0),
    ]
    async with database.session() as session:
        audit = await session.scalar(select(AuditEntry).where(AuditEntry.action == "quiz.import"))
    assert audit is not None
    assert (audit.actor, audit.target) == (
        f"member:{await member_id(database, TRAINER)}",
        "bank:nghi-quyet-57",
    )

    # The bank is offered when a quiz is set up, and can be the only one used.
    await trainer.say("/taoquiz")
    await trainer.say("Nghị quyết 57")
    await trainer.tap(f"☐ {OFFICE}")
    (banks,) = await trainer.tap("Tiếp tục")
    assert list(buttons_of(banks)) == [
        "☑ Kiến thức cơ bản về Điều lệ Đảng (91 câu)",
        "☐ nghi-quyet-57 (3 câu)",
        "Tiếp tục",
        "Hủy",
    ]
    await trainer.tap("☐ nghi-quyet-57 (3 câu)")
    (banks,) = await trainer.tap("☑ Kiến thức cơ bản về Điều lệ Đảng (91 câu)")
    assert "☑ nghi-quyet-57 (3 câu)" in buttons_of(banks)
    # One topic only: no topic step.
    (count,) = await trainer.tap("Tiếp tục")
    assert count["text"] == text("quiz_setup.ask_count", pool=3, limit=3)
    assert list(buttons_of(count)) == ["3 câu", "Hủy"]

    # Sent again into the same bank (a tap on it), the rows update in place.
    (ask,) = await trainer.say("/nhapcauhoi")
    assert list(buttons_of(ask)) == ["nghi-quyet-57"]
    await trainer.tap("nghi-quyet-57")
    changed = [[*ROWS[0][:5], "B", *ROWS[0][6:]], *ROWS[1:]]
    (done,) = await trainer.send_file(xlsx(changed), "NQ57 sửa.xlsx", mime_type=XLSX)
    assert done["text"] == t("imported", total=3, bank="nghi-quyet-57", added=0, updated=3)
    assert (await bank_rows(database, "nghi-quyet-57"))[0][2] == 1


async def test_a_bad_csv_lists_its_lines_and_nothing_is_stored(
    database: Database, telegram: FakeTelegramServer
) -> None:
    trainer = TelegramMember(telegram, TRAINER)
    await trainer.say("/nhapcauhoi Đợt 2")
    lines = [
        "Câu hỏi,A,B,C,D,Đáp án,Giải thích,Chủ đề",
        "Đảng viên dự bị có quyền biểu quyết không?,Có,Không,,,B,Điều 5.,Quyền",
        ",Có,Không,,,A,Giải thích.,Chủ đề",
        "Câu thiếu đáp án?,Có,Không,,,,Giải thích.,Chủ đề",
        "Đáp án trỏ vào chỗ trống?,Một,Hai,,,D,Giải thích.,Chủ đề",
    ]
    (problems,) = await trainer.send_file(csv(lines), "dot2.csv", mime_type="text/csv")
    assert problems["text"] == t(
        "row_problems",
        count=3,
        lines="• dòng 3: thiếu câu hỏi\n• dòng 4: thiếu đáp án\n"
        "• dòng 5: đáp án «D» trỏ vào lựa chọn trống",
    )
    assert await bank_rows(database, "dot-2") == []
    # Still waiting for the file: the corrected one goes in.
    (done,) = await trainer.send_file(csv(lines[:2]), "dot2.csv", mime_type="text/csv")
    assert done["text"] == t("imported", total=1, bank="dot-2", added=1, updated=0)
    assert len(await bank_rows(database, "dot-2")) == 1


async def test_other_files_and_big_files_get_a_clear_answer(
    database: Database, telegram: FakeTelegramServer
) -> None:
    trainer = TelegramMember(telegram, TRAINER)
    await trainer.say("/nhapcauhoi")
    (waiting,) = await trainer.say("Tài liệu")
    (pdf,) = await trainer.send_file(b"%PDF-1.4 fake", "tai-lieu.pdf", mime_type="application/pdf")
    assert pdf["text"].startswith("Tệp ") and "chỉ nhận bảng tính .xlsx hoặc .csv." in pdf["text"]
    (fake,) = await trainer.send_file(b"not a zip at all", "de.xlsx", mime_type=XLSX)
    assert "như một bảng tính Excel." in fake["text"]
    (big,) = await trainer.send_file(b"x" * (MAX_FILE_BYTES + 1), "lon.xlsx", mime_type=XLSX)
    assert big["text"] == t("too_large", limit_mb=2)
    (header,) = await trainer.send_file(csv(["Câu hỏi,A,B"]), "thieu.csv")
    assert "thiếu cột «C», «D», «Đáp án», «Giải thích», «Chủ đề»" in header["text"]
    (typed,) = await trainer.say("đây là câu hỏi")
    assert typed["text"] == t("waiting_file", bank="tai-lieu")
    (photo,) = await trainer.turn(lambda: telegram.push_photo(int(TRAINER)))
    assert photo["text"] == t("not_a_document")
    assert waiting["text"] == t("ask_file", bank="tai-lieu", limit_mb=2)
    assert await bank_rows(database, "tai-lieu") == []


async def test_a_sheet_sent_with_its_name_as_caption_needs_no_name_step(
    database: Database, telegram: FakeTelegramServer
) -> None:
    trainer = TelegramMember(telegram, TRAINER)
    await trainer.say("/nhapcauhoi")
    (no_name,) = await trainer.send_file(xlsx(ROWS), "nq.xlsx", mime_type=XLSX)
    assert no_name["text"] == t("name_first")
    (done,) = await trainer.send_file(xlsx(ROWS), "nq.xlsx", mime_type=XLSX, caption="NQ 57")
    assert done["text"] == t("imported", total=3, bank="nq-57", added=3, updated=0)


async def test_names_that_cannot_be_a_bank_are_refused(telegram: FakeTelegramServer) -> None:
    trainer = TelegramMember(telegram, TRAINER)
    await trainer.say("/nhapcauhoi")
    (emoji,) = await trainer.say("🎉🎉")
    assert emoji["text"] == t("bad_name", limit=60)
    (shipped,) = await trainer.say("Kiến thức cơ bản")
    assert shipped["text"] == t("shipped_name", name="Kiến thức cơ bản")
    (long,) = await trainer.say("Tên " * 30)
    assert long["text"] == t("bad_name", limit=60)


async def test_a_member_without_the_role_cannot_import(
    database: Database, telegram: FakeTelegramServer
) -> None:
    member = TelegramMember(telegram, MEMBER)
    (refused,) = await member.say("/nhapcauhoi")
    assert refused["text"] == t("trainers_only")
    (ignored,) = await member.send_file(xlsx(ROWS), "nq.xlsx", mime_type=XLSX)
    assert ignored["text"] == text("fallback.attachment")
    async with database.session() as session:
        assert await session.scalar(select(func.count()).select_from(QuizQuestionRow)) == 0


async def test_on_zalo_the_trainer_is_sent_to_telegram_or_the_command_line(
    database: Database, database_url: str, handbook: HandbookIndex, units: dict[str, int]
) -> None:
    await grant(database, TRAINER, "trainer", COMMITTEE)
    async with database.session() as session, session.begin():
        session.add(linked(await member_id(database, TRAINER), "zalo-trainer", "zalo"))
    async with FakeZaloServer() as server:
        settings = zalo_settings(server, database_url)
        core = ChatCore(database, build_router(), Shared(settings, handbook, render=render_notice))
        async with running_zalo(settings, core):
            server.push_text("zalo-trainer", "/nhapcauhoi")
            await server.wait_for("sendMessage", chat_id="zalo-trainer")
    assert server.sent_texts("zalo-trainer") == [t("no_files_here")]


async def test_the_command_line_cannot_write_over_a_shipped_bank(
    database: Database, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)
    sheet = tmp_path / "nq57.xlsx"
    sheet.write_bytes(xlsx(ROWS))
    shipped = ["quiz", "import", str(sheet), "--bank", "kien-thuc-co-ban"]
    assert await asyncio.to_thread(main, shipped) != 0
    assert await asyncio.to_thread(main, ["quiz", "import", str(sheet)]) == 0
    assert [row[0] for row in await bank_rows(database, "nq57")] == ["q01", "q02", "q03"]
    async with database.session() as session:
        shipped_rows = await session.scalar(
            select(func.count())
            .select_from(QuizQuestionRow)
            .where(
                QuizQuestionRow.bank_id == "kien-thuc-co-ban", QuizQuestionRow.question_id == "q01"
            )
        )
    assert shipped_rows == 0


def zip_bomb(unpacked: int) -> bytes:
    """A small .xlsx-named zip whose one member unpacks to `unpacked` bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * unpacked)
    return buffer.getvalue()


async def test_files_too_big_unpacked_or_too_long_are_refused_before_parsing(
    database: Database, telegram: FakeTelegramServer
) -> None:
    trainer = TelegramMember(telegram, TRAINER)
    await trainer.say("/nhapcauhoi")
    await trainer.say("Tài liệu")
    bomb = zip_bomb(MAX_UNPACKED_BYTES + 1)
    assert len(bomb) < MAX_FILE_BYTES
    (unpacked,) = await trainer.send_file(bomb, "bom.xlsx", mime_type=XLSX)
    assert "khi giải nén lớn quá 16 MB: một ngân hàng câu hỏi chỉ cần" in unpacked["text"]
    long_csv = csv([",".join(HEADER), *["Câu?,a,b,,,A,x,Chủ đề,"] * (MAX_ROWS + 1)])
    (rows,) = await trainer.send_file(long_csv, "dai.csv")
    too_many = f"có quá {MAX_ROWS} dòng: đồng chí tách thành nhiều tệp nhỏ hơn."
    assert too_many in rows["text"]
    row = ["a", "b", "", "", "A", "x", "Chủ đề", ""]
    long_sheet = xlsx([[f"Câu {n}?", *row] for n in range(MAX_ROWS + 1)])
    (sheet_rows,) = await trainer.send_file(long_sheet, "dai.xlsx", mime_type=XLSX)
    assert too_many in sheet_rows["text"]
    assert await bank_rows(database, "tai-lieu") == []


async def test_other_members_are_answered_while_a_file_is_parsed(
    database: Database, telegram: FakeTelegramServer
) -> None:
    trainer, member = TelegramMember(telegram, TRAINER), TelegramMember(telegram, MEMBER)
    await member.say("/help")
    await trainer.say("/nhapcauhoi")
    await trainer.say("Nghị quyết 57")
    total = MAX_ROWS - 1
    row = ["a", "b", "c", "", "A", "x", "Nghị quyết 57", ""]
    sheet = xlsx([[f"Câu hỏi số {n}?", *row] for n in range(total)])
    before = len(telegram.calls_to("sendMessage", chat_id=int(TRAINER)))
    telegram.push_document(int(TRAINER), sheet, file_name="lon.xlsx", mime_type=XLSX)
    # A worker process starts and parses: allow it time on a loaded machine.
    upload = asyncio.create_task(
        telegram.wait_for("sendMessage", before + 1, chat_id=int(TRAINER), timeout=30)
    )
    (menu,) = await member.say("/help")
    assert menu["text"] and not upload.done()
    done = (await upload)[-1].params
    assert done["text"] == t("imported", total=total, bank="nghi-quyet-57", added=total, updated=0)


async def test_a_parse_that_runs_out_of_cpu_time_is_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(uploads, "CPU_SECONDS", 1)
    with pytest.raises(ParseTooCostly):
        await off_loop(spin)
    with pytest.raises(QuizFileError, match="chỉ nhận bảng tính"):
        await off_loop(read_question_file, b"", "x.pdf")
