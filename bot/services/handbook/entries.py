"""Handbook entries: Markdown files with YAML front matter, one entry per file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?$\n?(.*)\Z", re.S | re.M)
_TEXT_FIELDS = ("id", "title", "category", "source")
_LIST_FIELDS = ("questions", "keywords")
_DATE_FIELDS = ("effective", "updated")
_KNOWN_FIELDS = frozenset(_TEXT_FIELDS + _LIST_FIELDS + _DATE_FIELDS)


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    title: str
    category: str
    questions: tuple[str, ...]
    keywords: tuple[str, ...]
    source: str
    effective: date
    updated: date
    body: str


class ContentError(ValueError):
    """The handbook has problems; `problems` lists them, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _as_date(value: object) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _parse(path: Path) -> tuple[Entry | None, list[str]]:
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
    for field in _LIST_FIELDS:
        value = meta.get(field)
        if not value:
            problems.append(f"{name}: missing field '{field}' (a non-empty list)")
        elif not isinstance(value, list) or not all(
            isinstance(item, str | int | float) and str(item).strip() for item in value
        ):
            problems.append(f"{name}: field '{field}' must be a list of non-empty texts")
        else:
            lists[field] = tuple(str(item).strip() for item in value)
    dates: dict[str, date] = {}
    for field in _DATE_FIELDS:
        if meta.get(field) is None:
            problems.append(f"{name}: missing field '{field}'")
        elif (parsed := _as_date(meta[field])) is None:
            problems.append(f"{name}: field '{field}' must be a date (YYYY-MM-DD)")
        else:
            dates[field] = parsed

    entry_id = texts.get("id")
    if entry_id is not None:
        if not _SLUG.fullmatch(entry_id):
            problems.append(f"{name}: id '{entry_id}' must be lowercase ASCII words joined by '-'")
        if entry_id != path.stem:
            problems.append(f"{name}: id '{entry_id}' differs from the file name")
    body = match.group(2).strip()
    if not body:
        problems.append(f"{name}: empty body")
    if (
        len(texts) < len(_TEXT_FIELDS)
        or len(lists) < len(_LIST_FIELDS)
        or len(dates) < len(_DATE_FIELDS)
    ):
        return None, problems
    # Built even with problems, so that a duplicate id is found too.
    return Entry(body=body, **texts, **lists, **dates), problems


def _scan(directory: Path) -> tuple[list[Entry], list[str]]:
    """The valid entries, in file-name order, and every problem found."""
    if not directory.is_dir():
        return [], [f"{directory}: not a directory"]
    entries: list[Entry] = []
    problems: list[str] = []
    first_file: dict[str, str] = {}
    for path in sorted(directory.glob("*.md")):
        entry, found = _parse(path)
        problems.extend(found)
        if entry is None:
            continue
        if entry.id in first_file:
            problems.append(f"{path.name}: duplicate id '{entry.id}' (also {first_file[entry.id]})")
            continue
        first_file[entry.id] = path.name
        if not found:
            entries.append(entry)
    if not problems and not entries:
        problems.append(f"{directory}: no entries (*.md)")
    return entries, problems


def check_entries(directory: Path) -> list[str]:
    """Every problem in the handbook directory, one human-readable line each."""
    return _scan(directory)[1]


def load_entries(directory: Path) -> list[Entry]:
    """All entries, in file-name order; raises ContentError if the handbook has problems."""
    entries, problems = _scan(directory)
    if problems:
        raise ContentError(problems)
    return entries
