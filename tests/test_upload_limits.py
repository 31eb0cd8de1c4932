"""Issue #14 item 8: spreadsheets are parsed in a child process with limits, so a big file
keeps no one else waiting, and a file that unpacks too big or holds too many rows is refused
before it is parsed, with nothing written — in chat and on the web console."""

# ruff: noqa: F811 (the fixtures come from test_quiz_import_chat)

from __future__ import annotations

import asyncio
import io
import re
import zipfile

import pytest

from bot.db import Database
from bot.services.uploads import (
    MAX_ROWS,
    MAX_UNPACKED_BYTES,
    Kind,
    UploadRefused,
    _parse,
    check_limits,
)
from tests.fakes.telegram_api import FakeTelegramServer
from tests.quiz_harness import TelegramMember
from tests.secretaries_harness import MEMBER
from tests.test_quiz_import_chat import (  # noqa: F401
    HEADER,
    ROWS,
    TRAINER,
    XLSX,
    bank_rows,
    t,
    telegram,
    xlsx,
)
from tests.test_web_roster import _members, _post_file
from tests.web_harness import SECRETARY, Console

QUESTION = "đảng viên dự bị mấy tháng"


def many_rows(count: int) -> list[list[str]]:
    return [
        [
            f"Câu hỏi số {n} về Điều lệ Đảng?",
            f"Lựa chọn A {n}",
            f"Lựa chọn B {n}",
            f"C {n}",
            f"D {n}",
            "A",
            f"Giải thích cho câu {n}, đủ dài để việc đọc tệp mất một lúc.",
            "Điều lệ",
            "dễ",
        ]
        for n in range(count)
    ]


def bomb(content: bytes) -> bytes:
    """The workbook with one more member of zeros: a few KB packed, over the limit unpacked."""
    out = io.BytesIO(content)
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", bytes(2 * MAX_UNPACKED_BYTES))
    return out.getvalue()


async def test_another_member_is_answered_while_a_big_sheet_is_parsed(
    database: Database, telegram: FakeTelegramServer
) -> None:
    trainer, member = TelegramMember(telegram, TRAINER), TelegramMember(telegram, MEMBER)
    await trainer.say("/nhapcauhoi Kho lớn")
    count = MAX_ROWS[Kind.QUESTIONS] - 1
    content = xlsx(many_rows(count))
    before = len(telegram.calls_to("sendMessage", chat_id=trainer.chat))
    telegram.push_document(trainer.chat, content, file_name="kho.xlsx", mime_type=XLSX)
    await asyncio.sleep(0.2)  # the file is being fetched and parsed
    (answer,) = await member.say(QUESTION)
    assert "dự bị" in answer["text"].lower()
    # The member was answered while the trainer's file was still being read.
    assert len(telegram.calls_to("sendMessage", chat_id=trainer.chat)) == before
    calls = await telegram.wait_for("sendMessage", before + 1, chat_id=trainer.chat, timeout=60)
    assert calls[-1].params["text"] == t(
        "imported", total=count, bank="kho-lon", added=count, updated=0
    )


async def test_a_zip_bomb_is_refused_in_chat_and_nothing_is_stored(
    database: Database, telegram: FakeTelegramServer
) -> None:
    trainer = TelegramMember(telegram, TRAINER)
    await trainer.say("/nhapcauhoi Bom")
    content = bomb(xlsx(ROWS))
    assert len(content) < 100 * 1024
    (refused,) = await trainer.send_file(content, "bom.xlsx", mime_type=XLSX)
    # (The fake Bot API names the file by its path.)
    assert refused["text"] == t(
        "file_problem",
        problem="Tệp fake-file-1.xlsx giải nén ra 40,0 MB (tối đa 20,0 MB), quá lớn để bot "
        "đọc. Đồng chí bỏ bớt dữ liệu thừa hoặc chia nhỏ tệp rồi gửi lại. Không có gì được ghi.",
    )
    assert await bank_rows(database, "bom") == []
    # Still waiting for a file: the real one goes in.
    (done,) = await trainer.send_file(xlsx(ROWS), "bom.xlsx", mime_type=XLSX)
    assert done["text"] == t("imported", total=3, bank="bom", added=3, updated=0)


async def test_too_many_rows_are_refused_before_parsing(
    database: Database, telegram: FakeTelegramServer
) -> None:
    trainer = TelegramMember(telegram, TRAINER)
    await trainer.say("/nhapcauhoi Dài")
    limit = MAX_ROWS[Kind.QUESTIONS]
    lines = [",".join(HEADER), *[f"Câu {n}?,Có,Không,,,A,Vì.,Chủ đề" for n in range(limit)]]
    (refused,) = await trainer.send_file("\n".join(lines).encode(), "dai.csv")
    assert refused["text"] == t(
        "file_problem",
        problem=f"Tệp fake-file-1.csv có hơn {limit} dòng, quá nhiều để bot đọc. Đồng chí "
        "chia thành nhiều tệp nhỏ hơn rồi gửi lại. Không có gì được ghi.",
    )
    assert await bank_rows(database, "dai") == []


def test_rows_of_a_workbook_are_counted_without_parsing_it() -> None:
    limit = MAX_ROWS[Kind.QUESTIONS]
    check_limits(xlsx(many_rows(limit - 1)), "du.xlsx", Kind.QUESTIONS)  # the header + 4999
    with pytest.raises(UploadRefused, match=f"có hơn {limit} dòng"):
        check_limits(xlsx(many_rows(limit)), "thua.xlsx", Kind.QUESTIONS)


async def test_a_zip_bomb_roster_is_refused_on_the_web_console(console: Console) -> None:
    await console.sign_in(SECRETARY)
    before = await _members(console)
    response = await _post_file(console, bomb(xlsx(ROWS)), name="bom.xlsx")
    assert response.status == 400
    body = await response.text()
    assert "Tệp bom.xlsx giải nén ra 40,0 MB" in body and "Không có gì được ghi" in body
    assert await _members(console) == before


def slow_sheet(rows: int, columns: int) -> bytes:
    """A question sheet within the limits whose every row has `columns` cells to read."""
    cells = "".join(f'<c t="inlineStr"><is><t>ô {n}</t></is></c>' for n in range(columns))
    rows_xml = "".join(f'<row r="{r}">{cells}</row>' for r in range(2, rows + 2))
    with zipfile.ZipFile(io.BytesIO(xlsx(ROWS[:1]))) as source:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
            for member in source.infolist():
                data = source.read(member)
                if member.filename == "xl/worksheets/sheet1.xml":
                    data = data.replace(b"</sheetData>", rows_xml.encode() + b"</sheetData>")
                    # openpyxl reads as far as the sheet's stated dimension.
                    data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:BZ9999"', data)
                target.writestr(member, data)
    return out.getvalue()


async def test_a_file_that_takes_too_long_is_stopped_by_the_cpu_limit() -> None:
    content = slow_sheet(4900, 80)  # about 4 s of CPU to read
    check_limits(content, "cham.xlsx", Kind.QUESTIONS)  # within the size and row limits
    with pytest.raises(UploadRefused, match="cần quá nhiều thời gian hoặc bộ nhớ"):
        await _parse(Kind.QUESTIONS, content, "cham.xlsx", cpu_seconds=1)
