"""Trắc nghiệm → Ngân hàng câu hỏi and Lên lịch: a trainer (or an admin) uploads a question
sheet, checked exactly as `sotay quiz import` and /nhapcauhoi check it (nothing saved while
a row is wrong), and schedules a quiz for units of their scope through QuizSchedule, which
checks the scope again (PermissionDenied: a 403 page, nothing saved). Scheduling offers what
/taoquiz offers: banks and topics, units, questions per attempt, how it is taken (order and
choices shuffled, a time limit per question, pass mark, attempts, explanations), and a
window that may open at once."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from bot.services.permissions import Action, Actor, PermissionDenied
from bot.services.quizzes.bank import QuizFileError, bank_slug
from bot.web.console import (
    Refused,
    forbidden,
    render,
    scope_for,
    see_other,
    services_of,
    units_in,
    viewer_of,
)
from bot.web.paths import ADMIN_PREFIX
from bot.web.roster_upload import MAX_SHOWN
from bot.web.uploads import MAX_UPLOAD_BYTES, MAX_UPLOAD_KB, parse_questions

MAX_NAME_CHARS = 60
MAX_TITLE_CHARS = 200  # the column's size
MAX_QUESTIONS = 100
MAX_ATTEMPTS = 10
MIN_SECONDS, MAX_SECONDS = 10, 600  # per question, when there is a limit
_MOMENT = "%Y-%m-%dT%H:%M"  # what a datetime-local field posts


def _actor(request: web.Request) -> Actor:
    return Actor(viewer_of(request).member, scope_for(request, Action.SCHEDULE_QUIZ))


async def banks_page(request: web.Request) -> web.Response:
    _actor(request)
    return render(
        request,
        "quiz_banks.html",
        banks=await services_of(request).quiz_catalogue.banks(),
        max_kb=MAX_UPLOAD_KB,
        max_name=MAX_NAME_CHARS,
        problems=[],
        done=None,
    )


async def upload_bank(request: web.Request) -> web.Response:
    actor = _actor(request)
    form = await request.post()
    name = " ".join(str(form.get("bank", "")).split())
    bank = bank_slug(name)
    catalogue = services_of(request).quiz_catalogue
    if not bank or len(name) > MAX_NAME_CHARS:
        raise Refused(
            400, f"Hãy đặt tên ngân hàng (tối đa {MAX_NAME_CHARS} ký tự, có chữ hoặc số)."
        )
    if any(b.id == bank and b.shipped for b in await catalogue.banks()):
        raise Refused(400, f"«{name}» là ngân hàng có sẵn của Sổ tay: hãy đặt tên khác.")
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise Refused(400, "Hãy chọn tệp câu hỏi (.xlsx hoặc .csv).")
    content = upload.file.read(MAX_UPLOAD_BYTES + 1)
    if not content:
        raise Refused(400, "Hãy chọn tệp câu hỏi (.xlsx hoặc .csv).")
    if len(content) > MAX_UPLOAD_BYTES:
        raise Refused(413, f"Tệp quá lớn (tối đa {MAX_UPLOAD_KB} KB). Không có gì được ghi.")
    shown = (upload.filename or "tệp").replace("\\", "/").rsplit("/", 1)[-1][:100]
    try:
        result = await parse_questions(content, shown)
    except QuizFileError as error:
        raise Refused(400, str(error)) from None
    page = {"banks": await catalogue.banks(), "max_kb": MAX_UPLOAD_KB, "max_name": MAX_NAME_CHARS}
    if result.problems:
        problems = [f"Dòng {p.line}: {p.reason}" for p in result.problems[:MAX_SHOWN]]
        return render(request, "quiz_banks.html", status=400, problems=problems, done=None, **page)
    total = len(result.questions)
    added = await catalogue.import_bank(bank, result.questions, actor=actor.ref)
    page["banks"] = await catalogue.banks()
    done = f"Đã lưu ngân hàng «{bank}»: {total} câu ({added} câu mới, {total - added} cập nhật)."
    return render(request, "quiz_banks.html", problems=[], done=done, **page)


async def schedule_form(request: web.Request) -> web.Response:
    actor = _actor(request)
    catalogue = services_of(request).quiz_catalogue
    banks = await catalogue.banks()
    return render(
        request,
        "quiz_schedule.html",
        units=await units_in(request, actor.scope),
        banks=banks,
        topics=await catalogue.topics([bank.id for bank in banks]),
        max_questions=MAX_QUESTIONS,
        max_attempts=MAX_ATTEMPTS,
        min_seconds=MIN_SECONDS,
        max_seconds=MAX_SECONDS,
    )


def _bad(message: str) -> Refused:
    return Refused(400, f"{message} Chưa có gì được lưu.")


def _number(form: object, name: str, low: int, high: int, default: int | None = None) -> int:
    raw = str(form.get(name, "")).strip()  # type: ignore[attr-defined]
    if not raw and default is not None:
        return default
    return _within(raw, name, low, high)


def _within(raw: str, name: str, low: int, high: int) -> int:
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise _bad(f"Ô «{_FIELDS[name]}» cần một số từ {low} đến {high}.")
    return int(raw)


def _seconds(form: object) -> int | None:
    """The time limit per question; blank: none."""
    raw = str(form.get("seconds", "")).strip()  # type: ignore[attr-defined]
    return _within(raw, "seconds", MIN_SECONDS, MAX_SECONDS) if raw else None


_FIELDS = {
    "questions": "Số câu mỗi lượt",
    "pass_mark": "Điểm đạt (%)",
    "attempts": "Số lượt làm",
    "seconds": "Thời gian mỗi câu (giây)",
    "opens": "Mở lúc",
    "closes": "Đóng lúc",
}


def _moment(form: object, name: str, request: web.Request) -> datetime:
    raw = str(form.get(name, "")).strip()  # type: ignore[attr-defined]
    if not raw and name == "opens":
        return services_of(request).clock()  # «Mở ngay»: as the quiz is saved
    try:
        local = datetime.strptime(raw, _MOMENT)
    except ValueError:
        raise _bad(f"Ô «{_FIELDS[name]}» cần ngày và giờ.") from None
    return local.replace(tzinfo=services_of(request).settings.timezone)


async def schedule(request: web.Request) -> web.Response:
    actor = _actor(request)
    form = await request.post()
    services = services_of(request)
    title = " ".join(str(form.get("title", "")).split())
    if not title or len(title) > MAX_TITLE_CHARS:
        raise _bad(f"Hãy đặt tên bài (tối đa {MAX_TITLE_CHARS} ký tự).")
    chosen = [str(v) for v in form.getall("unit", [])]
    if not chosen:
        raise _bad("Hãy chọn ít nhất một đơn vị.")
    if not all(v.isdigit() for v in chosen):
        raise forbidden()
    unit_ids = sorted({int(v) for v in chosen})
    known = {b.id for b in await services.quiz_catalogue.banks()}
    banks = sorted({str(v) for v in form.getall("bank", [])})
    if not banks or not set(banks) <= known:
        raise _bad("Hãy chọn ít nhất một ngân hàng câu hỏi.")
    topics = sorted({" ".join(str(v).split()) for v in form.getall("topic", [])})
    offered = {topic for topic, _ in await services.quiz_catalogue.topics(banks)}
    if not set(topics) <= offered:
        missing = ", ".join(f"«{topic[:60]}»" for topic in topics if topic not in offered)
        raise _bad(f"Chủ đề {missing} không có trong các ngân hàng đã chọn.")
    count = _number(form, "questions", 1, MAX_QUESTIONS)
    pass_mark = _number(form, "pass_mark", 0, 100, default=70)
    attempts = _number(form, "attempts", 1, MAX_ATTEMPTS, default=1)
    seconds = _seconds(form)
    opens, closes = _moment(form, "opens", request), _moment(form, "closes", request)
    if closes <= opens or closes <= services.clock():
        raise _bad("Giờ đóng phải sau giờ mở và sau lúc này.")
    pool = await services.quiz_catalogue.pool_size(banks, topics)
    if count > pool:
        chosen_from = "Các ngân hàng và chủ đề đã chọn" if topics else "Các ngân hàng đã chọn"
        raise _bad(f"{chosen_from} chỉ có {pool} câu, ít hơn {count} câu mỗi lượt.")
    try:
        quiz = await services.quizzes.schedule(
            title=title,
            unit_ids=unit_ids,
            question_count=count,
            opens_at=opens,
            closes_at=closes,
            actor=actor.ref,
            bank_ids=banks,
            topics=topics,
            pass_mark=pass_mark,
            seconds_per_question=seconds,
            attempts_allowed=attempts,
            # Unticked boxes are not posted: each is off unless the form sends it.
            shuffle_questions="shuffle_questions" in form,
            shuffle_choices="shuffle_choices" in form,
            show_explanations="explanations" in form,
            by=actor,
        )
    except PermissionDenied:
        raise forbidden() from None
    return see_other(f"{ADMIN_PREFIX}/trac-nghiem/{quiz.id}")
