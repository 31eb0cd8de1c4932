"""Log output never shows a phone or card number: long digit runs are cut to their last four
digits ("***5678"), in messages and tracebacks alike."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping
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


def configure_logging(level: int, environ: Mapping[str, str] = os.environ) -> None:
    """One masked stderr handler on the root logger, as text or, with SOTAY_LOG_FORMAT=json,
    JSON lines; calling it again replaces it."""
    from bot.logjson import formatter_from  # bot.logjson builds on this module

    formatter, warning = formatter_from(environ)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(level)
    # `sotay db upgrade` says in one line what it did; Alembic's own lines would come first.
    for noisy in ("alembic", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if warning is not None:
        logging.getLogger(__name__).warning(warning)
