"""/taoquiz: a trainer (or an admin) sets up a quiz for units within their scope. Title,
units, banks and topics, number of questions, how it is taken, opening and closing, then a
summary to save. Every step but the title offers its usual answer as a button, so a trainer
can go through with taps; on Zalo the buttons are numbered and a digit picks one.

Each kind of button ("qs:unit:12") is taken only at the steps that offer it; units come from
the trainer's grants, and are checked against them again when the quiz is saved
(QuizSchedule.schedule checks and audits once more)."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.button_data import ButtonData
from bot.messages import Button, Reply
from bot.router import Context, Router
from bot.services.accounts import MemberView
from bot.services.meetings import DateTimeInputError, format_when, parse_when
from bot.services.permissions import Action, Actor, PermissionDenied, Scope
from bot.texts import text
from handlers.flow import Data, Flow, Steps
from handlers.guards import requires
from handlers.unit_choice import toggle_rows, toggled, unit_options, units_allowed

FLOW = "quiz_setup"
MAX_TITLE_CHARS = 200  # the column's size
MAX_TOPIC_CHOICES = 20
MAX_QUESTIONS = 100
COUNT_CHOICES = (5, 10, 15, 20)
CLOSE_AFTER_DAYS = (3, 7)
# The values a tap on a setting goes through, the default first.
SECONDS = (None, 30, 60, 90)
PASS_MARKS = (70, 80, 90, 100, 50, 60)
TRIES = (1, 2, 3)


class Step(StrEnum):
    TITLE = "title"
    UNITS = "units"
    BANKS = "banks"
    TOPICS = "topics"
    COUNT = "count"
    OPTIONS = "options"
    OPENS = "opens"
    CLOSES = "closes"
    CONFIRM = "confirm"


class Setting(StrEnum):
    """How the quiz is taken; a tap on one changes it. The first three are switches."""

    ORDER = "order"  # shuffle the questions
    CHOICES = "choices"  # shuffle each question's choices
    EXPLAIN = "explain"  # show the explanation after each answer
    SECONDS = "seconds"
    PASS_MARK = "pass_mark"
    TRIES = "tries"


SWITCHES = (Setting.ORDER, Setting.CHOICES, Setting.EXPLAIN)


class Stop(ButtonData, prefix="qs:stop"):
    """Leaves the flow at any step; nothing is saved."""


class Next(ButtonData, prefix="qs:next"):
    """The step's choices are made: go on."""


class ChooseUnit(ButtonData, prefix="qs:unit"):
    unit: int


# Banks and topics are named by their place in the lists kept in the state: a bank's id or
# a topic may not fit in Telegram's 64 bytes of button data.
class ToggleBank(ButtonData, prefix="qs:bank"):
    index: int


class ToggleTopic(ButtonData, prefix="qs:topic"):
    index: int


class ChooseCount(ButtonData, prefix="qs:count"):
    count: int


class ChangeSetting(ButtonData, prefix="qs:opt"):
    setting: Setting


class OpenNow(ButtonData, prefix="qs:now"):
    """The quiz opens the moment it is saved."""


class CloseAfter(ButtonData, prefix="qs:after"):
    days: int


class Save(ButtonData, prefix="qs:save"):
    """Schedules the quiz the summary shows."""


def _t(key: str, **values: object) -> str:
    return text(f"quiz_setup.{key}", **values)


def _stop_button() -> Button:
    return Button(_t("button_stop"), Stop().pack())


def _next_row() -> tuple[Button, ...]:
    return (Button(_t("button_next"), Next().pack()), _stop_button())


async def _save(ctx: Context, step: str, data: Data) -> None:
    await ctx.services.conversations.start(ctx.account.id, FLOW, step, data)


def _body(ctx: Context) -> str:
    return (ctx.incoming.text or "").strip()


def _local(ctx: Context, epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, ctx.services.settings.timezone)


def _when(ctx: Context, moment: datetime) -> str:
    return format_when(moment, ctx.services.settings.timezone)


def _yes_no(value: bool) -> str:
    return _t("yes") if value else _t("no")


def _seconds(value: int | None) -> str:
    return _t("no_limit") if value is None else _t("seconds", seconds=value)


def _refused() -> list[Reply]:
    return [Reply(_t("trainers_only"))]


async def _scope(ctx: Context, member: MemberView) -> Scope:
    return await ctx.services.permissions.scope(member.id, Action.SCHEDULE_QUIZ)


# Title and units.


