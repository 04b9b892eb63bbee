"""The council's queue (/review): what waits for the reviewer, oldest first, filtered by
field or unit; picking one opens its card (handlers.review)."""

from typing import Any

from core.messages import Lines, Reply, t
from core.typed import number_in
from handlers.conversation import Context, Outcome, end, goto
from handlers.draft import member, question
from services import review
from storage.models import Initiative
from storage.units import unit_by_id, units_named
from views.labels import FIELD_LABELS, STATUS_LABELS

KEY = "review"


def review_data(ctx: Context) -> dict[str, Any]:
    """The review conversation's own data: the opened initiative, the queue's filter."""
    data = ctx.data.setdefault(KEY, {})
    assert isinstance(data, dict)
    return data


def open_queue(ctx: Context) -> Outcome:
    """List what waits for the reviewer, filtered by `/review <field or unit>`."""
    ctx.data[KEY] = {}
    wanted = ctx.incoming.argument
    if wanted:
        if wanted.lower() in FIELD_LABELS:
            review_data(ctx)["field"] = wanted.lower()
        else:
            found = units_named(session=ctx.session, name=wanted)
            if not found:
                return end(t("review.filter_unknown", text=wanted))
            review_data(ctx)["unit"] = found[0].id
    if not _queue(ctx):
        ctx.data.pop(KEY, None)
        return end(t("review.queue_empty"))
    return goto("review.pick")


def _queue(ctx: Context) -> list[Initiative]:
    unit_id = review_data(ctx).get("unit")
    unit = unit_by_id(session=ctx.session, unit_id=unit_id) if isinstance(unit_id, int) else None
    field = review_data(ctx).get("field")
    return review.queue(
        session=ctx.session,
        member=member(ctx),
        unit=unit,
        field=field if isinstance(field, str) else None,
    )


def ask_pick(ctx: Context) -> tuple[Reply, ...]:
    """Show the queue, oldest first, one option per initiative."""
    waiting = _queue(ctx)
    lines = tuple(
        t("review.line", id=i.id or 0, title=i.title or "", status=STATUS_LABELS[i.status])
        for i in waiting
    )
    return question(
        t("review.queue", lines=Lines(lines) if lines else t("review.queue_empty")),
        *((f"review:{i.id}", t("review.opt_open", id=i.id or 0)) for i in waiting),
        ("review:filter", t("review.opt_filter")),
    )


def on_pick(ctx: Context) -> Outcome:
    """Open a card (the first opening puts it under review); the services decide whether
    this reviewer may."""
    wanted = (ctx.choice or "").removeprefix("review:")
    if wanted == "filter":
        return goto("review.filter")
    initiative_id = number_in(wanted) or 0
    review_data(ctx)["id"] = initiative_id
    review.open_card(
        session=ctx.session, member=member(ctx), initiative_id=initiative_id, now=ctx.now
    )
    return goto("review.card")


def ask_filter(ctx: Context) -> tuple[Reply, ...]:
    """Offer every field, or all of them."""
    return question(
        t("review.ask_filter"),
        *((f"field:{code}", label) for code, label in FIELD_LABELS.items()),
        ("field:all", t("review.opt_all_fields")),
    )


def on_filter(ctx: Context) -> Outcome:
    """Show only the chosen field's initiatives."""
    field = (ctx.choice or "").removeprefix("field:")
    review_data(ctx)["field"] = field if field in FIELD_LABELS else None
    return goto("review.pick")
