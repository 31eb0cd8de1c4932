"""The handbook: entries loaded from Markdown, and the search that answers questions from them."""

from __future__ import annotations

from pathlib import Path

from bot.services.handbook.entries import ContentError, Entry, check_entries, load_entries
from bot.services.handbook.normalize import check_abbreviations, load_abbreviations
from bot.services.handbook.search import Decision, HandbookIndex, SearchResult
from content import ABBREVIATIONS_FILE, HANDBOOK_DIR

__all__ = [
    "ContentError",
    "Decision",
    "Entry",
    "HandbookIndex",
    "SearchResult",
    "check_abbreviations",
    "check_entries",
    "load_abbreviations",
    "load_entries",
    "load_index",
]


def load_index(
    handbook_dir: Path = HANDBOOK_DIR, abbreviations_file: Path = ABBREVIATIONS_FILE
) -> HandbookIndex:
    """The index over the shipped handbook; raises ContentError if the content has problems."""
    abbreviations = load_abbreviations(abbreviations_file)
    return HandbookIndex.build(load_entries(handbook_dir), abbreviations)
