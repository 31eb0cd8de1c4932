"""`sotay content check` validates the handbook, its register of sources, the quiz banks,
abbreviations and synonyms; `sotay content review-list` says what to review first."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.errors import CliError
from bot.cli.output import output_file
from bot.exports.review_list import write_review_list
from bot.services.content_review import quiz_problems, review_list
from bot.services.handbook import (
    HandbookIndex,
    SourcesError,
    check_abbreviations,
    check_entries,
    check_sources,
    check_synonyms,
    load_abbreviations,
    load_entries,
    load_sources,
    scan_entries,
)
from bot.services.quizzes import QUIZZES_DIR, check_banks, load_banks
from content import ABBREVIATIONS_FILE, HANDBOOK_DIR, SOURCES_FILE, SYNONYMS_FILE


def _check(args: argparse.Namespace) -> int:
    if args.sources.is_file():
        problems = check_sources(args.sources)
    else:
        problems = [f"{args.sources}: register of sources not found"]
    # Entries are read against a valid register only; its own problems are listed above.
    entries = []
    if not problems:
        entry_problems = check_entries(args.handbook, args.sources)
        problems += entry_problems
        if not entry_problems:
            entries = load_entries(args.handbook, args.sources)
    abbreviations: dict[str, str] = {}
    if args.abbreviations.is_file():
        problems += check_abbreviations(args.abbreviations)
        abbreviations = load_abbreviations(args.abbreviations)
    else:
        problems.append(f"{args.abbreviations}: abbreviations file not found")
    if args.synonyms.is_file():
        # Which handbook phrases occur can only be told from a valid handbook.
        occurs = HandbookIndex.build(entries, abbreviations).occurs if entries else None
        problems += check_synonyms(args.synonyms, occurs)
    else:
        problems.append(f"{args.synonyms}: synonyms file not found")
    if entries:
        ids = {entry.id for entry in entries}
        bank_problems = check_banks(args.quizzes, ids)
        problems += bank_problems
        if not bank_problems:
            problems += quiz_problems(load_banks(args.quizzes, ids), entries)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    categories = len({entry.category for entry in entries})
    reviewed = sum(entry.is_reviewed for entry in entries)
    print(f"{len(entries)} entries in {categories} categories ({reviewed} reviewed): no problems")
    return 0


def _review_list(args: argparse.Namespace) -> int:
    try:
        register = load_sources(args.sources)
    except SourcesError as exc:
        raise CliError(
            f"the register has {len(exc.problems)} problem(s); run `sotay content check`"
        ) from None
    except OSError as exc:
        raise CliError(f"cannot read the register {args.sources}: {exc.strerror}") from None
    if args.source is not None and args.source not in register:
        raise CliError(f"no source '{args.source}' in the register {args.sources.name}")
    entries, _ = scan_entries(args.handbook, args.sources)
    if not entries:
        raise CliError(f"no handbook entries could be read in {args.handbook}")
    try:
        banks = load_banks(args.quizzes, {entry.id for entry in entries})
    except ValueError:
        raise CliError("the quiz banks have problems; run `sotay content check`") from None
    items = review_list(entries, banks, register, args.source)
    if args.out is not None:
        with output_file(args.out) as temporary:
            write_review_list(temporary, items)
        print(f"{len(items)} items to review written to {args.out}")
        return 0
    for item in items:
        print(f"{item.kind.value}\t{item.id}\t{item.title}\t{'; '.join(item.reasons)}")
    print(f"{len(items)} items to review")
    return 0


def _paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--handbook", type=Path, default=HANDBOOK_DIR, metavar="DIR")
    parser.add_argument("--sources", type=Path, default=SOURCES_FILE, metavar="FILE")
    parser.add_argument("--quizzes", type=Path, default=QUIZZES_DIR, metavar="DIR")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    content = subparsers.add_parser(
        "content", help="handbook content", description="Handbook content."
    )
    actions = content.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="validate the handbook, its sources, the quiz banks, abbreviations and synonyms",
        description="Print every problem in the handbook entries, the register of sources "
        "they cite, the quiz banks, the abbreviations list and the synonyms list, and exit 1 "
        "if there is any; otherwise print a one-line summary. Refused: a citation of a "
        "document not in the register or replaced by a newer one, a figure or deadline with "
        "no article cited, a source line naming a document twice or two documents alike, a "
        "quiz question whose entry changed after the question was last reviewed.",
    )
    _paths(check)
    check.add_argument("--abbreviations", type=Path, default=ABBREVIATIONS_FILE, metavar="FILE")
    check.add_argument("--synonyms", type=Path, default=SYNONYMS_FILE, metavar="FILE")
    check.set_defaults(func=_check)
    review = actions.add_parser(
        "review-list",
        help="what to review first: unreviewed entries, quiz questions to recheck",
        description="List what the reviewers should check first: entries no body has "
        "reviewed (or changed since their review), those stating deadlines, votes or "
        "discipline first; quiz questions whose entry changed after they were checked; facts "
        "of the register no official text confirmed. With --source, every entry citing that "
        "document, reviewed or not, and the quiz questions resting on them: the work a new "
        "regulation brings.",
    )
    _paths(review)
    review.add_argument("--source", metavar="ID", help="a source id of the register")
    review.add_argument("--out", type=Path, metavar="FILE.xlsx", help="write an .xlsx file")
    review.set_defaults(func=_review_list)
