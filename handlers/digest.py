"""Leader digests in chat: /digest sends one now, /digest settings says how often."""

from datetime import timedelta

from core.folding import loose
from core.messages import t
from handlers.conversation import Context, Conversation, Outcome, Step, end, goto
from handlers.draft import member, question
from services import digest_schedule, digests, roles
from services.digest_schedule import LEADER
from storage import digest_settings
from views.digest import digest_reply
from views.labels import WEEKDAY_LABELS

KEY = "digest"
LENGTHS = {"daily": timedelta(days=1), "weekly": timedelta(days=7), "monthly": timedelta(days=30)}
HOURS = (6, 7, 8, 12, 17, 20)


def send_now(ctx: Context) -> Outcome:
    """Send the digest of each subtree the member leads, for the period just ended."""
    if _asks_settings(ctx):
        return open_settings(ctx)
    scopes = roles.scopes(session=ctx.session, member=member(ctx), role=LEADER)
    if not scopes:
        return end(t("digest.not_leader"))
    setting = digest_settings.setting_of(session=ctx.session, member_id=member(ctx).id or 0)
    length = LENGTHS.get(setting.frequency, LENGTHS["weekly"])
    replies = tuple(
        digest_reply(
            digests.build(
                session=ctx.session,
                scope=scope,
                start=ctx.now - length,
                end=ctx.now + timedelta(microseconds=1),  # up to and including now
                now=ctx.now,
                sla_days=ctx.settings.review_sla_days,
                zone=ctx.settings.tz,
            ),
            ctx.catalogs,
            ctx.language,
            ctx.settings.tz,
        )
        for scope in scopes
    )
    return goto(None, *replies)


def _asks_settings(ctx: Context) -> bool:
    """Tell whether /digest came with the word for its settings, in any language."""
    word = t("digest.arg_settings")
    words = {loose(ctx.catalogs.render(word, language)) for language in ctx.catalogs.languages}
    return loose(ctx.incoming.argument) in words


def open_settings(ctx: Context) -> Outcome:
    """Ask how often the leader wants the digest."""
    if not roles.scopes(session=ctx.session, member=member(ctx), role=LEADER):
        return end(t("digest.not_leader"))
    ctx.data[KEY] = {}
    return goto("digest.frequency")


def on_frequency(ctx: Context) -> Outcome:
    """Keep the frequency; off ends here, the others ask for the hour."""
    frequency = (ctx.choice or "").removeprefix("freq:")
    if frequency == "off":
        digest_schedule.change(session=ctx.session, member=member(ctx), frequency="off")
        ctx.data.pop(KEY, None)
        return end(t("digest.saved_off"))
    ctx.data.setdefault(KEY, {})["frequency"] = frequency
    return goto("digest.hour")


def on_hour(ctx: Context) -> Outcome:
    """Keep the hour; weekly asks for the day, the others are saved."""
    hour = int((ctx.choice or "").removeprefix("hour:"))
    data = ctx.data.setdefault(KEY, {})
    data["hour"] = hour
    if data.get("frequency") == "weekly":
        return goto("digest.weekday")
    return _groups_or_save(ctx)


def on_weekday(ctx: Context) -> Outcome:
    """Keep the day of a weekly digest."""
    ctx.data.setdefault(KEY, {})["weekday"] = int((ctx.choice or "").removeprefix("day:"))
    return _groups_or_save(ctx)


def _groups_or_save(ctx: Context) -> Outcome:
    """Ask about group chats when a led unit has one linked; else save."""
    scopes = roles.scopes(session=ctx.session, member=member(ctx), role=LEADER)
    if digest_settings.groups_of(session=ctx.session, unit_ids=[u.id or 0 for u in scopes]):
        return goto("digest.groups")
    return _save(ctx, to_groups=False)


def on_groups(ctx: Context) -> Outcome:
    """Save, with or without the group chats."""
    return _save(ctx, to_groups=ctx.choice == "groups:yes")


def _save(ctx: Context, to_groups: bool) -> Outcome:
    data = ctx.data.pop(KEY, {})
    weekday = data.get("weekday")
    setting = digest_schedule.change(
        session=ctx.session,
        member=member(ctx),
        frequency=str(data.get("frequency")),
        at_hour=int(data.get("hour", 8)),
        weekday=None if weekday is None else int(weekday),
        to_groups=to_groups,
    )
    labels = {
        "daily": t("digest.every_day", hour=setting.at_hour),
        "weekly": t(
            "digest.every_week", day=WEEKDAY_LABELS[setting.weekday], hour=setting.at_hour
        ),
        "monthly": t("digest.every_month", hour=setting.at_hour),
    }
    saved = t("digest.saved", when=labels[setting.frequency])
    return end(saved, t("digest.saved_groups")) if to_groups else end(saved)


CONVERSATION = Conversation(
    name=KEY,
    steps={
        "digest.frequency": Step(
            "digest.frequency",
            lambda ctx: question(
                t("digest.ask_frequency"),
                ("freq:daily", t("digest.opt_daily")),
                ("freq:weekly", t("digest.opt_weekly")),
                ("freq:monthly", t("digest.opt_monthly")),
                ("freq:off", t("digest.opt_off")),
            ),
            on_frequency,
        ),
        "digest.hour": Step(
            "digest.hour",
            lambda ctx: question(
                t("digest.ask_hour"),
                *((f"hour:{h}", t("digest.opt_hour", hour=h)) for h in HOURS),
            ),
            on_hour,
            lambda ctx: "digest.frequency",
        ),
        "digest.weekday": Step(
            "digest.weekday",
            lambda ctx: question(
                t("digest.ask_weekday"),
                *((f"day:{d}", label) for d, label in enumerate(WEEKDAY_LABELS)),
            ),
            on_weekday,
            lambda ctx: "digest.hour",
        ),
        "digest.groups": Step(
            "digest.groups",
            lambda ctx: question(
                t("digest.ask_groups"),
                ("groups:yes", t("digest.opt_groups_yes")),
                ("groups:no", t("digest.opt_groups_no")),
            ),
            on_groups,
            lambda ctx: (
                "digest.weekday"
                if ctx.data.get(KEY, {}).get("frequency") == "weekly"
                else "digest.hour"
            ),
        ),
    },
    commands={"digest": send_now},
    menu={"digest": t("command.digest")},
    in_groups=(),
)
