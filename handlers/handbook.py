"""Handbook questions: any text that is not a command is a question; answers cite their
source, take a thumbs up or down, and offer "did you mean" and related topics; /chude
browses by category."""

from __future__ import annotations

import functools
import unicodedata

from bot.messages import Button, Reply
from bot.router import Context, Handler, Router
from bot.services.handbook import Entry, SearchResult
from bot.texts import text

MAX_TOPIC_BUTTONS = 4
MAX_LABEL_CHARS = 60


def _open_to(ctx: Context) -> bool:
    return ctx.account.linked or ctx.services.settings.public_handbook


def handbook_access(handler: Handler) -> Handler:
    """Linked members only, unless the deployment makes the handbook public."""

    @functools.wraps(handler)
    async def guarded(ctx: Context) -> list[Reply]:
        if not _open_to(ctx):
            return [Reply(text("handbook.members_only"))]
        return await handler(ctx)

    return guarded


def _label(entry: Entry) -> str:
    title = entry.title
    return title if len(title) <= MAX_LABEL_CHARS else title[: MAX_LABEL_CHARS - 1] + "…"


def _topic_rows(entries: list[Entry]) -> tuple[tuple[Button, ...], ...]:
    return tuple((Button(_label(e), f"entry:{e.id}"),) for e in entries[:MAX_TOPIC_BUTTONS])


def _answer_text(entry: Entry) -> str:
    return text(
        "handbook.answer",
        title=entry.title,
        body=entry.body.strip(),
        source=entry.source,
        effective=entry.effective.strftime("%d/%m/%Y"),
    )


def _topics(ctx: Context, result: SearchResult) -> list[Entry]:
    """The "did you mean" runners-up first, then the answer's related topics."""
    assert result.entry is not None
    topics = list(result.suggestions)
    for entry in ctx.services.handbook.related(result.entry):
        if entry not in topics:
            topics.append(entry)
    return topics


def _did_you_mean(result: SearchResult) -> str:
    titles = ", ".join(f"«{entry.title}»" for entry in result.suggestions)
    return text("handbook.did_you_mean", titles=titles)


def _no_words(typed: str) -> bool:
    """No letter or digit: emoji, stickers typed as symbols, punctuation."""
    return not any(unicodedata.category(ch)[0] in "LN" for ch in typed)


def _emoji(typed: str) -> bool:
    """Some pictograph (👍, 🙏, ❤️), whatever else there is besides letterless marks."""
    return any(unicodedata.category(ch) == "So" for ch in typed)


def _not_found(ctx: Context, result: SearchResult, query_id: int) -> Reply:
    """The honest "not found": the closest topics, or for a question about the State or
    another organisation none (no Party rule answers it); the committee for a member."""
    linked = ctx.account.linked
    if result.outside is not None:
        reply = text("handbook.outside", domain=result.outside)
        if linked:
            reply = f"{reply} {text('handbook.offer_committee')}"
        buttons: tuple[tuple[Button, ...], ...] = ()
    else:
        reply = text("handbook.not_found" if linked else "handbook.not_found_public")
        buttons = _topic_rows(list(result.suggestions))
    if linked:
        buttons += ((Button(text("handbook.button_send"), f"ask:{query_id}"),),)
    return Reply(reply, buttons=buttons)


@handbook_access
async def question(ctx: Context) -> list[Reply]:
    """A message with words is a handbook question; one without (👍🙏, ❤️, "???") is no
    question: it gets a kind word and is not logged for the editors."""
    typed = ctx.incoming.text or ""
    if _no_words(typed):
        return [Reply(text("handbook.emoji" if _emoji(typed) else "handbook.no_words"))]
    result = ctx.services.handbook.search(typed)
    query_id = await ctx.services.questions.log(result)
    if result.entry is None or not result.answered:
        return [_not_found(ctx, result, query_id)]
    feedback = (
        Button(text("handbook.button_up"), f"fb:up:{query_id}"),
        Button(text("handbook.button_down"), f"fb:down:{query_id}"),
    )
    answer = _answer_text(result.entry)
    if result.suggestions:
        answer = f"{answer}\n\n{_did_you_mean(result)}"
    return [Reply(answer, buttons=(feedback, *_topic_rows(_topics(ctx, result))))]


@handbook_access
async def show_entry(ctx: Context) -> list[Reply]:
    handbook = ctx.services.handbook
    entry = handbook.get(ctx.button_payload)
    if entry is None:
        return [Reply(text("fallback.stale_button"))]
    return [Reply(_answer_text(entry), buttons=_topic_rows(handbook.related(entry)))]


@handbook_access
async def feedback(ctx: Context) -> list[Reply]:
    verdict, _, query_id = ctx.button_payload.partition(":")
    if verdict not in ("up", "down") or not query_id.isdigit():
        return [Reply(text("fallback.stale_button"))]
    if not await ctx.services.questions.feedback(int(query_id), verdict == "up"):
        return [Reply(text("fallback.stale_button"))]
    return [Reply(text("handbook.thanks_up" if verdict == "up" else "handbook.thanks_down"))]


async def send_to_committee(ctx: Context) -> list[Reply]:
    member = ctx.account.member
    if member is None:
        return [Reply(text("handbook.members_only"))]
    payload = ctx.button_payload
    sent = payload.isdigit() and await ctx.services.questions.send_to_committee(
        int(payload), ctx.account.id, member.organisation_id
    )
    return [Reply(text("handbook.sent" if sent else "fallback.stale_button"))]


def _categories(ctx: Context) -> list[str]:
    return sorted({entry.category for entry in ctx.services.handbook.entries})


@handbook_access
async def categories(ctx: Context) -> list[Reply]:
    buttons = tuple((Button(name, f"cat:{index}"),) for index, name in enumerate(_categories(ctx)))
    return [Reply(text("handbook.categories"), buttons=buttons)]


@handbook_access
async def category(ctx: Context) -> list[Reply]:
    names = _categories(ctx)
    payload = ctx.button_payload
    if not payload.isdigit() or int(payload) >= len(names):
        return [Reply(text("fallback.stale_button"))]
    name = names[int(payload)]
    entries = [e for e in ctx.services.handbook.entries if e.category == name]
    buttons = tuple((Button(_label(e), f"entry:{e.id}"),) for e in entries)
    return [Reply(text("handbook.category", name=name), buttons=buttons)]


def register(router: Router) -> None:
    router.fallback("text")(question)
    router.button("entry")(show_entry)
    router.button("fb")(feedback)
    router.button("ask")(send_to_committee)
    router.command("chude")(categories)
    router.button("cat")(category)
