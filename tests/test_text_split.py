import pytest

from bot.channels.text_split import split_text


def test_short_text_is_one_chunk() -> None:
    assert split_text("Xin chào", 10) == ["Xin chào"]


def test_splits_on_paragraphs_first() -> None:
    paragraphs = ["Đoạn một " * 30, "Đoạn hai " * 30, "Đoạn ba " * 30]
    text = "\n\n".join(p.strip() for p in paragraphs)
    chunks = split_text(text, 400)
    assert chunks == [p.strip() for p in paragraphs]


def test_packs_small_paragraphs_together() -> None:
    text = "a\n\nb\n\nc"
    assert split_text(text, 4) == ["a\n\nb", "c"]


def test_overlong_paragraph_splits_on_words_and_keeps_everything() -> None:
    text = " ".join(f"từ{i}" for i in range(2000))
    chunks = split_text(text, 4096)
    assert all(len(chunk) <= 4096 for chunk in chunks)
    assert " ".join(chunks).split() == text.split()


def test_word_longer_than_limit_is_cut() -> None:
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        split_text("a", 0)
