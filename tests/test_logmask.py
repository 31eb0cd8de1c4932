import logging
import sys

from bot.logmask import MaskingFormatter, mask_numbers


def test_phone_and_card_numbers_are_masked() -> None:
    assert mask_numbers("phone 0912345678 card 79.012345") == "phone ***5678 card ***2345"
    assert mask_numbers("+84 912 345 678") == "***5678"
    assert mask_numbers("update 123 at 2026-11-25") == "update 123 at 2026-11-25"


def test_tracebacks_are_masked_too() -> None:
    try:
        raise ValueError("no member with card 12345678 and phone 0987654321")
    except ValueError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    output = MaskingFormatter("%(message)s").format(record)
    assert "12345678" not in output and "0987654321" not in output
    assert "***5678" in output and "***4321" in output
