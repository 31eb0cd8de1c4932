"""The register of sources: every document the handbook cites, once, with its own dates.

Entries cite a source by its id and the article or point they rely on; the source line an
answer shows is built here from the register, so each document carries its own date and a
document replaced by a newer one is found by `sotay content check`, not by a member.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

import yaml

from bot.services.content_problems import ContentProblems, as_date

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_TEXT_FIELDS = ("id", "name", "title", "issuer")
_OPTIONAL_TEXT_FIELDS = ("superseded_by",)
_KNOWN_FIELDS = frozenset(
    (*_TEXT_FIELDS, *_OPTIONAL_TEXT_FIELDS, "kind", "signed", "in_force", "unconfirmed")
)


class SourceKind(StrEnum):
    # A rule (the Charter, a regulation or guideline of the Party, a law): what members follow.
    PARTY = "party"
    # A work of history or reference: one edition, so it needs no date to be told apart.
    REFERENCE = "reference"
    # The bot's own user guide: it describes the software, not a rule.
    PROJECT = "project"


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    name: str  # how answers name it: "Quy định 294-QĐ/TW"
    title: str
    issuer: str
    signed: date | None  # None only for a reference work
    in_force: date | None = None  # None when no text read gives it
    superseded_by: str | None = None
    kind: SourceKind = SourceKind.PARTY
    # Facts the register states that no official text read by the editors confirmed.
    unconfirmed: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The document with its own dates: "Quy định 294-QĐ/TW (ngày 26/05/2025, hiệu lực
        từ 01/07/2025)"; the in-force date is left out when it is the signing date or unknown."""
        if self.signed is None:
            return self.name
        dates = f"ngày {self.signed:%d/%m/%Y}"
        if self.in_force is not None and self.in_force != self.signed:
            dates += f", hiệu lực từ {self.in_force:%d/%m/%Y}"
        return f"{self.name} ({dates})"


@dataclass(frozen=True, slots=True)
class Citation:
    source: Source
    point: str | None = None  # "Điều 15", "điểm 6.3.1"; None when the whole document

    def __str__(self) -> str:
        return self.source.label if self.point is None else f"{self.source.label}, {self.point}"


def source_line(citations: Iterable[Citation]) -> str:
    """The answer's source line: the cited documents in order, each with its dates and points."""
    return "; ".join(str(citation) for citation in citations)


class Register(Mapping[str, Source]):
    """The sources by id, in the order of the register file."""

    def __init__(self, sources: Iterable[Source] = ()) -> None:
        self._sources = {source.id: source for source in sources}

    def __getitem__(self, key: str) -> Source:
        return self._sources[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._sources)

    def __len__(self) -> int:
        return len(self._sources)

    def current(self, source: Source) -> Source:
        """The document in force in place of `source`: itself, or the last of the chain of
        documents that superseded it."""
        seen = {source.id}
        while source.superseded_by in self._sources and source.superseded_by not in seen:
            source = self._sources[source.superseded_by]
            seen.add(source.id)
        return source


class SourcesError(ContentProblems):
    """The register has problems."""


# A rule may take effect a little before the day it is signed (a fee year starting on the 1st);
# more than a month earlier is a typing mistake.
_GRACE = date(2000, 2, 1) - date(2000, 1, 1)


def _date_field(raw: dict[object, object], field: str, where: str) -> tuple[date | None, list[str]]:
    value = raw.get(field)
    if value is None:
        return None, []
    parsed = as_date(value)
    if parsed is None:
        return None, [f"{where}: field '{field}' must be a date (YYYY-MM-DD)"]
    return parsed, []


