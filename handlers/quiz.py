"""Quizzes in chat: «Bắt đầu» on an invitation, then one question at a time answered with
the letter buttons (typed letters on Zalo); /tracnghiem lists the open quizzes and resumes
an interrupted one, /luyentap practises five questions that are not recorded, /ketqua shows
the member's own results beside their unit's average."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.button_data import ButtonData
from bot.messages import Button, Reply
from bot.router import Aside, Context, Router
from bot.services.accounts import MemberView
from bot.services.conversations import FlowState
from bot.services.meetings.when import format_when
from bot.services.notices import QuizClosingSoon, QuizInvitation
from bot.services.quizzes.attempts import Answered, Finished, Outcome, Shown, StartRefused
from bot.services.quizzes.bank import QuizQuestion
from bot.services.quizzes.catalogue import shipped_banks
from bot.texts import text
from handlers.answer_letters import LETTERS, choice_buttons
from handlers.daily import progress_lines
from handlers.guards import members_only

# Practice keeps its questions in the conversation state under this name; a quiz keeps the
# attempt and the question shown under QUIZ_STATE. In both, a typed letter answers, a
# handbook question is answered aside, and anything else is told how to answer.
PRACTICE_STATE = "luyentap"
QUIZ_STATE = "tracnghiem"
PRACTICE_QUESTIONS = 5
# "C", "chắc là C", "đáp án là b nhé": an answer is a lone letter among a few words.
MAX_ANSWER_WORDS = 5
_WORD = re.compile(r"\w+")


class PracticeStep(StrEnum):
    QUESTION = "question"


def typed_letter(typed: str, count: int) -> int | None:
    """The choice a typed answer names (A is 0): one single-letter word, A to the
    `count`th letter, in any case, among at most a few words. Only unaccented letters
    count: "ạ" (a polite particle) is no answer."""
    words = _WORD.findall(typed)
    if not words or len(words) > MAX_ANSWER_WORDS:
        return None
    letters = {word.upper() for word in words if len(word) == 1 and word.isascii()}
    letters &= set(LETTERS[:count])
    if len(letters) != 1:
        return None
    return LETTERS.index(letters.pop())


def _letters(count: int) -> str:
    """ "A, B, C hoặc D" for four choices."""
    shown = list(LETTERS[:count])
    return f"{', '.join(shown[:-1])} {text('quiz.letters_or')} {shown[-1]}"


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


async def _showing(ctx: Context, shown: Shown | None) -> None:
    """The conversation state follows the quiz: the question shown, or none."""
    conversations = ctx.services.conversations
    if shown is not None:
        data = {
            "attempt": shown.attempt_id,
            "position": shown.position,
            "total": shown.total,
            "choices": len(shown.choices),
        }
        await conversations.start(ctx.account.id, QUIZ_STATE, PracticeStep.QUESTION, data)
    elif ctx.state is not None and ctx.state.flow == QUIZ_STATE:
        await conversations.clear(ctx.account.id)


async def _begin(ctx: Context, member: MemberView, quiz_id: int) -> list[Reply]:
    quizzes = ctx.services.quiz_attempts
    attempt = await quizzes.start(quiz_id, member.id, member.organisation_id)
    if isinstance(attempt, StartRefused):
        return [Reply(text(f"quiz.{attempt.value}"))]
    shown = await quizzes.current(attempt)
    assert shown is not None  # a new or unfinished attempt has a question left
    await _showing(ctx, shown)
    return [_shown_reply(ctx, shown)]


async def _answer(
    ctx: Context, member: MemberView, attempt_id: int, position: int, choice: int
) -> list[Reply]:
    quizzes = ctx.services.quiz_attempts
    answered = await quizzes.answer(attempt_id, member.id, position, choice)
    if answered.outcome in (Outcome.NOT_FOUND, Outcome.CLOSED):
        await _showing(ctx, None)
        key = "quiz.not_yours" if answered.outcome is Outcome.NOT_FOUND else "quiz.closed"
        return [Reply(text(key))]
    attempt = await quizzes.attempt(attempt_id)
    assert attempt is not None
    said = (
        Reply(text("quiz.already_answered"))
        if answered.outcome is Outcome.ALREADY_ANSWERED
        else _feedback(answered)
    )
    shown = None if answered.finished is not None else await quizzes.current(attempt)
    await _showing(ctx, shown)
    if answered.finished is not None:
        return [_then(said, _finished(answered.finished))]
    return [said] if shown is None else [_then(said, _shown_reply(ctx, shown))]


def _how_to_answer(key: str, data: dict[str, Any]) -> Reply:
    count = data["choices"]
    return Reply(
        text(
            key,
            number=data["position"] + 1,
            total=data["total"],
            letters=_letters(count),
            example=LETTERS[min(2, count - 1)],
        )
    )


def _takes_letter(state: FlowState, typed: str) -> bool:
    return typed_letter(typed, state.data["choices"]) is not None


@members_only
async def quiz_typed(ctx: Context, member: MemberView) -> list[Reply]:
    """Text typed while a quiz question is shown: a letter answers it."""
    assert ctx.state is not None
    data = ctx.state.data
    choice = typed_letter(ctx.incoming.text or "", data["choices"])
    if choice is None:
        return [_how_to_answer("quiz.how_to_answer", data)]
    return await _answer(ctx, member, data["attempt"], data["position"], choice)


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


@members_only
async def results(ctx: Context, member: MemberView) -> list[Reply]:
    """The member's quiz results, then the question a day: streak and mastery by topic."""
    found = await ctx.services.quiz_attempts.results(member.id, member.organisation_id)
    daily_lines = progress_lines(await ctx.services.daily.progress(member.id))
    if not found and not daily_lines:
        return [Reply(text("quiz.results_none"))]
    lines = [text("quiz.results_title")] if found else []
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
    if found and daily_lines:
        lines.append("")
    return [Reply("\n".join(lines + daily_lines))]


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


