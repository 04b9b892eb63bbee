"""A worker's own initiatives: /my lists them, one opens as a card."""

from core.messages import Lines, Reply, Text, t
from core.status import Status
from core.typed import number_in
from handlers.conversation import Context, Conversation, Outcome, Step, end, goto
from handlers.draft import AMEND_MODE, DRAFT_MODE, begin, member, question, resume_step
from services import forms, initiatives
from storage import initiatives as store
from storage.models import Initiative
from views.cards import history, initiative_card
from views.form_pdf import form_reply
from views.labels import STATUS_LABELS


def list_mine(ctx: Context) -> Outcome:
    """List the member's initiatives with their status."""
    if not store.initiatives_of_member(session=ctx.session, member_id=member(ctx).id or 0):
        return end(t("my.empty"))
    return goto("my.pick")


def ask_pick(ctx: Context) -> tuple[Reply, ...]:
    """Show the list with one option per initiative."""
    mine = store.initiatives_of_member(session=ctx.session, member_id=member(ctx).id or 0)
    lines = tuple(
        t(
            "my.line",
            id=i.id or 0,
            title=i.title or t("card.not_given"),
            status=STATUS_LABELS[i.status],
        )
        for i in mine
    )
    submitted = [i for i in mine if i.status != Status.DRAFT]
    return question(
        t("my.list", lines=Lines(lines)),
        *((f"open:{i.id}", t("my.opt_open", id=i.id or 0)) for i in mine),
        *((f"form:{i.id}", t("my.opt_form", id=i.id or 0)) for i in submitted),
    )


def on_pick(ctx: Context) -> Outcome:
    """Open one initiative: continue a draft, complete a submitted one, or just show it;
    or send a submitted one's application form."""
    if (ctx.choice or "").startswith("form:"):
        return _form(ctx, ctx.choice or "")
    wanted = (ctx.choice or "").removeprefix("open:")
    initiative_id = number_in(wanted) or 0
    mine = {
        i.id: i
        for i in store.initiatives_of_member(session=ctx.session, member_id=member(ctx).id or 0)
    }
    initiative = mine.get(initiative_id)
    if initiative is None:
        return end(t("initiative.not_yours"))
    if initiative.submitter_id != member(ctx).id:
        return end(_card(ctx, initiative))
    if initiative.status == Status.DRAFT:
        begin(ctx, initiative, DRAFT_MODE)
        return goto(resume_step(initiative))
    if initiative.status in initiatives.AMENDABLE:
        if store.draft_of(session=ctx.session, member_id=member(ctx).id or 0):
            return end(t("my.finish_draft_first"))
        initiatives.editable(session=ctx.session, member=member(ctx), initiative_id=initiative_id)
        begin(ctx, initiative, AMEND_MODE, back_to="wizard.amend")
        return goto("wizard.amend")
    return end(_card(ctx, initiative))


def _form(ctx: Context, choice: str) -> Outcome:
    """Send the application form (DOCX and PDF); the services check who asks."""
    wanted = choice.removeprefix("form:")
    form = forms.for_member(
        session=ctx.session,
        member=member(ctx),
        initiative_id=number_in(wanted) or 0,
    )
    return Outcome(None, (form_reply(form, catalogs=ctx.catalogs, zone=ctx.settings.tz),))


def _card(ctx: Context, initiative: Initiative) -> Text:
    return t(
        "my.card",
        card=initiative_card(session=ctx.session, initiative=initiative),
        history=history(session=ctx.session, initiative=initiative),
    )


CONVERSATION = Conversation(
    name="my",
    steps={"my.pick": Step("my.pick", ask_pick, on_pick)},
    commands={"my": list_mine},
    menu={"my": t("command.my")},
)
