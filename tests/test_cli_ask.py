"""`sotay ask` and `sotay content check`, run through the CLI entry point on the fixtures."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.services.handbook import load_index

DATA = Path(__file__).parent / "data"
FIXTURES = [
    "--handbook",
    str(DATA / "handbook"),
    "--abbreviations",
    str(DATA / "abbreviations.tsv"),
]
CHECK_FIXTURES = [*FIXTURES, "--quizzes", str(DATA / "quizzes")]


def test_ask_prints_title_body_and_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", *FIXTURES, "dang phi bao nhieu"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "Mức đóng đảng phí hằng tháng"
    assert "**1% tiền lương**" in out
    assert "Nguồn: Quy định 01-QĐ/TW (ngày 03/02/2026), Điều 3" in lines


def test_ask_joins_unquoted_words(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", *FIXTURES, "đv", "dự", "bị", "mấy", "tháng"]) == 0
    assert capsys.readouterr().out.startswith("Thời gian dự bị của đảng viên\n")


def test_ask_lists_runners_up(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", *FIXTURES, "sinh hoạt đảng"]) == 0
    out = capsys.readouterr().out
    assert "Có phải đồng chí muốn hỏi:" in out
    assert out.count("\n- ") >= 1


def test_ask_says_when_nothing_is_found(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", *FIXTURES, "giá vàng hôm nay"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Chưa tìm thấy nội dung phù hợp trong Sổ tay.")
    assert "Nguồn:" not in out


def test_ask_jsonl_answers_one_object_per_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    questions = ["ddangr phis bao nhieu", "thời tiết Hà Nội ngày mai", "", "sinh hoạt đảng"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(questions) + "\n"))
    assert main(["ask", "--jsonl", *FIXTURES]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["question"] for row in rows] == questions

    answered, refused, empty, ambiguous = rows
    assert answered["answered"] is True
    assert answered["entry_id"] == "dang-phi-muc-dong"
    assert answered["title"] == "Mức đóng đảng phí hằng tháng"
    assert answered["answer"].startswith("Đảng viên hưởng lương")
    assert 0 < answered["score"] <= 1
    assert answered["suggestions"] == []
    for row in (refused, empty):
        assert row["answered"] is False
        assert row["entry_id"] is row["title"] is row["answer"] is None
    assert ambiguous["suggestions"]
    assert set(ambiguous["suggestions"][0]) == {"entry_id", "title"}
    assert set(answered) == {
        "question", "answered", "entry_id", "title", "answer", "score", "suggestions"
    }  # fmt: skip


def test_ask_answers_everyday_words_as_the_bot_does(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Evaluation scripts score the bot through `sotay ask`: it must use the shipped
    synonyms too ("đi Thái chơi" shares no word with the entry on travelling abroad)."""
    questions = ["di thai lan choi co phai xin phep khong", "mở quán cà phê có được không"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(questions) + "\n"))
    assert main(["ask", "--jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    bot = load_index()
    assert [row["entry_id"] for row in rows] == ["di-nuoc-ngoai", "dang-vien-kinh-te-tu-nhan"]
    assert [row["entry_id"] for row in rows] == [bot.search(q).entry.id for q in questions]  # type: ignore[union-attr]


def test_ask_jsonl_keeps_vietnamese_unescaped(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("đảng phí\n"))
    assert main(["ask", "--jsonl", *FIXTURES]) == 0
    assert '"question": "đảng phí"' in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["ask"], 'sotay: ask: give a question (sotay ask "đảng phí bao nhiêu"), or --jsonl'),
        (["ask", "--jsonl", "đảng phí"], "sotay: ask: give either a question or --jsonl"),
    ],
)
def test_ask_needs_exactly_one_source_of_questions(
    argv: list[str], error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, *FIXTURES]) == 2
    assert capsys.readouterr().err.startswith(error)


def test_ask_refuses_a_broken_handbook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.md").write_text("no front matter", encoding="utf-8")
    argv = ["ask", "--handbook", str(tmp_path), "--abbreviations", str(DATA / "abbreviations.tsv")]
    assert main([*argv, "đảng phí"]) == 1
    assert "sotay content check" in capsys.readouterr().err


def synonyms(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "synonyms.tsv"
    path.write_text(text, encoding="utf-8")
    return ["--synonyms", str(path)]


def test_content_check_summarises_valid_content(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = synonyms(tmp_path, "# everyday words\nđánh rơi, bị trộm\tmất thẻ\n")
    assert main(["content", "check", *CHECK_FIXTURES, *extra]) == 0
    assert capsys.readouterr().out == "10 entries in 7 categories (0 reviewed): no problems\n"


def test_content_check_prints_each_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.md").write_text("no front matter", encoding="utf-8")
    abbreviations = tmp_path / "abbreviations.tsv"
    abbreviations.write_text("đv\n", encoding="utf-8")
    argv = ["content", "check", "--handbook", str(tmp_path), "--abbreviations", str(abbreviations)]
    assert main([*argv, *synonyms(tmp_path, "đánh rơi mất thẻ\n")]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "a.md: no front matter (the file must start with a '---' block)",
        "abbreviations.tsv:1: expected 'abbreviation<TAB>expansion'",
        "synonyms.tsv:1: expected 'phrase[, phrase...]<TAB>handbook phrase'",
    ]


def test_content_check_reports_synonyms_the_handbook_lacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = synonyms(tmp_path, "đánh rơi\tmất thẻ\nmở quán\tkinh doanh\nthì\tmức đóng\n")
    assert main(["content", "check", *CHECK_FIXTURES, *extra]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "synonyms.tsv:2: 'kinh doanh' occurs in no handbook entry",
        "synonyms.tsv:3: 'thì' is a function word and would match anything",
    ]


def test_content_check_needs_the_synonyms_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.tsv"
    assert main(["content", "check", *CHECK_FIXTURES, "--synonyms", str(missing)]) == 1
    assert capsys.readouterr().out == f"{missing}: synonyms file not found\n"
