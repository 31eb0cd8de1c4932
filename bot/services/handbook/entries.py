"""Handbook entries: Markdown files with YAML front matter, one entry per file.

An entry cites the register of sources (content/sources.yaml) by id, with the article or
point it relies on, and records its review: the date and the body (a role, never a person)
that checked it against the official text. The checks here refuse what a member must not
read: a figure with no article behind it, a document the register does not know or that a
newer one replaced, a source line that cannot say which date belongs to which document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

import yaml

from bot.services.content_problems import ContentProblems, as_date
from bot.services.handbook import claims
from bot.services.handbook.sources import (
    Citation,
    Register,
    SourceKind,
    SourcesError,
    load_sources,
    source_line,
)
from content import SOURCES_FILE

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?$\n?(.*)\Z", re.S | re.M)
_TEXT_FIELDS = ("id", "title", "category")
_LIST_FIELDS = ("questions", "keywords")
# More ways members ask, in their own words: optional, for the search only (search.py).
_OPTIONAL_LIST_FIELDS = ("phrasings",)
_REVIEW_FIELDS = ("reviewed", "reviewed_by")
_KNOWN_FIELDS = frozenset(
    (*_TEXT_FIELDS, *_LIST_FIELDS, *_OPTIONAL_LIST_FIELDS, *_REVIEW_FIELDS, "sources", "updated")
)
# Documents named in a body ("Quy định 69-QĐ/TW", "Hướng dẫn 33-HD/BTCTW").
_DOCUMENT_NUMBER = re.compile(r"\b\d+-[A-ZĐ]+[a-zđ]*/[A-ZĐ]+\b")
# A review is signed by a body of the Party: "Ban Tổ chức Tỉnh ủy", "Ủy ban Kiểm tra ...".
_BODIES = re.compile(
    r"(Ban|Ủy ban|Văn phòng|Đảng ủy|Đảng đoàn|Tỉnh ủy|Thành ủy|Huyện ủy|Quận ủy|Chi ủy|Chi bộ"
    r"|Cấp ủy|Thường trực|Hội đồng|Trường Chính trị)\b"
)


class Confirmation(StrEnum):
    """Why an answer ends asking the member to confirm with the chi ủy."""

    UNREVIEWED = "unreviewed"  # no body has checked it against the official text
    SENSITIVE = "sensitive"  # votes, deadlines or discipline: confirm before acting


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    title: str
    category: str
    questions: tuple[str, ...]
    keywords: tuple[str, ...]
    body: str
    phrasings: tuple[str, ...] = ()
    citations: tuple[Citation, ...] = ()
    updated: date = date.min
    reviewed: date | None = None
    reviewed_by: str | None = None

    @property
    def source(self) -> str:
        """The source line: each cited document with its own dates and the points cited."""
        return source_line(self.citations)

    @property
    def is_reviewed(self) -> bool:
        """Reviewed, and not changed since: an edit after the review needs a new one."""
        return self.reviewed is not None and self.reviewed >= self.updated

    @property
    def about_the_party(self) -> bool:
        """False for the bot's own user guide, which the chi ủy has no say over."""
        return any(c.source.kind is not SourceKind.PROJECT for c in self.citations)

    @property
    def confirmation(self) -> Confirmation | None:
        """Why the answer ends asking to confirm with the chi ủy, or None."""
        if not self.about_the_party:
            return None
        if not self.is_reviewed:
            return Confirmation.UNREVIEWED
        if claims.is_sensitive(self.body):
            return Confirmation.SENSITIVE
        return None


class ContentError(ContentProblems):
    """The handbook has problems."""


