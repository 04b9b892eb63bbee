"""The review card's similar initiatives: a line each, and one opened from the card."""

from collections.abc import Sequence

from core.messages import Lines, Text, t
from services.similar import Alike
from views.labels import STATUS_LABELS


def _status(alike: Alike) -> Text:
    return STATUS_LABELS.get(alike.initiative.status, t("card.not_given"))


def similar_items(alikes: Sequence[Alike]) -> Lines:
    """Each similar initiative on a line, with its status and unit."""
    return Lines(
        tuple(
            t(
                "review.similar_line",
                id=a.initiative.id or 0,
                title=a.initiative.title or "",
                status=_status(a),
                unit=a.unit.name,
            )
            for a in alikes
        )
    )


def with_similar(card: Text, alikes: Sequence[Alike], difference: str | None) -> Text:
    """The card, followed by the similar initiatives and how the authors say theirs
    differs (nothing added when nothing is alike)."""
    if not alikes:
        return card
    said = t("review.similar_difference", text=difference) if difference else ""
    block = t("review.similar", lines=similar_items(alikes), difference=said)
    return t("review.card_similar", card=card, similar=block)


def similar_card(alike: Alike) -> Text:
    """A similar initiative opened from the card: a confidential one by its title only."""
    i = alike.initiative
    head = {"id": i.id or 0, "title": i.title or "", "status": _status(alike)}
    if i.confidential:
        return t("review.similar_card_confidential", unit=alike.unit.name, **head)
    return t(
        "review.similar_card",
        unit=alike.unit.name,
        problem=i.problem or t("card.not_given"),
        solution=i.solution or t("card.not_given"),
        **head,
    )
