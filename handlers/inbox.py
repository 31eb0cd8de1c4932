"""/hopthu: questions the handbook could not answer, answered by secretaries and admins of
the asker's organisation; the answer reaches the member through the outbox."""

from __future__ import annotations

from enum import StrEnum

from bot.button_data import ButtonData
from bot.messages import Button, Reply
from bot.router import Context, Router
from bot.services.permissions import Action, Actor
from bot.texts import text
from handlers.guards import requires

FLOW = "inbox"
# The answer and the quoted question fit in one Zalo message (2,000 characters).
MAX_ANSWER_CHARS = 1500
MAX_QUOTE_CHARS = 300
ACTION = Action.ANSWER_QUESTIONS


class Step(StrEnum):
    ANSWER = "answer"


class AnswerQuestion(ButtonData, prefix="inbox"):
    question: int


@requires(ACTION)
async def show_inbox(ctx: Context, actor: Actor) -> list[Reply]:
    waiting = await ctx.services.questions.inbox(actor.scope)
    if not waiting:
        return [Reply(text("inbox.empty"))]
    timezone = ctx.services.settings.timezone
    lines = [text("inbox.title")]
    buttons = []
    for question, unit in waiting:
        asked = question.asked_at.astimezone(timezone).strftime("%d/%m")
        lines.append(
            text("inbox.line", id=question.id, unit=unit, asked=asked, question=question.question)
        )
        label = text("inbox.button_answer", id=question.id)
        buttons.append((Button(label, AnswerQuestion(question.id).pack()),))
    return [Reply("\n".join(lines), buttons=tuple(buttons))]


@requires(ACTION)
async def choose(ctx: Context, actor: Actor) -> list[Reply]:
    pressed = ctx.pressed(AnswerQuestion)
    question = await ctx.services.questions.question(pressed.question, actor.scope)
    if question is None:
        return [Reply(text("secretary.not_allowed"))]
    if question.answer is not None:
        return [Reply(text("inbox.answered_already", id=question.id))]
    await ctx.services.conversations.start(ctx.account.id, FLOW, Step.ANSWER, {"id": question.id})
    return [Reply(text("inbox.ask_answer", id=question.id, question=question.question))]


async def answer_step(ctx: Context) -> list[Reply]:
    assert ctx.state is not None
    question_id = int(ctx.state.data["id"])
    answer = (ctx.incoming.text or "").strip()
    services = ctx.services
    member = ctx.account.member
    actor = None if member is None else await services.permissions.actor(member, ACTION)
    if (
        not answer
        or actor is None
        or await services.questions.question(question_id, actor.scope) is None
    ):
        await services.conversations.clear(ctx.account.id)
        return [Reply(text("secretary.not_allowed"))]
    answer = answer[:MAX_ANSWER_CHARS]
    question = await services.questions.answer(question_id, answer, actor)
    await services.outbox.enqueue_account(
        question.account_id,
        Reply(text("inbox.to_member", question=question.question[:MAX_QUOTE_CHARS], answer=answer)),
        kind="answer",
        now=services.clock(),
    )
    await services.audit.record(actor.ref, "question.answer", f"question:{question_id}")
    await services.conversations.clear(ctx.account.id)
    return [Reply(text("inbox.sent", id=question_id))]


def register(router: Router) -> None:
    router.command("hopthu")(show_inbox)
    router.button(AnswerQuestion)(choose)
    router.flow(FLOW)(answer_step)
