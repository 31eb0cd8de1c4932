"""`sotay content check`: validate the handbook entries and the abbreviations list."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.services.handbook import check_abbreviations, check_entries, load_entries
from content import ABBREVIATIONS_FILE, HANDBOOK_DIR


def _check(args: argparse.Namespace) -> int:
    problems = check_entries(args.handbook)
    if args.abbreviations.is_file():
        problems += check_abbreviations(args.abbreviations)
    else:
        problems.append(f"{args.abbreviations}: abbreviations file not found")
    for problem in problems:
        print(problem)
    if problems:
        return 1
    entries = load_entries(args.handbook)
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
        help="validate the handbook entries and abbreviations",
        description="Print every problem in the handbook entries and the abbreviations list "
        "and exit 1 if there is any; otherwise print a one-line summary.",
    )
    check.add_argument("--handbook", type=Path, default=HANDBOOK_DIR, metavar="DIR")
    check.add_argument("--abbreviations", type=Path, default=ABBREVIATIONS_FILE, metavar="FILE")
    check.set_defaults(func=_check)
