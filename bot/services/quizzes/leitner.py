"""The spaced schedule of the question a day: Leitner boxes.

Why Leitner and not SM-2: a daily question is multiple choice, so all the bot learns from an
answer is right or wrong; SM-2 wants a graded recall (0-5) and an ease factor per card that
a member never sees and a trainer cannot explain. Five boxes are one small number per
member and question, and the rule fits in a sentence a trainer can repeat: a wrong answer
puts the question back in box 1 (asked again the next day), a right one moves it up a box,
each box waiting about twice as long as the one before.
"""

from __future__ import annotations

from datetime import date, timedelta

FIRST_BOX = 1
LAST_BOX = 5
# Days a question waits in each box before it is asked again.
WAIT_DAYS = {1: 1, 2: 3, 3: 7, 4: 14, 5: 30}
# A question in this box or above counts as mastered in /ketqua.
MASTERED_BOX = 4


def after_answer(box: int | None, correct: bool, day: date) -> tuple[int, date]:
    """The box a question moves to after an answer given on `day` (a question not asked
    before has no box), and the day it is due again."""
    if correct:
        moved = min((box or FIRST_BOX) + 1, LAST_BOX)
    else:
        moved = FIRST_BOX
    return moved, day + timedelta(days=WAIT_DAYS[moved])
