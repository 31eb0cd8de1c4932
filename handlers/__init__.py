"""The conversations, written once for every messenger. Each module registers its handlers
on the router; handlers see only `bot.messages`, the services and the texts."""

from bot.router import Router
from handlers import (
    adoption,
    attendance,
    basics,
    broadcast,
    change_meeting,
    daily,
    handbook,
    inbox,
    linking,
    meeting_setup,
    meetings,
    messenger_choice,
    new_meeting,
    privacy,
    probation,
    quiz,
    quiz_import,
    quiz_report,
    quiz_setup,
    rankings,
    tour,
    web_login,
)


def build_router() -> Router:
    router = Router()
    basics.register(router)
    linking.register(router)
    privacy.register(router)
    messenger_choice.register(router)
    adoption.register(router)
    broadcast.register(router)
    inbox.register(router)
    meetings.register(router)
    new_meeting.register(router)
    change_meeting.register(router)
    meeting_setup.register(router, new_meeting.STEPS, change_meeting.STEPS)
    quiz.register(router)
    daily.register(router)
    quiz_setup.register(router)
    quiz_import.register(router)
    quiz_report.register(router)
    attendance.register(router)
    web_login.register(router)
    tour.register(router)
    probation.register(router)
    rankings.register(router)
    handbook.register(router)
    return router
