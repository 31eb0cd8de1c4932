"""The register of sources, entry citations and reviews, quiz rechecks: what `sotay content
check` refuses and `sotay content review-list` lists, and the source and confirmation lines a
member reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from bot.chat import ChatCore
from bot.cli import main
from bot.db import Database
from bot.services import Shared
from bot.services.content_review import ItemKind, quiz_problems, review_list
from bot.services.handbook import (
    Confirmation,
    HandbookIndex,
    check_entries,
    check_sources,
    load_abbreviations,
    load_entries,
    load_sources,
)
from bot.services.quizzes import load_banks
from bot.texts import text
from content import ABBREVIATIONS_FILE, HANDBOOK_DIR, SOURCES_FILE
from handlers import build_router
from tests.fakes.telegram_api import FakeTelegramServer
from tests.telegram_harness import running_channel, telegram_settings

REGISTER = """\
sources:
  - id: dieu-le
    name: Điều lệ Đảng
    title: Điều lệ Đảng Cộng sản Việt Nam
    issuer: Đại hội XI
    signed: 2011-01-19
    in_force: 2011-01-19
  - id: qd-294-2025
    name: Quy định 294-QĐ/TW
    title: về thi hành Điều lệ Đảng
    issuer: Ban Chấp hành Trung ương
    signed: 2025-05-26
    in_force: 2025-07-01
  - id: qd-232-2025
    name: Quy định 232-QĐ/TW
    title: về thi hành Điều lệ Đảng
    issuer: Ban Chấp hành Trung ương
    signed: 2025-01-20
    superseded_by: qd-294-2025
  - id: qd-01-2026
    name: Quy định 01-QĐ/TW
    title: về chế độ đảng phí
    issuer: Bộ Chính trị
    signed: 2026-02-03
    unconfirmed:
      - ngày có hiệu lực chưa đọc được
  - id: huong-dan-bot
    name: Hướng dẫn sử dụng chatbot
    title: cách dùng bot
    issuer: Nhóm phát triển
    signed: 2026-11-25
    kind: project
"""

ENTRY = """\
---
id: {id}
title: {title}
category: Đảng phí
questions:
  - {title}?
