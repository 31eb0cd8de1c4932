"""Đảng viên → Tải danh sách: a roster file is read by the same reader as `sotay roster
import` and previewed (added, updated, moved, leaving, line-numbered errors) before anything
is written; confirming applies exactly the previewed file through RosterService.

Who: the roster keepers, that is whoever may issue activation codes (secretaries on their
units, admins everywhere). A secretary's file may only touch their units and members; the
"Vai trò" column (granting roles) is for admins."""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from pathlib import PurePath

from aiohttp import web

from bot.models import utcnow
from bot.services.permissions import Action, Scope
from bot.services.roster import RosterRejected, RosterService
from bot.services.roster_file import Column, ParsedRoster, RosterFileError, RowProblem
from bot.services.uploads import UploadRefused
from bot.web.console import SESSION, STATE, Refused, render, scope_for, viewer_of
from bot.web.roster_texts import file_error_text, problem_text
from bot.web.sessions import file_seal
from bot.web.uploads import MAX_UPLOAD_BYTES, MAX_UPLOAD_KB, parse_roster

ROSTER_ACTION = Action.ISSUE_CODES
MAX_SHOWN = 200
_SUFFIX = re.compile(r"\.[a-z0-9]{1,5}")
_TOO_LARGE = f"Tệp quá lớn (tối đa {MAX_UPLOAD_KB} KB). Không có gì được ghi."


def _scope(request: web.Request) -> Scope:
    return scope_for(request, ROSTER_ACTION)


def _names(filename: str) -> tuple[str, str]:
    """The name shown (as uploaded, without folders) and the one the reader gets: only
    the suffix of what a browser sent reaches the file system."""
    shown = PurePath(filename.replace("\\", "/")).name[:100] or "tệp"
    suffix = PurePath(shown).suffix.lower()
    return shown, "danh-sach" + (suffix if _SUFFIX.fullmatch(suffix) else "")


async def _read(request: web.Request, content: bytes, shown: str, inner: str) -> ParsedRoster:
    if not content:
        raise Refused(400, "Hãy chọn tệp danh sách (.xlsx hoặc .csv).")
    if len(content) > MAX_UPLOAD_BYTES:
        raise Refused(413, _TOO_LARGE)
    try:
        roster = await parse_roster(content, inner)
    except UploadRefused as refused:
        raise Refused(400, str(refused).replace(inner, shown)) from None
    except RosterFileError as error:
        raise Refused(400, file_error_text(str(error), shown)) from None
    if Column.ROLE in roster.columns and not viewer_of(request).is_admin:
        raise Refused(
            403, "Chỉ quản trị viên được cấp vai trò qua cột «Vai trò». Hãy bỏ cột đó rồi tải lại."
        )
    return roster


def _within(scope: Scope) -> Scope | None:
    return None if scope.everywhere else scope


def _problems(problems: list[RowProblem]) -> list[str]:
    return [problem_text(problem) for problem in problems[:MAX_SHOWN]]


async def upload_form(request: web.Request) -> web.Response:
    _scope(request)
    return render(request, "roster_upload.html", max_kb=MAX_UPLOAD_KB)


async def preview(request: web.Request) -> web.Response:
    scope = _scope(request)
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise Refused(400, "Hãy chọn tệp danh sách (.xlsx hoặc .csv).")
    content = upload.file.read(MAX_UPLOAD_BYTES + 1)
    shown, inner = _names(upload.filename)
    roster = await _read(request, content, shown, inner)
    sync = form.get("sync") == "1"
    if sync and not roster.cards_seen:
        raise Refused(400, file_error_text("lists no members", shown))
    found = await RosterService(request[SESSION]).preview(roster, sync=sync, scope=_within(scope))
    state = request.app[STATE]
    return render(
        request,
        "roster_preview.html",
        name=shown,
        preview=found,
        problems=_problems(found.problems),
        more_problems=max(0, len(found.problems) - MAX_SHOWN),
        warnings=_problems(roster.warnings),
        shown=MAX_SHOWN,
        sync=sync,
        content=base64.b64encode(content).decode(),
        seal=file_seal(state.key, viewer_of(request).login_id, shown, content),
    )


async def apply(request: web.Request) -> web.Response:
    scope = _scope(request)
    form = await request.post()
    shown = str(form.get("name", ""))[:100]
    try:
        content = base64.b64decode(str(form.get("content", "")), validate=True)
    except (binascii.Error, ValueError):
        content = b""
    viewer = viewer_of(request)
    expected = file_seal(request.app[STATE].key, viewer.login_id, shown, content)
    if not content or not hmac.compare_digest(str(form.get("seal", "")), expected):
        raise Refused(400, "Tệp xác nhận không khớp với tệp đã xem trước. Hãy tải lại tệp.")
    roster = await _read(request, content, shown, _names(shown)[1])
    sync = form.get("sync") == "1"
    try:
        summary = await RosterService(request[SESSION]).import_roster(
            roster,
            sync=sync,
            skip_invalid=False,
            actor=viewer.ref,
            now=utcnow(),
            scope=_within(scope),
        )
    except RosterFileError as error:
        raise Refused(400, file_error_text(str(error), shown)) from None
    except RosterRejected as rejected:
        # The roster changed since the preview (a unit merged meanwhile): nothing written.
        return render(
            request,
            "roster_preview.html",
            status=400,
            name=shown,
            preview=None,
            problems=_problems(rejected.problems),
            more_problems=max(0, len(rejected.problems) - MAX_SHOWN),
            warnings=[],
            shown=MAX_SHOWN,
            sync=sync,
            content="",
            seal="",
        )
    return render(request, "roster_applied.html", name=shown, summary=summary, sync=sync)
