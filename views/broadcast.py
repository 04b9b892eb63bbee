"""How broadcasts read in the organizer's chat: progress, final report, history."""

import math
from datetime import datetime

from core.messages import Lines, Number, Reply, Text, t
from storage.broadcasts import CANCELLED, Tally
from storage.models import Broadcast
from views.labels import BROADCAST_STATUS_LABELS


def _counts(tally: Tally, *statuses: str) -> dict[str, Number]:
    """Return how many messages have each of the statuses, by status."""
    return {status: Number(tally[status]) for status in statuses}


def eta(broadcast: Broadcast, tally: Tally, now: datetime) -> Text:
    """Estimate the time left from the pace so far."""
    done = tally.total - tally["queued"]
    if broadcast.started_at is None or not done:
        return t("broadcast.eta_unknown")
    pace = done / max((now - broadcast.started_at).total_seconds(), 1.0)
    return t("broadcast.eta_minutes", minutes=Number(math.ceil(tally["queued"] / pace / 60)))


def progress_reply(broadcast: Broadcast, tally: Tally, now: datetime) -> Reply:
    """The live progress message, edited as the broadcast goes out."""
    return Reply(
        t(
            "broadcast.progress",
            id=broadcast.id or 0,
            **_counts(tally, "sent", "failed", "blocked"),
            remaining=Number(tally["queued"]),
            total=Number(tally.total),
            eta=eta(broadcast, tally, now),
        )
    )


def final_reply(broadcast: Broadcast, tally: Tally) -> Reply:
    """The final report: what went, what failed, what was stopped."""
    params = {
        "id": broadcast.id or 0,
        **_counts(tally, "sent", "failed", "blocked", "cancelled"),
        "total": Number(tally.total),
    }
    if broadcast.status == CANCELLED:
        return Reply(t("broadcast.report_cancelled", **params))
    return Reply(t("broadcast.report", **params))


def history_text(listed: list[tuple[Broadcast, Tally]], zone: object) -> Text:
    """List broadcasts, newest first, with their counts."""
    if not listed:
        return t("broadcast.history_none")
    lines = tuple(
        t(
            "broadcast.history_line",
            id=b.id or 0,
            when=b.send_at.astimezone(zone).strftime("%d/%m/%Y %H:%M"),  # type: ignore[arg-type]
            status=BROADCAST_STATUS_LABELS[b.status],
            sent=Number(tally["sent"]),
            failed=Number(tally["failed"] + tally["blocked"]),
            total=Number(b.recipients or tally.total),
        )
        for b, tally in listed
    )
    return t("broadcast.history", lines=Lines(lines))
