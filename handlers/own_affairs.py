"""Questions about the member's own affairs, typed as questions rather than commands: "mấy
giờ chi bộ mình họp", "lịch họp của tôi", "kết quả trắc nghiệm của tôi", "tài khoản của
tôi liên kết chưa". The handbook holds no answer to them (it is the same for everyone);
the member's data does, so they get what /lichhop, /ketqua or /dulieu shows, or, for the
account, who it is linked to. Only for a linked member: another account is told to link.

Recognised by a first-person word ("tôi", "mình", "em") with the affair's own words, read
without diacritics; a question that also names a rule ("tôi bỏ họp 3 tháng thì bị xử lý
thế nào") stays a handbook question, because the affair needs its schedule or result
words, not just "họp" or "điểm". "Bot lưu gì về tôi" is the handbook's privacy entry and
stays one: the data itself is /dulieu, named by "dữ liệu của tôi". None of the 715
questions under benchmarks/data/ is taken for an affair."""

from __future__ import annotations

from enum import StrEnum

from bot.messages import Reply
from bot.router import Context
from bot.services.handbook.normalize import fold, normalize
from bot.texts import text
from handlers import meetings, privacy, quiz

_FIRST_PERSON = (" toi ", " minh ", " em ", " tui ")
_MEETING = (" hop ", " sinh hoat ")
_WHEN = (
    " lich ", " may gio ", " khi nao ", " bao gio ", " luc nao ", " hom nao ", " ngay nao ",
    " sap toi ", " tiep theo ", " lan toi ",
)  # fmt: skip
# Where the chi bộ meets; "sinh hoạt ở đâu" is the handbook's (where a retired member goes).
_WHERE = (" hop o dau ",)
_RESULTS = (" ket qua ", " diem ")
_QUIZ = (" trac nghiem ", " quiz ", " bai thi ", " bai kiem tra ", " lam bai ")
_ACCOUNT = (" lien ket ", " tai khoan ")
_STATUS = (" chua ", " khong ", " nao ", " ai ", " gi ")
_DATA = (" du lieu cua toi ", " du lieu cua minh ", " du lieu ve toi ")
# What the privacy entry answers: how data is kept or erased, not the data itself.
_POLICY = (" luu ", " bao mat ", " an toan ", " ai xem ", " xoa ")


class Affair(StrEnum):
    MEETINGS = "meetings"
    RESULTS = "results"
    ACCOUNT = "account"
    DATA = "data"


def _has(words: str, phrases: tuple[str, ...]) -> bool:
    return any(phrase in words for phrase in phrases)


def recognise(typed: str) -> Affair | None:
    """The member's own affair the question is about, or None for a handbook question."""
    words = " " + " ".join(fold(t) for segment in normalize(typed) for t in segment) + " "
    if not _has(words, _FIRST_PERSON):
        return None
    if _has(words, _DATA) and not _has(words, _POLICY):
        return Affair.DATA
    if _has(words, _RESULTS) and _has(words, _QUIZ):
        return Affair.RESULTS
    if (_has(words, _MEETING) and _has(words, _WHEN)) or _has(words, _WHERE):
        return Affair.MEETINGS
    if _has(words, _ACCOUNT) and _has(words, _STATUS):
        return Affair.ACCOUNT
    return None


async def answer(ctx: Context, affair: Affair) -> list[Reply]:
    member = ctx.account.member
    if affair is Affair.ACCOUNT:
        if member is None:
            return [Reply(text("link.not_linked"))]
        return [Reply(text("own.linked", name=member.full_name, unit=member.organisation_name))]
    if member is None:
        return [Reply(text("own.link_first", affair=text(f"own.affair_{affair}")))]
    if affair is Affair.MEETINGS:
        return await meetings.upcoming(ctx)
    if affair is Affair.RESULTS:
        return await quiz.results(ctx)
    return await privacy.my_data(ctx)
