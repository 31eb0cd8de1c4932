"""Quiz question banks: the shipped bank, the checks on bank files, spreadsheet import."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import openpyxl
import pytest

from bot.services.handbook import load_entries
from bot.services.quizzes import (
    QUIZZES_DIR,
    Difficulty,
    QuizContentError,
    QuizFileError,
    QuizQuestion,
    check_banks,
    load_bank,
    load_banks,
    read_question_rows,
)
from content import HANDBOOK_DIR

HANDBOOK = {entry.id: entry for entry in load_entries(HANDBOOK_DIR)}
SHIPPED = QUIZZES_DIR / "kien-thuc-co-ban.yaml"


# --- The shipped bank ------------------------------------------------------------------------


def test_shipped_banks_have_no_problems() -> None:
    assert check_banks(QUIZZES_DIR, set(HANDBOOK)) == []
    banks = load_banks()
    assert [bank.id for bank in banks] == ["kien-thuc-co-ban"]
    assert banks[0].title == "Kiến thức cơ bản về Điều lệ Đảng"


def test_shipped_bank_is_large_and_links_to_the_handbook() -> None:
    bank = load_bank(SHIPPED)
    assert len(bank.questions) >= 45
    for question in bank.questions:
        assert question.entry in HANDBOOK, question.id
        # Topics follow the handbook's categories, so results can be grouped like the handbook.
        assert question.topic == HANDBOOK[question.entry].category, question.id


def test_shipped_bank_varies_the_right_answer_and_difficulty() -> None:
    bank = load_bank(SHIPPED)
    positions = Counter(question.answer for question in bank.questions)
    assert set(positions) == {0, 1, 2, 3}
    # No position is so common that guessing it pays.
    assert max(positions.values()) < len(bank.questions) * 0.4
    assert set(question.difficulty for question in bank.questions) == set(Difficulty)


def test_shipped_bank_sample_question() -> None:
    by_id = {question.id: question for question in load_bank(SHIPPED).questions}
    probation = by_id["q16"]
    assert probation.choices[probation.answer] == "12 tháng"
    assert probation.entry == "dang-vien-du-bi"
    assert probation.difficulty is Difficulty.EASY


# --- Checking bank files -------------------------------------------------------------------

GOOD_QUESTION = """\
  - id: q01
    question: Thời gian dự bị của đảng viên là bao lâu?
    choices: ["6 tháng", "12 tháng"]
    answer: 1
    explanation: Đảng viên dự bị phải trải qua 12 tháng dự bị.
    topic: Đảng viên dự bị
    difficulty: easy
    entry: dang-vien-du-bi
