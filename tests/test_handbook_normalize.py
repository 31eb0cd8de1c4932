"""Normalisation: the same text typed any way people type Vietnamese gives the same tokens."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from bot.services.handbook.normalize import (
    Abbreviations,
    canonical_tone,
    check_abbreviations,
    decode_typing,
    fold,
    is_syllable,
    load_abbreviations,
    normalize,
    proper_names,
)

ABBREVIATIONS = Abbreviations.from_mapping(
    {
        "đv": "đảng viên",
        "TW": "Trung ương",
        "BCH TW": "Ban Chấp hành Trung ương",
        "TƯ": "Trung ương",  # an ordinary syllable: must never be expanded
    }
)


def words(text: str, abbreviations: Abbreviations | None = None) -> list[str]:
    return [token for segment in normalize(text, abbreviations) for token in segment]


def test_fold_strips_every_diacritic_and_maps_d_stroke() -> None:
    assert fold("Đảng viên dự bị được") == "Dang vien du bi duoc"
    assert fold("ươ ă â ê ô ơ ư đ") == "uo a a e o o u d"


@pytest.mark.parametrize(
    ("one", "other"),
    [("hoà", "hòa"), ("thuý", "thúy"), ("khoẻ", "khỏe"), ("hoè", "hòe"), ("Hoà", "hòa")],
)
def test_one_tone_placement(one: str, other: str) -> None:
    assert words(one) == words(other) == [canonical_tone(other)]


@pytest.mark.parametrize("word", ["hoàn", "người", "quá", "giữ", "gì", "khuỷu", "được", "mưa"])
def test_tone_placement_keeps_correct_spellings(word: str) -> None:
    assert canonical_tone(word) == word


def test_decomposed_input_equals_composed() -> None:
    text = "Đảng viên dự bị"
    assert words(unicodedata.normalize("NFD", text)) == words(text)


@pytest.mark.parametrize(
    ("typed", "decoded"),
    [
        ("ddangr", "đảng"),
        ("phis", "phí"),
        ("vieen", "viên"),
        ("dduowcj", "được"),
        ("mucws", "mức"),
        ("duocwj", "dược"),
        ("nguwowif", "người"),
        ("khoong", "không"),
        ("thangs", "tháng"),
        ("nhw", "như"),
        ("d9ang3", "đảng"),
        ("vie6n", "viên"),
        ("d9u7o7c5", "được"),
    ],
)
def test_telex_and_vni_leftovers_are_decoded(typed: str, decoded: str) -> None:
    assert decode_typing(typed) == decoded


@pytest.mark.parametrize(
    "word",
    # Unaccented Vietnamese must pass through, and so must English words, codes and numbers.
    [
        "bao", "nhieu", "khi", "nao", "duoc", "khong", "the", "gi", "la", "co", "nguoi",
        "truong", "nghia", "quyen", "chuyen", "khuyen", "giay", "ra", "xa", "so", "thi",
        "email", "facebook", "zalo", "website", "online", "covid19", "2026", "b2", "ok",
    ],
)  # fmt: skip
def test_ordinary_words_are_not_decoded(word: str) -> None:
    assert decode_typing(word) == word


def test_is_syllable() -> None:
    assert all(map(is_syllable, ["nghiêng", "khuya", "quyết", "giữ", "oanh", "a"]))
    assert not any(map(is_syllable, ["ddang", "phis", "email", "xyz", "dv", "tw"]))


def test_segments_break_at_punctuation_and_drop_symbols() -> None:
    assert normalize("Đảng phí: 1% lương!! 😀 (hằng tháng)") == [
        ["đảng", "phí"],
        ["1"],
        ["lương"],
        ["hằng", "tháng"],
    ]
    assert normalize("😀 ... !!! ") == []


def test_abbreviations_expand_with_or_without_diacritics() -> None:
    assert words("đv dự bị", ABBREVIATIONS) == ["đảng", "viên", "dự", "bị"]
    assert words("DV du bi", ABBREVIATIONS) == ["đảng", "viên", "du", "bi"]


def test_longest_abbreviation_wins_and_is_matched_before_telex() -> None:
    # "tw" alone would decode as Telex "tư"; the abbreviation comes first.
    assert words("BCH TW", ABBREVIATIONS) == ["ban", "chấp", "hành", "trung", "ương"]
    assert words("tw", ABBREVIATIONS) == ["trung", "ương"]
    assert words("tw") == ["tư"]


def test_syllable_abbreviations_are_never_expanded() -> None:
    assert words("tư cách đảng viên", ABBREVIATIONS) == ["tư", "cách", "đảng", "viên"]


def test_load_abbreviations_skips_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "abbreviations.tsv"
    path.write_text("# comment\n\nđv\tđảng viên\nUBKT\tỦy ban Kiểm tra\n", encoding="utf-8")
    assert load_abbreviations(path) == {"đv": "đảng viên", "UBKT": "Ủy ban Kiểm tra"}
    assert check_abbreviations(path) == []


def test_check_abbreviations_reports_each_problem(tmp_path: Path) -> None:
    path = tmp_path / "abbreviations.tsv"
    path.write_text("đv\tđảng viên\nĐV\tđoàn viên\nno tab here\nTƯ\tTrung ương\n", encoding="utf-8")
    problems = check_abbreviations(path)
    assert len(problems) == 3
    assert "already expands" in problems[0]
    assert "TAB" in problems[1]
    assert "ordinary syllable" in problems[2]


def test_proper_names_are_capitalised_words_inside_a_sentence() -> None:
    names = proper_names("Nhà em chuyển vào Sài Gòn. Ở đó ĐU phường hỏi? Em hỏi bí thư")
    # "Nhà", "Ở" and "Em" start sentences; "ĐU" is an abbreviation.
    assert names == {"sai", "gon"}
    assert proper_names("dang vien chuyen vao sai gon") == frozenset()
