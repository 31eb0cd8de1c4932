"""/nhapcauhoi: a trainer (or an admin) sends a question sheet in chat. They name the bank
(or tap one imported before, to update it), then send the .xlsx or .csv as a document; it is
checked exactly as `sotay quiz import` checks it, and nothing is saved while a row is wrong.
The file comes through the messenger's fetcher (bot/services/files.py): where there is none
(Zalo's Bot API hands no files to bots), the trainer is pointed to Telegram or the CLI."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from bot.button_data import ButtonData
from bot.messages import Attachment, Button, Incoming, Media, Reply
from bot.router import Context, Router
from bot.services.accounts import MemberView
from bot.services.files import FileTooLarge, FileUnavailable, IncomingFiles
from bot.services.permissions import Action, Actor
from bot.services.quizzes.bank import ImportResult, QuizFileError, bank_slug
from bot.services.uploads import parse_questions
from bot.texts import text
from handlers.guards import members_only, requires

FLOW = "quiz_import"
MAX_FILE_MB = 2
MAX_FILE_BYTES = MAX_FILE_MB * 1024 * 1024
MAX_NAME_CHARS = 60
MAX_BANKS_SHOWN = 8
MAX_PROBLEMS_SHOWN = 20

Data = dict[str, Any]


class Step(StrEnum):
    NAME = "name"
    FILE = "file"


class ReplaceBank(ButtonData, prefix="qi"):
    """A bank imported before, by its place in the list shown (a bank's id may not fit)."""

    index: int


def _t(key: str, **values: object) -> str:
    return text(f"quiz_import.{key}", **values)


async def _may_import(ctx: Context, member: MemberView) -> bool:
    """Banks are not a unit's: a trainer of any unit (or an admin) may add one."""
    return not (await ctx.services.permissions.scope(member.id, Action.SCHEDULE_QUIZ)).empty


@requires(Action.SCHEDULE_QUIZ, "quiz_import.trainers_only")
async def start(ctx: Context, actor: Actor) -> list[Reply]:
    if not ctx.services.files.can_fetch(ctx.incoming.channel):
        return [Reply(_t("no_files_here"))]
    name = ctx.incoming.command_args
    if name:
        return await _named(ctx, name)
    imported = [bank for bank in await ctx.services.quiz_catalogue.banks() if not bank.shipped]
    shown = imported[-MAX_BANKS_SHOWN:]
    await ctx.services.conversations.start(
        ctx.account.id, FLOW, Step.NAME, {"banks": [bank.id for bank in shown]}
    )
    rows = tuple(
        (Button(bank.title, ReplaceBank(index).pack()),) for index, bank in enumerate(shown)
    )
    return [Reply(_t("ask_name"), buttons=rows)]


async def _named(ctx: Context, name: str) -> list[Reply]:
    """The bank the trainer named: a new one, or one imported before; then wait for the
    file."""
    name = " ".join(name.split())
    bank = bank_slug(name)
    if not bank or len(name) > MAX_NAME_CHARS:
        return [Reply(_t("bad_name", limit=MAX_NAME_CHARS))]
    if any(b.id == bank and b.shipped for b in await ctx.services.quiz_catalogue.banks()):
        return [Reply(_t("shipped_name", name=name))]
    await ctx.services.conversations.start(ctx.account.id, FLOW, Step.FILE, {"bank": bank})
    return [Reply(_t("ask_file", bank=bank, limit_mb=MAX_FILE_MB))]


@members_only
async def on_bank(ctx: Context, member: MemberView) -> list[Reply]:
    """A tap on a bank imported before: its new file replaces its questions row by row."""
    state = ctx.state
    if state is None or state.flow != FLOW or state.step != Step.NAME:
        return [Reply(text("fallback.stale_button"))]
    banks: list[str] = state.data["banks"]
    index = ctx.pressed(ReplaceBank).index
    if index >= len(banks) or not await _may_import(ctx, member):
        return [Reply(text("fallback.stale_button"))]
    return await _named(ctx, banks[index])


@members_only
async def step(ctx: Context, member: MemberView) -> list[Reply]:
    """The bank's name, then the file (a file with a caption may come first: the caption
    names the bank)."""
    state = ctx.state
    assert state is not None
    media = ctx.incoming.media
    caption = (ctx.incoming.text or "").strip()
    if state.step == Step.NAME:
        if media is None:
            return await _named(ctx, caption)
        if not caption:
            return [Reply(_t("name_first"))]
        replies = await _named(ctx, caption)
        after = await ctx.services.conversations.get(ctx.account.id)
        if after is None or after.step != Step.FILE:
            return replies  # the caption is not a name the bank can take
        state = after
    bank: str = state.data["bank"]
    if media is None:
        return [Reply(_t("waiting_file", bank=bank))]
    if media.kind is not Attachment.DOCUMENT:
        return [Reply(_t("not_a_document"))]
    return await _import(ctx, member, bank, media)


@dataclass(frozen=True)
class ReadSheet:
    """A sent sheet, fetched and read: its questions and bad rows, or the answer to give
    instead (too large, unavailable, not a question sheet)."""

    result: ImportResult | None
    refusal: Reply | None = None


async def _read(media: Media, files: IncomingFiles) -> ReadSheet:
    try:
        fetched = await files.fetch(media, max_bytes=MAX_FILE_BYTES)
    except FileTooLarge:
        return ReadSheet(None, Reply(_t("too_large", limit_mb=MAX_FILE_MB)))
    except FileUnavailable:
        return ReadSheet(None, Reply(_t("unavailable")))
    try:
        return ReadSheet(await parse_questions(fetched.content, fetched.name))
    except QuizFileError as error:
        return ReadSheet(None, Reply(_t("file_problem", problem=str(error))))


async def prepare(incoming: Incoming, files: IncomingFiles) -> Incoming:
    """A document is fetched and read (in a child process) before the step's transaction,
    which then only stores it."""
    media = incoming.media
    if media is None or media.kind is not Attachment.DOCUMENT:
        return incoming
    return replace(incoming, prepared=await _read(media, files))


async def _import(ctx: Context, member: MemberView, bank: str, media: Media) -> list[Reply]:
    if not await _may_import(ctx, member):
        await ctx.services.conversations.clear(ctx.account.id)
        return [Reply(_t("trainers_only"))]
    read = ctx.incoming.prepared
    if not isinstance(read, ReadSheet):
        read = await _read(media, ctx.services.files)
    if read.refusal is not None or read.result is None:
        return [read.refusal or Reply(_t("unavailable"))]
    result = read.result
    if result.problems:
        lines = [f"• {problem}" for problem in result.problems[:MAX_PROBLEMS_SHOWN]]
        if len(result.problems) > MAX_PROBLEMS_SHOWN:
            lines.append(_t("more_problems", count=len(result.problems) - MAX_PROBLEMS_SHOWN))
        return [Reply(_t("row_problems", count=len(result.problems), lines="\n".join(lines)))]
    total = len(result.questions)
    added = await ctx.services.quiz_catalogue.import_bank(
        bank, result.questions, actor=f"member:{member.id}"
    )
    await ctx.services.conversations.clear(ctx.account.id)
    return [Reply(_t("imported", total=total, bank=bank, added=added, updated=total - added))]


def register(router: Router) -> None:
    router.command("nhapcauhoi")(start)
    router.button(ReplaceBank)(on_bank)
    router.flow(FLOW, takes_media=True, prepare=prepare)(step)
