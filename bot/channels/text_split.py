"""Splitting long answers to a messenger's length limit without cutting a paragraph in two
when it can be helped."""

from __future__ import annotations

# Coarsest boundary first: paragraphs, then lines, then words.
_SEPARATORS = ("\n\n", "\n", " ")


def split_text(text: str, limit: int) -> list[str]:
    """Chunks of at most `limit` characters that together hold the whole text."""
    if limit < 1:
        raise ValueError("limit must be positive")
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    return _split(text, limit, 0)


def _split(text: str, limit: int, level: int) -> list[str]:
    if len(text) <= limit:
        return [text]
    if level == len(_SEPARATORS):
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    separator = _SEPARATORS[level]
    chunks: list[str] = []
    current = ""
    for piece in text.split(separator):
        candidate = f"{current}{separator}{piece}" if current else piece
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        if len(piece) <= limit:
            current = piece
        else:
            *whole, current = _split(piece, limit, level + 1)
            chunks.extend(whole)
    if current:
        chunks.append(current)
    return [chunk.strip() for chunk in chunks if chunk.strip()]