def _citations(
    raw: object, register: Register, name: str
) -> tuple[tuple[Citation, ...] | None, list[str]]:
    """The `sources:` list: each item a source id, or `id: point` ("qd-69-2022: Điều 15")."""
    if not raw or not isinstance(raw, list):
        return None, [f"{name}: missing field 'sources' (a list of register ids with points)"]
    citations: list[Citation] = []
    problems: list[str] = []
    for item in raw:
        if isinstance(item, str) and item.strip():
            source_id, point = item.strip(), None
        elif isinstance(item, dict) and len(item) == 1:
            [(source_id, point)] = item.items()
            point = str(point).strip() if point is not None and str(point).strip() else None
        else:
            problems.append(f"{name}: a source must be a register id, or 'id: point'")
            continue
        source_id = str(source_id).strip()
        source = register.get(source_id)
        if source is None:
            problems.append(f"{name}: cites '{source_id}', which is not in the register")
            continue
        if source.superseded_by is not None:
            current = register.current(source)
            problems.append(
                f"{name}: cites '{source.id}' ({source.name}), superseded by '{current.id}' "
                f"({current.name}): cite the document in force"
            )
        if any(c.source.id == source.id for c in citations):
            problems.append(
                f"{name}: cites '{source.id}' twice: give all its points in one citation, so "
                "the source line names each document once, with its date"
            )
            continue
        citations.append(Citation(source, point))
    return tuple(citations), problems


def _review(meta: dict[object, object], name: str) -> tuple[date | None, str | None, list[str]]:
    problems = [
        f"{name}: missing field '{field}' (leave it empty until the entry is reviewed)"
        for field in _REVIEW_FIELDS
        if field not in meta
    ]
    raw_date, raw_body = meta.get("reviewed"), meta.get("reviewed_by")
    reviewed = None
    if raw_date is not None:
        reviewed = as_date(raw_date)
        if reviewed is None:
            problems.append(f"{name}: field 'reviewed' must be a date (YYYY-MM-DD) or empty")
    reviewed_by = str(raw_body).strip() if raw_body is not None and str(raw_body).strip() else None
    if (raw_date is None) != (reviewed_by is None):
        problems.append(f"{name}: give both 'reviewed' and 'reviewed_by', or neither")
    if reviewed_by is not None and not _BODIES.match(reviewed_by):
        problems.append(
            f"{name}: reviewed_by '{reviewed_by}' must name a body of the Party "
            "(e.g. 'Ban Tổ chức Tỉnh ủy'), never a person"
        )
    return reviewed, reviewed_by, problems


def _claims(body: str, citations: tuple[Citation, ...], register: Register, name: str) -> list[str]:
    """An answer that states a figure cites the article it comes from; a document it names is
    in the register."""
    problems = []
    party = [c for c in citations if c.source.kind is not SourceKind.PROJECT]
    figures = claims.figures(body)
    if party and figures and not any(c.point for c in party):
        shown = ", ".join(f"'{figure}'" for figure in dict.fromkeys(figures[:3]))
        problems.append(
            f"{name}: the answer states {shown} but cites no article: give the point of the "
            "rule it comes from (e.g. 'qd-69-2022: Điều 15')"
        )
    known = {n for source in register.values() for n in _DOCUMENT_NUMBER.findall(source.name)}
    for number in dict.fromkeys(_DOCUMENT_NUMBER.findall(body)):
        if number not in known:
            problems.append(f"{name}: the answer names {number}, which is not in the register")
    return problems