def _parse_source(raw: object, where: str) -> tuple[Source | None, list[str]]:
    if not isinstance(raw, dict):
        return None, [f"{where}: must be a mapping of fields"]
    problems = [f"{where}: unknown field '{key}'" for key in raw if key not in _KNOWN_FIELDS]
    texts: dict[str, str] = {}
    for field in _TEXT_FIELDS + _OPTIONAL_TEXT_FIELDS:
        value = raw.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            if field in _TEXT_FIELDS:
                problems.append(f"{where}: missing field '{field}'")
        elif not isinstance(value, str):
            problems.append(f"{where}: field '{field}' must be text")
        else:
            texts[field] = value.strip()
    source_id = texts.get("id")
    if source_id is not None and not _SLUG.fullmatch(source_id):
        problems.append(f"{where}: id '{source_id}' must be lowercase ASCII words joined by '-'")
    try:
        kind = SourceKind(raw.get("kind", SourceKind.PARTY.value))
    except ValueError:
        kinds = ", ".join(k.value for k in SourceKind)
        problems.append(f"{where}: unknown kind '{raw.get('kind')}' ({kinds})")
        kind = SourceKind.PARTY
    signed, found = _date_field(raw, "signed", where)
    problems += found
    in_force, found = _date_field(raw, "in_force", where)
    problems += found
    if signed is None and raw.get("signed") is None and kind is not SourceKind.REFERENCE:
        # Without its date a rule cannot be told from another version of itself.
        problems.append(f"{where}: missing field 'signed' (the date of the document)")
    if signed is not None and in_force is not None and in_force < signed - _GRACE:
        problems.append(f"{where}: in force ({in_force}) long before it was signed ({signed})")
    unconfirmed = raw.get("unconfirmed") or []
    if not isinstance(unconfirmed, list) or not all(
        isinstance(item, str) and item.strip() for item in unconfirmed
    ):
        problems.append(f"{where}: field 'unconfirmed' must be a list of non-empty texts")
        unconfirmed = []
    if len(texts) < len(_TEXT_FIELDS) or problems:
        return None, problems
    source = Source(
        signed=signed,
        in_force=in_force,
        kind=kind,
        unconfirmed=tuple(item.strip() for item in unconfirmed),
        **texts,
    )
    return source, problems


def _links(sources: list[Source], name: str) -> list[str]:
    """Problems in how sources point at each other: unknown, self or circular replacements,
    and two records of one document."""
    by_id = {source.id: source for source in sources}
    problems = []
    for source in sources:
        target = source.superseded_by
        if target is None:
            continue
        if target not in by_id:
            problems.append(f"{name}: {source.id}: superseded by unknown source '{target}'")
            continue
        seen = {source.id}
        while target is not None and target in by_id:
            if target in seen:
                problems.append(f"{name}: {source.id}: circular 'superseded_by' chain")
                break
            seen.add(target)
            target = by_id[target].superseded_by
    first: dict[str, str] = {}
    for source in sources:
        if source.label in first:
            problems.append(
                f"{name}: {source.id}: same document and date as {first[source.label]}: "
                "an answer could not tell them apart"
            )
        first.setdefault(source.label, source.id)
    return problems


def _scan(path: Path) -> tuple[list[Source], list[str]]:
    name = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{name}: cannot read: {exc}"]
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        return [], [f"{name}: not valid YAML{line}"]
    if not isinstance(raw, dict) or not isinstance(raw.get("sources"), list) or not raw["sources"]:
        return [], [f"{name}: must be a mapping with 'sources', a non-empty list"]
    sources: list[Source] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, item in enumerate(raw["sources"], start=1):
        label = item.get("id") if isinstance(item, dict) else None
        source, found = _parse_source(item, f"{name}: source {label or f'#{number}'}")
        problems += found
        if source is None:
            continue
        if source.id in seen:
            problems.append(f"{name}: duplicate source id '{source.id}'")
            continue
        seen.add(source.id)
        sources.append(source)
    return sources, problems + _links(sources, name)


def check_sources(path: Path) -> list[str]:
    """Every problem in the register file, one human-readable line each."""
    return _scan(path)[1]


def load_sources(path: Path) -> Register:
    """The register; raises SourcesError if it has problems."""
    sources, problems = _scan(path)
    if problems:
        raise SourcesError(problems)
    return Register(sources)
