"""/hopthu: questions the handbook could not answer, answered by secretaries and admins of
the asker's organisation; the answer reaches the member through the outbox."""

from __future__ import annotations

from enum import StrEnum

from bot.button_data import ButtonData
from bot.messages import Button, Reply
from bot.router import Context, Router
from bot.services.permissions import Action
from bot.texts import text
from handlers.guards import members_only

FLOW = "inbox"
# The answer and the quoted question fit in one Zalo message (2,000 characters).
MAX_ANSWER_CHARS = 1500
MAX_QUOTE_CHARS = 300


class Step(StrEnum):
    ANSWER = "answer"


class AnswerQuestion(ButtonData, prefix="inbox"):
    question: int


@members_only
async def show_inbox(ctx: Context) -> list[Reply]:
    assert ctx.account.member is not None
    grants = await ctx.services.permissions.scope(ctx.account.member.id, Action.ANSWER_QUESTIONS)
    if not grants:
        return [Reply(text("secretary.not_allowed"))]
    waiting = await ctx.services.questions.inbox(grants)
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
        buttons.append(
            (
                Button(
                    text("inbox.button_answer", id=question.id), AnswerQuestion(question.id).pack()
                ),
            )
        )
    return [Reply("\n".join(lines), buttons=tuple(buttons))]


async def _answerable(ctx: Context, question_id: int) -> bool:
    assert ctx.account.member is not None
    question = await ctx.services.questions.question(question_id)
    return question is not None and await ctx.services.permissions.can(
        ctx.account.member.id, Action.ANSWER_QUESTIONS, question.organisation_id
    )


@members_only
async def choose(ctx: Context) -> list[Reply]:
    question_id = ctx.pressed(AnswerQuestion).question
    if not await _answerable(ctx, question_id):
        return [Reply(text("secretary.not_allowed"))]
    question = await ctx.services.questions.question(question_id)
    assert question is not None
    if question.answer is not None:
        return [Reply(text("inbox.answered_already", id=question.id))]
    await ctx.services.conversations.start(ctx.account.id, FLOW, Step.ANSWER, {"id": question.id})
    return [Reply(text("inbox.ask_answer", id=question.id, question=question.question))]


async def answer_step(ctx: Context) -> list[Reply]:
    assert ctx.state is not None
    question_id = int(ctx.state.data["id"])
    answer = (ctx.incoming.text or "").strip()
    if not answer or ctx.account.member is None or not await _answerable(ctx, question_id):
        await ctx.services.conversations.clear(ctx.account.id)
        return [Reply(text("secretary.not_allowed"))]
    answer = answer[:MAX_ANSWER_CHARS]
    services = ctx.services
    question = await services.questions.answer(question_id, answer, ctx.account.member.id)
    await services.outbox.enqueue_account(
        question.account_id,
        Reply(text("inbox.to_member", question=question.question[:MAX_QUOTE_CHARS], answer=answer)),
        kind="answer",
        now=services.clock(),
    )
    await services.audit.record(
        f"member:{ctx.account.member.id}", "question.answer", f"question:{question_id}"
    )
    await services.conversations.clear(ctx.account.id)
    return [Reply(text("inbox.sent", id=question_id))]


def register(router: Router) -> None:
    router.command("hopthu")(show_inbox)
    router.button(AnswerQuestion)(choose)
    router.flow(FLOW)(answer_step)
