"""Quiz question banks: YAML files shipped in content/quizzes, and questions imported from
a spreadsheet (.xlsx or CSV) that trainers fill in.

Problems in the shipped YAML are for the people who maintain the content (English, like the
handbook checks); problems in an imported spreadsheet are for the trainer who filled it in,
in Vietnamese, each with the line number the spreadsheet shows.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence, Set
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path

import openpyxl
import yaml

from bot.services.content_problems import ContentProblems
from bot.services.handbook.entries import load_entries
from bot.services.handbook.normalize import fold
from content import CONTENT_DIR, HANDBOOK_DIR

QUIZZES_DIR = CONTENT_DIR / "quizzes"
MIN_CHOICES = 2
MAX_CHOICES = 6

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_QUESTION_TEXT_FIELDS = ("id", "question", "explanation", "topic", "entry")


class Difficulty(StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


@dataclass(frozen=True, slots=True)
class QuizQuestion:
    id: str
    question: str
    choices: tuple[str, ...]
    answer: int  # index into choices
    explanation: str
    topic: str
    difficulty: Difficulty
    # The handbook entry the question is based on; imported spreadsheets do not name one.
    entry: str | None = None
    # When the question was last checked against its entry: once the entry changes after
    # that day, `sotay content check` asks for the question to be checked again.
    reviewed: date | None = None


@dataclass(frozen=True, slots=True)
class QuestionBank:
    id: str
    title: str
    questions: tuple[QuizQuestion, ...]


class QuizContentError(ContentProblems):
    """Question banks have problems."""


def _scalar_text(value: object) -> str | None:
    """Text, number or date as stripped NFC text; None for lists, mappings and booleans."""
    if isinstance(value, bool) or isinstance(value, list | dict):
        return None
    return unicodedata.normalize("NFC", str(value)).strip()


def _same_text_key(text: str) -> str:
    """Texts that differ only in case or spacing count as the same."""
    return " ".join(text.split()).casefold()


def _repeated(texts: Sequence[str]) -> list[tuple[int, int]]:
    """(first, later) index pairs of texts that are the same."""
    first: dict[str, int] = {}
    pairs = []
    for index, text in enumerate(texts):
        key = _same_text_key(text)
        if key in first:
            pairs.append((first[key], index))
        first.setdefault(key, index)
    return pairs


# --- YAML banks ----------------------------------------------------------------------------


def _question_texts(raw: dict[object, object], where: str) -> tuple[dict[str, str], list[str]]:
    texts: dict[str, str] = {}
    problems = []
    for name in _QUESTION_TEXT_FIELDS:
        value = raw.get(name)
        text = None if value is None else _scalar_text(value)
        if value is None:
            problems.append(f"{where}: missing field '{name}'")
        elif text is None:
            problems.append(f"{where}: field '{name}' must be text")
        elif not text:
            problems.append(f"{where}: field '{name}' is empty")
        else:
            texts[name] = text
    question_id = texts.get("id")
    if question_id is not None and not _SLUG.fullmatch(question_id):
        problems.append(f"{where}: id '{question_id}' must be lowercase ASCII words joined by '-'")
    return texts, problems


def _choices(raw: dict[object, object], where: str) -> tuple[tuple[str, ...] | None, list[str]]:
    value = raw.get("choices")
    if value is None:
        return None, [f"{where}: missing field 'choices'"]
    if not isinstance(value, list):
        return None, [f"{where}: field 'choices' must be a list"]
    texts = [_scalar_text(item) for item in value]
    problems = [
        f"{where}: choice {number} is empty or not text"
        for number, text in enumerate(texts)
        if not text
    ]
    if not MIN_CHOICES <= len(texts) <= MAX_CHOICES:
        problems.append(f"{where}: has {len(texts)} choices; give {MIN_CHOICES} to {MAX_CHOICES}")
    if problems:
        return None, problems
    choices = tuple(text for text in texts if text)
    problems = [f"{where}: choices {a} and {b} are the same" for a, b in _repeated(choices)]
    return choices, problems


def _answer(
    raw: dict[object, object], choices: tuple[str, ...] | None, where: str
) -> tuple[int | None, list[str]]:
    value = raw.get("answer")
    if value is None:
        return None, [f"{where}: missing field 'answer'"]
    if isinstance(value, bool) or not isinstance(value, int):
        return None, [f"{where}: answer must be the index of the right choice (0 for the first)"]
    if choices is not None and not 0 <= value < len(choices):
        return None, [
            f"{where}: answer {value} is out of range (choices are 0 to {len(choices) - 1})"
        ]
    return value, []


def _difficulty(raw: dict[object, object], where: str) -> tuple[Difficulty | None, list[str]]:
    value = raw.get("difficulty")
    if value is None:
        return None, [f"{where}: missing field 'difficulty'"]
    try:
        return Difficulty(value), []
    except ValueError:
        return None, [f"{where}: unknown difficulty '{value}' (easy, medium or hard)"]


def _reviewed(raw: dict[object, object], where: str) -> tuple[date | None, list[str]]:
    value = raw.get("reviewed")
    if value is None or isinstance(value, date):
        return value, []
    try:
        return date.fromisoformat(str(value).strip()), []
    except ValueError:
        return None, [f"{where}: field 'reviewed' must be a date (YYYY-MM-DD)"]


def _parse_question(raw: object, where: str) -> tuple[QuizQuestion | None, list[str]]:
    if not isinstance(raw, dict):
        return None, [f"{where}: must be a mapping of fields"]
    texts, problems = _question_texts(raw, where)
    choices, found = _choices(raw, where)
    problems += found
    answer, found = _answer(raw, choices, where)
    problems += found
    difficulty, found = _difficulty(raw, where)
    problems += found
    reviewed, found = _reviewed(raw, where)
    problems += found
    if (
        len(texts) < len(_QUESTION_TEXT_FIELDS)
        or choices is None
        or answer is None
        or difficulty is None
    ):
        return None, problems
    # Built even with problems (such as repeated choices), so that duplicate ids are found.
    question = QuizQuestion(
        choices=choices, answer=answer, difficulty=difficulty, reviewed=reviewed, **texts
    )
    return question, problems


def _bank_header(meta: dict[object, object], path: Path) -> tuple[dict[str, str], list[str]]:
    name = path.name
    texts: dict[str, str] = {}
    problems = []
    for key in ("id", "title"):
        value = meta.get(key)
        text = None if value is None else _scalar_text(value)
        if not text:
            problems.append(f"{name}: missing field '{key}'")
        else:
            texts[key] = text
    bank_id = texts.get("id")
    if bank_id is not None and bank_id != path.stem:
        problems.append(f"{name}: id '{bank_id}' differs from the file name")
    return texts, problems


def _questions(raw: list[object], name: str) -> tuple[list[QuizQuestion], list[str]]:
    questions: list[QuizQuestion] = []
    problems: list[str] = []
    for number, item in enumerate(raw, start=1):
        label = item.get("id") if isinstance(item, dict) else None
        question, found = _parse_question(item, f"{name}: question {label or f'#{number}'}")
        problems += found
        if question is not None:
            questions.append(question)
    first_id: set[str] = set()
    first_text: dict[str, str] = {}
    for question in questions:
        if question.id in first_id:
            problems.append(f"{name}: duplicate question id '{question.id}'")
        first_id.add(question.id)
        key = _same_text_key(question.question)
        if key in first_text:
            problems.append(f"{name}: question {question.id} repeats the text of {first_text[key]}")
        first_text.setdefault(key, question.id)
    return questions, problems


def _parse_bank(path: Path) -> tuple[QuestionBank | None, list[str]]:
    name = path.name
    try:
        meta = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{name}: cannot read: {exc}"]
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        return None, [f"{name}: not valid YAML{line}"]
    if not isinstance(meta, dict):
        return None, [f"{name}: must be a mapping with id, title and questions"]
    texts, problems = _bank_header(meta, path)
    raw_questions = meta.get("questions")
    if not raw_questions or not isinstance(raw_questions, list):
        return None, [*problems, f"{name}: missing field 'questions' (a non-empty list)"]
    questions, found = _questions(raw_questions, name)
    problems += found
    if len(texts) < 2:
        return None, problems
    return QuestionBank(texts["id"], texts["title"], tuple(questions)), problems


def load_bank(path: Path) -> QuestionBank:
    """One bank file; raises QuizContentError if it has problems (handbook links unchecked)."""
    bank, problems = _parse_bank(path)
    if problems or bank is None:
        raise QuizContentError(problems)
    return bank


def _scan(directory: Path, handbook_ids: Set[str]) -> tuple[list[QuestionBank], list[str]]:
    if not directory.is_dir():
        return [], [f"{directory}: not a directory"]
    banks: list[QuestionBank] = []
    problems: list[str] = []
    first_file: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        bank, found = _parse_bank(path)
        if bank is not None:
            found += [
                f"{path.name}: question {q.id}: unknown handbook entry '{q.entry}'"
                for q in bank.questions
                if q.entry not in handbook_ids
            ]
            if bank.id in first_file:
                found.append(
                    f"{path.name}: duplicate bank id '{bank.id}' (also {first_file[bank.id]})"
                )
            first_file.setdefault(bank.id, path.name)
        problems += found
        if bank is not None and not found:
            banks.append(bank)
    if not problems and not banks:
        problems.append(f"{directory}: no question banks (*.yaml)")
    return banks, problems


def check_banks(directory: Path, handbook_ids: Set[str]) -> list[str]:
    """Every problem in the bank files of `directory`, one human-readable line each."""
    return _scan(directory, handbook_ids)[1]


def load_banks(
    directory: Path = QUIZZES_DIR, handbook_ids: Set[str] | None = None
) -> list[QuestionBank]:
    """All banks, in file-name order; raises QuizContentError if any has problems.

    Questions must link to existing handbook entries: those of the shipped handbook unless
    `handbook_ids` is given."""
    if handbook_ids is None:
        handbook_ids = {entry.id for entry in load_entries(HANDBOOK_DIR)}
    banks, problems = _scan(directory, handbook_ids)
    if problems:
        raise QuizContentError(problems)
    return banks


# --- Spreadsheet import ----------------------------------------------------------------------


class Column(StrEnum):
    QUESTION = "Câu hỏi"
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"
    ANSWER = "Đáp án"
    EXPLANATION = "Giải thích"
    TOPIC = "Chủ đề"
    DIFFICULTY = "Độ khó"


CHOICE_COLUMNS = (Column.A, Column.B, Column.C, Column.D, Column.E, Column.F)
REQUIRED_COLUMNS = (
    Column.QUESTION,
    Column.A,
    Column.B,
    Column.C,
    Column.D,
    Column.ANSWER,
    Column.EXPLANATION,
    Column.TOPIC,
)


def _folded(text: str) -> str:
    """Lowercase without diacritics ("Đáp án" → "dap an"), for headers and words however
    they were typed."""
    return " ".join(fold(text).lower().split()).strip(" :*")


_HEADERS = {_folded(column.value): column for column in Column}
_LETTER_INDEX = {column.value: index for index, column in enumerate(CHOICE_COLUMNS)}
_DIFFICULTY_WORDS = {
    "": Difficulty.MEDIUM,
    "de": Difficulty.EASY,
    "trung binh": Difficulty.MEDIUM,
    "kho": Difficulty.HARD,
    **{level.value: level for level in Difficulty},
}


class QuizFileError(ValueError):
    """The file cannot be read as a question sheet; the message says why, in Vietnamese."""


SPREADSHEET_SUFFIXES = (".csv", ".xlsx", ".xlsm")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
MAX_BANK_ID_CHARS = 60


def bank_slug(name: str) -> str:
    """The bank id a name gives: lowercase ASCII words joined by '-' ("Đợt 1" → "dot-1");
    empty when the name has no letter or digit."""
    slug = _NOT_SLUG.sub("-", fold(name).lower()).strip("-")
    return slug[:MAX_BANK_ID_CHARS].rstrip("-")


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"dòng {self.line}: {self.reason}"


@dataclass
class ImportResult:
    """The good questions and the bad rows; nothing should be saved while `problems` is set."""

    questions: list[QuizQuestion] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number cell: 12.0 is "12"
    return unicodedata.normalize("NFC", str(value)).strip()


def _csv_rows(content: bytes, name: str) -> list[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise QuizFileError(
            f"Tệp {name} không phải văn bản UTF-8: hãy lưu lại dạng «CSV UTF-8» hoặc .xlsx."
        ) from None
    first_line = text.partition("\n")[0]
    delimiter = max(",;\t", key=first_line.count)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _xlsx_rows(content: bytes, name: str) -> list[list[object]]:
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
        finally:
            workbook.close()
    # A file sent in chat may be anything that merely ends in .xlsx: whatever openpyxl
    # stumbles on, the answer is that it is not a spreadsheet.
    except Exception:
        raise QuizFileError(f"Không đọc được tệp {name} như một bảng tính Excel.") from None


def _check_suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in SPREADSHEET_SUFFIXES:
        raise QuizFileError(f"Tệp {name}: chỉ nhận bảng tính .xlsx hoặc .csv.")
    return suffix


def _rows(content: bytes, name: str) -> Sequence[Sequence[object]]:
    """The cells of every line of the file (its first sheet), line 1 first."""
    if _check_suffix(name) == ".csv":
        return _csv_rows(content, name)
    return _xlsx_rows(content, name)


def _header(cells: Sequence[object], name: str) -> dict[Column, int]:
    found: dict[Column, int] = {}
    for index, cell in enumerate(cells):
        column = _HEADERS.get(_folded(_cell_text(cell)))
        if column is not None:
            found.setdefault(column, index)
    missing = [column for column in REQUIRED_COLUMNS if column not in found]
    if missing:
        names = ", ".join(f"«{column.value}»" for column in missing)
        raise QuizFileError(f"Tệp {name} thiếu cột {names} ở dòng tiêu đề (dòng 1).")
    return found


def _choice_reasons(choices: dict[Column, str]) -> list[str]:
    """Why the choices A–F of a row cannot be used (no gaps, at least two, all different)."""
    filled = [column for column in CHOICE_COLUMNS if choices[column]]
    reasons = []
    if filled:
        last = CHOICE_COLUMNS.index(filled[-1])
        blanks = [column.value for column in CHOICE_COLUMNS[:last] if not choices[column]]
        if blanks:
            reasons.append(
                f"lựa chọn {', '.join(blanks)} để trống nhưng {filled[-1].value} có nội dung"
            )
    if len(filled) < MIN_CHOICES:
        reasons.append(f"cần ít nhất {MIN_CHOICES} lựa chọn")
    texts = [choices[column] for column in filled]
    reasons += [
        f"lựa chọn {filled[a].value} và {filled[b].value} giống nhau" for a, b in _repeated(texts)
    ]
    return reasons


def _answer_index(text: str, choices: dict[Column, str]) -> tuple[int | None, list[str]]:
    if not text:
        return None, ["thiếu đáp án"]
    index = _LETTER_INDEX.get(text.upper())
    if index is None:
        return None, [f"đáp án «{text}» phải là một chữ cái từ A đến F"]
    if not choices[CHOICE_COLUMNS[index]]:
        return None, [f"đáp án «{text.upper()}» trỏ vào lựa chọn trống"]
    return index, []


def _parse_row(cells: dict[Column, str], question_id: str) -> tuple[QuizQuestion | None, list[str]]:
    reasons = [] if cells[Column.QUESTION] else ["thiếu câu hỏi"]
    choices = {column: cells.get(column, "") for column in CHOICE_COLUMNS}
    reasons += _choice_reasons(choices)
    answer, found = _answer_index(cells[Column.ANSWER], choices)
    reasons += found
    if not cells[Column.EXPLANATION]:
        reasons.append("thiếu giải thích")
    if not cells[Column.TOPIC]:
        reasons.append("thiếu chủ đề")
    typed_difficulty = cells.get(Column.DIFFICULTY, "")
    difficulty = _DIFFICULTY_WORDS.get(_folded(typed_difficulty))
    if difficulty is None:
        reasons.append(f"độ khó «{typed_difficulty}» không hợp lệ (dễ, trung bình hoặc khó)")
    if reasons or answer is None or difficulty is None:
        return None, reasons
    question = QuizQuestion(
        id=question_id,
        question=cells[Column.QUESTION],
        choices=tuple(text for text in choices.values() if text),
        answer=answer,
        explanation=cells[Column.EXPLANATION],
        topic=cells[Column.TOPIC],
        difficulty=difficulty,
    )
    return question, []


def read_question_rows(path: Path) -> ImportResult:
    """Every question row of a spreadsheet, checked; raises QuizFileError if the file cannot
    be read or its header (line 1) lacks a required column."""
    _check_suffix(path.name)  # before opening: another kind of file is not read at all
    return read_question_file(path.read_bytes(), path.name)


def read_question_file(content: bytes, name: str) -> ImportResult:
    """The same checks on a file's bytes (a file sent in chat); `name` gives its kind by
    its suffix and is quoted in the messages."""
    rows = _rows(content, name)
    header = _header(rows[0] if rows else [], name)
    result = ImportResult()
    question_lines: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(_cell_text(value) for value in row):
            continue
        cells = {column: _cell_text(row[i]) if i < len(row) else "" for column, i in header.items()}
        question, reasons = _parse_row(cells, f"q{len(result.questions) + 1:02d}")
        key = _same_text_key(cells[Column.QUESTION])
        if key in question_lines:
            reasons.append(f"câu hỏi trùng với dòng {question_lines[key]}")
        elif key:
            question_lines[key] = line
        if reasons or question is None:
            result.problems.append(RowProblem(line, "; ".join(reasons)))
        else:
            result.questions.append(question)
    if not result.questions and not result.problems:
        raise QuizFileError(f"Tệp {name} không có câu hỏi nào.")
    return result
