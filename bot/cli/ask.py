"""`sotay ask`: answer questions from the handbook, without a database or a messenger."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.cli.errors import CliError, UsageError
from bot.services.handbook import (
    ContentError,
    HandbookIndex,
    SearchResult,
    load_abbreviations,
    load_entries,
    load_synonyms,
)
from content import ABBREVIATIONS_FILE, HANDBOOK_DIR, SYNONYMS_FILE


def _load(handbook: Path, abbreviations: Path, synonyms: Path) -> HandbookIndex:
    try:
        mapping = load_abbreviations(abbreviations)
    except OSError as exc:
        raise CliError(f"cannot read the abbreviations {abbreviations}: {exc.strerror}") from None
    try:
        pairs = load_synonyms(synonyms)
    except OSError as exc:
        raise CliError(f"cannot read the synonyms {synonyms}: {exc.strerror}") from None
    try:
        entries = load_entries(handbook)
    except ContentError as exc:
        raise CliError(
            f"the handbook has {len(exc.problems)} problem(s); run `sotay content check`"
        ) from None
    return HandbookIndex.build(entries, mapping, pairs)


def _as_text(result: SearchResult) -> str:
    if result.entry is None:
        lines = ["Chưa tìm thấy nội dung phù hợp trong Sổ tay."]
        if result.suggestions:
            lines += ["", "Các chủ đề gần nhất:"]
    else:
        entry = result.entry
        lines = [entry.title, "", entry.body, "", f"Nguồn: {entry.source}"]
        if result.suggestions:
            lines += ["", "Có phải đồng chí muốn hỏi:"]
    lines += [f"- {entry.title}" for entry in result.suggestions]
    return "\n".join(lines)


def _as_json(result: SearchResult) -> str:
    entry = result.entry
    return json.dumps(
        {
            "question": result.query,
            "answered": result.answered,
            "entry_id": entry.id if entry else None,
            "title": entry.title if entry else None,
            "answer": entry.body if entry else None,
            "score": round(result.score, 3),
            "suggestions": [{"entry_id": s.id, "title": s.title} for s in result.suggestions],
        },
        ensure_ascii=False,
    )


def _ask(args: argparse.Namespace) -> int:
    question = " ".join(args.question).strip()
    if not question and not args.jsonl:
        raise UsageError(
            'ask: give a question (sotay ask "đảng phí bao nhiêu"), or --jsonl to read '
            "questions from stdin"
        )
    if question and args.jsonl:
        raise UsageError("ask: give either a question or --jsonl (questions on stdin), not both")
    index = _load(args.handbook, args.abbreviations, args.synonyms)
    if not args.jsonl:
        print(_as_text(index.search(question)))
        return 0
    for line in sys.stdin:
        print(_as_json(index.search(line.rstrip("\r\n"))), flush=True)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ask = subparsers.add_parser(
        "ask",
        help="answer a question from the handbook",
        description="Answer a question from the handbook, as the chatbot would. Needs no "
        "database and no messenger token.",
    )
    ask.add_argument("question", nargs="*", help="the question (quoting it is optional)")
    ask.add_argument(
        "--jsonl",
        action="store_true",
        help="read one question per line on stdin, write one JSON object per line",
    )
    ask.add_argument(
        "--handbook",
        type=Path,
        default=HANDBOOK_DIR,
        metavar="DIR",
        help="handbook entries to search (default: the shipped handbook)",
    )
    ask.add_argument(
        "--abbreviations",
        type=Path,
        default=ABBREVIATIONS_FILE,
        metavar="FILE",
        help="abbreviations, one 'abbr<TAB>expansion' per line (default: the shipped list)",
    )
    ask.add_argument(
        "--synonyms",
        type=Path,
        default=SYNONYMS_FILE,
        metavar="FILE",
        help="everyday words, one 'phrase, phrase<TAB>handbook phrase' per line "
        "(default: the shipped list)",
    )
    ask.set_defaults(func=_ask)
