"""Vietnamese text normalisation, applied identically to handbook content and to questions.

Text becomes segments (runs between punctuation) of tokens in one canonical accented form:
NFC, lowercase, one tone-mark placement, Telex/VNI leftovers decoded, abbreviations expanded.
`fold` then strips the diacritics for matching that ignores how the question was typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Combining tone marks: huyền, sắc, ngã, hỏi, nặng. Vowel modifiers (^ ˘ ʼ) are not tones.
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_VOWELS = frozenset("aăâeêioôơuưy")
_MODIFIED_VOWELS = frozenset("ăâêôơư")

# A folded (diacritic-free) Vietnamese syllable: onset, vowel nucleus, final consonant, with
# the spelling rules for k/c, gh/g and ngh/ng ("ko" and "ge" are not Vietnamese). Permissive
# otherwise: it only has to tell syllables from Telex/VNI leftovers, chat shorthand and
# English words. The nucleus "oo" (loanwords such as "xoong") is left out: "khoong",
# "coong" are far more often Telex for "không", "công".
_SYLLABLE = re.compile(
    r"(?:ngh(?=[eiy])|ng(?![eiy])|nh|ph|th|tr|ch|gh(?=[eiy])|gi|kh|qu"
    r"|k(?=[eiy])|c(?![eiy])|g(?!e)|[bdhlmnprstvx])?"
    r"(?:ieu|oai|oay|oeo|uay|uoi|uou|uya|uye|uyu|yeu"
    r"|ai|ao|au|ay|eo|eu|ia|ie|iu|oa|oe|oi|ua|ue|ui|uo|uu|uy|ya|ye|[aeiouy])"
    r"(?:ch|ng|nh|[cmnpt])?"
)

_TELEX_TONES = {"s": "\u0301", "f": "\u0300", "r": "\u0309", "x": "\u0303", "j": "\u0323"}
# Longest first: "uow" is how most people type "ươ" ("dduowcj" → "được").
_TELEX_MODIFIERS = (
    ("uow", "ươ"),
    ("aa", "â"),
    ("ee", "ê"),
    ("oo", "ô"),
    ("aw", "ă"),
    ("ow", "ơ"),
    ("uw", "ư"),
    ("w", "ư"),
)
_VNI_TONES = {"1": "\u0301", "2": "\u0300", "3": "\u0309", "4": "\u0303", "5": "\u0323"}
_VNI_MODIFIERS = {"6": {"a": "â", "e": "ê", "o": "ô"}, "7": {"o": "ơ", "u": "ư"}, "8": {"a": "ă"}}

_ASCII_WORD = re.compile(r"[a-z]+")
_VNI_WORD = re.compile(r"[a-z]+[1-9][a-z1-9]*")
# Segments break at anything that is neither a word character nor a space (punctuation,
# emoji, symbols); "_" counts as punctuation too.
_SEGMENT_BREAK = re.compile(r"[^\w\s]+|_+")
_TOKEN = re.compile(r"[^\W_]+")
_SENTENCE_BREAK = re.compile(r"[.!?\n]+")


# Caches: a handbook has a few thousand distinct syllables, so building 10,000 entries
# normalises each one once instead of millions of times (build time 15 s → a few seconds).
@lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """Strip every diacritic; "đ" is not a base letter plus a mark in Unicode, so map it."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def is_syllable(token: str) -> bool:
    """True for a token that is a possible Vietnamese syllable, accented or not."""
    return _SYLLABLE.fullmatch(fold(token)) is not None


def _tone_index(base: str) -> int | None:
    """Index of the vowel that carries the tone in a toneless syllable, or None.

    The classic placement: an open "oa", "oe", "uy" takes it on the first vowel ("hòa",
    "thúy"), where the newer style writes "hoà", "thuý"; both become the classic form.
    """
    start = 0
    # "qu" and "gi" before a vowel are onsets: their u/i never carry the tone.
    if base[:2] in ("qu", "gi") and len(base) > 2 and base[2] in _VOWELS:
        start = 2
    while start < len(base) and base[start] not in _VOWELS:
        start += 1
    end = start
    while end < len(base) and base[end] in _VOWELS:
        end += 1
    nucleus = base[start:end]
    if not nucleus or len(nucleus) > 3:
        return None
    modified = [i for i, ch in enumerate(nucleus) if ch in _MODIFIED_VOWELS]
    if modified:
        return start + modified[-1]
    if len(nucleus) == 3:
        return start + 1
    # Two vowels: the second when a final consonant follows ("hoàn"), else the first.
    if len(nucleus) == 2 and end < len(base):
        return start + 1
    return start


