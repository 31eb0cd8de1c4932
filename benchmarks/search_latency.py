"""Search latency per question, over the shipped handbook and over 10,000 synthetic entries.

The synthetic entries are made in memory from the shipped ones: each takes its title,
questions, keywords and body sentences from a few shipped entries at random, so the
vocabulary is the real one and common syllables have long postings (the slow case). They
come in categories of a dozen, as a handbook that size would have: /chude lists a
category's entries as buttons (the index works out each entry's related topics within its
category when it is built).
Questions are the labelled and held-out ones in benchmarks/data, else the entries' own
sample questions; the index uses the shipped abbreviations and synonyms, as the bot does.
Prints `name: value` lines (milliseconds, build times in seconds), and the time to get an
entry's related topics, which every answer shows. Run from the repo root:
  .venv/bin/python benchmarks/search_latency.py
"""

from __future__ import annotations

import json
import random
import re
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.services.handbook import (  # noqa: E402
    Entry,
    HandbookIndex,
    load_abbreviations,
    load_entries,
    load_synonyms,
)
from content import ABBREVIATIONS_FILE, HANDBOOK_DIR, SYNONYMS_FILE  # noqa: E402

SYNTHETIC = 10_000
CATEGORY_SIZE = 12
RELATED_SAMPLE = 200
REPEATS = 3


def _questions(entries: list[Entry]) -> list[str]:
    files = sorted((ROOT / "benchmarks" / "data").glob("search_*.jsonl"))
    rows = [
        json.loads(line)["q"]
        for path in files
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return rows or [q for entry in entries for q in entry.questions]


def _synthetic(entries: list[Entry], count: int) -> list[Entry]:
    rng = random.Random(20261125)
    sentences = [s for e in entries for s in re.split(r"(?<=[.!?])\s+|\n+", e.body) if s.strip()]
    made = []
    for i in range(count):
        a, b, c = rng.sample(entries, 3)
        block = i // CATEGORY_SIZE
        made.append(
            replace(
                a,
                id=f"{a.id}-{i}",
                title=f"{a.title} {rng.choice(b.title.split())} {rng.choice(c.keywords)}",
                questions=(*a.questions[:1], *b.questions[:1], *c.questions[:1]),
                keywords=(*a.keywords[:2], *b.keywords[:2]),
                category=f"{entries[block % len(entries)].category} {block}",
                body=" ".join(rng.sample(sentences, min(len(sentences), rng.randint(4, 12)))),
            )
        )
    return made


def _measure(
    name: str,
    entries: list[Entry],
    abbreviations: dict[str, str],
    synonyms: list[tuple[str, str]],
    questions: list[str],
) -> None:
    started = time.perf_counter()
    index = HandbookIndex.build(entries, abbreviations, synonyms)
    print(f"{name}_entries: {len(entries)}")
    print(f"{name}_build_s: {time.perf_counter() - started:.3f}")
    for question in questions:  # warm-up: first-call costs are not per-question latency
        index.search(question)
    timings = []
    for _ in range(REPEATS):
        for question in questions:
            started = time.perf_counter()
            index.search(question)
            timings.append((time.perf_counter() - started) * 1000)
    percentiles = statistics.quantiles(timings, n=100, method="inclusive")
    print(f"{name}_queries: {len(timings)}")
    print(f"{name}_p50_ms: {statistics.median(timings):.3f}")
    print(f"{name}_p99_ms: {percentiles[98]:.3f}")
    print(f"{name}_max_ms: {max(timings):.3f}")
    # The related topics offered under each answer: worked out when the index is built.
    related = []
    for entry in entries[:RELATED_SAMPLE]:
        started = time.perf_counter()
        index.related(entry)
        related.append((time.perf_counter() - started) * 1000)
    print(f"{name}_related_p50_ms: {statistics.median(related):.3f}")


def main() -> int:
    entries = load_entries(HANDBOOK_DIR)
    abbreviations = load_abbreviations(ABBREVIATIONS_FILE)
    synonyms = load_synonyms(SYNONYMS_FILE)
    questions = _questions(entries)
    _measure("shipped", entries, abbreviations, synonyms, questions)
    _measure("synthetic", _synthetic(entries, SYNTHETIC), abbreviations, synonyms, questions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