def _practice_at(data: dict[str, Any]) -> dict[str, Any]:
    """Where a practice stands, as a quiz's state says it."""
    index = data["index"]
    return {
        "position": index,
        "total": len(data["questions"]),
        "choices": len(data["orders"][index]),
    }


def _takes_practice_letter(state: FlowState, typed: str) -> bool:
    return typed_letter(typed, _practice_at(state.data)["choices"]) is not None


@members_only
async def practice_typed(ctx: Context, member: MemberView) -> list[Reply]:
    """Text typed during practice: a letter answers the question shown."""
    assert ctx.state is not None
    data = dict(ctx.state.data)
    at = _practice_at(data)
    choice = typed_letter(ctx.incoming.text or "", at["choices"])
    if choice is None:
        return [_how_to_answer("quiz.how_to_answer", at)]
    return await _practice_answer(ctx, data, data["round"], data["index"], choice)


@members_only
async def practice_answer(ctx: Context, member: MemberView) -> list[Reply]:
    """A tap on an old question or round is stale."""
    state = ctx.state
    if state is None or state.flow != PRACTICE_STATE:
        return [Reply(text("quiz.practice_stale"))]
    pressed = ctx.pressed(AnswerPractice)
    return await _practice_answer(
        ctx, dict(state.data), pressed.round, pressed.index, pressed.shown
    )


async def _practice_answer(
    ctx: Context, data: dict[str, Any], round_id: int, index: int, shown: int
) -> list[Reply]:
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
    quiz_aside = Aside(lambda ctx: _how_to_answer("quiz.aside", _state(ctx)), takes=_takes_letter)
    router.flow(QUIZ_STATE, aside=quiz_aside)(quiz_typed)
    practice_aside = Aside(
        lambda ctx: _how_to_answer("quiz.aside", _practice_at(_state(ctx))),
        takes=_takes_practice_letter,
    )
    router.flow(PRACTICE_STATE, aside=practice_aside)(practice_typed)


def _state(ctx: Context) -> dict[str, Any]:
    assert ctx.state is not None
    return ctx.state.data
