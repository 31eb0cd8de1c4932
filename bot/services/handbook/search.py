"""Handbook search: ranks entries for a question and decides whether to answer it.

Ranking is BM25F over folded syllables and adjacent-syllable pairs (Vietnamese words are
mostly two syllables, so pairs stand in for words without a segmenter), with the fields
weighted. Query syllables missing from the vocabulary are corrected to the closest one by
Damerau-Levenshtein distance (rapidfuzz). The confidence that decides is the share of the
question's information (idf) the entry covers, blended with rapidfuzz similarity between
the question and the entry's title and sample questions.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

from bot.services.handbook.entries import Entry
from bot.services.handbook.normalize import Abbreviations, fold, normalize

# Field: (BM25F weight, length normalisation b). Titles and sample questions are written to
# match how people ask; the body is long and matches many words by chance.
_FIELDS = {
    "title": (3.0, 0.3),
    "questions": (2.5, 0.3),
    "keywords": (2.0, 0.3),
    "category": (1.0, 0.0),
    "body": (1.0, 0.75),
}
_K1 = 1.2
_PAIR_WEIGHT = 1.0
# Field mask bits kept with each posting: coverage credits a body-only match less.
_HEADING = 1
_BODY = 2
_BODY_CREDIT = 0.5
_CORRECTED_CREDIT = 0.7

# Questions are short; anything longer is pasted text, not a question, and is refused
# before any work so the time spent stays bounded.
MAX_QUERY_CHARS = 500
_MAX_QUERY_TOKENS = 40
_CANDIDATES = 20

_COVERAGE_SHARE = 0.7
# A question must name something specific: the information it matches (idf) must reach this
# share of one never-seen word's, or "là gì" and "đảng viên" would match everything a little.
_SPECIFICITY = 0.4
ANSWER_THRESHOLD = 0.5
AMBIGUITY_GAP = 0.08
_SUGGEST_FLOOR = 0.25
_MAX_SUGGESTIONS = 3


class Decision(StrEnum):
    ANSWER = "answer"
    # Answer with the best entry and offer the close runners-up: "did you mean...".
    ANSWER_WITH_SUGGESTIONS = "answer_with_suggestions"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    decision: Decision
    entry: Entry | None  # the best match; None when not found
    score: float  # confidence in the best candidate, 0..1
    suggestions: tuple[Entry, ...]  # runners-up when answering, closest topics when not

    @property
    def answered(self) -> bool:
        return self.decision is not Decision.NOT_FOUND


@dataclass(frozen=True, slots=True)
class _Token:
    typed: str
    term: str | None  # the vocabulary syllable it matched; None if unknown
    corrected: bool


@dataclass(frozen=True, slots=True)
class _Posting:
    docs: array  # ascending entry indexes
    weights: array  # BM25F contribution of the term to each entry
    masks: array  # _HEADING | _BODY


def _segments(text: str, abbreviations: Abbreviations) -> list[list[str]]:
    return [[fold(t) for t in segment] for segment in normalize(text, abbreviations)]


def _terms(segments: Iterable[list[str]]) -> Counter[str]:
    """Syllables and adjacent-syllable pairs (within a segment) with their counts."""
    counts: Counter[str] = Counter()
    for segment in segments:
        counts.update(segment)
        counts.update(f"{a} {b}" for a, b in pairwise(segment))
    return counts


class HandbookIndex:
    """Built once from the entries; searching is read-only and safe to share."""

    def __init__(
        self,
        entries: Sequence[Entry],
        abbreviations: Abbreviations,
        postings: dict[str, _Posting],
        titles: list[list[str]],
    ) -> None:
        self._entries = list(entries)
        self._by_id = {entry.id: i for i, entry in enumerate(self._entries)}
        self._abbreviations = abbreviations
        self._postings = postings
        self._titles = titles
        self._vocabulary = sorted(t for t in postings if " " not in t)
        n = len(self._entries)
        self._unknown_idf = math.log(1 + (n + 0.5) / 0.5)

    @classmethod
    def build(cls, entries: Sequence[Entry], abbreviations: Abbreviations) -> HandbookIndex:
        fields = []
        for entry in entries:
            fields.append(
                {
                    "title": _segments(entry.title, abbreviations),
                    "questions": [s for q in entry.questions for s in _segments(q, abbreviations)],
                    "keywords": [s for k in entry.keywords for s in _segments(k, abbreviations)],
                    "category": _segments(entry.category, abbreviations),
                    "body": _segments(entry.body, abbreviations),
                }
            )
        n = len(entries)
        lengths = {name: [sum(map(len, doc[name])) for doc in fields] for name in _FIELDS}
        average = {name: max(sum(values) / max(n, 1), 1.0) for name, values in lengths.items()}

        raw: dict[str, list[tuple[int, float, int]]] = {}
        for i, doc in enumerate(fields):
            weighted: Counter[str] = Counter()
            masks: dict[str, int] = {}
            for name, (weight, b) in _FIELDS.items():
                norm = 1 - b + b * lengths[name][i] / average[name]
                bit = _BODY if name == "body" else _HEADING
                for term, count in _terms(doc[name]).items():
                    weighted[term] += weight * count / norm
                    masks[term] = masks.get(term, 0) | bit
            for term, tf in weighted.items():
                raw.setdefault(term, []).append((i, tf, masks[term]))

        postings = {}
        for term, rows in raw.items():
            idf = math.log(1 + (n - len(rows) + 0.5) / (len(rows) + 0.5))
            if " " in term:
                idf *= _PAIR_WEIGHT
            postings[term] = _Posting(
                array("I", (i for i, _, _ in rows)),
                array("f", (idf * tf * (_K1 + 1) / (tf + _K1) for _, tf, _ in rows)),
                array("B", (mask for _, _, mask in rows)),
            )
        titles = [[" ".join(s) for s in doc["title"] + doc["questions"]] for doc in fields]
        return cls(entries, abbreviations, postings, titles)

    @property
    def entries(self) -> list[Entry]:
        return list(self._entries)

    def get(self, entry_id: str) -> Entry | None:
        index = self._by_id.get(entry_id)
        return None if index is None else self._entries[index]

    def _idf(self, term: str) -> float:
        n = len(self._entries)
        df = len(self._postings[term].docs)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def _correct(self, typed: str, before: str | None, after: str | None) -> str | None:
        """The vocabulary syllable closest to a typo, preferring one that pairs with its
        neighbours; None if nothing is close enough."""
        if not typed.isalpha() or len(typed) < 3:
            return None
        limit = 1 if len(typed) <= 5 else 2
        found = process.extract(
            typed,
            self._vocabulary,
            scorer=DamerauLevenshtein.distance,
            score_cutoff=limit,
            limit=10,
        )
        if not found:
            return None

        def preference(candidate: tuple[str, int, int]) -> tuple[int, int, int]:
            term, distance, _ = candidate
            pairs = (before is not None and f"{before} {term}" in self._postings) + (
                after is not None and f"{term} {after}" in self._postings
            )
            return distance, -pairs, -len(self._postings[term].docs)

        return min(found, key=preference)[0]

    def _resolve(self, segment: list[str]) -> list[_Token]:
        tokens: list[_Token] = []
        for i, typed in enumerate(segment):
            if typed in self._postings:
                tokens.append(_Token(typed, typed, corrected=False))
                continue
            # Two syllables typed without the space between them ("dangvien").
            split = next(
                (
                    (typed[:k], typed[k:])
                    for k in range(1, len(typed))
                    if f"{typed[:k]} {typed[k:]}" in self._postings
                ),
                None,
            )
            if split is not None:
                tokens.extend(_Token(part, part, corrected=False) for part in split)
                continue
            before = tokens[-1].term if tokens else None
            after = segment[i + 1] if i + 1 < len(segment) else None
            if after is not None and after not in self._postings:
                after = None
            term = self._correct(typed, before, after)
            tokens.append(_Token(typed, term, corrected=term is not None))
        return tokens

    def _score(self, terms: Iterable[str]) -> dict[int, float]:
        scores: dict[int, float] = {}
        for term in terms:
            posting = self._postings[term]
            for doc, weight in zip(posting.docs, posting.weights, strict=True):
                scores[doc] = scores.get(doc, 0.0) + weight
        return scores

    def _mask(self, term: str, doc: int) -> int:
        posting = self._postings[term]
        at = bisect_left(posting.docs, doc)
        if at < len(posting.docs) and posting.docs[at] == doc:
            return posting.masks[at]
        return 0

    def search(self, query: str) -> SearchResult:
        if len(query) > MAX_QUERY_CHARS:
            return SearchResult(query, Decision.NOT_FOUND, None, 0.0, ())
        segments = _segments(query, self._abbreviations)
        kept: list[list[str]] = []
        budget = _MAX_QUERY_TOKENS
        for segment in segments:
            if budget <= 0:
                break
            kept.append(segment[:budget])
            budget -= len(kept[-1])
        resolved = [self._resolve(segment) for segment in kept]

        # Each distinct query syllable counts once, weighted by how informative it is.
        weights: dict[str, tuple[str | None, bool, float]] = {}
        for tokens in resolved:
            for token in tokens:
                if token.term is None:
                    weights.setdefault(token.typed, (None, False, self._unknown_idf))
                else:
                    weights.setdefault(
                        token.term, (token.term, token.corrected, self._idf(token.term))
                    )
        terms = {w[0] for w in weights.values() if w[0] is not None}
        for tokens in resolved:
            known = [t.term for t in tokens]
            terms.update(
                f"{a} {b}"
                for a, b in pairwise(known)
                if a is not None and b is not None and f"{a} {b}" in self._postings
            )
        if not terms:
            return SearchResult(query, Decision.NOT_FOUND, None, 0.0, ())

        scores = self._score(terms)
        top = sorted(scores, key=scores.__getitem__, reverse=True)[:_CANDIDATES]
        total = sum(w for _, _, w in weights.values())
        text = " ".join(" ".join(s) for s in kept)
        ranked = []
        for doc in top:
            covered = 0.0
            for term, corrected, weight in weights.values():
                if term is None:
                    continue
                mask = self._mask(term, doc)
                credit = 1.0 if mask & _HEADING else _BODY_CREDIT if mask else 0.0
                covered += weight * credit * (_CORRECTED_CREDIT if corrected else 1.0)
            similar = max(fuzz.token_sort_ratio(text, t) for t in self._titles[doc]) / 100
            confidence = _COVERAGE_SHARE * covered / total + (1 - _COVERAGE_SHARE) * similar
            confidence *= min(1.0, covered / (_SPECIFICITY * self._unknown_idf))
            ranked.append((confidence, scores[doc], doc))
        ranked.sort(reverse=True)

        best_confidence, _, best = ranked[0]
        if best_confidence < ANSWER_THRESHOLD:
            closest = tuple(
                self._entries[doc]
                for confidence, _, doc in ranked[:_MAX_SUGGESTIONS]
                if confidence >= _SUGGEST_FLOOR
            )
            return SearchResult(query, Decision.NOT_FOUND, None, best_confidence, closest)
        runners_up = tuple(
            self._entries[doc]
            for confidence, _, doc in ranked[1 : 1 + _MAX_SUGGESTIONS]
            if confidence >= best_confidence - AMBIGUITY_GAP
        )
        decision = Decision.ANSWER_WITH_SUGGESTIONS if runners_up else Decision.ANSWER
        return SearchResult(query, decision, self._entries[best], best_confidence, runners_up)

    def related(self, entry: Entry, n: int = 3) -> list[Entry]:
        """Up to n other entries on nearby topics, those in the same category first."""
        own = self._by_id[entry.id]
        text = " ".join((entry.title, *entry.questions, *entry.keywords))
        terms = [t for t in _terms(_segments(text, self._abbreviations)) if t in self._postings]
        scores = self._score(terms)
        scores.pop(own, None)
        ranked = sorted(
            scores,
            key=lambda doc: (self._entries[doc].category == entry.category, scores[doc]),
            reverse=True,
        )
        return [self._entries[doc] for doc in ranked[:n]]
