"""Hộp thư: questions members sent to the committee from units in scope; an answer goes back
to the member through the outbox, as in the chat's /hopthu."""

from __future__ import annotations

from aiohttp import web

from bot.messages import Reply
from bot.services.permissions import Action, Actor
from bot.texts import text
from bot.web.console import (
    Refused,
    not_found,
    render,
    scope_for,
    see_other,
    services_of,
    viewer_of,
)
from bot.web.paths import ADMIN_PREFIX

# As in the chat: the answer and the quoted question fit in one Zalo message.
MAX_ANSWER_CHARS = 1500
MAX_QUOTE_CHARS = 300
ACTION = Action.ANSWER_QUESTIONS
SHOWN = 50


async def inbox(request: web.Request) -> web.Response:
    scope = scope_for(request, ACTION)
    services = services_of(request)
    return render(
        request,
        "inbox.html",
        waiting=await services.questions.inbox(scope, limit=SHOWN),
        timezone=services.settings.timezone,
        max_chars=MAX_ANSWER_CHARS,
        answered=request.query.get("da_tra_loi", ""),
    )


async def answer(request: web.Request) -> web.Response:
    scope = scope_for(request, ACTION)
    raw = request.match_info["question"]
    services = services_of(request)
    question = await services.questions.question(int(raw), scope) if raw.isdigit() else None
    if question is None:
        raise not_found()
    if question.answer is not None:
        raise Refused(409, f"Câu hỏi số {question.id} đã được trả lời.")
    reply = str((await request.post()).get("answer", "")).strip()
    if not reply or len(reply) > MAX_ANSWER_CHARS:
        raise Refused(400, f"Hãy viết câu trả lời (tối đa {MAX_ANSWER_CHARS} ký tự).")
    viewer = viewer_of(request)
    answered = await services.questions.answer(question.id, reply, Actor(viewer.member, scope))
    await services.outbox.enqueue_account(
        answered.account_id,
        Reply(text("inbox.to_member", question=answered.question[:MAX_QUOTE_CHARS], answer=reply)),
        kind="answer",
        now=services.clock(),
    )
    await services.audit.record(viewer.ref, "question.answer", f"question:{question.id}")
    return see_other(f"{ADMIN_PREFIX}/hop-thu?da_tra_loi={question.id}")
