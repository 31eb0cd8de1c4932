"""`sotay content check`: validate the handbook entries, abbreviations and synonyms."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.services.handbook import (
    HandbookIndex,
    check_abbreviations,
    check_entries,
    check_synonyms,
    load_abbreviations,
    load_entries,
)
from content import ABBREVIATIONS_FILE, HANDBOOK_DIR, SYNONYMS_FILE


def _check(args: argparse.Namespace) -> int:
    entry_problems = check_entries(args.handbook)
    problems = list(entry_problems)
    abbreviations: dict[str, str] = {}
    if args.abbreviations.is_file():
        problems += check_abbreviations(args.abbreviations)
        abbreviations = load_abbreviations(args.abbreviations)
    else:
        problems.append(f"{args.abbreviations}: abbreviations file not found")
    entries = [] if entry_problems else load_entries(args.handbook)
    if args.synonyms.is_file():
        # Which handbook phrases occur can only be told from a valid handbook.
        occurs = HandbookIndex.build(entries, abbreviations).occurs if entries else None
        problems += check_synonyms(args.synonyms, occurs)
    else:
        problems.append(f"{args.synonyms}: synonyms file not found")
    for problem in problems:
        print(problem)
    if problems:
        return 1
    categories = len({entry.category for entry in entries})
    print(f"{len(entries)} entries in {categories} categories: no problems")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    content = subparsers.add_parser(
        "content", help="handbook content", description="Handbook content."
    )
    actions = content.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="validate the handbook entries, abbreviations and synonyms",
        description="Print every problem in the handbook entries, the abbreviations list and "
        "the synonyms list and exit 1 if there is any; otherwise print a one-line summary.",
    )
    check.add_argument("--handbook", type=Path, default=HANDBOOK_DIR, metavar="DIR")
    check.add_argument("--abbreviations", type=Path, default=ABBREVIATIONS_FILE, metavar="FILE")
    check.add_argument("--synonyms", type=Path, default=SYNONYMS_FILE, metavar="FILE")
    check.set_defaults(func=_check)
