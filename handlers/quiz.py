"""Quizzes in chat: «Bắt đầu» on an invitation, then one question at a time answered with
the letter buttons (typed letters on Zalo); /tracnghiem lists the open quizzes and resumes
an interrupted one, /luyentap practises five questions that are not recorded, /ketqua shows
the member's own results beside their unit's average."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.button_data import ButtonData
from bot.messages import Button, Reply
from bot.router import Context, Router
from bot.services.accounts import MemberView
from bot.services.daily import Progress
from bot.services.meetings.when import format_when
from bot.services.notices import QuizClosingSoon, QuizInvitation
from bot.services.quizzes.attempts import Answered, Finished, Outcome, Shown, StartRefused
from bot.services.quizzes.bank import QuizQuestion
from bot.services.quizzes.catalogue import shipped_banks
from bot.texts import text
from handlers.guards import members_only

# Practice keeps its questions in the conversation state under this name, but registers no
# flow: answers arrive as buttons (or letters mapped to them) and other text stays a
# handbook question.
PRACTICE_STATE = "luyentap"
PRACTICE_QUESTIONS = 5
LETTERS = "ABCDEF"


class PracticeStep(StrEnum):
    QUESTION = "question"


class StartQuiz(ButtonData, prefix="quiz:start"):
    quiz: int


class AnswerQuiz(ButtonData, prefix="quiz:a"):
    attempt: int
    position: int
    shown: int  # the choice's place as shown: A is 0


class AnswerPractice(ButtonData, prefix="quizp"):
    """A practice answer; the round tells an old practice's buttons from this one's."""

    round: int
    index: int
    shown: int


def question_text(number: int, total: int, question: str, choices: Sequence[str]) -> str:
    lines = [text("quiz.question", number=number, total=total, question=question), ""]
    lines += [f"{LETTERS[i]}. {choice}" for i, choice in enumerate(choices)]
    return "\n".join(lines)


def choice_buttons(count: int, data: Callable[[int], str]) -> tuple[tuple[Button, ...], ...]:
    """One row of letter buttons, each answerable by typing its letter on Zalo."""
    return (tuple(Button(LETTERS[i], data(i), key=LETTERS[i]) for i in range(count)),)


def _start_row(quiz_id: int) -> tuple[tuple[Button, ...], ...]:
    return ((Button(text("quiz.button_start"), StartQuiz(quiz_id).pack()),),)


def render_invitation(notice: QuizInvitation, timezone: ZoneInfo) -> Reply:
    quiz = notice.quiz
    body = text(
        "quiz.invitation",
        title=quiz.title,
        count=quiz.question_count,
        closes=format_when(quiz.closes_at, timezone),
        pass_mark=quiz.pass_mark,
    )
    return Reply(body, buttons=_start_row(quiz.id))


def render_closing_soon(notice: QuizClosingSoon, timezone: ZoneInfo) -> Reply:
    quiz = notice.quiz
    body = text("quiz.reminder", title=quiz.title, closes=format_when(quiz.closes_at, timezone))
    return Reply(body, buttons=_start_row(quiz.id))


def _question_reply(
    ctx: Context,
    number: int,
    total: int,
    body: str,
    choices: tuple[str, ...],
    seconds: int | None,
    data: Callable[[int], str],
) -> Reply:
    lines = [question_text(number, total, body, choices)]
    if seconds is not None:
        lines.append(text("quiz.time_limit", seconds=seconds))
    if not ctx.traits.has_buttons:
        lines.append(text("quiz.answer_by_letter"))
    return Reply("\n\n".join(lines), buttons=choice_buttons(len(choices), data))


def _shown_reply(ctx: Context, shown: Shown) -> Reply:
    return _question_reply(
        ctx,
        shown.position + 1,
        shown.total,
        shown.text,
        shown.choices,
        shown.seconds,
        lambda i: AnswerQuiz(shown.attempt_id, shown.position, i).pack(),
    )


def _feedback(answered: Answered) -> Reply:
    if answered.outcome is Outcome.TIMED_OUT:
        key = "quiz.timed_out"
    else:
        key = "quiz.right" if answered.correct else "quiz.wrong"
    letter = LETTERS[answered.correct_shown]
    lines = [text(key, letter=letter, choice=answered.correct_choice)]
    if answered.explanation:
        lines.append(text("quiz.explanation", explanation=answered.explanation))
    return Reply("\n".join(lines))


def _then(said: Reply, following: Reply) -> Reply:
    """The verdict on an answer and what comes next, as one message: half the messages
    under quiz load, and one notification on the member's phone instead of two."""
    return Reply(f"{said.text}\n\n{following.text}", buttons=following.buttons)