"""


def write_bank(directory: Path, questions: str, name: str = "thu") -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(f"id: {name}\ntitle: Bộ thử\nquestions:\n{questions}", encoding="utf-8")
    return path


def with_field(name: str, value: str | None) -> str:
    """GOOD_QUESTION with one field replaced (or removed when `value` is None)."""
    lines = []
    for line in GOOD_QUESTION.splitlines(keepends=True):
        key = line.strip().removeprefix("- ").partition(":")[0]
        if key != name:
            lines.append(line)
        elif value is not None:
            prefix = "  - " if line.lstrip().startswith("- ") else "    "
            lines.append(f"{prefix}{name}: {value}\n")
    return "".join(lines)


def test_a_good_bank_loads(tmp_path: Path) -> None:
    write_bank(tmp_path, GOOD_QUESTION)
    assert check_banks(tmp_path, {"dang-vien-du-bi"}) == []
    [bank] = load_banks(tmp_path, {"dang-vien-du-bi"})
    assert bank.questions == (
        QuizQuestion(
            id="q01",
            question="Thời gian dự bị của đảng viên là bao lâu?",
            choices=("6 tháng", "12 tháng"),
            answer=1,
            explanation="Đảng viên dự bị phải trải qua 12 tháng dự bị.",
            topic="Đảng viên dự bị",
            difficulty=Difficulty.EASY,
            entry="dang-vien-du-bi",
        ),
    )


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("explanation", None, "thu.yaml: question q01: missing field 'explanation'"),
        ("question", '""', "thu.yaml: question q01: field 'question' is empty"),
        ("topic", "'   '", "thu.yaml: question q01: field 'topic' is empty"),
        ("choices", '["Chỉ một"]', "thu.yaml: question q01: has 1 choices; give 2 to 6"),
        (
            "choices",
            '["1", "2", "3", "4", "5", "6", "7"]',
            "thu.yaml: question q01: has 7 choices; give 2 to 6",
        ),
        ("choices", '["Có", ""]', "thu.yaml: question q01: choice 1 is empty or not text"),
        (
            "choices",
            '["12 tháng", "6 tháng", " 12  THÁNG "]',
            "thu.yaml: question q01: choices 0 and 2 are the same",
        ),
        (
            "answer",
            "2",
            "thu.yaml: question q01: answer 2 is out of range (choices are 0 to 1)",
        ),
        (
            "answer",
            "B",
            "thu.yaml: question q01: answer must be the index of the right choice"
            " (0 for the first)",
        ),
        (
            "difficulty",
            "rất khó",
            "thu.yaml: question q01: unknown difficulty 'rất khó' (easy, medium or hard)",
        ),
        (
            "entry",
            "khong-co-muc-nay",
            "thu.yaml: question q01: unknown handbook entry 'khong-co-muc-nay'",
        ),
        (
            "id",
            "Câu 1",
            "thu.yaml: question Câu 1: id 'Câu 1' must be lowercase ASCII words joined by '-'",
        ),
    ],
)
def test_check_banks_reports_each_problem(
    tmp_path: Path, field: str, value: str | None, problem: str
) -> None:
    write_bank(tmp_path, with_field(field, value))
    assert check_banks(tmp_path, {"dang-vien-du-bi"}) == [problem]
    with pytest.raises(QuizContentError) as caught:
        load_banks(tmp_path, {"dang-vien-du-bi"})
    assert caught.value.problems == [problem]


def test_check_banks_reports_duplicate_question_ids_and_texts(tmp_path: Path) -> None:
    second = with_field("question", "Đảng viên dự bị bao lâu?")
    third = with_field("id", "q03")
    write_bank(tmp_path, GOOD_QUESTION + second + third)
    assert check_banks(tmp_path, {"dang-vien-du-bi"}) == [
        "thu.yaml: duplicate question id 'q01'",
        "thu.yaml: question q03 repeats the text of q01",
    ]


def test_check_banks_reports_bank_level_problems(tmp_path: Path) -> None:
    path = write_bank(tmp_path, GOOD_QUESTION, name="mot")
    path.write_text(path.read_text(encoding="utf-8").replace("id: mot", "id: hai", 1))
    (tmp_path / "rong.yaml").write_text("id: rong\ntitle: Rỗng\nquestions: []\n")
    (tmp_path / "hong.yaml").write_text("id: hong\nquestions: [\n")
    assert check_banks(tmp_path, {"dang-vien-du-bi"}) == [
        "hong.yaml: not valid YAML (line 3)",
        "mot.yaml: id 'hai' differs from the file name",
        "rong.yaml: missing field 'questions' (a non-empty list)",
    ]


def test_load_bank_raises_on_a_bad_file(tmp_path: Path) -> None:
    path = write_bank(tmp_path, with_field("answer", "-1"))
    with pytest.raises(QuizContentError, match=r"answer -1 is out of range"):
        load_bank(path)


# --- Spreadsheet import --------------------------------------------------------------------

HEADER = ["Câu hỏi", "A", "B", "C", "D", "E", "Đáp án", "Giải thích", "Chủ đề", "Độ khó"]
GOOD_ROWS: list[list[object]] = [
    [
        "Thời gian dự bị là bao lâu?",
        "6 tháng",
        "12 tháng",
        "18 tháng",
        "24 tháng",
        None,
        "B",
        "12 tháng, tính từ ngày lễ kết nạp.",
        "Đảng viên dự bị",
        "dễ",
    ],
    [
        "Chi bộ sinh hoạt chuyên đề ít nhất bao lâu một lần?",
        "Mỗi quý",
        "Mỗi năm",
        None,
        None,
        None,
        "a",
        "Ít nhất mỗi quý một lần.",
        "Sinh hoạt chi bộ",
        None,
    ],
    [
        "Mốc tuổi đảng thấp nhất để được tặng Huy hiệu Đảng?",
        20,
        25,
        30,
        40,
        45,
        "C",
        "Từ 30 năm tuổi đảng.",
        "Lịch sử",
        "Khó",
    ],
]


def write_xlsx(
    path: Path, rows: Sequence[Sequence[object]], header: Sequence[str] = HEADER
) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def write_csv(path: Path, lines: Sequence[str], bom: bool = False) -> Path:
    path.write_text(("\ufeff" if bom else "") + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def test_import_good_xlsx(tmp_path: Path) -> None:
    result = read_question_rows(write_xlsx(tmp_path / "de.xlsx", GOOD_ROWS))
    assert result.problems == []
    assert result.questions == [
        QuizQuestion(
            id="q01",
            question="Thời gian dự bị là bao lâu?",
            choices=("6 tháng", "12 tháng", "18 tháng", "24 tháng"),
            answer=1,
            explanation="12 tháng, tính từ ngày lễ kết nạp.",
            topic="Đảng viên dự bị",
            difficulty=Difficulty.EASY,
        ),
        QuizQuestion(
            id="q02",
            question="Chi bộ sinh hoạt chuyên đề ít nhất bao lâu một lần?",
            choices=("Mỗi quý", "Mỗi năm"),
            answer=0,
            explanation="Ít nhất mỗi quý một lần.",
            topic="Sinh hoạt chi bộ",
            difficulty=Difficulty.MEDIUM,
        ),
        QuizQuestion(
            id="q03",
            question="Mốc tuổi đảng thấp nhất để được tặng Huy hiệu Đảng?",
            choices=("20", "25", "30", "40", "45"),
            answer=2,
            explanation="Từ 30 năm tuổi đảng.",
            topic="Lịch sử",
            difficulty=Difficulty.HARD,
        ),
    ]


def test_import_csv_with_bom_and_headers_without_diacritics(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "de.csv",
        [
            "CAU HOI;a;b;c;d;dap an;giai thich;Chu de;do kho",
            "Đảng viên dự bị có được biểu quyết không?;Có;Không;;;B;Trừ quyền biểu quyết.;"
            "Quyền và nhiệm vụ;trung bình",
            ";;;;;;;;",
            '"Quyết định kỷ luật, khai trừ cần bao nhiêu?";Quá nửa;Hai phần ba;;;b;'
            "Khai trừ cần hai phần ba.;Kỷ luật;hard",
        ],
        bom=True,
    )
    result = read_question_rows(path)
    assert result.problems == []
    assert [(q.question, q.choices, q.answer, q.difficulty) for q in result.questions] == [
        ("Đảng viên dự bị có được biểu quyết không?", ("Có", "Không"), 1, Difficulty.MEDIUM),
        (
            "Quyết định kỷ luật, khai trừ cần bao nhiêu?",
            ("Quá nửa", "Hai phần ba"),
            1,
            Difficulty.HARD,
        ),
    ]


def test_import_csv_without_bom_with_commas(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "de.csv",
        [
            "Câu hỏi,A,B,C,D,Đáp án,Giải thích,Chủ đề",
            'Ngày thành lập Đảng?,3/2,"19/5",2/9,,A,"Ngày 3/2, theo Đại hội III.",Lịch sử',
        ],
    )
    [question] = read_question_rows(path).questions
    assert question.choices == ("3/2", "19/5", "2/9")
    assert question.explanation == "Ngày 3/2, theo Đại hội III."
    assert question.difficulty is Difficulty.MEDIUM


def test_import_reports_every_bad_row_with_its_line(tmp_path: Path) -> None:
    bad_rows: list[list[object]] = [
        # line 2: good
        GOOD_ROWS[0],
        # line 3: no question
        [None, "Có", "Không", None, None, None, "A", "Giải thích.", "Chủ đề", None],
        # line 4: one choice
        ["Chỉ một lựa chọn?", "Có", None, None, None, None, "A", "Giải thích.", "Chủ đề", None],
        # line 5: a gap (A, B, D without C)
        ["Thiếu C?", "Một", "Hai", None, "Bốn", None, "D", "Giải thích.", "Chủ đề", None],
        # line 6: blank line, skipped but counted
        [None] * len(HEADER),
        # line 7: the answer names an empty choice
        ["Đáp án trống?", "Một", "Hai", "Ba", "Bốn", None, "E", "Giải thích.", "Chủ đề", None],
        # line 8: the same question as line 2, typed with other spacing and case
        ["thời gian dự bị  là bao lâu?", "Một", "Hai", None, None, None, "A", "Gt.", "Cđ", None],
        # line 9: an answer that is not a letter, an unknown difficulty, no explanation
        ["Câu chín?", "Một", "Hai", None, None, None, "1", None, "Chủ đề", "rất khó"],
        # line 10: no answer, no topic, the same choice twice
        ["Câu mười?", "Có", "có", None, None, None, None, "Giải thích.", None, None],
    ]
    result = read_question_rows(write_xlsx(tmp_path / "de.xlsx", bad_rows))
    assert [q.question for q in result.questions] == ["Thời gian dự bị là bao lâu?"]
    assert [str(problem) for problem in result.problems] == [
        "dòng 3: thiếu câu hỏi",
        "dòng 4: cần ít nhất 2 lựa chọn",
        "dòng 5: lựa chọn C để trống nhưng D có nội dung",
        "dòng 7: đáp án «E» trỏ vào lựa chọn trống",
        "dòng 8: câu hỏi trùng với dòng 2",
        "dòng 9: đáp án «1» phải là một chữ cái từ A đến F; thiếu giải thích; "
        "độ khó «rất khó» không hợp lệ (dễ, trung bình hoặc khó)",
        "dòng 10: lựa chọn A và B giống nhau; thiếu đáp án; thiếu chủ đề",
    ]
    assert [problem.line for problem in result.problems] == [3, 4, 5, 7, 8, 9, 10]


def test_import_lists_several_gaps_at_once(tmp_path: Path) -> None:
    row = ["Hai chỗ trống?", "Một", None, None, None, "Năm", "A", "Gt.", "Cđ", None]
    result = read_question_rows(write_xlsx(tmp_path / "de.xlsx", [row]))
    assert [str(problem) for problem in result.problems] == [
        "dòng 2: lựa chọn B, C, D để trống nhưng E có nội dung"
    ]


def test_import_names_a_missing_header(tmp_path: Path) -> None:
    header = [name for name in HEADER if name != "Đáp án"]
    path = write_xlsx(tmp_path / "de.xlsx", [], header=header)
    with pytest.raises(QuizFileError) as caught:
        read_question_rows(path)
    assert str(caught.value) == "Tệp de.xlsx thiếu cột «Đáp án» ở dòng tiêu đề (dòng 1)."


def test_import_names_every_missing_header(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "de.csv", ["Câu hỏi,A,B,Đáp án,Chủ đề"])
    with pytest.raises(QuizFileError) as caught:
        read_question_rows(path)
    assert str(caught.value) == (
        "Tệp de.csv thiếu cột «C», «D», «Giải thích» ở dòng tiêu đề (dòng 1)."
    )


def test_import_rejects_files_it_cannot_read(tmp_path: Path) -> None:
    latin = tmp_path / "cu.csv"
    latin.write_bytes("Câu hỏi,A,B,C,D,Đáp án,Giải thích,Chủ đề\n".encode("utf-16"))
    with pytest.raises(QuizFileError, match="không phải văn bản UTF-8"):
        read_question_rows(latin)
    with pytest.raises(QuizFileError, match=r"chỉ nhận bảng tính \.xlsx hoặc \.csv"):
        read_question_rows(tmp_path / "de.ods")
    with pytest.raises(QuizFileError, match="không có câu hỏi nào"):
        read_question_rows(write_xlsx(tmp_path / "trong.xlsx", []))
