"""How an initiative is shown in chat: one card with every field."""

from sqlmodel import Session

from core.messages import Lines, Money, Text, t
from storage import initiatives as store
from storage.models import Initiative
from views.labels import FIELD_LABELS, STATUS_LABELS


def given(value: object) -> object:
    """Return a value for display, or the localized 'not given yet'."""
    return t("card.not_given") if value is None or value == "" else value


def yes_no(value: bool | None) -> Text:
    """Return a localized yes, no, or 'not given yet'."""
    if value is None:
        return t("card.not_given")
    return t("common.yes") if value else t("common.no")


def initiative_card(*, session: Session, initiative: Initiative) -> Text:
    """Build the card of an initiative with its authors and attachments."""
    initiative_id = initiative.id or 0
    authors = store.authors_of(session=session, initiative_id=initiative_id)
    attachments = store.attachments_of(session=session, initiative_id=initiative_id)
    applied: object = yes_no(initiative.applied)
    if initiative.applied and initiative.first_applied_on:
        applied = t("card.applied_since", day=initiative.first_applied_on)
    benefit: object = t("card.no_money_benefit")
    if initiative.estimated_benefit_vnd is not None:
        benefit = Money(initiative.estimated_benefit_vnd)
    return t(
        "card.initiative",
        id=initiative_id,
        title=given(initiative.title),
        status=STATUS_LABELS[initiative.status],
        field=FIELD_LABELS[initiative.field] if initiative.field else t("card.not_given"),
        problem=given(initiative.problem),
        solution=given(initiative.solution),
        benefit=benefit,
        effects=given(initiative.other_effects),
        authors=Lines(
            tuple(
                t("card.author", name=a.name or t("card.anonymous"), share=a.share_percent)
                for a in authors
            )
        ),
        applied=applied,
        attachments=len(attachments),
        confidential=yes_no(initiative.confidential),
    )


def history(*, session: Session, initiative: Initiative) -> Text:
    """Every status change of an initiative: when, what, and the council's comment."""
    changes = store.history_of(session=session, initiative_id=initiative.id or 0)
    lines = tuple(
        t(
            "card.history_line",
            at=change.at,
            status=STATUS_LABELS.get(change.to_status, t("card.not_given")),
            comment=change.comment or "",
        )
        for change in changes
    )
    return t("card.history", lines=Lines(lines))
