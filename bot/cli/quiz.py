"""`sotay quiz import|schedule|report`: add a question bank from a spreadsheet, open a quiz
for some units during a window of time, and write its results."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.errors import CliError, UsageError
from bot.cli.org import PATH_HELP, find_unit
from bot.cli.output import output_file
from bot.cli.role import member_by_card
from bot.cli.session import operator, run_in_transaction, services_for
from bot.cli.settings import load_settings
from bot.exports.quiz_results import write_quiz_chart, write_quiz_results
from bot.services.quizzes import QuizFileError, read_question_rows
from bot.services.quizzes.bank import bank_slug
from bot.services.quizzes.report import QuizReport

DATETIME_FORMAT = "YYYY-MM-DD HH:MM"


def bank_id_for(path: Path) -> str:
    """The bank an imported file becomes: its name as a slug ("Đợt 1.xlsx" → "dot-1")."""
    return bank_slug(path.stem) or "nhap"


def _import(args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        result = read_question_rows(path)
    except QuizFileError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc}") from None
    if result.problems:
        lines = "\n".join(f"  {problem}" for problem in result.problems)
        raise CliError(f"{path.name}: nothing imported, fix these rows first:\n{lines}")
    bank_id = args.bank or bank_id_for(path)

    async def save(session: AsyncSession) -> int:
        catalogue = services_for(session).quiz_catalogue
        try:
            return await catalogue.import_bank(bank_id, result.questions, actor=operator())
        except ValueError:
            raise CliError(f"{bank_id} is a shipped bank: choose another --bank") from None

    added = run_in_transaction(save)
    print(f"bank {bank_id}: {len(result.questions)} questions ({added} new)")
    return 0


def _moment(value: str, option: str, timezone: ZoneInfo) -> datetime:
    try:
        local = datetime.strptime(value.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise UsageError(
            f"quiz schedule: argument {option}: not a date and time as {DATETIME_FORMAT}: {value!r}"
        ) from None
    return local.replace(tzinfo=timezone)


def _schedule(args: argparse.Namespace) -> int:
    timezone = load_settings().timezone
    opens = _moment(args.opens, "--opens", timezone)
    closes = _moment(args.closes, "--closes", timezone)
    if closes <= opens:
        raise CliError("--closes must be after --opens")
    if not 0 <= args.pass_mark <= 100:
        raise CliError("--pass-mark is a percent, 0 to 100")
    if args.questions < 1 or args.attempts < 1:
        raise CliError("--questions and --attempts must be at least 1")
    paths = [path for path in args.units.split(",") if path.strip()]
    banks = [bank for bank in (args.banks or "").split(",") if bank.strip()]

    async def schedule(session: AsyncSession) -> int:
        units = [await find_unit(session, path) for path in paths]
        report_to = None if args.notify is None else (await member_by_card(session, args.notify))[0]
        quiz = await services_for(session).quizzes.schedule(
            title=args.title,
            unit_ids=[unit.id for unit in units],
            question_count=args.questions,
            opens_at=opens,
            closes_at=closes,
            actor=operator(),
            bank_ids=banks or None,
            pass_mark=args.pass_mark,
            seconds_per_question=args.seconds_per_question,
            attempts_allowed=args.attempts,
            report_to=report_to,
        )
        return quiz.id

    if not paths:
        raise CliError(f"give at least one unit ({PATH_HELP})")
    quiz_id = run_in_transaction(schedule)
    print(f"quiz #{quiz_id} scheduled: opens {args.opens}, closes {args.closes}")
    return 0


def _report(args: argparse.Namespace) -> int:
    out: Path = args.out
    chart: Path | None = args.chart
    if out.suffix.lower() != ".xlsx":
        raise CliError("--out must name a .xlsx file")
    if chart is not None and chart.suffix.lower() != ".png":
        raise CliError("--chart must name a .png file")
    timezone = load_settings().timezone

    async def results(session: AsyncSession) -> QuizReport:
        services = services_for(session)
        quiz = await services.quizzes.quiz(args.quiz)
        if quiz is None:
            raise CliError(f"no quiz #{args.quiz}")
        return await services.quiz_reports.build(quiz)

    # Both files are opened first: when either cannot be written, neither is.
    with ExitStack() as files:
        sheet = files.enter_context(output_file(out))
        drawing = None if chart is None else files.enter_context(output_file(chart))
        report = run_in_transaction(results)
        write_quiz_results(sheet, report, timezone)
        if drawing is not None:
            write_quiz_chart(drawing, report)
    overall = report.overall
    print(
        f"quiz #{args.quiz}: {overall.finished} of {overall.members} members finished; wrote {out}"
    )
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("quiz", help="question banks and quizzes")
    commands = parser.add_subparsers(dest="quiz_command", metavar="ACTION", required=True)

    importing = commands.add_parser(
        "import",
        help="add a question bank from a spreadsheet (.xlsx or .csv)",
        description="Add a question bank from a trainer's .xlsx (first sheet) or .csv with "
        "the columns Câu hỏi, A, B, C, D (E, F optional), Đáp án, Giải thích, Chủ đề, Độ khó. "
        "Nothing is saved if a row is bad: each bad row is listed.",
    )
    importing.add_argument("file", type=Path, metavar="FILE", help="the .xlsx or .csv file")
    importing.add_argument("--bank", help="bank id (default: from the file name)")
    importing.set_defaults(func=_import)

    scheduling = commands.add_parser(
        "schedule",
        help="open a quiz for units during a window",
        description="Schedule a quiz for the units given and those under them: the bot "
        "invites their linked members when it opens, reminds them 24 hours before it closes, "
        "and sends the results to --notify at closing.",
    )
    scheduling.add_argument("--title", required=True)
    scheduling.add_argument(
        "--units", required=True, help=f"unit paths separated by commas ({PATH_HELP})"
    )
    scheduling.add_argument("--questions", type=int, required=True, help="questions per attempt")
    scheduling.add_argument("--opens", required=True, help=f"{DATETIME_FORMAT}, local time")
    scheduling.add_argument("--closes", required=True, help=f"{DATETIME_FORMAT}, local time")
    scheduling.add_argument("--pass-mark", type=int, default=70, help="percent (default 70)")
    scheduling.add_argument("--seconds-per-question", type=int, help="time limit per question")
    scheduling.add_argument("--attempts", type=int, default=1, help="attempts allowed")
    scheduling.add_argument("--banks", help="bank ids separated by commas (default: shipped)")
    scheduling.add_argument(
        "--notify", metavar="CARD", help="card number of the member who gets the results at closing"
    )
    scheduling.set_defaults(func=_schedule)

    reporting = commands.add_parser(
        "report",
        help="a quiz's results per unit and member",
        description="Write a quiz's results to an .xlsx file: a summary, a sheet per unit, "
        "the most-missed questions and every answer; --chart also draws each unit's average.",
    )
    reporting.add_argument("--quiz", type=int, required=True, metavar="ID", help="quiz number")
    reporting.add_argument(
        "--out", type=Path, required=True, metavar="FILE.xlsx", help="the workbook"
    )
    reporting.add_argument(
        "--chart", type=Path, metavar="FILE.png", help="also draw the average score per unit"
    )
    reporting.set_defaults(func=_report)
