"""Vietnamese alphabetical order, for lists members read (/chude): the letters as the
Vietnamese alphabet orders them (a ă â b c d đ e ê …, so «Đảng phí» follows «Dự bị» and
no longer comes after «Z»), then the tones (none, grave, hook, tilde, acute, dot below) to
break ties. Code-point order puts "Đ" (U+0110) after every Latin letter; PyICU would do
this right but is a heavy native dependency for one sort."""

from __future__ import annotations

import unicodedata

# The Vietnamese alphabet, with the Latin letters it lacks (f j w z) where Latin puts them.
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_RANK = {letter: rank for rank, letter in enumerate(_ALPHABET)}
# Marks that make another letter (a + breve = ă), and the tones, in dictionary order.
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def _letters(word: str) -> tuple[list[str], list[int]]:
    """The letters with their letter-making marks, and each letter's tone (0: none)."""
    letters: list[str] = []
    tones: list[int] = []
    for char in unicodedata.normalize("NFD", word.casefold()):
        if char in _TONES and letters:
            tones[-1] = _TONES[char]
        elif unicodedata.combining(char) and letters:
            if char in _LETTER_MARKS:
                letters[-1] = unicodedata.normalize("NFC", letters[-1] + char)
        else:
            letters.append(char)
            tones.append(0)
    return letters, tones


def sort_key(value: str) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...], str]:
    """Orders by letters in Vietnamese alphabetical order (other characters, such as spaces
    and digits, before letters by code point), then by tones, then as written."""
    letters, tones = _letters(value)
    ranks = tuple((1, _RANK[c]) if c in _RANK else (0, ord(c)) for c in letters)
    return ranks, tuple(tones), value
