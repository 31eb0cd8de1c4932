"""What the content loaders (handbook entries, the source register, quiz banks) share: the
error that lists every problem found, and reading a date field as YAML gives it."""

from __future__ import annotations

from datetime import date


class ContentProblems(ValueError):
    """A content file has problems; `problems` lists them, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def as_date(value: object) -> date | None:
    """A YAML date, or an ISO date as text; None for anything else."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None