def _finished(finished: Finished) -> Reply:
    verdict = text(
        "quiz.passed" if finished.passed else "quiz.failed", pass_mark=finished.pass_mark
    )
    return Reply(
        text(
            "quiz.finished",
            title=finished.title,
            correct=finished.correct,
            total=finished.total,
            score=finished.score,
            verdict=verdict,
        )
    )


async def _begin(ctx: Context, member: MemberView, quiz_id: int) -> list[Reply]:
    quizzes = ctx.services.quiz_attempts
    attempt = await quizzes.start(quiz_id, member.id, member.organisation_id)
    if isinstance(attempt, StartRefused):
        return [Reply(text(f"quiz.{attempt.value}"))]
    shown = await quizzes.current(attempt)
    assert shown is not None  # a new or unfinished attempt has a question left
    return [_shown_reply(ctx, shown)]


async def _answer(
    ctx: Context, member: MemberView, attempt_id: int, position: int, choice: int
) -> list[Reply]:
    quizzes = ctx.services.quiz_attempts
    answered = await quizzes.answer(attempt_id, member.id, position, choice)
    if answered.outcome is Outcome.NOT_FOUND:
        return [Reply(text("quiz.not_yours"))]
    if answered.outcome is Outcome.CLOSED:
        return [Reply(text("quiz.closed"))]
    attempt = await quizzes.attempt(attempt_id)
    assert attempt is not None
    said = (
        Reply(text("quiz.already_answered"))
        if answered.outcome is Outcome.ALREADY_ANSWERED
        else _feedback(answered)
    )
    if answered.finished is not None:
        return [_then(said, _finished(answered.finished))]
    shown = await quizzes.current(attempt)
    return [said] if shown is None else [_then(said, _shown_reply(ctx, shown))]


@members_only
async def start(ctx: Context, member: MemberView) -> list[Reply]:
    """«Bắt đầu» on an invitation, a reminder or /tracnghiem's list."""
    return await _begin(ctx, member, ctx.pressed(StartQuiz).quiz)


@members_only
async def answer(ctx: Context, member: MemberView) -> list[Reply]:
    pressed = ctx.pressed(AnswerQuiz)
    return await _answer(ctx, member, pressed.attempt, pressed.position, pressed.shown)


@members_only
async def open_quizzes(ctx: Context, member: MemberView) -> list[Reply]:
    quizzes = ctx.services.quiz_attempts
    found = await quizzes.open_quizzes(member.organisation_id)
    if not found:
        return [Reply(text("quiz.open_none"))]
    for quiz in found:
        if await quizzes.unfinished_attempt(quiz.id, member.id) is not None:
            return await _begin(ctx, member, quiz.id)
    timezone = ctx.services.settings.timezone
    lines = [text("quiz.open_title")]
    lines += [
        text("quiz.open_line", title=q.title, closes=format_when(q.closes_at, timezone))
        for q in found
    ]
    buttons = tuple(
        (Button(f"{text('quiz.button_start')}: {q.title}", StartQuiz(q.id).pack()),) for q in found
    )
    return [Reply("\n".join(lines), buttons=buttons)]


def progress_text(progress: Progress) -> str:
    lines = [
        text(
            "daily.progress",
            streak=progress.streak,
            answered=progress.answered,
            correct=progress.correct,
        )
    ]
    if progress.topics:
        lines.append(text("daily.progress_topics"))
        lines += [
            text("daily.progress_topic", topic=t.topic, mastered=t.mastered, seen=t.seen)
            for t in progress.topics
        ]
    return "\n".join(lines)


