"""Search quality on the labelled questions, next to a naive rapidfuzz baseline.

Reads every benchmarks/data/search_queries_*.jsonl (or the files given) and prints
`name: value` lines:
  top1          in-scope questions answered with the expected entry
  top3          in-scope questions whose expected entry is shown at all (the answer or one
                of the suggestions, "did you mean" or "closest topics"); the user can tap it
  wrong_answer  in-scope questions answered with another entry (worse than "not found")
  refusal       out-of-scope questions answered "not found"
overall and per kind. The baseline is rapidfuzz WRatio of the raw question against the
entry titles, refusing below the cutoff that is best for it on these very questions (the
most questions right), which flatters it; its top-1 with no cutoff is printed too.

The held-out set (benchmarks/data/search_heldout.jsonl) was written before the search was
tuned and is never used to tune it: the same figures follow for it with a `heldout_`
prefix, the baseline keeping the cutoff chosen on the labelled questions. A gap between
the two sets means the tuning fits the labelled phrasings rather than the way people ask.
Run from the repository root:
  .venv/bin/python benchmarks/search_quality.py [--failures] [--heldout FILE] [FILE ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz, process  # noqa: E402

from bot.services.handbook import HandbookIndex, load_index  # noqa: E402


def _read(files: list[Path]) -> list[dict]:
    rows = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                row = json.loads(line)
                row["where"] = f"{path.name}:{number}"
                rows.append(row)
    return rows


class Outcome(NamedTuple):
    hit: bool  # in scope: answered with the expected entry; out of scope: refused
    shown: bool  # in scope: the expected entry among the three shown (or ranked)
    answered: bool


def _ours(index: HandbookIndex, rows: list[dict], failures: bool) -> list[Outcome]:
    outcomes = []
    for row in rows:
        result = index.search(row["q"])
        entry = result.entry
        shown = [e.id for e in ([entry] if entry else []) + list(result.suggestions)]
        if row["expected"] is None:
            outcome = Outcome(not result.answered, not result.answered, result.answered)
        else:
            top1 = result.answered and entry is not None and entry.id == row["expected"]
            outcome = Outcome(top1, row["expected"] in shown[:3], result.answered)
        outcomes.append(outcome)
        if failures and not outcome.hit:
            print(
                f"# {row['where']} [{row['kind']}] {row['q']!r} expected={row['expected']} "
                f"got={result.decision.value}:{entry.id if entry else None} "
                f"score={result.score:.3f} shown={shown}"
            )
    return outcomes


def _baseline(index: HandbookIndex, rows: list[dict]) -> tuple[int, dict[int, list[Outcome]]]:
    """The best cutoff for the baseline, and its outcomes at every cutoff."""
    titles = {entry.id: entry.title for entry in index.entries}
    ranked = [
        process.extract(row["q"], titles, scorer=fuzz.WRatio, processor=str.lower, limit=3)
        for row in rows
    ]

    def outcomes(cutoff: int) -> list[Outcome]:
        found = []
        for row, top in zip(rows, ranked, strict=True):
            answered = bool(top) and top[0][1] >= cutoff
            ids = [key for _, _, key in top]
            if row["expected"] is None:
                found.append(Outcome(not answered, not answered, answered))
            else:
                hit = answered and ids[0] == row["expected"]
                found.append(Outcome(hit, row["expected"] in ids, answered))
        return found

    by_cutoff = {cutoff: outcomes(cutoff) for cutoff in range(0, 101)}

    # The fairest cutoff for it: the one that gets the most questions right, an answer
    # with the expected entry or a refusal of an out-of-scope question counting alike.
    return max(by_cutoff, key=lambda c: sum(o.hit for o in by_cutoff[c])), by_cutoff


def _figures(prefix: str, rows: list[dict], outcomes: list[Outcome]) -> dict[str, float]:
    """Overall figures first, then per kind; in-scope and out-of-scope rows never mix."""
    groups: dict[tuple[str, bool], list[Outcome]] = defaultdict(list)
    for row, outcome in zip(rows, outcomes, strict=True):
        in_scope = row["expected"] is not None
        groups[("", in_scope)].append(outcome)
        groups[(f"kind.{row['kind']}.", in_scope)].append(outcome)
    figures = {}
    for (name, in_scope), found in sorted(groups.items(), key=lambda g: (g[0][0] != "", g[0])):
        if in_scope:
            figures[f"{prefix}{name}top1"] = sum(o.hit for o in found) / len(found)
            figures[f"{prefix}{name}top3"] = sum(o.shown for o in found) / len(found)
            wrong = sum(o.answered and not o.hit for o in found)
            figures[f"{prefix}{name}wrong_answer"] = wrong / len(found)
        else:
            figures[f"{prefix}{name}refusal"] = sum(o.hit for o in found) / len(found)
    return figures


def _report(
    prefix: str, index: HandbookIndex, rows: list[dict], failures: bool, cutoff: int | None
) -> None:
    """Print the figures for one set of questions next to the baseline's; the baseline
    uses `cutoff`, or the best cutoff for it on these questions when None."""
    ours = _figures(prefix, rows, _ours(index, rows, failures))
    best, baseline_outcomes = _baseline(index, rows)
    cutoff = best if cutoff is None else cutoff
    theirs = _figures(f"baseline_{prefix}", rows, baseline_outcomes[cutoff])
    # With no cutoff the baseline answers everything: its best possible top-1.
    unrefused = _figures("", rows, baseline_outcomes[0])["top1"]
    print(f"{prefix}queries: {len(rows)}")
    print(f"{prefix}in_scope: {sum(r['expected'] is not None for r in rows)}")
    print(f"{prefix}out_of_scope: {sum(r['expected'] is None for r in rows)}")
    print(f"{prefix}baseline_cutoff: {cutoff}")
    print(f"{prefix}baseline_top1_no_cutoff: {unrefused:.3f}")
    for name, value in ours.items():
        print(f"{name}: {value:.3f}")
        print(f"baseline_{name}: {theirs[f'baseline_{name}']:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--failures", action="store_true", help="print every miss first")
    parser.add_argument(
        "--heldout",
        type=Path,
        default=ROOT / "benchmarks" / "data" / "search_heldout.jsonl",
        metavar="FILE",
        help="held-out questions, reported apart (skipped if the file does not exist)",
    )
    args = parser.parse_args()
    files = args.files or sorted((ROOT / "benchmarks" / "data").glob("search_queries_*.jsonl"))
    if not files:
        print("no labelled queries in benchmarks/data", file=sys.stderr)
        return 1
    rows = _read(files)
    index = load_index()
    print(f"entries: {len(index.entries)}")
    _report("", index, rows, args.failures, None)
    if args.heldout.is_file():
        cutoff, _ = _baseline(index, rows)
        _report("heldout_", index, _read([args.heldout]), args.failures, cutoff)
    return 0


if __name__ == "__main__":
    sys.exit(main())