def _parse(path: Path, register: Register) -> tuple[Entry | None, list[str]]:
    """The entry in one file (None if fields are missing) and the problems found in it."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{name}: cannot read: {exc}"]
    match = _FRONT_MATTER.match(text)
    if match is None:
        return None, [f"{name}: no front matter (the file must start with a '---' block)"]
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 2})" if where is not None else ""
        return None, [f"{name}: front matter is not valid YAML{line}"]
    if not isinstance(meta, dict):
        return None, [f"{name}: front matter must be a mapping of fields"]

    problems = [f"{name}: unknown field '{key}'" for key in meta if key not in _KNOWN_FIELDS]
    texts: dict[str, str] = {}
    for field in _TEXT_FIELDS:
        value = meta.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            problems.append(f"{name}: missing field '{field}'")
        elif not isinstance(value, str | int | float):
            problems.append(f"{name}: field '{field}' must be text")
        else:
            texts[field] = str(value).strip()
    lists: dict[str, tuple[str, ...]] = {}
    for field in (*_LIST_FIELDS, *_OPTIONAL_LIST_FIELDS):
        value = meta.get(field)
        if field in _OPTIONAL_LIST_FIELDS and value is None:
            continue
        if not value:
            problems.append(f"{name}: missing field '{field}' (a non-empty list)")
        elif not isinstance(value, list) or not all(
            isinstance(item, str | int | float) and str(item).strip() for item in value
        ):
            problems.append(f"{name}: field '{field}' must be a list of non-empty texts")
        else:
            lists[field] = tuple(str(item).strip() for item in value)
    updated = None
    if meta.get("updated") is None:
        problems.append(f"{name}: missing field 'updated'")
    elif (updated := as_date(meta["updated"])) is None:
        problems.append(f"{name}: field 'updated' must be a date (YYYY-MM-DD)")
    citations, found = _citations(meta.get("sources"), register, name)
    problems += found
    reviewed, reviewed_by, found = _review(meta, name)
    problems += found
    if reviewed is not None and reviewed > date.today():
        problems.append(f"{name}: reviewed on {reviewed}, a day still to come")

    entry_id = texts.get("id")
    if entry_id is not None:
        if not _SLUG.fullmatch(entry_id):
            problems.append(f"{name}: id '{entry_id}' must be lowercase ASCII words joined by '-'")
        if entry_id != path.stem:
            problems.append(f"{name}: id '{entry_id}' differs from the file name")
    body = match.group(2).strip()
    if not body:
        problems.append(f"{name}: empty body")
    if citations is not None:
        problems += _claims(body, citations, register, name)
    if (
        len(texts) < len(_TEXT_FIELDS)
        or not all(field in lists for field in _LIST_FIELDS)
        or updated is None
        or citations is None
    ):
        return None, problems
    entry = Entry(
        body=body,
        citations=citations,
        updated=updated,
        reviewed=reviewed,
        reviewed_by=reviewed_by,
        **texts,
        **lists,
    )
    # Built even with problems, so that a duplicate id is found too.
    return entry, problems


def scan_entries(
    directory: Path, sources_file: Path = SOURCES_FILE
) -> tuple[list[Entry], list[str]]:
    """Every entry that could be read, problems or not (a review list is most needed when a
    new document makes many entries fail their check), and every problem found."""
    return _scan(directory, sources_file, keep_flawed=True)


def _scan(
    directory: Path, sources_file: Path, *, keep_flawed: bool = False
) -> tuple[list[Entry], list[str]]:
    """The valid entries (or, with `keep_flawed`, all that could be read), in file-name
    order, and every problem found."""
    if not directory.is_dir():
        return [], [f"{directory}: not a directory"]
    try:
        register = load_sources(sources_file)
    except SourcesError as exc:
        return [], [f"{sources_file.name}: the register has {len(exc.problems)} problem(s)"]
    entries: list[Entry] = []
    problems: list[str] = []
    first_file: dict[str, str] = {}
    for path in sorted(directory.glob("*.md")):
        entry, found = _parse(path, register)
        problems.extend(found)
        if entry is None:
            continue
        if entry.id in first_file:
            problems.append(f"{path.name}: duplicate id '{entry.id}' (also {first_file[entry.id]})")
            continue
        first_file[entry.id] = path.name
        if keep_flawed or not found:
            entries.append(entry)
    if not problems and not entries:
        problems.append(f"{directory}: no entries (*.md)")
    return entries, problems


def check_entries(directory: Path, sources_file: Path = SOURCES_FILE) -> list[str]:
    """Every problem in the handbook directory, one human-readable line each."""
    return _scan(directory, sources_file)[1]


def load_entries(directory: Path, sources_file: Path = SOURCES_FILE) -> list[Entry]:
    """All entries, in file-name order; raises ContentError if the handbook has problems."""
    entries, problems = _scan(directory, sources_file)
    if problems:
        raise ContentError(problems)
    return entries
