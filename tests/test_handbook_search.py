"""Handbook loading and search over the fixture entries in tests/data/handbook."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from bot.services.handbook import (
    ContentError,
    Decision,
    HandbookIndex,
    check_abbreviations,
    check_entries,
    check_synonyms,
    load_abbreviations,
    load_entries,
    load_index,
)
from content import ABBREVIATIONS_FILE, HANDBOOK_DIR, SYNONYMS_FILE

DATA = Path(__file__).parent / "data"
HANDBOOK = DATA / "handbook"

VALID = """---
id: {id}
title: Mức đóng đảng phí
category: Đảng phí
questions:
  - Đóng đảng phí bao nhiêu?
keywords: [đảng phí]
sources:
  - qd-01-2026: Điều 3
updated: 2026-11-25
reviewed:
reviewed_by:
---
Đảng viên đóng 1% tiền lương.
"""


@pytest.fixture(scope="module")
def index() -> HandbookIndex:
    return load_index(HANDBOOK, DATA / "abbreviations.tsv")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Đảng viên đóng đảng phí bao nhiêu?", "dang-phi-muc-dong"),
        ("dang phi bao nhieu", "dang-phi-muc-dong"),
        ("ddangr phis", "dang-phi-muc-dong"),
        ("d9ang3 phi1 bao nhie6u", "dang-phi-muc-dong"),
        ("dnag phi bao nheiu", "dang-phi-muc-dong"),
        ("dangphi mot thang", "dang-phi-muc-dong"),
        ("đv dự bị mấy tháng", "dang-vien-du-bi"),
        ("DV du bi bao lau thi chinh thuc", "dang-vien-du-bi"),
        ("chi bo hop may lan", "sinh-hoat-chi-bo"),
        ("CB sinh hoạt khi nào", "sinh-hoat-chi-bo"),
        ("lam mat the dang thi sao", "mat-the-dang-vien"),
        ("bị khiển trách cảnh cáo", "ky-luat-dang-vien"),
        ("bao nhieu tuoi duoc vao dang", "ket-nap-dang-dieu-kien"),
        ("huy hiệu 40 năm tuổi đảng", "huy-hieu-dang"),
        ("già yếu có được miễn sinh hoạt ko", "mien-sinh-hoat-dang"),
        ("xếp loại đảng viên cuối năm", "danh-gia-xep-loai"),
        ("chuyển sinh hoạt đảng khi đổi chỗ làm", "chuyen-sinh-hoat-dang"),
    ],
)
def test_finds_the_right_entry(index: HandbookIndex, query: str, expected: str) -> None:
    result = index.search(query)
    assert result.answered, (query, result.score)
    assert result.entry is not None and result.entry.id == expected
    assert 0.0 < result.score <= 1.0


@pytest.mark.parametrize(
    "query",
    [
        "giá vàng hôm nay bao nhiêu",
        "thời tiết Hà Nội ngày mai",
        "cách nấu phở bò",
        "tỷ số trận bóng đá tối qua",
        "là gì",
        "cho hỏi",
        "đảng viên",
    ],
)
def test_refuses_out_of_scope_and_vague_questions(index: HandbookIndex, query: str) -> None:
    result = index.search(query)
    assert result.decision is Decision.NOT_FOUND, (result.entry, result.score)
    assert result.entry is None


@pytest.mark.parametrize(
    "query",
    ["", "   \n\t ", "😀🎉👍", "?!...,;", "đảng phí " * 1250, "a" * 10_000, "Привет 你好 مرحبا"],
)
def test_bad_input_is_not_found_quickly(index: HandbookIndex, query: str) -> None:
    started = time.perf_counter()
    result = index.search(query)
    assert time.perf_counter() - started < 0.05
    assert result.decision is Decision.NOT_FOUND
    assert result.entry is None


def test_a_vague_question_gets_the_closest_topics(index: HandbookIndex) -> None:
    # "đảng viên" is in every entry: too vague to answer, but worth pointing somewhere.
    result = index.search("đảng viên")
    assert result.decision is Decision.NOT_FOUND
    assert 1 <= len(result.suggestions) <= 3
    assert all("đảng viên" in entry.title for entry in result.suggestions)


@pytest.mark.parametrize(
    "chatty", ["đảng phí tính kiểu gì", "dang phi tinh kieu gi", "sắp tới đảng phí tính thế nào"]
)
def test_colloquial_function_words_do_not_dilute_a_question(
    index: HandbookIndex, chatty: str
) -> None:
    # "kiểu gì" is how people say "thế nào"; "sắp tới" says when, not what about.
    plain = index.search("đảng phí tính thế nào")
    result = index.search(chatty)
    assert result.answered
    assert result.entry == plain.entry
    assert result.score == pytest.approx(plain.score)


def test_out_of_scope_gets_no_suggestions(index: HandbookIndex) -> None:
    assert index.search("thời tiết Hà Nội ngày mai").suggestions == ()


def test_close_runners_up_are_suggested(index: HandbookIndex) -> None:
    result = index.search("sinh hoạt đảng")
    assert result.decision is Decision.ANSWER_WITH_SUGGESTIONS
    assert result.entry is not None
    assert result.entry not in result.suggestions
    shown = {result.entry.id, *(e.id for e in result.suggestions)}
    assert shown >= {"chuyen-sinh-hoat-dang", "mien-sinh-hoat-dang"}


def test_a_clear_question_gets_no_runners_up(index: HandbookIndex) -> None:
    result = index.search("mất thẻ đảng viên thì làm gì")
    assert result.decision is Decision.ANSWER
    assert result.suggestions == ()


def test_related_prefers_the_same_category(index: HandbookIndex) -> None:
    entry = index.get("sinh-hoat-chi-bo")
    assert entry is not None
    related = index.related(entry, 2)
    assert len(related) == 2
    assert entry not in related
    assert {e.category for e in related} == {"Sinh hoạt đảng"}


def test_get_returns_none_for_an_unknown_id(index: HandbookIndex) -> None:
    assert index.get("khong-co") is None


def test_build_accepts_an_empty_handbook() -> None:
    empty = HandbookIndex.build([], {})
    assert empty.search("đảng phí").decision is Decision.NOT_FOUND


def test_fixture_content_is_valid() -> None:
    assert check_entries(HANDBOOK) == []
    entries = load_entries(HANDBOOK)
    assert len(entries) == 10
    fee = next(e for e in entries if e.id == "dang-phi-muc-dong")
    assert fee.questions[0] == "Đảng viên đóng đảng phí bao nhiêu?"
    assert fee.keywords == ("đảng phí", "mức đóng", "1%", "tiền lương")
    assert fee.source == "Quy định 01-QĐ/TW (ngày 03/02/2026), Điều 3"
    assert fee.body.startswith("Đảng viên hưởng lương")


def write(directory: Path, name: str, text: str) -> None:
    (directory / f"{name}.md").write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Không có front matter.\n", "no front matter"),
        ("---\nid: [unclosed\n---\nBody\n", "not valid YAML"),
        ("---\n- a list\n---\nBody\n", "mapping of fields"),
        (VALID.replace("title: Mức đóng đảng phí\n", ""), "missing field 'title'"),
        (VALID.replace("sources:\n  - qd-01-2026: Điều 3\n", ""), "missing field 'sources'"),
        (VALID.replace("  - qd-01-2026: Điều 3", "  - qd-khong-co"), "not in the register"),
        (VALID.replace("keywords: [đảng phí]", "keywords: []"), "missing field 'keywords'"),
        (VALID.replace("questions:\n  - Đóng", "questions: Đóng"), "must be a list"),
        (VALID.replace("2026-11-25", "25/11/2026"), "must be a date"),
        (VALID.replace("Đảng viên đóng 1% tiền lương.\n", "\n  \n"), "empty body"),
        (VALID.replace("id: {id}", "id: khac-ten-file"), "differs from the file name"),
        (VALID.replace("id: {id}", "id: Dang_Phi"), "lowercase ASCII"),
        (VALID.replace("category:", "tags: [x]\ncategory:"), "unknown field 'tags'"),
        (VALID.replace("keywords:", "phrasings: []\nkeywords:"), "missing field 'phrasings'"),
        (VALID.replace("keywords:", "phrasings: Đóng ở đâu?\nkeywords:"), "must be a list"),
    ],
)
def test_check_entries_reports_each_problem(tmp_path: Path, text: str, problem: str) -> None:
    write(tmp_path, "dang-phi", text.replace("{id}", "dang-phi"))
    problems = check_entries(tmp_path)
    assert len(problems) >= 1
    assert any(problem in p and p.startswith("dang-phi.md: ") for p in problems), problems
    with pytest.raises(ContentError) as raised:
        load_entries(tmp_path)
    assert raised.value.problems == problems


def test_check_entries_reports_a_duplicate_id(tmp_path: Path) -> None:
    write(tmp_path, "dang-phi", VALID.replace("{id}", "dang-phi"))
    write(tmp_path, "phi-dang", VALID.replace("{id}", "dang-phi"))
    problems = check_entries(tmp_path)
    assert "phi-dang.md: duplicate id 'dang-phi' (also dang-phi.md)" in problems


def test_check_entries_accepts_a_valid_file_and_rejects_an_empty_directory(
    tmp_path: Path,
) -> None:
    assert check_entries(tmp_path) == [f"{tmp_path}: no entries (*.md)"]
    write(tmp_path, "dang-phi", VALID.replace("{id}", "dang-phi"))
    assert check_entries(tmp_path) == []
    assert check_entries(tmp_path / "missing") == [f"{tmp_path / 'missing'}: not a directory"]


def test_fixture_abbreviations_load() -> None:
    assert load_abbreviations(DATA / "abbreviations.tsv")["đv"] == "đảng viên"


@pytest.fixture(scope="module")
def shipped() -> HandbookIndex:
    return load_index()


def test_shipped_content_is_valid(shipped: HandbookIndex) -> None:
    assert check_entries(HANDBOOK_DIR) == []
    assert check_abbreviations(ABBREVIATIONS_FILE) == []
    assert check_synonyms(SYNONYMS_FILE, shipped.occurs) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Mỗi tháng đảng viên phải đóng đảng phí bao nhiêu?", "dang-phi-muc-dong"),
        ("mucws ddongs ddangr phis", "dang-phi-muc-dong"),
        ("thời gian dự bị của đảng viên mới là bao lâu", "dang-vien-du-bi"),
        ("đv dự bị mấy tháng", "dang-vien-du-bi"),
        ("lam mat the dang vien thi phai lam gi", "mat-the-dang-vien"),
        ("chuyen sinh hoat dang tam thoi", "chuyen-sinh-hoat-tam-thoi"),
        ("thời hiệu xử lý kỷ luật đảng là bao lâu", "thoi-hieu-ky-luat"),
        ("huy hieu 30 nam tuoi dang", "huy-hieu-dang"),
        ("bot lưu những dữ liệu gì của tôi", "bot-quyen-rieng-tu"),
        ("dnag vien di nuoc ngoai co phai bao cao chi bo", "di-nuoc-ngoai"),
        ("cb sinh hoạt mấy lần một tháng", "sinh-hoat-chi-bo-thuong-ky"),
        ("ho so xin vao dang gom nhung gi", "ho-so-ket-nap"),
        # Chat shorthand (content/abbreviations.tsv): a word said, not an unknown one.
        ("đvdb có đc biểu quyết ko", "quyen-dang-vien-du-bi"),
        ("mk bỏ sh cb 3 tháng r thì sao", "xoa-ten-dang-vien"),
        # Everyday words the entry does not use, through content/synonyms.tsv.
        ("sang Lào thăm họ hàng có phải báo cáo chi bộ không", "di-nuoc-ngoai"),
        ("đảng viên bán quán cà phê có vi phạm gì không", "dang-vien-kinh-te-tu-nhan"),
        ("bỏ họp mấy tháng thì bị gạch tên", "xoa-ten-dang-vien"),
        ("dang vien bi ung thu co duoc bot dang phi khong", "dang-phi-mien-giam"),
        ("uống rượu lái xe bị phạt có bị kỷ luật đảng không", "dang-vien-vi-pham-phap-luat"),
        ("đảng phí đóng bao nhiêu?", "dang-phi-muc-dong"),  # an amount: "mức đóng"
    ],
)
def test_shipped_handbook_answers(shipped: HandbookIndex, query: str, expected: str) -> None:
    result = shipped.search(query)
    assert result.answered, (query, result.score)
    assert result.entry is not None and result.entry.id == expected


@pytest.mark.parametrize(
    "query", ["giá vàng hôm nay bao nhiêu", "thời tiết Hà Nội ngày mai", "cách nấu phở bò"]
)
def test_shipped_handbook_refuses_out_of_scope(shipped: HandbookIndex, query: str) -> None:
    assert shipped.search(query).decision is Decision.NOT_FOUND


@pytest.mark.parametrize(
    "query",
    [
        "gio mo cua sieu thi",
        "mua ve may bay di da nang",
        # "xang" is not corrected into "dang", the Party: a typo keeps its first letter.
        "gia xang hom nay bao nhieu",
    ],
)
def test_lone_syllables_among_function_words_answer_nothing(
    shipped: HandbookIndex, query: str
) -> None:
    # Each matches an entry's syllables one at a time ("mở", "nặng"), never one of its words.
    result = shipped.search(query)
    assert result.decision is Decision.NOT_FOUND
    assert result.entry is None


def test_a_question_naming_the_bot_needs_no_shared_word(shipped: HandbookIndex) -> None:
    # "bot" anchors it (scope.py), though no two content syllables of it stand together.
    result = shipped.search("cac lenh cua bot la gi")
    assert result.answered
    assert result.entry is not None and result.entry.id == "bot-tro-giup"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("dang phi moi thang bao nhieu", "dang-phi-muc-dong"),
        ("đảng phí hàng tháng đóng bao nhiêu", "dang-phi-muc-dong"),
        ("chi bo sinh hoat dinh ky vao ngay nao trong thang", "sinh-hoat-chi-bo-thuong-ky"),
    ],
)
def test_every_month_said_the_members_way_is_the_handbooks_hang_thang(
    shipped: HandbookIndex, query: str, expected: str
) -> None:
    result = shipped.search(query)
    assert result.answered
    assert result.entry is not None and result.entry.id == expected


@pytest.mark.parametrize(
    "query",
    [
        "Con chuyển hẳn lên Đà Lạt ở với vợ thì làm thủ tục chuyển đảng thế nào ạ?",
        "Nhà em dọn về Sài Gòn ở luôn thì chuyển sinh hoạt đảng thế nào?",
    ],
)
def test_a_place_the_handbook_never_names_does_not_hide_the_question(
    shipped: HandbookIndex, query: str
) -> None:
    # A name says where, not what: it costs the question no share of its information.
    result = shipped.search(query)
    assert result.answered
    assert result.entry is not None and result.entry.id == "chuyen-sinh-hoat-chinh-thuc"


def test_phrasings_are_optional_and_found_as_the_members_say_them(tmp_path: Path) -> None:
    write(tmp_path, "dang-phi", VALID.replace("{id}", "dang-phi"))
    [salaried] = load_entries(tmp_path)
    assert salaried.phrasings == ()
    farmer = VALID.replace("title: Mức đóng đảng phí", "title: Đảng phí khi không hưởng lương")
    farmer = farmer.replace(
        "keywords:", "phrasings:\n  - Bố em làm ruộng thì đóng đảng phí mấy đồng?\nkeywords:"
    )
    write(tmp_path, "khong-luong", farmer.replace("{id}", "khong-luong"))
    assert check_entries(tmp_path) == []
    entries = load_entries(tmp_path)
    phrased = next(e for e in entries if e.id == "khong-luong")
    assert phrased.phrasings == ("Bố em làm ruộng thì đóng đảng phí mấy đồng?",)
    question = "bo em lam ruong thi dong dang phi may dong"
    unphrased = [salaried, replace(phrased, phrasings=())]
    assert HandbookIndex.build(unphrased, {}).search(question).decision is Decision.NOT_FOUND
    result = HandbookIndex.build(entries, {}).search(question)
    assert result.answered
    assert result.entry is not None and result.entry.id == "khong-luong"


def test_a_phrasing_counts_less_than_a_sample_question_with_the_same_words(
    tmp_path: Path,
) -> None:
    # Phrasings rank like the body: the entry whose editors asked it outright comes first.
    write(tmp_path, "dang-phi", VALID.replace("{id}", "dang-phi"))
    [entry] = load_entries(tmp_path)
    asked = replace(entry, id="asked", questions=("Đảng viên ở xa quê đóng ở đâu?",))
    phrased = replace(entry, id="phrased", phrasings=("Đảng viên ở xa quê đóng ở đâu?",))
    result = HandbookIndex.build([phrased, asked], {}).search("dang vien o xa que dong o dau")
    assert result.entry is not None and result.entry.id == "asked"