def with_tone(base: str, tone: str | None) -> str:
    """Put `tone` (a combining mark) on the right vowel of `base`, itself without tone."""
    if tone is None:
        return base
    index = _tone_index(base)
    if index is None:
        return unicodedata.normalize("NFC", base + tone)
    return unicodedata.normalize("NFC", base[: index + 1] + tone + base[index + 1 :])


@lru_cache(maxsize=1 << 16)
def canonical_tone(token: str) -> str:
    """One placement for the tone mark: "hoà" and "hòa" both become "hòa"."""
    tone = None
    kept = []
    for ch in unicodedata.normalize("NFD", token):
        if ch in _TONE_MARKS:
            tone = ch
        else:
            kept.append(ch)
    if tone is None:
        return unicodedata.normalize("NFC", token)
    return with_tone(unicodedata.normalize("NFC", "".join(kept)), tone)


def _decode_telex(token: str) -> str | None:
    # A bare "w" is Telex for "ư" ("nhw" → "như").
    first_vowel = next((i for i, ch in enumerate(token) if ch in "aeiouyw"), None)
    if first_vowel is None:
        return None
    # Valid finals never contain s/f/r/x/j, so one of them after the first vowel is a tone key.
    tone_at = [i for i, ch in enumerate(token) if ch in _TELEX_TONES and i > first_vowel]
    if len(tone_at) > 1:
        return None
    tone = None
    if tone_at:
        tone = _TELEX_TONES[token[tone_at[0]]]
        token = token[: tone_at[0]] + token[tone_at[0] + 1 :]
    if token.startswith("dd"):
        token = "đ" + token[2:]
    # Like the tone key, "w" may come after the final consonant ("mucws" → "mức"): move it
    # back to the vowels it modifies.
    late = token.find("w")
    if late > 0 and token[late - 1] not in "aeiouy":
        vowels = [i for i, ch in enumerate(token[:late]) if ch in "aeiouy"]
        if vowels:
            token = token[: vowels[-1] + 1] + "w" + token[vowels[-1] + 1 : late] + token[late + 1 :]
    for typed, letter in _TELEX_MODIFIERS:
        token = token.replace(typed, letter)
    return with_tone(token, tone)


def _decode_vni(token: str) -> str | None:
    letters: list[str] = []
    tone = None
    for ch in token:
        if ch in _VNI_TONES:
            tone = _VNI_TONES[ch]
        elif ch == "9":
            if "d" not in letters:
                return None
            letters[letters.index("d")] = "đ"
        elif ch in _VNI_MODIFIERS:
            targets = _VNI_MODIFIERS[ch]
            spots = [i for i, letter in enumerate(letters) if letter in targets]
            if not spots:
                return None
            letters[spots[-1]] = targets[letters[spots[-1]]]
            # "uo7" is the usual shortcut for "ươ".
            if ch == "7" and spots[-1] > 0 and letters[spots[-1] - 1] == "u":
                letters[spots[-1] - 1] = "ư"
        else:
            letters.append(ch)
    return with_tone("".join(letters), tone)


@lru_cache(maxsize=1 << 16)
def decode_typing(token: str) -> str:
    """Decode a Telex or VNI leftover ("ddangr", "d9ang3") into the accented syllable.

    Only plain ASCII tokens that are not already a syllable are tried, and the decoding is
    kept only if it yields one: "bao", "nhieu", "khi" and English words pass through.
    """
    if _ASCII_WORD.fullmatch(token):
        if is_syllable(token):
            return token
        decoded = _decode_telex(token)
    elif _VNI_WORD.fullmatch(token):
        decoded = _decode_vni(token)
    else:
        return token
    if decoded is None or not is_syllable(decoded):
        return token
    return decoded


def _words(text: str) -> Iterator[list[str]]:
    """Segments of lowercase NFC tokens with one tone placement, before any decoding."""
    text = unicodedata.normalize("NFC", text).lower()
    for segment in _SEGMENT_BREAK.split(text):
        tokens = [canonical_tone(t) for t in _TOKEN.findall(segment)]
        if tokens:
            yield tokens


