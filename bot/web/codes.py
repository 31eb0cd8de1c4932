"""Mã kích hoạt: one-time activation codes for a unit's members not yet linked, as an xlsx
or a printable sheet. Codes are stored hashed, so each issue makes new ones (replacing the
members' unused older codes) and this page is the only place they are shown."""

from __future__ import annotations

from aiohttp import web

from bot.exports.spreadsheets import write_codes
from bot.services.codes import VALID_FOR
from bot.services.permissions import Action
from bot.web.console import (
    XLSX,
    attachment,
    forbidden,
    form_int,
    render,
    scope_for,
    services_of,
    units_in,
    viewer_of,
)
from bot.web.files import workbook_bytes


async def codes_page(request: web.Request) -> web.Response:
    scope = scope_for(request, Action.ISSUE_CODES)
    return render(request, "codes.html", units=await units_in(request, scope), days=VALID_FOR.days)


async def issue_codes(request: web.Request) -> web.Response:
    scope = scope_for(request, Action.ISSUE_CODES)
    unit_id = await form_int(request, "unit")
    services = services_of(request)
    if not await services.permissions.within(scope, [unit_id]):
        raise forbidden()
    actor = viewer_of(request).ref
    issued = await services.codes.issue_for_unit(unit_id, issued_by=actor, now=services.clock())
    await services.audit.record(actor, "codes.issue", f"unit:{unit_id}", count=len(issued))
    unit = await services.accounts.unit_name(unit_id)
    timezone = services.settings.timezone
    if issued and (await request.post()).get("format") == "xlsx":
        body = workbook_bytes(lambda path: write_codes(path, issued, timezone))
        return attachment(f"ma-kich-hoat-{unit_id}.xlsx", body, XLSX)
    return render(request, "codes_sheet.html", unit=unit, issued=issued, timezone=timezone)
