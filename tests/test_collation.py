"""Vietnamese alphabetical order: letters first, then tones."""

from __future__ import annotations

from bot.collation import sort_key


def test_d_bar_follows_d_and_marked_letters_follow_their_base() -> None:
    ordered = ["An", "Ăn", "Âm", "Dự bị", "Đảng phí", "Em", "Êm", "Ong", "Ông", "Ơn", "Uy", "Ưu"]
    assert sorted(reversed([*ordered, "Zalo"]), key=sort_key) == [*ordered, "Zalo"]


def test_tones_only_break_ties_in_dictionary_order() -> None:
    words = ["mạ", "má", "mã", "mả", "mà", "ma", "mai"]
    assert sorted(words, key=sort_key) == ["ma", "mà", "mả", "mã", "má", "mạ", "mai"]


def test_shorter_words_and_spaces_come_first() -> None:
    assert sorted(["Sử dụng", "Sinh hoạt", "Sinh", "Sinh  viên"], key=sort_key) == [
        "Sinh",
        "Sinh  viên",
        "Sinh hoạt",
        "Sử dụng",
    ]
