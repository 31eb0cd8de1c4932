"""Log output never shows a phone or card number: long digit runs are cut to their last four
digits ("***5678"), in messages and tracebacks alike."""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

# Seven or more digits, grouped by spaces or dots (not dashes: dates), with an optional "+".
_NUMBER = re.compile(r"\+?\d(?:[ .]?\d){6,}")


def mask_numbers(text: str) -> str:
    return _NUMBER.sub(lambda match: "***" + re.sub(r"\D", "", match.group())[-4:], text)


class MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_numbers(super().format(record))


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record is emitted, not when it was made."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure_logging(level: int) -> None:
    """One masked stderr handler on the root logger; calling it again replaces it."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("alembic.runtime.plugins", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