@members_only
async def results(ctx: Context, member: MemberView) -> list[Reply]:
    """The quizzes' results, then the daily questions' streak and mastery if any."""
    found = await ctx.services.quiz_attempts.results(member.id, member.organisation_id)
    progress = await ctx.services.daily.progress(member.id)
    daily = [] if progress is None else [Reply(progress_text(progress))]
    if not found:
        return daily or [Reply(text("quiz.results_none"))]
    lines = [text("quiz.results_title")]
    for result in found:
        verdict = "passed" if result.passed else "failed"
        average = (
            text("quiz.results_no_average")
            if result.unit_average is None
            else f"{result.unit_average}%"
        )
        lines.append(
            text(
                "quiz.results_line",
                title=result.title,
                number=result.number,
                score=result.score,
                verdict=text(f"quiz.results_verdict_{verdict}"),
                unit=member.organisation_name,
                average=average,
            )
        )
    return [Reply("\n".join(lines)), *daily]


# --- Practice ------------------------------------------------------------------------------


def _practice_pool() -> dict[str, QuizQuestion]:
    return {f"{bank.id}/{q.id}": q for bank in shipped_banks() for q in bank.questions}


def _practice_reply(ctx: Context, data: dict[str, Any]) -> Reply:
    index = data["index"]
    question = _practice_pool()[data["questions"][index]]
    order = data["orders"][index]
    return _question_reply(
        ctx,
        index + 1,
        len(data["questions"]),
        question.question,
        tuple(question.choices[i] for i in order),
        None,
        lambda i: AnswerPractice(data["round"], index, i).pack(),
    )


@members_only
async def practice(ctx: Context, member: MemberView) -> list[Reply]:
    rng = random.Random()
    keys = rng.sample(sorted(_practice_pool()), PRACTICE_QUESTIONS)
    pool = _practice_pool()
    data = {
        "round": rng.randrange(10**6),
        "questions": keys,
        "orders": [rng.sample(range(len(pool[k].choices)), len(pool[k].choices)) for k in keys],
        "index": 0,
        "correct": 0,
    }
    await ctx.services.conversations.start(
        ctx.account.id, PRACTICE_STATE, PracticeStep.QUESTION, data
    )
    intro = Reply(text("quiz.practice_intro", count=PRACTICE_QUESTIONS))
    return [intro, _practice_reply(ctx, data)]


@members_only
async def practice_answer(ctx: Context, member: MemberView) -> list[Reply]:
    """A tap on an old question or round is stale."""
    state = ctx.state
    if state is None or state.flow != PRACTICE_STATE:
        return [Reply(text("quiz.practice_stale"))]
    data = dict(state.data)
    pressed = ctx.pressed(AnswerPractice)
    round_id, index, shown = pressed.round, pressed.index, pressed.shown
    if round_id != data["round"] or index != data["index"]:
        return [Reply(text("quiz.already_answered"))]
    question = _practice_pool()[data["questions"][index]]
    order = data["orders"][index]
    right = order.index(question.answer)
    correct = shown == right
    data["correct"] += int(correct)
    data["index"] += 1
    lines = [
        text("quiz.right")
        if correct
        else text("quiz.wrong", letter=LETTERS[right], choice=question.choices[question.answer]),
        text("quiz.explanation", explanation=question.explanation),
    ]
    feedback = Reply("\n".join(lines))
    if data["index"] >= len(data["questions"]):
        await ctx.services.conversations.clear(ctx.account.id)
        done = text("quiz.practice_done", correct=data["correct"], total=len(data["questions"]))
        return [_then(feedback, Reply(done))]
    await ctx.services.conversations.start(
        ctx.account.id, PRACTICE_STATE, PracticeStep.QUESTION, data
    )
    return [_then(feedback, _practice_reply(ctx, data))]


def register(router: Router) -> None:
    router.button(StartQuiz)(start)
    router.button(AnswerQuiz)(answer)
    router.button(AnswerPractice)(practice_answer)
    router.command("tracnghiem")(open_quizzes)
    router.command("luyentap")(practice)
    router.command("ketqua")(results)
