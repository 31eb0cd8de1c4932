"""Synonyms: everyday phrases that stand for a handbook phrase, loaded, checked and searched."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.services.handbook import (
    Decision,
    Entry,
    HandbookIndex,
    check_synonyms,
    load_index,
    load_synonyms,
)
from bot.services.handbook.normalize import normalize
from bot.services.handbook.synonyms import Synonyms
from content import SYNONYMS_FILE


def entry(entry_id: str, title: str, question: str, body: str) -> Entry:
    return Entry(entry_id, title, "Chủ đề", (question,), (title,), body, updated=date(2026, 1, 1))


ENTRIES = [
    entry(
        "di-nuoc-ngoai",
        "Đảng viên đi nước ngoài về việc riêng",
        "Đi nước ngoài có phải báo cáo chi bộ không?",
        "Đảng viên đi nước ngoài vì việc riêng phải báo cáo chi bộ trước khi đi.",
    ),
    entry(
        "xoa-ten",
        "Xóa tên trong danh sách đảng viên",
        "Khi nào đảng viên bị xóa tên?",
        "Chi bộ xem xét xóa tên đảng viên bỏ sinh hoạt ba tháng trong năm.",
    ),
    entry(
        "so-diem-danh",
        "Sổ điểm danh buổi họp chi bộ",
        "Ai ghi sổ điểm danh?",
        "Bí thư gạch tên người vắng trong sổ điểm danh rồi báo cáo cấp ủy.",
    ),
]
SYNONYMS = [("thái lan", "nước ngoài"), ("gạch tên", "xóa tên"), ("rơi", "mất thẻ")]


def words(text: str) -> list[str]:
    return [token for segment in normalize(text) for token in segment]


@pytest.fixture(scope="module")
def index() -> HandbookIndex:
    return HandbookIndex.build(ENTRIES, {}, SYNONYMS)


@pytest.mark.parametrize("query", ["sang Thái Lan thì sao", "sang thai lan thi sao"])
def test_a_paraphrase_sharing_no_word_with_the_entry_is_answered(
    index: HandbookIndex, query: str
) -> None:
    without = HandbookIndex.build(ENTRIES, {})
    assert without.search(query).decision is Decision.NOT_FOUND
    result = index.search(query)
    assert result.answered, result.score
    assert result.entry is not None and result.entry.id == "di-nuoc-ngoai"


def test_an_entry_using_the_members_own_words_outranks_the_synonym(
    index: HandbookIndex,
) -> None:
    # "gạch tên" stands for "xóa tên", but the entry that says "gạch tên" itself comes first.
    result = index.search("ai gạch tên người vắng")
    assert result.entry is not None and result.entry.id == "so-diem-danh"
    assert index.search("khi nào thì bị xóa tên").entry == index.get("xoa-ten")


def test_the_synonym_finds_the_entry_when_no_entry_uses_the_words() -> None:
    index = HandbookIndex.build(ENTRIES[:2], {}, SYNONYMS)
    result = index.search("đảng viên bị gạch tên khi nào")
    assert result.entry is not None and result.entry.id == "xoa-ten"


def test_find_prefers_the_longest_phrase_and_handles_missing_diacritics() -> None:
    synonyms = Synonyms.from_pairs([("đi", "đi lại"), ("đi thái", "nước ngoài")])
    found = list(synonyms.find(words("nhà mình đi Thái chơi"), lambda _: False))
    assert found == [(2, 4, (("nước", "ngoài"),))]
    assert list(synonyms.find(words("nha minh di thai choi"), lambda _: False)) == found


def test_a_bare_one_syllable_phrase_matches_only_where_it_cannot_be_another_word() -> None:
    synonyms = Synonyms.from_pairs([("rơi", "mất thẻ")])
    assert [f[:2] for f in synonyms.find(words("làm rơi thẻ"), lambda _: True)] == [(1, 2)]
    # "roi" may be "rồi" when the handbook has that word: no match then.
    assert list(synonyms.find(words("lam roi the"), lambda word: word == "roi")) == []
    assert [f[:2] for f in synonyms.find(words("lam roi the"), lambda _: False)] == [(1, 2)]


def test_load_synonyms_reads_phrase_lists_and_skips_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "synonyms.tsv"
    path.write_text(
        "# comment\n\ngạch tên, bị loại\txóa tên\nno tab\nmở quán\tkinh doanh\n", encoding="utf-8"
    )
    assert load_synonyms(path) == [
        ("gạch tên", "xóa tên"),
        ("bị loại", "xóa tên"),
        ("mở quán", "kinh doanh"),
    ]


def test_check_synonyms_reports_each_problem(tmp_path: Path) -> None:
    path = tmp_path / "synonyms.tsv"
    path.write_text(
        "gạch tên\txóa tên\n"
        "no tab here\n"
        "gạch tên, , bị loại\txóa tên\n"
        "xoa ten\txóa tên\n"
        "bao nhiêu\tmức đóng\n"
        "gạch tên\txóa tên\n"
        "đi chơi\tnước ngòai xa\n"
        "?!\txóa tên\n",
        encoding="utf-8",
    )
    problems = check_synonyms(path, lambda phrase: phrase != "nước ngòai xa")
    assert problems == [
        "synonyms.tsv:2: expected 'phrase[, phrase...]<TAB>handbook phrase'",
        "synonyms.tsv:3: expected 'phrase[, phrase...]<TAB>handbook phrase'",
        "synonyms.tsv:4: 'xoa ten' is the handbook phrase itself",
        "synonyms.tsv:5: 'bao nhiêu' is a function word and would match anything",
        "synonyms.tsv:6: 'gạch tên' already maps to 'xóa tên' (line 1)",
        "synonyms.tsv:7: 'nước ngòai xa' occurs in no handbook entry",
        "synonyms.tsv:8: '?!' has no words",
    ]
    # Without a handbook to look in, only the file itself is checked.
    assert len(check_synonyms(path)) == 6


def test_occurs_needs_every_word_pair_in_one_entry(index: HandbookIndex) -> None:
    assert index.occurs("nước ngoài")
    assert index.occurs("Xóa tên")
    assert not index.occurs("nước tên")  # both words exist, never side by side
    assert not index.occurs("kinh doanh")


def test_shipped_synonyms_are_valid_and_all_found_in_the_handbook() -> None:
    assert check_synonyms(SYNONYMS_FILE, load_index().occurs) == []
