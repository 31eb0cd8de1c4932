"""Log output never shows a phone or card number: long digit runs are cut to their last four
digits ("***5678"), in messages and tracebacks alike."""

from __future__ import annotations

import logging
import re

# Seven or more digits, grouped by spaces or dots (not dashes: dates), with an optional "+".
_NUMBER = re.compile(r"\+?\d(?:[ .]?\d){6,}")


def mask_numbers(text: str) -> str:
    return _NUMBER.sub(lambda match: "***" + re.sub(r"\D", "", match.group())[-4:], text)


class MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_numbers(super().format(record))


def configure_logging(level: int) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for noisy in ("alembic.runtime.plugins", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
