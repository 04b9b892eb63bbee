"""The optional details of the application form, asked after the five answers."""

from core.errors import Refused
from core.messages import Lines, Reply, t
from handlers import buttons
from handlers.conversation import Context, Outcome, goto, text_step
from handlers.draft import (
    SKIP_HINT,
    advance,
    back,
    choose,
    current,
    picked,
    save,
    saved,
)
from handlers.wizard_core import need_text
from services import answers, initiatives
from services.dates import local_today
from storage.models import Initiative


def on_effects(ctx: Context) -> Outcome:
    """Save the other effects (or none) and ask about co-authors."""
    text = None if ctx.incoming.command == "skip" else need_text(ctx)
    save(ctx, answers.set_effects, text)
    return goto(advance(ctx, "wizard.coauthors_choice"))


def on_coauthors_choice(ctx: Context) -> Outcome:
    """Keep the submitter as sole author, or start collecting co-authors."""
    action = picked(ctx)
    initiative = current(ctx)
    initiatives.clear_coauthors(session=ctx.session, initiative=initiative)
    saved(ctx, initiative)
    if action == "authors:others":
        return goto("wizard.coauthors")
    return goto(advance(ctx, "wizard.applied"))


def on_coauthor(ctx: Context) -> Outcome:
    """Add one `Name share%` co-author (a known name: change their share), remove one
    with `/remove NAME` or `/remove N`, or finish the list with /done."""
    initiative = current(ctx)
    if ctx.incoming.command in ("done", "skip"):
        return goto(advance(ctx, "wizard.applied"))
    if ctx.incoming.command == "remove":
        return _remove_coauthor(ctx, initiative)
    author, left, known = initiatives.add_coauthor(
        session=ctx.session, initiative=initiative, line=need_text(ctx)
    )
    saved(ctx, initiative)
    said = {"name": author.name or "", "share": author.share_percent, "left": left}
    added = t("wizard.coauthor_updated", **said) if known else t("wizard.coauthor_added", **said)
    return goto("wizard.coauthors", Reply(added), ask=False)


def _remove_coauthor(ctx: Context, initiative: Initiative) -> Outcome:
    """Remove the co-author `/remove` names or numbers; without one, list them numbered."""
    which = ctx.incoming.argument
    if not which:
        listed = [
            t("wizard.coauthor_line", number=number, name=a.name or "", share=a.share_percent)
            for number, a in enumerate(
                initiatives.coauthors(session=ctx.session, initiative=initiative), start=1
            )
        ]
        if not listed:
            return goto("wizard.coauthors", Reply(t("wizard.coauthors_none")), ask=False)
        return goto(
            "wizard.coauthors",
            Reply(t("wizard.coauthors_list", list=Lines(tuple(listed)))),
            ask=False,
        )
    author, left = initiatives.remove_coauthor(
        session=ctx.session, initiative=initiative, which=which
    )
    saved(ctx, initiative)
    removed = t("wizard.coauthor_removed", name=author.name or "", left=left)
    return goto("wizard.coauthors", Reply(removed), ask=False)


def on_applied(ctx: Context) -> Outcome:
    """Record 'not applied yet', or ask since when it has been applied."""
    if picked(ctx) == "applied:yes":
        current(ctx)
        return goto("wizard.applied_since")
    save(ctx, answers.set_not_applied)
    return goto(advance(ctx, "wizard.attachments"))


def on_applied_since(ctx: Context) -> Outcome:
    """Save the date the initiative was first applied; ask what applying it needs."""
    today = local_today(ctx.now, ctx.settings.tz)
    save(ctx, answers.set_applied_since, need_text(ctx), today)
    return goto("wizard.conditions")


def on_conditions(ctx: Context) -> Outcome:
    """Save the conditions for applying it (or none); ask who took part in applying it."""
    text = None if ctx.incoming.command == "skip" else need_text(ctx)
    save(ctx, answers.set_conditions, text)
    return goto("wizard.participants")


def on_participants(ctx: Context) -> Outcome:
    """Save who took part in applying it (or nobody), for the application form."""
    text = None if ctx.incoming.command == "skip" else need_text(ctx)
    save(ctx, answers.set_participants, text)
    return goto(advance(ctx, "wizard.attachments"))


def on_attachment(ctx: Context) -> Outcome:
    """Keep each photo or document sent; /done or /skip moves on."""
    initiative = current(ctx)
    if ctx.incoming.command in ("done", "skip"):
        return goto(advance(ctx, "wizard.confidential"))
    if not ctx.incoming.attachments:
        raise Refused("wizard.attachments_expected")
    count = 0
    for item in ctx.incoming.attachments:
        count = initiatives.add_attachment(
            session=ctx.session,
            initiative=initiative,
            channel=ctx.incoming.channel,
            item=item,
            now=ctx.now,
        )
    saved(ctx, initiative)
    return goto(
        "wizard.attachments", Reply(t("wizard.attachment_received", count=count)), ask=False
    )


def on_confidential(ctx: Context) -> Outcome:
    """Record whether the initiative is a technology secret, then show the summary."""
    save(ctx, answers.set_confidential, picked(ctx) == "secret:yes")
    return goto(advance(ctx, "wizard.summary"))


def ask_coauthors(ctx: Context) -> tuple[Reply, ...]:
    """Ask whether others took part."""
    return choose(
        ctx,
        t("wizard.ask_coauthors"),
        ("authors:alone", t("wizard.opt_alone")),
        ("authors:others", t("wizard.opt_with_others")),
    )


def ask_applied(ctx: Context) -> tuple[Reply, ...]:
    """Ask whether the initiative is applied already."""
    return choose(
        ctx,
        t("wizard.ask_applied"),
        ("applied:no", t("wizard.opt_not_yet")),
        ("applied:yes", t("common.yes")),
    )


def ask_confidential(ctx: Context) -> tuple[Reply, ...]:
    """Ask whether the initiative is a technology secret."""
    return choose(
        ctx,
        t("wizard.ask_confidential"),
        ("secret:no", t("common.no")),
        ("secret:yes", t("common.yes")),
    )


STEPS = (
    text_step(
        "wizard.effects", t("wizard.ask_effects", skip=SKIP_HINT), on_effects, back("wizard.next")
    ),
    buttons.button_step(
        "wizard.coauthors_choice", ask_coauthors, on_coauthors_choice, back("wizard.effects")
    ),
    text_step(
        "wizard.coauthors", t("wizard.ask_coauthor_line"), on_coauthor, "wizard.coauthors_choice"
    ),
    buttons.button_step(
        "wizard.applied", ask_applied, on_applied, back("wizard.coauthors_choice")
    ),
    text_step(
        "wizard.applied_since", t("wizard.ask_applied_since"), on_applied_since, "wizard.applied"
    ),
    text_step(
        "wizard.conditions",
        t("wizard.ask_conditions", skip=SKIP_HINT),
        on_conditions,
        "wizard.applied_since",
    ),
    text_step(
        "wizard.participants",
        t("wizard.ask_participants", skip=SKIP_HINT),
        on_participants,
        "wizard.conditions",
    ),
    text_step(
        "wizard.attachments", t("wizard.ask_attachments"), on_attachment, back("wizard.applied")
    ),
    buttons.button_step(
        "wizard.confidential", ask_confidential, on_confidential, back("wizard.attachments")
    ),
)
