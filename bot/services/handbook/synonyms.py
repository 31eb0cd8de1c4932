"""Everyday words for handbook concepts: "gạch tên" means "xóa tên", "đi Thái" "nước ngoài".

content/synonyms.tsv holds `everyday phrase[, phrase...]<TAB>handbook phrase` lines. Unlike
an abbreviation, a synonym does not replace what was typed: the question keeps its own words
and also asks for the handbook phrase, at a lower weight, so that an entry using the
member's own words still ranks first. A separate file rather than more abbreviation lines:
abbreviations are rewritten before Telex decoding and count in full, synonyms are looked up
on the decoded words and count less, and an editor should not have to know which is which
from a marker on the line.

Phrases also match typed without diacritics ("gach ten"), except a one-syllable phrase
where the handbook has a word spelt that way: "roi" is more likely "rồi" than "rơi".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.services.handbook.function_words import is_function_word
from bot.services.handbook.normalize import fold, normalize

FORMAT = "expected 'phrase[, phrase...]<TAB>handbook phrase'"


def _tokens(text: str) -> tuple[str, ...]:
    """Normalised tokens of a phrase, across punctuation."""
    return tuple(token for segment in normalize(text) for token in segment)


@dataclass(frozen=True, slots=True)
class Synonyms:
    """Everyday phrase (normalised tokens) → the handbook phrases it stands for."""

    exact: Mapping[tuple[str, ...], tuple[tuple[str, ...], ...]]
    # The same, folded, for questions typed without diacritics.
    folded: Mapping[tuple[str, ...], tuple[tuple[str, ...], ...]]
    longest: int
    # First tokens of every phrase, exact or folded: most tokens start none.
    starts: frozenset[str]

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Synonyms:
        exact: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        folded: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        for phrase, expansion in pairs:
            key, value = _tokens(phrase), _tokens(expansion)
            if not key or not value or key == value:
                continue
            if value not in exact.setdefault(key, []):
                exact[key].append(value)
            if value not in folded.setdefault(tuple(map(fold, key)), []):
                folded[tuple(map(fold, key))].append(value)
        starts = frozenset(key[0] for key in (*exact, *folded))
        return cls(
            {key: tuple(values) for key, values in exact.items()},
            {key: tuple(values) for key, values in folded.items()},
            max(map(len, exact), default=0),
            starts,
        )

    def find(
        self, words: Sequence[str], ambiguous: Callable[[str], bool]
    ) -> Iterator[tuple[int, int, tuple[tuple[str, ...], ...]]]:
        """(start, end, handbook phrases) for each phrase in `words`, longest first at each
        place, not overlapping; a lone word typed without diacritics for which `ambiguous`
        is true matches no one-syllable phrase."""
        i = 0
        while i < len(words):
            found = self._match(words, i, ambiguous) if words[i] in self.starts else None
            if found is None:
                i += 1
                continue
            size, values = found
            yield i, i + size, values
            i += size

    def _match(
        self, words: Sequence[str], start: int, ambiguous: Callable[[str], bool]
    ) -> tuple[int, tuple[tuple[str, ...], ...]] | None:
        for size in range(min(self.longest, len(words) - start), 0, -1):
            run = tuple(words[start : start + size])
            values = self.exact.get(run)
            bare = all(fold(t) == t for t in run)
            if values is None and bare and (size > 1 or not ambiguous(run[0])):
                values = self.folded.get(run)
            if values is not None:
                return size, values
        return None


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered lines that are neither blank nor `#` comments."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield number, line


def _split(line: str) -> tuple[list[str], str] | None:
    """The phrases and the handbook phrase of a line, or None if it is malformed."""
    phrases, tab, expansion = line.partition("\t")
    words = [phrase.strip() for phrase in phrases.split(",")]
    if not tab or not expansion.strip() or not all(words):
        return None
    return words, expansion.strip()


def load_synonyms(path: Path) -> list[tuple[str, str]]:
    """(everyday phrase, handbook phrase) pairs; malformed lines are skipped."""
    pairs = []
    for _, line in _lines(path):
        parsed = _split(line)
        if parsed is not None:
            pairs.extend((phrase, parsed[1]) for phrase in parsed[0])
    return pairs


def check_synonyms(path: Path, occurs: Callable[[str], bool] | None = None) -> list[str]:
    """Problems in a synonyms file, one human-readable line each. With `occurs` (does the
    handbook contain this phrase?), a handbook phrase found in no entry is one too: it can
    never match, and is most likely misspelt."""
    problems = []
    seen: dict[tuple[tuple[str, ...], tuple[str, ...]], int] = {}
    for number, line in _lines(path):
        where = f"{path.name}:{number}"
        parsed = _split(line)
        if parsed is None:
            problems.append(f"{where}: {FORMAT}")
            continue
        phrases, expansion = parsed
        value = _tokens(expansion)
        if not value:
            problems.append(f"{where}: {FORMAT}")
            continue
        for phrase in phrases:
            key = _tokens(phrase)
            if not key:
                problems.append(f"{where}: '{phrase}' has no words")
            elif tuple(map(fold, key)) == tuple(map(fold, value)):
                problems.append(f"{where}: '{phrase}' is the handbook phrase itself")
            elif all(is_function_word(token) for token in key):
                problems.append(f"{where}: '{phrase}' is a function word and would match anything")
            elif (key, value) in seen:
                problems.append(
                    f"{where}: '{phrase}' already maps to '{expansion}' (line {seen[key, value]})"
                )
            else:
                seen[key, value] = number
        if occurs is not None and not occurs(expansion):
            problems.append(f"{where}: '{expansion}' occurs in no handbook entry")
    return problems
