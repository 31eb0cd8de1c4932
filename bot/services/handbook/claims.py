"""What an answer claims that a member acts on: numbers, shares and deadlines (which need an
article cited), and votes, deadlines and discipline (which the member confirms with the chi ủy).

Both are found by patterns over the entry's text, not by the editor ticking a box, so a new
entry cannot forget them. The patterns are a safety net tuned to how the handbook is written
(digits for most figures, words for "ba tháng", "hai phần ba"); they do not prove a text
figure-free.
"""

from __future__ import annotations

import re
import unicodedata

from bot.services.handbook.normalize import fold

# Names of documents and of their parts are references, not figures: "Quy định 294-QĐ/TW",
# "08-QĐi/TW", "Hướng dẫn 33-HD/BTCTW", "Quy định 24", "Điều 15", "điểm 6.3.1", "khoản 2";
# so are the names of plenums and congresses: "Hội nghị Trung ương 4", "Đại hội lần thứ 14".
_REFERENCES = re.compile(
    r"\b\d+-[A-ZĐ]+[a-zđ]*/[A-ZĐ]+\b"
    r"|\bTrung ương\s+\d+\b|\blần thứ\s+\d+\b"
    r"|\b(?:Quy định|Quyết định|Hướng dẫn|Nghị quyết|Chỉ thị|Kết luận|Luật)\s+(?:số\s+)?\d+\b"
    r"|\b(?:[Đđ]iều|[Đđ]iểm|[Kk]hoản|[Mm]ục|[Cc]hương|[Tt]iểu mục)\s+[\dIVXLC]+(?:\.\d+)*[a-zđ]?"
)
# Dates and years say when, not how much: "3/2/1930", "tháng 2/1951", "năm 2025", "2026–2027".
_DATES = re.compile(
    r"\b\d{1,2}/\d{1,2}(?:/\d{4})?\b|\b\d{1,2}/\d{4}\b|\b(?:19|20)\d{2}\b"
    r"|\btháng\s+\d{1,2}\b"
)
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*\s*%?")
_NUMBER_WORDS = "một|hai|ba|bốn|năm|sáu|bảy|tám|chín|mười|mươi|trăm|nửa"
_UNITS = "ngày|tháng|năm|tuần|giờ|lần|tuổi"
_WORDED = re.compile(
    rf"\b(?:{_NUMBER_WORDS})\s+(?:{_UNITS})\b"
    r"|\b(?:một|hai|ba)\s+phần\s+(?:hai|ba|tư|năm)\b|\bquá\s+nửa\b|\bmột\s+nửa\b|\bphần\s+trăm\b",
    re.IGNORECASE,
)

# Folded (no diacritics, lowercase) so that "xoá" and "xóa" are one word.
_VOTES = ("bieu quyet", "bo phieu", "tan thanh", "phieu kin", "qua nua", "phan ba", "da so")
_DEADLINES = ("thoi han", "trong vong", "cham nhat", "khong qua", "truoc ngay", "het han")
_DISCIPLINE = (
    "ky luat",
    "khien trach",
    "canh cao",
    "cach chuc",
    "khai tru",
    "xoa ten",
    "dinh chi",
)
_TIME_SPAN = re.compile(rf"\b\d+\s+(?:{_UNITS})\b|\b(?:{_NUMBER_WORDS})\s+(?:{_UNITS})\b")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def figures(text: str) -> list[str]:
    """The numbers, shares and spans of time the text states, as written ("60 ngày" gives
    "60"; "ba tháng", "hai phần ba", "1%"); references to documents and their articles, dates
    and years are left out."""
    text = _DATES.sub(" ", _REFERENCES.sub(" ", _nfc(text)))
    found = [match.group().strip() for match in _DIGITS.finditer(text)]
    return found + [match.group() for match in _WORDED.finditer(text)]


def _folded_words(text: str) -> str:
    return " " + " ".join(re.findall(r"\w+", fold(_nfc(text)).lower())) + " "


def _mentions(folded: str, phrases: tuple[str, ...]) -> bool:
    return any(f" {phrase} " in folded for phrase in phrases)


def is_sensitive(text: str) -> bool:
    """True for a text about votes, deadlines or discipline: what a member should confirm
    with the chi ủy before acting on it, even once the entry is reviewed."""
    folded = _folded_words(text)
    if _mentions(folded, _VOTES + _DEADLINES + _DISCIPLINE):
        return True
    return _TIME_SPAN.search(_REFERENCES.sub(" ", _nfc(text))) is not None
