"""Handbook questions: any text that is not a command is a question; answers cite their
source, take a thumbs up or down, and offer "did you mean" and related topics; /chude
browses by category."""

from __future__ import annotations

import functools
import unicodedata
from enum import StrEnum

from bot.button_data import ButtonData
from bot.collation import sort_key
from bot.messages import Button, Reply
from bot.router import Context, Handler, Router
from bot.services.handbook import Confirmation, Entry, SearchResult
from bot.services.handbook.normalize import fold, normalize
from bot.services.handbook.scope import PARTY_ANCHORS
from bot.services.personal_data import asker_key
from bot.texts import text
from handlers import own_affairs

MAX_TOPIC_BUTTONS = 4
MAX_LABEL_CHARS = 60


class ShowEntry(ButtonData, prefix="entry"):
    entry: str


class Verdict(StrEnum):
    UP = "up"
    DOWN = "down"


# The logged question is the asker's; the log does not say who asked, so the button is
# sealed to the account it was shown to (a forged or copied one is stale).
class Feedback(ButtonData, prefix="fb", sealed=True):
    verdict: Verdict
    query: int


class SendToCommittee(ButtonData, prefix="ask", sealed=True):
    query: int


class ShowCategory(ButtonData, prefix="cat"):
    index: int


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
    return tuple((Button(_label(e), ShowEntry(e.id).pack()),) for e in entries[:MAX_TOPIC_BUTTONS])


_CONFIRMATION_TEXTS = {
    Confirmation.UNREVIEWED: "handbook.confirm_unreviewed",
    Confirmation.SENSITIVE: "handbook.confirm_sensitive",
}


def _answer_text(entry: Entry) -> str:
    """The entry, its source line (each document with its own dates) and, when it is not
    reviewed or is about votes, deadlines or discipline, a last line asking the member to
    confirm with the chi ủy."""
    answer = text(
        "handbook.answer", title=entry.title, body=entry.body.strip(), source=entry.source
    )
    if entry.confirmation is not None:
        answer += "\n" + text(_CONFIRMATION_TEXTS[entry.confirmation])
    return answer


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
        send = SendToCommittee(query_id).pack(ctx.seal)
        buttons += ((Button(text("handbook.button_send"), send),),)
    return Reply(reply, buttons=buttons)


@handbook_access
async def question(ctx: Context) -> list[Reply]:
    """A message with words is a handbook question; one without (👍🙏, ❤️, "???") is no
    question: it gets a kind word and is not logged for the editors."""
    typed = ctx.incoming.text or ""
    if _no_words(typed):
        return [Reply(text("handbook.emoji" if _emoji(typed) else "handbook.no_words"))]
    await ctx.services.accounts.mark_asked(ctx.account)
    affair = own_affairs.recognise(typed)
    if affair is not None:
        # The member's own data answers it, not the handbook: nothing for the editors.
        return await own_affairs.answer(ctx, affair)
    result = ctx.services.handbook.search(typed)
    query_id = await ctx.services.questions.log(
        result, asker=asker_key(ctx.services.keys, ctx.account.id)
    )
    if result.entry is None or not result.answered:
        return [_not_found(ctx, result, query_id)]
    feedback = (
        Button(text("handbook.button_up"), Feedback(Verdict.UP, query_id).pack(ctx.seal)),
        Button(text("handbook.button_down"), Feedback(Verdict.DOWN, query_id).pack(ctx.seal)),
    )
    answer = _answer_text(result.entry)
    if result.suggestions:
        answer = f"{answer}\n\n{_did_you_mean(result)}"
    return [Reply(answer, buttons=(feedback, *_topic_rows(_topics(ctx, result))))]


@handbook_access
async def show_entry(ctx: Context) -> list[Reply]:
    handbook = ctx.services.handbook
    entry = handbook.get(ctx.pressed(ShowEntry).entry)
    if entry is None:
        return [Reply(text("fallback.stale_button"))]
    return [Reply(_answer_text(entry), buttons=_topic_rows(handbook.related(entry)))]


@handbook_access
async def feedback(ctx: Context) -> list[Reply]:
    pressed = ctx.pressed(Feedback)
    helpful = pressed.verdict is Verdict.UP
    if not await ctx.services.questions.feedback(pressed.query, helpful):
        return [Reply(text("fallback.stale_button"))]
    return [Reply(text("handbook.thanks_up" if helpful else "handbook.thanks_down"))]


async def send_to_committee(ctx: Context) -> list[Reply]:
    member = ctx.account.member
    if member is None:
        return [Reply(text("handbook.members_only"))]
    sent = await ctx.services.questions.send_to_committee(
        ctx.pressed(SendToCommittee).query, ctx.account.id, member.organisation_id
    )
    return [Reply(text("handbook.sent" if sent else "fallback.stale_button"))]


def _categories(ctx: Context) -> list[str]:
    return sorted({entry.category for entry in ctx.services.handbook.entries}, key=sort_key)


@handbook_access
async def categories(ctx: Context) -> list[Reply]:
    buttons = tuple(
        (Button(name, ShowCategory(index).pack()),) for index, name in enumerate(_categories(ctx))
    )
    return [Reply(text("handbook.categories"), buttons=buttons)]


@handbook_access
async def category(ctx: Context) -> list[Reply]:
    names = _categories(ctx)
    index = ctx.pressed(ShowCategory).index
    if index >= len(names):
        return [Reply(text("fallback.stale_button"))]
    name = names[index]
    entries = [e for e in ctx.services.handbook.entries if e.category == name]
    buttons = tuple((Button(_label(e), ShowEntry(e.id).pack()),) for e in entries)
    return [Reply(text("handbook.category", name=name), buttons=buttons)]


# Party anchors, and the words that make a Vietnamese sentence a question ("bao lâu",
# "là gì", "có … không"), as typed without diacritics, word by word.
_ANCHORS = tuple(f" {fold(anchor)} " for anchor in PARTY_ANCHORS)
_ASKING = tuple(
    f" {words} "
    for words in (
        "bao nhieu", "bao lau", "bao gio", "khi nao", "luc nao", "the nao", "ra sao",
        "tai sao", "vi sao", "lam sao", "dau", "gi", "ai", "nao", "may", "khong", "chua",
        "co phai", "duoc khong",
    )
)  # fmt: skip


def _folded_words(typed: str) -> str:
    return " " + " ".join(fold(t) for segment in normalize(typed) for t in segment) + " "


def plainly_a_question(ctx: Context) -> bool:
    """Typed text asked as a question ("?" or a question word), naming the Party or the
    bot, that the handbook answers, for one who may read it: asked in the middle of a
    flow, it is answered and the flow kept (bot/router.py, Aside). Answered alone is not
    enough: the search also answers "không biết nữa" (inside a quiz, no question) and a
    unit's name typed instead of pressing its button ("Chi bộ thôn Đông"). A question that
    never says "đảng", "chi bộ" or "bot" gets the step's hint; /cancel frees the member to
    ask it."""
    typed = ctx.incoming.text or ""
    if not _open_to(ctx) or _no_words(typed):
        return False
    words = _folded_words(typed)
    if not any(anchor in words for anchor in _ANCHORS):
        return False
    if "?" not in typed and not any(asking in words for asking in _ASKING):
        return False
    return ctx.services.handbook.search(typed).answered


def register(router: Router) -> None:
    router.fallback("text")(question)
    router.questions(plainly_a_question)
    router.button(ShowEntry)(show_entry)
    router.button(Feedback)(feedback)
    router.button(SendToCommittee)(send_to_committee)
    router.command("chude")(categories)
    router.button(ShowCategory)(category)