def proper_names(text: str) -> frozenset[str]:
    """The folded words written capitalised inside a sentence ("vào Sài Gòn", "sang Đức"):
    names of places and people. A word in capitals is an abbreviation ("ĐU"), not a name."""
    names: set[str] = set()
    for sentence in _SENTENCE_BREAK.split(unicodedata.normalize("NFC", text)):
        words = _TOKEN.findall(sentence)[1:]
        names.update(fold(w).lower() for w in words if w[0].isupper() and not w.isupper())
    return frozenset(names)


@dataclass(frozen=True, slots=True)
class Abbreviations:
    """Abbreviation → expansion, matched on whole tokens (or token runs, e.g. "qđ tw")."""

    exact: Mapping[tuple[str, ...], tuple[str, ...]]
    # Keys typed without diacritics ("dv" for "đv"); keys that are themselves syllables
    # ("tư") are kept out, so "tu" in "tu dưỡng" is never expanded.
    folded: Mapping[tuple[str, ...], tuple[str, ...]]
    longest: int
    # First tokens of every key, exact or folded: most tokens start no abbreviation.
    starts: frozenset[str]

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str]) -> Abbreviations:
        exact: dict[tuple[str, ...], tuple[str, ...]] = {}
        folded: dict[tuple[str, ...], tuple[str, ...]] = {}
        for abbr, expansion in mapping.items():
            key = tuple(t for segment in _words(abbr) for t in segment)
            value = tuple(t for segment in normalize(expansion) for t in segment)
            if not key or not value or key == value:
                continue
            if len(key) == 1 and is_syllable(key[0]):
                continue
            exact[key] = value
            folded.setdefault(tuple(fold(t) for t in key), value)
        starts = frozenset(key[0] for key in (*exact, *folded))
        return cls(exact, folded, max(map(len, exact), default=0), starts)

    def match(self, tokens: list[str], start: int) -> tuple[tuple[str, ...], int] | None:
        """The expansion of the longest abbreviation at `start`, and how many tokens it spans."""
        if tokens[start] not in self.starts:
            return None
        for size in range(min(self.longest, len(tokens) - start), 0, -1):
            run = tuple(tokens[start : start + size])
            value = self.exact.get(run)
            if value is None and all(fold(t) == t for t in run):
                value = self.folded.get(run)
            if value is not None:
                return value, size
        return None


def load_abbreviations(path: Path) -> dict[str, str]:
    """Read `abbr<TAB>expansion` lines; blank lines and `#` comments are skipped."""
    mapping: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        abbr, _, expansion = line.partition("\t")
        if abbr.strip() and expansion.strip():
            mapping[abbr.strip()] = expansion.strip()
    return mapping


def check_abbreviations(path: Path) -> list[str]:
    """Problems in an abbreviations file, one human-readable line each."""
    problems = []
    seen: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        abbr, tab, expansion = line.partition("\t")
        abbr, expansion = abbr.strip(), expansion.strip()
        where = f"{path.name}:{number}"
        if not tab or not abbr or not expansion:
            problems.append(f"{where}: expected 'abbreviation<TAB>expansion'")
            continue
        key = canonical_tone(unicodedata.normalize("NFC", abbr).lower())
        if key in seen and seen[key] != expansion:
            problems.append(f"{where}: '{abbr}' already expands to '{seen[key]}'")
        seen.setdefault(key, expansion)
        if " " not in key and is_syllable(key):
            problems.append(f"{where}: '{abbr}' is an ordinary syllable and is ignored")
    return problems


def normalize(text: str, abbreviations: Abbreviations | None = None) -> list[list[str]]:
    """Segments of canonical accented tokens; `fold` each token for diacritic-free matching.

    Abbreviations are looked up before Telex decoding, which would turn "tw" into "tư".
    """
    segments = []
    for words in _words(text):
        tokens: list[str] = []
        i = 0
        while i < len(words):
            found = abbreviations.match(words, i) if abbreviations else None
            if found is None:
                tokens.append(canonical_tone(decode_typing(words[i])))
                i += 1
            else:
                tokens.extend(found[0])
                i += found[1]
        segments.append(tokens)
    return segments
