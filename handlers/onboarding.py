"""Joining a unit: /start CODE, the language, the name, and explicit consent."""

from core.errors import Refused
from core.messages import Option, Reply, t
from handlers.conversation import Context, Conversation, Outcome, Step, end, goto, text_step
from handlers.draft import question
from services import membership, roster, units
from storage.models import RosterEntry
from storage.units import unit_by_id
from views.labels import LANGUAGE_LABELS

JOIN = "onboarding"


def start(ctx: Context) -> Outcome:
    """Check the invite code, then ask for the language (a member: whether to move)."""
    if ctx.member is not None and not ctx.incoming.argument:
        return end(t("onboarding.welcome_back", name=ctx.member.display_name))
    if not ctx.incoming.argument:
        return end(t("onboarding.need_code"))
    entry = roster.entry_for_code(session=ctx.session, code=ctx.incoming.argument)
    if entry is not None:
        return start_personal(ctx, entry)
    unit = units.unit_for_code(session=ctx.session, code=ctx.incoming.argument)
    if ctx.member is not None and ctx.member.unit_id == unit.id:
        return end(t("onboarding.welcome_back", name=ctx.member.display_name))
    ctx.data[JOIN] = {"unit_id": unit.id}
    if ctx.member is not None:
        return goto("onboarding.move")
    return goto("onboarding.language")


def start_personal(ctx: Context, entry: RosterEntry) -> Outcome:
    """Join with a personal code from an imported list: its unit, name and roles."""
    opened = roster.opening(session=ctx.session, entry=entry, member=ctx.member, now=ctx.now)
    if opened == "welcome" and ctx.member is not None:
        return end(t("onboarding.welcome_back", name=ctx.member.display_name))
    ctx.data[JOIN] = {"unit_id": entry.unit_id, "entry_id": entry.id, "name": entry.name}
    return goto("onboarding.move" if opened == "move" else "onboarding.language")


def claim_personal(ctx: Context, joining: dict[str, object]) -> None:
    """Make the member the person of the personal code they joined with, if any."""
    entry_id = joining.get("entry_id")
    if isinstance(entry_id, int) and ctx.member is not None:
        roster.claim(session=ctx.session, entry_id=entry_id, member=ctx.member, now=ctx.now)


def ask_move(ctx: Context) -> tuple[Reply, ...]:
    """Ask a member whether to move to the unit of the code they sent."""
    here = unit_by_id(session=ctx.session, unit_id=ctx.member.unit_id if ctx.member else 0)
    there = unit_by_id(session=ctx.session, unit_id=int(ctx.data.get(JOIN, {}).get("unit_id", 0)))
    return question(
        t(
            "onboarding.ask_move",
            here=here.name if here else "",
            there=there.name if there else "",
        ),
        ("move:yes", t("onboarding.opt_move")),
        ("move:no", t("onboarding.opt_stay")),
    )


def on_move(ctx: Context) -> Outcome:
    """Move the member to the unit of the code after a yes; a no changes nothing."""
    joining = ctx.data.pop(JOIN, {})
    if ctx.member is None:
        raise Refused("common.join_first")
    unit = unit_by_id(session=ctx.session, unit_id=int(joining.get("unit_id", 0)))
    if ctx.choice != "move:yes" or unit is None:
        return end(t("onboarding.move_declined"))
    membership.move(session=ctx.session, member=ctx.member, unit=unit, now=ctx.now)
    claim_personal(ctx, joining)
    return end(t("onboarding.moved", unit=unit.name))


def on_language(ctx: Context) -> Outcome:
    """Save the chosen language and ask for consent (or the name first)."""
    ctx.data["lang"] = membership.checked_language((ctx.choice or "").removeprefix("lang:"))
    ctx.language = ctx.data["lang"]
    if ctx.data[JOIN].get("name"):  # a personal code: the name on the union's list
        return goto("onboarding.consent")
    if ctx.incoming.display_name and ctx.incoming.display_name.strip():
        try:
            ctx.data[JOIN]["name"] = membership.clean_name(ctx.incoming.display_name)
        except Refused:  # a messenger's name too long to show: the person types one
            return goto("onboarding.name")
        return goto("onboarding.consent")
    return goto("onboarding.name")


def on_name(ctx: Context) -> Outcome:
    """Save the name the member wants to be shown with."""
    if not ctx.text or ctx.incoming.command:
        raise Refused("onboarding.name_empty")
    ctx.data[JOIN]["name"] = membership.clean_name(ctx.text)
    return goto("onboarding.consent")


def on_consent(ctx: Context) -> Outcome:
    """Create the member on consent; on refusal keep nothing but the refusal."""
    joining = ctx.data.pop(JOIN, {})
    language = ctx.data.pop("lang", ctx.language)
    if ctx.choice != "consent:yes":
        membership.record_refusal(
            session=ctx.session,
            channel=ctx.incoming.channel,
            user_id=ctx.incoming.user_id,
            now=ctx.now,
        )
        ctx.data.clear()
        return end(t("onboarding.declined"))
    unit = unit_by_id(session=ctx.session, unit_id=int(joining.get("unit_id", 0)))
    if unit is None:
        raise Refused("onboarding.code_unknown")
    ctx.member = membership.join(
        session=ctx.session,
        unit=unit,
        channel=ctx.incoming.channel,
        user_id=ctx.incoming.user_id,
        chat_id=ctx.incoming.chat_id,
        name=str(joining.get("name", "")),
        language=language,
        now=ctx.now,
    )
    claim_personal(ctx, joining)
    return end(
        t("onboarding.joined", unit=unit.name, name=ctx.member.display_name), t("help.text")
    )


CONSENT_OPTIONS = (
    Option("consent:yes", t("onboarding.opt_agree"), t("onboarding.words_agree")),
    Option("consent:no", t("onboarding.opt_decline"), t("onboarding.words_decline")),
)


def ask_consent(ctx: Context) -> tuple[Reply, ...]:
    """Show the data notice once, then ask; a re-ask repeats only the question."""
    question_only = Reply(t("onboarding.ask_consent"), CONSENT_OPTIONS)
    joining = ctx.data.get(JOIN)
    if not isinstance(joining, dict) or joining.get("notice_shown"):
        return (question_only,)
    joining["notice_shown"] = True
    return Reply(t("onboarding.consent_text")), question_only


def cancel(ctx: Context) -> Outcome:
    """Stop joining; nothing was stored."""
    ctx.data.pop(JOIN, None)
    ctx.data.pop("lang", None)
    return end(t("onboarding.cancelled"))


CONVERSATION = Conversation(
    name=JOIN,
    steps={
        step.name: step
        for step in (
            Step(
                "onboarding.language",
                lambda ctx: question(
                    t("onboarding.ask_language"),
                    *((f"lang:{code}", label) for code, label in LANGUAGE_LABELS.items()),
                ),
                on_language,
            ),
            text_step("onboarding.name", t("onboarding.ask_name"), on_name, "onboarding.language"),
            Step("onboarding.move", ask_move, on_move),
            Step(
                "onboarding.consent",
                ask_consent,
                on_consent,
                lambda ctx: "onboarding.language",
                options=lambda ctx: CONSENT_OPTIONS,
            ),
        )
    },
    commands={"start": start},
    on_cancel=cancel,
    members_only=False,
)
