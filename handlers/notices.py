"""The messages the bot starts on its own, worded: each notice a service decides to send
(bot/services/notices.py) is rendered by the conversation it belongs to, with the same
texts and buttons a member sees in that conversation. Every surface that builds services
(the chat, the scheduled jobs, the command line) passes `render_notice` in `Shared`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from bot.messages import Reply
from bot.services import notices
from handlers import attendance, broadcast, daily, meetings, probation, quiz, quiz_report

_RENDERERS: dict[type, Callable[[Any, ZoneInfo], Reply]] = {
    notices.MeetingReminder: meetings.render_reminder,
    notices.MeetingCancelled: meetings.render_cancelled,
    notices.MeetingChanged: meetings.render_changed,
    notices.RegularMeetingMissing: attendance.render_regular_missing,
    notices.AgendaMissing: attendance.render_agenda_missing,
    notices.QuizInvitation: quiz.render_invitation,
    notices.QuizClosingSoon: quiz.render_closing_soon,
    notices.QuizResults: quiz_report.render_results,
    notices.DailyQuestionPrompt: daily.render_question,
    notices.ProbationReminder: probation.render_reminder,
    notices.BroadcastNotice: broadcast.render_notice,
    notices.BroadcastProgress: broadcast.render_progress,
    notices.BroadcastReport: broadcast.render_report,
}


def render_notice(notice: notices.Notice, timezone: ZoneInfo) -> Reply:
    return _RENDERERS[type(notice)](notice, timezone)
