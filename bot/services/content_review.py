"""What the content's reviewers should look at first: entries no body has reviewed (or changed
since), entries citing a given document, quiz questions whose entry changed after the question
was last checked, and facts in the register no official text confirmed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.services.handbook import claims
from bot.services.handbook.entries import Entry
from bot.services.handbook.sources import Register, Source
from bot.services.quizzes.bank import QuestionBank, QuizQuestion


class ItemKind(StrEnum):
    ENTRY = "Mục Sổ tay"
    QUESTION = "Câu trắc nghiệm"
    SOURCE = "Văn bản"


@dataclass(frozen=True, slots=True)
class ReviewItem:
    kind: ItemKind
    id: str  # entry id, "bank/question" or source id
    title: str
    reasons: tuple[str, ...]
    based_on: tuple[str, ...] = ()  # source ids for an entry, the entry id for a question
    updated: date | None = None
    reviewed: date | None = None
    reviewed_by: str | None = None


@dataclass(frozen=True, slots=True)
class StaleQuestion:
    bank: QuestionBank
    question: QuizQuestion
    entry: Entry


def stale_questions(banks: Iterable[QuestionBank], entries: Iterable[Entry]) -> list[StaleQuestion]:
    """Questions whose entry changed after the question was last checked against it (or that
    were never checked)."""
    by_id = {entry.id: entry for entry in entries}
    stale = []
    for bank in banks:
        for question in bank.questions:
            entry = by_id.get(question.entry or "")
            if entry is None:
                continue
            if question.reviewed is None or question.reviewed < entry.updated:
                stale.append(StaleQuestion(bank, question, entry))
    return stale


def quiz_problems(banks: Iterable[QuestionBank], entries: Iterable[Entry]) -> list[str]:
    """One line per question to check again, for `sotay content check`."""
    problems = []
    for item in stale_questions(banks, entries):
        if item.question.reviewed is None:
            when = "has never been checked against it"
        else:
            when = f"was last checked on {item.question.reviewed}"
        problems.append(
            f"{item.bank.id}.yaml: question {item.question.id}: entry '{item.entry.id}' changed "
            f"on {item.entry.updated}; the question {when}: check it and set 'reviewed'"
        )
    return problems


def _entry_reasons(entry: Entry, register: Register) -> list[str]:
    reasons = []
    if entry.reviewed is None:
        reasons.append("chưa được rà soát")
    elif not entry.is_reviewed:
        reasons.append(
            f"đã sửa ngày {entry.updated:%d/%m/%Y}, sau lần rà soát {entry.reviewed:%d/%m/%Y}"
        )
    for citation in entry.citations:
        source = citation.source
        if source.superseded_by is not None:
            current = register.current(source)
            reasons.append(f"trích {source.name}, đã được thay bằng {current.name}")
    if reasons and _sensitive(entry):
        reasons.append("có thời hạn, biểu quyết hoặc kỷ luật")
    return reasons


def _sensitive(entry: Entry) -> bool:
    """An answer about the Party's deadlines, votes or discipline: the bot's own guide may
    say "14 ngày" without being one."""
    return entry.about_the_party and claims.is_sensitive(entry.body)


def _entry_item(entry: Entry, reasons: Sequence[str]) -> ReviewItem:
    return ReviewItem(
        kind=ItemKind.ENTRY,
        id=entry.id,
        title=entry.title,
        reasons=tuple(reasons),
        based_on=tuple(c.source.id for c in entry.citations),
        updated=entry.updated,
        reviewed=entry.reviewed,
        reviewed_by=entry.reviewed_by,
    )


def _source_item(source: Source) -> ReviewItem:
    return ReviewItem(
        kind=ItemKind.SOURCE,
        id=source.id,
        # "Điều lệ Đảng" is titled "Điều lệ Đảng Cộng sản Việt Nam": say it once.
        title=source.title
        if source.title.startswith(source.name)
        else f"{source.name} {source.title}",
        reasons=tuple(f"chưa xác nhận: {note}" for note in source.unconfirmed),
        updated=source.signed,
    )


def review_list(
    entries: Sequence[Entry],
    banks: Sequence[QuestionBank],
    register: Register,
    source_id: str | None = None,
) -> list[ReviewItem]:
    """What to review, most urgent first. Without `source_id`: entries not reviewed (those
    stating deadlines, votes or discipline first), then quiz questions to check again, then
    unconfirmed facts of the register. With it: every entry citing that document whatever its
    review, the quiz questions resting on them, and the document's unconfirmed facts."""
    if source_id is not None and source_id not in register:
        raise KeyError(source_id)
    items: list[ReviewItem] = []
    if source_id is None:
        chosen = [(e, _entry_reasons(e, register)) for e in entries]
        chosen = [(e, r) for e, r in chosen if r]
        # Stable sort: sensitive entries first, each group in file-name order.
        chosen.sort(key=lambda pair: not _sensitive(pair[0]))
    else:
        chosen = []
        for entry in entries:
            cited = [c for c in entry.citations if c.source.id == source_id]
            if cited:
                points = ", ".join(c.point for c in cited if c.point) or "cả văn bản"
                reasons = [f"trích {register[source_id].name} ({points})"]
                chosen.append((entry, reasons + _entry_reasons(entry, register)))
    items += [_entry_item(entry, reasons) for entry, reasons in chosen]

    stale = {(s.bank.id, s.question.id) for s in stale_questions(banks, entries)}
    wanted = {entry.id for entry, _ in chosen}
    by_id = {entry.id: entry for entry in entries}
    for bank in banks:
        for question in bank.questions:
            entry = by_id.get(question.entry or "")
            if entry is None:
                continue
            if source_id is not None and entry.id not in wanted:
                continue
            reasons = []
            if source_id is not None:
                reasons.append(f"dựa vào mục «{entry.title}»")
            if (bank.id, question.id) in stale:
                reasons.append(f"mục «{entry.title}» đã sửa sau lần soát câu hỏi")
            if reasons:
                items.append(
                    ReviewItem(
                        kind=ItemKind.QUESTION,
                        id=f"{bank.id}/{question.id}",
                        title=question.question,
                        reasons=tuple(reasons),
                        based_on=(entry.id,),
                        updated=entry.updated,
                        reviewed=question.reviewed,
                    )
                )

    sources = register.values() if source_id is None else [register[source_id]]
    items += [_source_item(source) for source in sources if source.unconfirmed]
    return items
