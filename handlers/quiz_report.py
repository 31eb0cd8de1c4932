"""A quiz's results for the trainer: /baocaoquiz [number], or «Tải báo cáo» on the message
sent when the quiz closed. The figures, then the workbook and the chart as files; only the
member the quiz reports to, or a trainer (or admin) whose grants cover all its units, may
see them."""

from __future__ import annotations

import asyncio
import io
from zoneinfo import ZoneInfo

from bot.button_data import ButtonData
from bot.exports.quiz_results import write_quiz_chart, write_quiz_results
from bot.messages import Button, Channel, Document, Reply
from bot.router import Context, Router
from bot.services.accounts import MemberView
from bot.services.meetings.when import format_when
from bot.services.notices import QuizResults
from bot.services.permissions import Action, Actor
from bot.services.quizzes.report import Participation, QuizReport
from bot.services.rankings import Ranked, quiz_ranking
from bot.texts import text
from handlers.guards import members_only

RECENT_QUIZZES = 20
MAX_CHOICES = 5
MOST_MISSED = 5
# Longer messages list the first units and leave the rest to the workbook.
MAX_UNIT_LINES = 30
SHORT_QUESTION_CHARS = 70


class ShowReport(ButtonData, prefix="qzr"):
    """«Tải báo cáo» on the results sent at closing, or a quiz chosen from /baocaoquiz."""

    quiz: int


def _t(key: str, **values: object) -> str:
    return text(f"quiz_report.{key}", **values)


def _figures(totals: Participation) -> str:
    scores = (
        _t(
            "scores",
            average=totals.average,
            passed=totals.passed,
            scored=totals.scored,
            rate=totals.pass_rate,
        )
        if totals.scored
        else _t("no_scores")
    )
    return _t(
        "figures",
        invited=totals.invited,
        started=totals.started,
        finished=totals.finished,
        scores=scores,
    )


def ranking_line(key: str, ranked: Ranked) -> str:
    unit = ranked.standing
    average = text("rankings.no_average") if unit.average is None else f"{unit.average}%"
    return text(
        key,
        rank=ranked.rank,
        unit=unit.unit_name,
        participation=unit.participation,
        took_part=unit.took_part,
        members=unit.members,
        average=average,
    )


def _short(question: str) -> str:
    flat = " ".join(question.split())
    if len(flat) <= SHORT_QUESTION_CHARS:
        return flat
    return flat[: SHORT_QUESTION_CHARS - 1].rstrip() + "…"


def summary_text(report: QuizReport, timezone: ZoneInfo) -> str:
    """What the trainer reads: participation per unit and overall, then the questions most
    often missed."""
    state = "closed" if report.closed else "open"
    lines = [
        _t(
            f"title_{state}",
            title=report.title,
            id=report.quiz_id,
            closes=format_when(report.closes_at, timezone),
        ),
        _t("legend", pass_mark=report.pass_mark),
        "",
    ]
    lines += [
        _t("unit_line", unit=unit.unit_name, figures=_figures(unit.totals))
        for unit in report.units[:MAX_UNIT_LINES]
    ]
    if len(report.units) > MAX_UNIT_LINES:
        lines.append(_t("more_units", count=len(report.units) - MAX_UNIT_LINES))
    if not report.units:
        lines.append(_t("no_members"))
    lines.append(_t("overall_line", figures=_figures(report.overall)))
    if len(report.units) > 1:
        lines += ["", text("rankings.quiz_title")]
        lines += [ranking_line("rankings.line", r) for r in quiz_ranking(report)[:MAX_UNIT_LINES]]
    missed = [question for question in report.missed if question.wrong][:MOST_MISSED]
    if missed:
        lines += ["", _t("missed_title")]
        lines += [
            _t(
                "missed_line",
                number=number,
                question=_short(question.text),
                percent=question.percent_wrong,
                wrong=question.wrong,
                answered=question.answered,
            )
            for number, question in enumerate(missed, start=1)
        ]
    return "\n".join(lines)


def render_results(notice: QuizResults, timezone: ZoneInfo) -> Reply:
    """The results sent at closing: the figures and «Tải báo cáo», which answers in chat
    with the workbook and the chart."""
    report = notice.report
    download = Button(_t("button_download"), ShowReport(report.quiz_id).pack())
    return Reply(
        f"{summary_text(report, timezone)}\n\n{_t('download', id=report.quiz_id)}",
        buttons=((download,),),
    )


def _files(report: QuizReport, timezone: ZoneInfo) -> tuple[bytes, bytes]:
    workbook, chart = io.BytesIO(), io.BytesIO()
    write_quiz_results(workbook, report, timezone)
    write_quiz_chart(chart, report)
    return workbook.getvalue(), chart.getvalue()


async def _reader(ctx: Context, member: MemberView) -> Actor:
    """Who reads reports: the scope to schedule quizzes decides which (QuizReports.may_see)."""
    return await ctx.services.permissions.actor(member, Action.SCHEDULE_QUIZ)


async def _report(ctx: Context, member: MemberView, quiz_id: int) -> list[Reply]:
    actor = await _reader(ctx, member)
    quiz = await ctx.services.quizzes.quiz(quiz_id)
    reports = ctx.services.quiz_reports
    if quiz is None or not await reports.may_see(actor, quiz):
        return [Reply(_t("not_allowed", id=quiz_id))]
    report = await reports.build(quiz)
    await ctx.services.audit.record(actor.ref, "quiz.report", f"quiz:{quiz.id}")
    summary = summary_text(report, ctx.services.settings.timezone)
    # Zalo's Bot API takes no files from the bot: there the text says where to get them.
    # (Telegram sends them; the console saves them.)
    if ctx.incoming.channel is Channel.ZALO:
        return [Reply(f"{summary}\n\n{_t('files_elsewhere', id=quiz.id)}")]
    # Drawing takes a moment: off the event loop, so other chats are answered meanwhile.
    timezone = ctx.services.settings.timezone
    workbook, chart = await asyncio.to_thread(_files, report, timezone)
    return [
        Reply(summary),
        Reply(_t("workbook"), document=Document(f"ket-qua-trac-nghiem-{quiz.id}.xlsx", workbook)),
        Reply(_t("chart"), document=Document(f"bieu-do-trac-nghiem-{quiz.id}.png", chart)),
    ]


@members_only
async def command(ctx: Context, member: MemberView) -> list[Reply]:
    argument = ctx.incoming.command_args
    if argument.isdigit():
        return await _report(ctx, member, int(argument))
    if argument:
        return [Reply(_t("usage"))]
    actor = await _reader(ctx, member)
    reports = ctx.services.quiz_reports
    visible = [
        quiz
        for quiz in await ctx.services.quizzes.recent(RECENT_QUIZZES)
        if await reports.may_see(actor, quiz)
    ][:MAX_CHOICES]
    if not visible:
        return [Reply(_t("none"))]
    rows = tuple(
        (Button(_t("quiz_button", id=quiz.id, title=quiz.title), ShowReport(quiz.id).pack()),)
        for quiz in visible
    )
    return [Reply(_t("choose"), buttons=rows)]


@members_only
async def button(ctx: Context, member: MemberView) -> list[Reply]:
    return await _report(ctx, member, ctx.pressed(ShowReport).quiz)


def register(router: Router) -> None:
    router.command("baocaoquiz")(command)
    router.button(ShowReport)(button)
