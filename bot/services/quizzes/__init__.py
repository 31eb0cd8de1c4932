"""Training quizzes: the question banks shipped as YAML and questions imported from
spreadsheets."""

from bot.services.quizzes.bank import (
    QUIZZES_DIR,
    Difficulty,
    ImportResult,
    QuestionBank,
    QuizContentError,
    QuizFileError,
    QuizQuestion,
    RowProblem,
    check_banks,
    load_bank,
    load_banks,
    read_question_rows,
)

__all__ = [
    "QUIZZES_DIR",
    "Difficulty",
    "ImportResult",
    "QuestionBank",
    "QuizContentError",
    "QuizFileError",
    "QuizQuestion",
    "RowProblem",
    "check_banks",
    "load_bank",
    "load_banks",
    "read_question_rows",
]