keywords: [{title}]
sources:
{sources}
updated: {updated}
reviewed: {reviewed}
reviewed_by: {reviewed_by}
---
{body}
"""


def write_entry(
    directory: Path,
    entry_id: str,
    *,
    title: str = "Mức đóng đảng phí",
    sources: str = "  - qd-01-2026: Điều 3",
    body: str = "Đảng viên hưởng lương đóng 1% tiền lương.",
    updated: str = "2026-11-25",
    reviewed: str = "",
    reviewed_by: str = "",
) -> Path:
    path = directory / f"{entry_id}.md"
    path.write_text(
        ENTRY.format(
            id=entry_id,
            title=title,
            sources=sources,
            body=body,
            updated=updated,
            reviewed=reviewed,
            reviewed_by=reviewed_by,
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def register(tmp_path: Path) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(REGISTER, encoding="utf-8")
    return path


@pytest.fixture
def handbook_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "handbook"
    directory.mkdir()
    return directory


def problems_of(handbook_dir: Path, register: Path) -> list[str]:
    return check_entries(handbook_dir, register)


# --- The register ----------------------------------------------------------------------------


def test_the_shipped_register_and_handbook_are_valid() -> None:
    assert check_sources(SOURCES_FILE) == []
    assert check_entries(HANDBOOK_DIR) == []
    assert len(load_entries(HANDBOOK_DIR)) >= 100


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            lambda r: r.replace("    signed: 2025-01-20\n", ""),
            "sources.yaml: source qd-232-2025: missing field 'signed' (the date of the document)",
        ),
        (
            lambda r: r.replace("superseded_by: qd-294-2025", "superseded_by: qd-20-2026"),
            "sources.yaml: qd-232-2025: superseded by unknown source 'qd-20-2026'",
        ),
        (
            lambda r: r.replace(
                "    in_force: 2025-07-01\n",
                "    in_force: 2025-07-01\n    superseded_by: qd-232-2025\n",
            ),
            "sources.yaml: qd-294-2025: circular 'superseded_by' chain",
        ),
        (
            lambda r: r.replace("kind: project", "kind: blog"),
            "sources.yaml: source huong-dan-bot: unknown kind 'blog' (party, reference, project)",
        ),
        (
            lambda r: r.replace("signed: 2026-02-03", "signed: 03/02/2026"),
            "sources.yaml: source qd-01-2026: field 'signed' must be a date (YYYY-MM-DD)",
        ),
        (
            lambda r: r.replace("in_force: 2011-01-19", "in_force: 2009-01-19"),
            "sources.yaml: source dieu-le: in force (2009-01-19) long before it was signed "
            "(2011-01-19)",
        ),
        (
            lambda r: r.replace("id: qd-232-2025", "id: qd-294-2025"),
            "sources.yaml: duplicate source id 'qd-294-2025'",
        ),
    ],
)
def test_register_problems_are_named(register: Path, edit, problem: str) -> None:
    register.write_text(edit(REGISTER), encoding="utf-8")
    assert problem in check_sources(register)


def test_two_records_of_one_document_are_refused(register: Path) -> None:
    twin = REGISTER.replace(
        "sources:\n",
        "sources:\n  - id: dieu-le-ban-sao\n"
        "    name: Điều lệ Đảng\n    title: bản sao\n    issuer: Đại hội XI\n"
        "    signed: 2011-01-19\n",
        1,
    )
    register.write_text(twin, encoding="utf-8")
    assert check_sources(register) == [
        "sources.yaml: dieu-le: same document and date as dieu-le-ban-sao: an answer could not "
        "tell them apart"
    ]


# --- Entries: citations, figures, the source line, reviews ------------------------------------


def test_a_citation_of_a_source_not_in_the_register_is_refused(
    handbook_dir: Path, register: Path
) -> None:
    write_entry(handbook_dir, "phi", sources="  - qd-999-2030: Điều 1")
    assert problems_of(handbook_dir, register) == [
        "phi.md: cites 'qd-999-2030', which is not in the register"
    ]


def test_a_superseded_source_still_cited_is_refused(handbook_dir: Path, register: Path) -> None:
    write_entry(handbook_dir, "phi", sources="  - qd-232-2025: Điều 1")
    assert problems_of(handbook_dir, register) == [
        "phi.md: cites 'qd-232-2025' (Quy định 232-QĐ/TW), superseded by 'qd-294-2025' "
        "(Quy định 294-QĐ/TW): cite the document in force"
    ]


@pytest.mark.parametrize(
    "body",
    [
        "Đảng viên hưởng lương đóng 1% tiền lương.",
        "Trong vòng 60 ngày làm việc phải làm thủ tục.",
        "Bỏ sinh hoạt ba tháng trong năm thì bị xem xét xóa tên.",
        "Khai trừ phải có hai phần ba số đảng viên chính thức đề nghị.",
    ],
)
def test_a_figure_with_no_article_cited_is_refused(
    handbook_dir: Path, register: Path, body: str
) -> None:
    write_entry(handbook_dir, "phi", sources="  - qd-01-2026", body=body)
    [problem] = problems_of(handbook_dir, register)
    assert problem.startswith("phi.md: the answer states '")
    assert problem.endswith(
        "but cites no article: give the point of the rule it comes from "
        "(e.g. 'qd-69-2022: Điều 15')"
    )


def test_dates_references_and_the_bots_own_guide_need_no_article(
    handbook_dir: Path, register: Path
) -> None:
    write_entry(
        handbook_dir,
        "lich-su",
        sources="  - dieu-le",
        body="Quy định 294-QĐ/TW ngày 26/5/2025 thay Quy định 232-QĐ/TW từ tháng 7/2025. "
        "Hội nghị Trung ương 4 bàn về xây dựng Đảng; Đại hội lần thứ 14 họp năm 2026.",
    )
    write_entry(
        handbook_dir,
        "bot",
        sources="  - huong-dan-bot",
        body="Bot gửi 5 câu luyện tập, mã kích hoạt hiệu lực 14 ngày.",
    )
    assert problems_of(handbook_dir, register) == []


def test_a_document_named_in_the_answer_must_be_in_the_register(
    handbook_dir: Path, register: Path
) -> None:
    write_entry(handbook_dir, "phi", body="Theo Quy định 342-QĐ/TW, đóng 1% tiền lương.")
    assert problems_of(handbook_dir, register) == [
        "phi.md: the answer names 342-QĐ/TW, which is not in the register"
    ]


def test_a_document_cited_twice_makes_an_ambiguous_source_line(
    handbook_dir: Path, register: Path
) -> None:
    write_entry(handbook_dir, "phi", sources="  - qd-01-2026: Điều 3\n  - qd-01-2026: Điều 5")
    assert problems_of(handbook_dir, register) == [
        "phi.md: cites 'qd-01-2026' twice: give all its points in one citation, so the source "
        "line names each document once, with its date"
    ]


def test_content_check_refuses_an_ambiguous_source_line(
    tmp_path: Path, handbook_dir: Path, register: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_entry(handbook_dir, "phi", sources="  - qd-01-2026: Điều 3\n  - qd-01-2026: Điều 5")
    write_bank(tmp_path / "quizzes", "2026-11-25")
    synonyms = tmp_path / "synonyms.tsv"
    synonyms.write_text("", encoding="utf-8")
    argv = ["content", "check", *cli_paths(tmp_path, handbook_dir, register)]
    assert main([*argv, "--synonyms", str(synonyms)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "phi.md: cites 'qd-01-2026' twice: give all its points in one citation, so the source "
        "line names each document once, with its date"
    ]


def test_each_document_in_the_source_line_carries_its_own_date(
    handbook_dir: Path, register: Path
) -> None:
    write_entry(
        handbook_dir,
        "nhiem-ky",
        sources="  - dieu-le: khoản 3 Điều 24\n  - qd-294-2025: điểm 6.3.1\n  - qd-01-2026",
    )
    [entry] = load_entries(handbook_dir, register)
    # In force the day it was signed: one date; a later date in force: both, for that
    # document only; no date in force read: the signing date alone.
    assert entry.source == (
        "Điều lệ Đảng (ngày 19/01/2011), khoản 3 Điều 24; "
        "Quy định 294-QĐ/TW (ngày 26/05/2025, hiệu lực từ 01/07/2025), điểm 6.3.1; "
        "Quy định 01-QĐ/TW (ngày 03/02/2026)"
    )


@pytest.mark.parametrize(
    ("reviewed", "reviewed_by", "problem"),
    [
        ("2026-11-30", "", "phi.md: give both 'reviewed' and 'reviewed_by', or neither"),
        ("", "Ban Tổ chức Tỉnh ủy", "phi.md: give both 'reviewed' and 'reviewed_by', or neither"),
        (
            "2026-11-30",
            "Nguyễn Văn An",
            "phi.md: reviewed_by 'Nguyễn Văn An' must name a body of the Party (e.g. 'Ban Tổ "
            "chức Tỉnh ủy'), never a person",
        ),
        (
            "30/11/2026",
            "Ban Tổ chức Tỉnh ủy",
            "phi.md: field 'reviewed' must be a date (YYYY-MM-DD) or empty",
        ),
    ],
)
def test_review_records_are_checked(
    handbook_dir: Path, register: Path, reviewed: str, reviewed_by: str, problem: str
) -> None:
    write_entry(handbook_dir, "phi", reviewed=reviewed, reviewed_by=reviewed_by)
    assert problem in problems_of(handbook_dir, register)


def test_the_review_fields_must_be_present_even_empty(handbook_dir: Path, register: Path) -> None:
    path = write_entry(handbook_dir, "phi")
    path.write_text(path.read_text(encoding="utf-8").replace("reviewed_by: \n", ""))
    assert problems_of(handbook_dir, register) == [
        "phi.md: missing field 'reviewed_by' (leave it empty until the entry is reviewed)"
    ]


def test_which_answers_ask_to_confirm_with_the_chi_uy(handbook_dir: Path, register: Path) -> None:
    body = "Đảng viên hưởng lương đóng 1% tiền lương."
    deadline = "Trong vòng 60 ngày làm việc phải làm thủ tục chuyển sinh hoạt."
    reviewed = {"reviewed": "2026-11-30", "reviewed_by": "Ban Tổ chức Tỉnh ủy"}
    write_entry(handbook_dir, "chua-ra-soat", body=body)
    write_entry(handbook_dir, "da-ra-soat", body=body, **reviewed)
    write_entry(handbook_dir, "thoi-han", body=deadline, **reviewed)
    write_entry(handbook_dir, "sua-sau-ra-soat", body=body, updated="2026-12-01", **reviewed)
    write_entry(handbook_dir, "bot", sources="  - huong-dan-bot", body="Gửi /help.")
    entries = {entry.id: entry for entry in load_entries(handbook_dir, register)}
    assert {key: entry.confirmation for key, entry in entries.items()} == {
        "bot": None,
        "chua-ra-soat": Confirmation.UNREVIEWED,
        "da-ra-soat": None,
        "sua-sau-ra-soat": Confirmation.UNREVIEWED,
        "thoi-han": Confirmation.SENSITIVE,
    }


# --- Quiz questions whose entry changed --------------------------------------------------------

BANK = """\
id: thu
title: Bộ thử
questions:
  - id: q01
    question: Đảng viên hưởng lương đóng đảng phí bao nhiêu?
    choices: ["1% tiền lương", "2% tiền lương"]
    answer: 0
    explanation: Đóng 1% tiền lương.
    topic: Đảng phí
    difficulty: easy
    entry: phi
{reviewed}"""


def write_bank(directory: Path, reviewed: str | None) -> Path:
    directory.mkdir(exist_ok=True)
    line = "" if reviewed is None else f"    reviewed: {reviewed}\n"
    path = directory / "thu.yaml"
    path.write_text(BANK.format(reviewed=line), encoding="utf-8")
    return directory


@pytest.mark.parametrize(
    ("reviewed", "problem"),
    [
        (
            "2026-11-20",
            "thu.yaml: question q01: entry 'phi' changed on 2026-11-25; the question was last "
            "checked on 2026-11-20: check it and set 'reviewed'",
        ),
        (
            None,
            "thu.yaml: question q01: entry 'phi' changed on 2026-11-25; the question has never "
            "been checked against it: check it and set 'reviewed'",
        ),
    ],
)
def test_a_quiz_question_whose_entry_changed_after_its_review_is_refused(
    tmp_path: Path, handbook_dir: Path, register: Path, reviewed: str | None, problem: str
) -> None:
    write_entry(handbook_dir, "phi")
    entries = load_entries(handbook_dir, register)
    banks = load_banks(write_bank(tmp_path / "quizzes", reviewed), {"phi"})
    assert quiz_problems(banks, entries) == [problem]


def test_a_quiz_question_checked_after_its_entry_changed_passes(
    tmp_path: Path, handbook_dir: Path, register: Path
) -> None:
    write_entry(handbook_dir, "phi")
    entries = load_entries(handbook_dir, register)
    banks = load_banks(write_bank(tmp_path / "quizzes", "2026-11-25"), {"phi"})
    assert quiz_problems(banks, entries) == []


def test_shipped_quiz_questions_are_all_checked_against_their_entries() -> None:
    entries = load_entries(HANDBOOK_DIR)
    assert quiz_problems(load_banks(), entries) == []


# --- `sotay content check` and `sotay content review-list` ------------------------------------


def cli_paths(tmp_path: Path, handbook_dir: Path, register: Path) -> list[str]:
    return [
        "--handbook",
        str(handbook_dir),
        "--sources",
        str(register),
        "--quizzes",
        str(tmp_path / "quizzes"),
    ]


def check_argv(tmp_path: Path, handbook_dir: Path, register: Path) -> list[str]:
    """`sotay content check` over the test's files, with an empty synonyms list."""
    synonyms = tmp_path / "synonyms.tsv"
    synonyms.write_text("", encoding="utf-8")
    paths = cli_paths(tmp_path, handbook_dir, register)
    return ["content", "check", *paths, "--synonyms", str(synonyms)]