@requires(Action.SCHEDULE_QUIZ, "quiz_setup.trainers_only")
async def start(ctx: Context, actor: Actor) -> list[Reply]:
    options = await unit_options(ctx, actor)
    # One unit in scope is chosen already; a trainer of several picks.
    data: Data = {"options": options, "units": options[:1] if len(options) == 1 else []}
    await _save(ctx, Step.TITLE, data)
    return [Reply(_t("ask_title"))]


async def typed_title(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    title = " ".join(_body(ctx).split())
    if not title:
        return [Reply(_t("ask_title"))]
    if len(title) > MAX_TITLE_CHARS:
        return [Reply(_t("title_too_long", limit=MAX_TITLE_CHARS))]
    data["title"] = title
    return [await _units_menu(ctx, data)]


async def _units_menu(ctx: Context, data: Data) -> Reply:
    await _save(ctx, Step.UNITS, data)
    rows = await toggle_rows(
        ctx, data["options"], data["units"], lambda unit: ChooseUnit(unit).pack()
    )
    return Reply(_t("choose_units"), buttons=(*rows, _next_row()))


async def on_unit(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    unit = ctx.pressed(ChooseUnit).unit
    if not await units_allowed(ctx, await _scope(ctx, member), data["options"], [unit]):
        return _refused()
    data["units"] = toggled(data["options"], data["units"], unit)
    return [await _units_menu(ctx, data)]


async def units_done(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    if not data["units"]:
        return [Reply(_t("no_units")), await _units_menu(ctx, data)]
    banks = await ctx.services.quiz_catalogue.banks()
    data["bank_options"] = [bank.id for bank in banks]
    data["banks"] = [bank.id for bank in banks if bank.shipped] or data["bank_options"][:1]
    if len(banks) == 1:
        return await _topics_or_count(ctx, member, data)
    return [await _banks_menu(ctx, data)]


# Banks and topics.


async def _banks_menu(ctx: Context, data: Data) -> Reply:
    await _save(ctx, Step.BANKS, data)
    banks = {bank.id: bank for bank in await ctx.services.quiz_catalogue.banks()}
    rows = []
    for index, bank_id in enumerate(data["bank_options"]):
        bank = banks.get(bank_id)
        mark = "☑" if bank_id in data["banks"] else "☐"
        title, count = (bank.title, bank.questions) if bank else (bank_id, 0)
        label = _t("bank_button", mark=mark, title=title, count=count)
        rows.append((Button(label, ToggleBank(index).pack()),))
    return Reply(_t("choose_banks"), buttons=(*rows, _next_row()))


def _picked(options: list[str], index: int) -> str | None:
    """The option a button's index names, if it is one."""
    return options[index] if index < len(options) else None


async def on_bank(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    bank = _picked(data["bank_options"], ctx.pressed(ToggleBank).index)
    if bank is None:
        return [Reply(text("fallback.stale_button"))]
    chosen = data["banks"]
    data["banks"] = [b for b in data["bank_options"] if (b in chosen) != (b == bank)]
    return [await _banks_menu(ctx, data)]


async def banks_done(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    if not data["banks"]:
        return [Reply(_t("no_banks")), await _banks_menu(ctx, data)]
    return await _topics_or_count(ctx, member, data)


async def _topics_or_count(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    topics = await ctx.services.quiz_catalogue.topics(data["banks"])
    data["topic_options"] = [topic for topic, _ in topics][:MAX_TOPIC_CHOICES]
    data["topics"] = [t for t in data.get("topics", []) if t in data["topic_options"]]
    if len(data["topic_options"]) < 2:
        data["topics"] = []
        return await _ask_count(ctx, member, data)
    return [await _topics_menu(ctx, data, dict(topics))]


async def _topics_menu(ctx: Context, data: Data, counts: dict[str, int] | None = None) -> Reply:
    await _save(ctx, Step.TOPICS, data)
    if counts is None:
        counts = dict(await ctx.services.quiz_catalogue.topics(data["banks"]))
    rows = []
    for index, topic in enumerate(data["topic_options"]):
        mark = "☑" if topic in data["topics"] else "☐"
        label = _t("topic_button", mark=mark, topic=topic, count=counts.get(topic, 0))
        rows.append((Button(label, ToggleTopic(index).pack()),))
    return Reply(_t("choose_topics"), buttons=(*rows, _next_row()))


async def on_topic(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    topic = _picked(data["topic_options"], ctx.pressed(ToggleTopic).index)
    if topic is None:
        return [Reply(text("fallback.stale_button"))]
    chosen = data["topics"]
    data["topics"] = [t for t in data["topic_options"] if (t in chosen) != (t == topic)]
    return [await _topics_menu(ctx, data)]


# Number of questions.


async def _ask_count(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    pool = await ctx.services.quiz_catalogue.pool_size(data["banks"], data["topics"])
    if pool == 0:
        return [Reply(_t("no_questions")), await _banks_menu(ctx, data)]
    data["pool"] = pool
    await _save(ctx, Step.COUNT, data)
    limit = min(pool, MAX_QUESTIONS)
    if not ctx.traits.has_buttons:
        # A digit typed on Zalo would pick a numbered choice, not say how many questions.
        return [Reply(_t("ask_count_typed", pool=pool, limit=limit))]
    counts = [n for n in COUNT_CHOICES if n <= limit] or [limit]
    buttons = tuple(Button(_t("count_button", count=n), ChooseCount(n).pack()) for n in counts)
    return [Reply(_t("ask_count", pool=pool, limit=limit), buttons=(buttons, (_stop_button(),)))]


def _count_limit(data: Data) -> int:
    return min(data["pool"], MAX_QUESTIONS)


async def on_count(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    count = ctx.pressed(ChooseCount).count
    if not 1 <= count <= _count_limit(data):
        return [Reply(text("fallback.stale_button"))]
    return await _count_chosen(ctx, data, count)


async def typed_count(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    body = _body(ctx)
    limit = _count_limit(data)
    if not body.isdigit() or not 1 <= int(body) <= limit:
        return [Reply(_t("bad_count", limit=limit))]
    return await _count_chosen(ctx, data, int(body))


async def _count_chosen(ctx: Context, data: Data, count: int) -> list[Reply]:
    data["count"] = count
    data.update(order=True, choices=True, explain=True)
    data.update(seconds=SECONDS[0], pass_mark=PASS_MARKS[0], tries=TRIES[0])
    return [await _options_menu(ctx, data)]


# How the quiz is taken: each tap changes one setting.


async def _options_menu(ctx: Context, data: Data) -> Reply:
    await _save(ctx, Step.OPTIONS, data)
    labels = (
        (Setting.ORDER, _t("option_order", value=_yes_no(data["order"]))),
        (Setting.CHOICES, _t("option_choices", value=_yes_no(data["choices"]))),
        (Setting.SECONDS, _t("option_time", value=_seconds(data["seconds"]))),
        (Setting.PASS_MARK, _t("option_pass", value=data["pass_mark"])),
        (Setting.TRIES, _t("option_tries", value=data["tries"])),
        (Setting.EXPLAIN, _t("option_explain", value=_yes_no(data["explain"]))),
    )
    rows = tuple((Button(label, ChangeSetting(setting).pack()),) for setting, label in labels)
    return Reply(_t("options"), buttons=(*rows, _next_row()))


def _following(values: tuple[Any, ...], current: Any) -> Any:
    """The value after `current` in `values`, round and round."""
    index = values.index(current) if current in values else -1
    return values[(index + 1) % len(values)]


_CYCLES = {Setting.SECONDS: SECONDS, Setting.PASS_MARK: PASS_MARKS, Setting.TRIES: TRIES}


async def on_option(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    setting = ctx.pressed(ChangeSetting).setting
    if setting in SWITCHES:
        data[setting] = not data[setting]
    else:
        data[setting] = _following(_CYCLES[setting], data[setting])
    return [await _options_menu(ctx, data)]


# Opening and closing.


async def _ask_opens(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    await _save(ctx, Step.OPENS, data)
    now = Button(_t("button_now"), OpenNow().pack())
    return [Reply(_t("ask_opens"), buttons=((now, _stop_button()),))]


def _parse(ctx: Context) -> datetime:
    """The date and time typed, in the future; DateTimeInputError says why not."""
    settings = ctx.services.settings
    return parse_when(_body(ctx), now=ctx.services.clock(), tz=settings.timezone)


async def typed_opens(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    try:
        opens = _parse(ctx)
    except DateTimeInputError as error:
        return [Reply(str(error))]
    data["opens"] = int(opens.timestamp())
    return await _ask_closes(ctx, data)


async def on_now(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    data["opens"] = None  # the moment the quiz is saved
    return await _ask_closes(ctx, data)


def _opens_at(ctx: Context, data: Data) -> datetime:
    if data["opens"] is None:
        return ctx.services.clock()
    return _local(ctx, data["opens"])


def _opens_text(ctx: Context, data: Data) -> str:
    return _t("opens_now") if data["opens"] is None else _when(ctx, _local(ctx, data["opens"]))


async def _ask_closes(ctx: Context, data: Data) -> list[Reply]:
    await _save(ctx, Step.CLOSES, data)
    buttons = tuple(
        Button(_t("button_after_days", days=days), CloseAfter(days).pack())
        for days in CLOSE_AFTER_DAYS
    )
    return [
        Reply(
            _t("ask_closes", opens=_opens_text(ctx, data)),
            buttons=(buttons, (_stop_button(),)),
        )
    ]


async def typed_closes(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    try:
        closes = _parse(ctx)
    except DateTimeInputError as error:
        return [Reply(str(error))]
    return await _closes_chosen(ctx, data, closes)


async def on_after(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    days = ctx.pressed(CloseAfter).days
    if days not in CLOSE_AFTER_DAYS:
        return [Reply(text("fallback.stale_button"))]
    return await _closes_chosen(ctx, data, _opens_at(ctx, data) + timedelta(days=days))


async def _closes_chosen(ctx: Context, data: Data, closes: datetime) -> list[Reply]:
    opens = _opens_at(ctx, data)
    if closes <= opens:
        return [
            Reply(_t("closes_before_opens", closes=_when(ctx, closes), opens=_when(ctx, opens)))
        ]
    data["closes"] = int(closes.timestamp())
    await _save(ctx, Step.CONFIRM, data)
    buttons = ((Button(_t("button_save"), Save().pack()), _stop_button()),)
    return [Reply(_t("confirm", summary=await _summary(ctx, data)), buttons=buttons)]


# Saving.


async def _summary(ctx: Context, data: Data) -> str:
    names = await ctx.services.accounts.unit_names(data["units"])
    titles = {bank.id: bank.title for bank in await ctx.services.quiz_catalogue.banks()}
    topics = data["topics"]
    return _t(
        "summary",
        title=data["title"],
        units=", ".join(names),
        count=data["count"],
        banks=", ".join(titles.get(bank, bank) for bank in data["banks"]),
        topics=_t("topics_line", topics=", ".join(topics)) if topics else "",
        order=_yes_no(data["order"]),
        choices=_yes_no(data["choices"]),
        time=_seconds(data["seconds"]),
        pass_mark=data["pass_mark"],
        tries=data["tries"],
        explain=_yes_no(data["explain"]),
        opens=_opens_text(ctx, data),
        closes=_when(ctx, _local(ctx, data["closes"])),
    )


async def on_save(ctx: Context, member: MemberView, data: Data) -> list[Reply]:
    actor = await ctx.services.permissions.actor(member, Action.SCHEDULE_QUIZ)
    if not await units_allowed(ctx, actor.scope, data["options"], data["units"]):
        await ctx.services.conversations.clear(ctx.account.id)
        return [Reply(_t("not_saved"))]
    opens, closes = _opens_at(ctx, data), _local(ctx, data["closes"])
    if closes <= ctx.services.clock():
        passed = Reply(_t("closes_passed", closes=_when(ctx, closes)))
        return [passed, *await _ask_closes(ctx, data)]
    summary = await _summary(ctx, data)
    try:
        quiz = await ctx.services.quizzes.schedule(
            title=data["title"],
            unit_ids=data["units"],
            question_count=data["count"],
            opens_at=opens,
            closes_at=closes,
            actor=actor.ref,
            bank_ids=data["banks"],
            topics=data["topics"],
            pass_mark=data["pass_mark"],
            seconds_per_question=data["seconds"],
            attempts_allowed=data["tries"],
            show_explanations=data["explain"],
            shuffle_questions=data["order"],
            shuffle_choices=data["choices"],
            by=actor,
        )
    except PermissionDenied:
        await ctx.services.conversations.clear(ctx.account.id)
        return [Reply(_t("not_saved"))]
    await ctx.services.conversations.clear(ctx.account.id)
    return [Reply(_t("saved", id=quiz.id, summary=summary, units_count=len(data["units"])))]


STEPS = Steps(
    buttons={
        ChooseUnit: {Step.UNITS: on_unit},
        ToggleBank: {Step.BANKS: on_bank},
        ToggleTopic: {Step.TOPICS: on_topic},
        Next: {
            Step.UNITS: units_done,
            Step.BANKS: banks_done,
            Step.TOPICS: _ask_count,
            Step.OPTIONS: _ask_opens,
        },
        ChooseCount: {Step.COUNT: on_count},
        ChangeSetting: {Step.OPTIONS: on_option},
        OpenNow: {Step.OPENS: on_now},
        CloseAfter: {Step.CLOSES: on_after},
        Save: {Step.CONFIRM: on_save},
    },
    typed={
        Step.TITLE: typed_title,
        Step.COUNT: typed_count,
        Step.OPENS: typed_opens,
        Step.CLOSES: typed_closes,
    },
)


def register(router: Router) -> None:
    router.command("taoquiz")(start)
    Flow(FLOW, STEPS, Stop, "quiz_setup.use_buttons", "quiz_setup.aside").register(router)
