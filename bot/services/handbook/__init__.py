"""The handbook: entries loaded from Markdown, and the search that answers questions from them."""

from __future__ import annotations

from pathlib import Path

from bot.services.handbook.entries import (
    Confirmation,
    ContentError,
    Entry,
    check_entries,
    load_entries,
    scan_entries,
)
from bot.services.handbook.normalize import check_abbreviations, load_abbreviations
from bot.services.handbook.search import Decision, HandbookIndex, SearchResult
from bot.services.handbook.sources import (
    Citation,
    Register,
    Source,
    SourcesError,
    check_sources,
    load_sources,
)
from bot.services.handbook.synonyms import check_synonyms, load_synonyms
from content import ABBREVIATIONS_FILE, HANDBOOK_DIR, SYNONYMS_FILE

__all__ = [
    "Citation",
    "Confirmation",
    "ContentError",
    "Decision",
    "Entry",
    "HandbookIndex",
    "Register",
    "SearchResult",
    "Source",
    "SourcesError",
    "check_abbreviations",
    "check_entries",
    "check_sources",
    "check_synonyms",
    "load_abbreviations",
    "load_entries",
    "load_index",
    "load_sources",
    "load_synonyms",
    "scan_entries",
]


def load_index(
    handbook_dir: Path = HANDBOOK_DIR,
    abbreviations_file: Path = ABBREVIATIONS_FILE,
    synonyms_file: Path | None = SYNONYMS_FILE,
) -> HandbookIndex:
    """The index over the shipped handbook; raises ContentError if the content has problems.
    `synonyms_file` None searches without synonyms."""
    abbreviations = load_abbreviations(abbreviations_file)
    synonyms = load_synonyms(synonyms_file) if synonyms_file is not None else []
    return HandbookIndex.build(load_entries(handbook_dir), abbreviations, synonyms)