def test_content_check_fails_on_a_bad_entry_with_its_message(
    tmp_path: Path, handbook_dir: Path, register: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_entry(handbook_dir, "phi", sources="  - qd-232-2025: Điều 1")
    write_bank(tmp_path / "quizzes", "2026-11-25")
    assert main(check_argv(tmp_path, handbook_dir, register)) == 1
    assert capsys.readouterr().out.splitlines() == [
        "phi.md: cites 'qd-232-2025' (Quy định 232-QĐ/TW), superseded by 'qd-294-2025' "
        "(Quy định 294-QĐ/TW): cite the document in force"
    ]


def test_content_check_fails_on_a_stale_quiz_question(
    tmp_path: Path, handbook_dir: Path, register: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_entry(handbook_dir, "phi", updated="2026-12-01")
    write_bank(tmp_path / "quizzes", "2026-11-25")
    assert main(check_argv(tmp_path, handbook_dir, register)) == 1
    assert capsys.readouterr().out.splitlines() == [
        "thu.yaml: question q01: entry 'phi' changed on 2026-12-01; the question was last "
        "checked on 2026-11-25: check it and set 'reviewed'"
    ]


def test_content_check_reports_a_broken_register_first(
    tmp_path: Path, handbook_dir: Path, register: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register.write_text(REGISTER.replace("    signed: 2026-02-03\n", ""), encoding="utf-8")
    write_entry(handbook_dir, "phi")
    assert main(check_argv(tmp_path, handbook_dir, register)) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        "sources.yaml: source qd-01-2026: missing field 'signed' (the date of the document)"
    )


def review_fixture(tmp_path: Path, handbook_dir: Path) -> None:
    write_entry(handbook_dir, "phi")
    write_entry(
        handbook_dir,
        "chuyen",
        title="Chuyển sinh hoạt",
        sources="  - qd-294-2025: điểm 6.3.1",
        body="Trong vòng 60 ngày làm việc phải làm thủ tục.",
    )
    write_entry(
        handbook_dir,
        "da-ra-soat",
        title="Điều lệ",
        sources="  - dieu-le",
        body="Điều lệ do Đại hội XI thông qua.",
        reviewed="2026-11-30",
        reviewed_by="Ban Tổ chức Tỉnh ủy",
    )
    write_bank(tmp_path / "quizzes", "2026-11-20")


def test_review_list_puts_deadlines_first_then_quiz_questions_then_unconfirmed_facts(
    tmp_path: Path, handbook_dir: Path, register: Path
) -> None:
    review_fixture(tmp_path, handbook_dir)
    entries = load_entries(handbook_dir, register)
    banks = load_banks(tmp_path / "quizzes", {e.id for e in entries})
    items = review_list(entries, banks, load_sources(register))
    assert [(item.kind, item.id) for item in items] == [
        (ItemKind.ENTRY, "chuyen"),
        (ItemKind.ENTRY, "phi"),
        (ItemKind.QUESTION, "thu/q01"),
        (ItemKind.SOURCE, "qd-01-2026"),
    ]
    assert items[0].reasons == ("chưa được rà soát", "có thời hạn, biểu quyết hoặc kỷ luật")
    assert items[3].reasons == ("chưa xác nhận: ngày có hiệu lực chưa đọc được",)


def test_review_list_does_not_call_the_bots_own_guide_a_deadline(
    handbook_dir: Path, register: Path
) -> None:
    write_entry(
        handbook_dir,
        "a-bot",
        title="Mã kích hoạt",
        sources="  - huong-dan-bot",
        body="Mã kích hoạt dùng được trong 14 ngày.",
    )
    write_entry(handbook_dir, "b-phi", body="Chậm nhất ngày 10 hằng tháng, đóng 1% tiền lương.")
    items = review_list(load_entries(handbook_dir, register), [], load_sources(register))
    assert [(item.id, item.reasons) for item in items if item.kind is ItemKind.ENTRY] == [
        ("b-phi", ("chưa được rà soát", "có thời hạn, biểu quyết hoặc kỷ luật")),
        ("a-bot", ("chưa được rà soát",)),
    ]


def test_review_list_for_a_source_lists_every_entry_citing_it_reviewed_or_not(
    tmp_path: Path,
    handbook_dir: Path,
    register: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    review_fixture(tmp_path, handbook_dir)
    argv = ["content", "review-list", *cli_paths(tmp_path, handbook_dir, register)]
    assert main([*argv, "--source", "dieu-le"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Mục Sổ tay\tda-ra-soat\tĐiều lệ\ttrích Điều lệ Đảng (cả văn bản)",
        "1 items to review",
    ]


def test_review_list_still_works_when_a_new_document_supersedes_a_cited_one(
    tmp_path: Path,
    handbook_dir: Path,
    register: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    review_fixture(tmp_path, handbook_dir)
    # A new regulation replaces 294: the check now fails, and the review list is the work.
    register.write_text(
        REGISTER.replace(
            "    in_force: 2025-07-01\n",
            "    in_force: 2025-07-01\n    superseded_by: qd-20-2026\n",
        )
        + "  - id: qd-20-2026\n    name: Quy định 20-QĐ/TW\n    title: về thi hành Điều lệ Đảng\n"
        "    issuer: Ban Chấp hành Trung ương\n    signed: 2026-06-01\n",
        encoding="utf-8",
    )
    argv = ["content", "review-list", *cli_paths(tmp_path, handbook_dir, register)]
    assert main([*argv, "--source", "qd-294-2025"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Mục Sổ tay\tchuyen\tChuyển sinh hoạt\ttrích Quy định 294-QĐ/TW (điểm 6.3.1); chưa được "
        "rà soát; trích Quy định 294-QĐ/TW, đã được thay bằng Quy định 20-QĐ/TW; có thời hạn, "
        "biểu quyết hoặc kỷ luật",
        "1 items to review",
    ]


def test_review_list_writes_an_xlsx_file(
    tmp_path: Path, handbook_dir: Path, register: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    review_fixture(tmp_path, handbook_dir)
    out = tmp_path / "ra-soat.xlsx"
    argv = ["content", "review-list", *cli_paths(tmp_path, handbook_dir, register)]
    assert main([*argv, "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"4 items to review written to {out}\n"
    sheet = openpyxl.load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("STT", "Loại", "Mã", "Tiêu đề / câu hỏi", "Cần rà soát vì")
    assert [row[2] for row in rows[1:]] == ["chuyen", "phi", "thu/q01", "qd-01-2026"]
    assert rows[3][1] == "Câu trắc nghiệm"
    assert rows[1][6].date() == date(2026, 11, 25)


def test_review_list_refuses_an_unknown_source_in_one_line(
    tmp_path: Path, handbook_dir: Path, register: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    review_fixture(tmp_path, handbook_dir)
    argv = ["content", "review-list", *cli_paths(tmp_path, handbook_dir, register)]
    assert main([*argv, "--source", "qd-khong-co"]) == 1
    assert (
        capsys.readouterr().err == "sotay: no source 'qd-khong-co' in the register sources.yaml\n"
    )


def test_review_list_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["content", "review-list", "--help"])
    assert exited.value.code == 0
    assert "--source ID" in capsys.readouterr().out


def test_the_shipped_review_list_covers_every_unreviewed_entry() -> None:
    entries = load_entries(HANDBOOK_DIR)
    items = review_list(entries, load_banks(), load_sources(SOURCES_FILE))
    listed = {item.id for item in items if item.kind is ItemKind.ENTRY}
    assert listed == {entry.id for entry in entries if not entry.is_reviewed}


# --- What the member reads ---------------------------------------------------------------------


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


async def test_answers_in_chat_end_with_the_confirmation_line_when_due(
    server: FakeTelegramServer,
    database: Database,
    database_url: str,
    handbook_dir: Path,
    register: Path,
) -> None:
    write_entry(
        handbook_dir,
        "thoi-han",
        title="Thời hạn chuyển sinh hoạt",
        sources="  - qd-294-2025: điểm 6.3.1",
        body="Trong vòng 60 ngày làm việc phải làm thủ tục chuyển sinh hoạt.",
        reviewed="2026-11-30",
        reviewed_by="Ban Tổ chức Tỉnh ủy",
    )
    write_entry(handbook_dir, "phi", title="Mức đóng đảng phí")
    index = HandbookIndex.build(
        load_entries(handbook_dir, register), load_abbreviations(ABBREVIATIONS_FILE)
    )
    settings = telegram_settings(server, database_url, SOTAY_PUBLIC_HANDBOOK="1")
    core = ChatCore(database, build_router(), Shared(settings, index))
    async with running_channel(settings, core):
        replies = []
        for question in ("muc dong dang phi", "thời hạn chuyển sinh hoạt"):
            before = len(server.calls_to("sendMessage", chat_id=7001))
            server.push_message(7001, question)
            sent = await server.wait_for("sendMessage", before + 1, chat_id=7001)
            replies.append(sent[-1].params["text"])
    fee, deadline = replies
    assert fee.endswith(
        "\n\nNguồn: Quy định 01-QĐ/TW (ngày 03/02/2026), Điều 3.\n"
        + text("handbook.confirm_unreviewed")
    )
    assert deadline.endswith(
        "\n\nNguồn: Quy định 294-QĐ/TW (ngày 26/05/2025, hiệu lực từ 01/07/2025), điểm 6.3.1.\n"
        + text("handbook.confirm_sensitive")
    )
