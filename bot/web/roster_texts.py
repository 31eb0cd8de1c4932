"""The roster reader's reasons (written in English for the operator's `sotay roster import`)
in Vietnamese for the console: each known reason by its pattern, anything else shown as
the reader wrote it."""

from __future__ import annotations

import re

from bot.services.roster import OUTSIDE_MEMBER, OUTSIDE_UNIT
from bot.services.roster_file import RowProblem

_QUOTED = re.compile(r"“([^”]*)”")
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), vietnamese)
    for pattern, vietnamese in (
        (r"missing name", "thiếu họ và tên"),
        (r"name longer than (\d+) characters", r"họ và tên dài quá \1 ký tự"),
        (r"missing card number", "thiếu số thẻ đảng viên"),
        (r"card number longer than (\d+) characters", r"số thẻ dài quá \1 ký tự"),
        (r"card number repeats line (\d+)", r"số thẻ trùng với dòng \1"),
        (r"bad birth date.*", "ngày sinh không hợp lệ (viết dd/mm/yyyy)"),
        (
            r"bad phone number.*",
            "số điện thoại không hợp lệ (số di động Việt Nam: 10 chữ số, bắt đầu bằng 0)",
        ),
        (r"missing unit", "thiếu đơn vị"),
        (r"unit name longer than (\d+) characters", r"tên đơn vị dài quá \1 ký tự"),
        (
            r"unknown role «(.*)» .*",
            r"vai trò «\1» không rõ (bí thư, phó bí thư, tập huấn viên, quản trị, "
            "hoặc để trống)",
        ),
        (r"unknown type «(.*)» .*", r"loại «\1» không rõ (chính thức hoặc dự bị)"),
        (r"unit «(.*)» was merged into «(.*)»", r"đơn vị «\1» đã sáp nhập vào «\2»"),
        (r"unit «(.*)» is no longer active", r"đơn vị «\1» không còn hoạt động"),
        (r"same phone number as line (\d+)", r"số điện thoại trùng với dòng \1"),
        (re.escape(OUTSIDE_UNIT), "đơn vị nằm ngoài phạm vi của bạn"),
        (re.escape(OUTSIDE_MEMBER), "đảng viên này đang thuộc đơn vị ngoài phạm vi của bạn"),
    )
)


def _reason(reason: str) -> str:
    reason = _QUOTED.sub(r"«\1»", reason.strip())
    for pattern, vietnamese in _REASONS:
        if pattern.fullmatch(reason):
            return pattern.sub(vietnamese, reason)
    return reason


def problem_text(problem: RowProblem) -> str:
    """ "Dòng 5: thiếu số thẻ đảng viên; ngày sinh không hợp lệ (viết dd/mm/yyyy)"."""
    reasons = "; ".join(_reason(part) for part in problem.reason.split(";"))
    return f"Dòng {problem.line}: {reasons}"


def file_error_text(message: str, name: str) -> str:
    """Why the file is no roster at all, naming the file as it was uploaded."""
    if "has no column" in message:
        columns = ", ".join(f"«{column}»" for column in _QUOTED.findall(message))
        return f"Tệp {name} thiếu cột {columns} ở dòng tiêu đề."
    if "not UTF-8" in message:
        return f"Tệp {name} không phải văn bản UTF-8: hãy lưu dạng «CSV UTF-8» hoặc .xlsx."
    if "old .xls" in message:
        return f"Tệp {name} là bảng tính .xls cũ: hãy lưu lại dạng .xlsx."
    if "lists no members" in message:
        return f"Tệp {name} không có đảng viên nào: không thể dùng như toàn bộ danh sách."
    if "give a .xlsx or .csv" in message:
        return f"Tệp {name}: chỉ nhận bảng tính .xlsx hoặc .csv."
    return f"Không đọc được tệp {name} như một danh sách đảng viên (.xlsx hoặc .csv)."
