"""/export: the initiatives of the subtrees a member reviews, leads or organizes, as a
workbook sent in chat (`/export CAMPAIGN` for one campaign's)."""

import io
import re

from core.folding import fold
from core.messages import OutDocument, Reply, t
from handlers.conversation import Context, Conversation, Outcome, end, goto
from handlers.draft import member
from services import export
from storage.models import Unit
from views import workbook


def send_export(ctx: Context) -> Outcome:
    """Send a workbook per subtree the member may export; refuse one too large for chat."""
    scopes = export.chat_scopes(session=ctx.session, member=member(ctx))
    if not scopes:
        return end(t("export.not_allowed"))
    campaign = ctx.incoming.argument.strip() or None
    only = export.filters(
        session=ctx.session,
        since=None,
        until=None,
        campaign=campaign,
        statuses=(),
        zone=ctx.settings.tz,
    )
    limit = ctx.settings.chat_export_max_rows
    replies = []
    for unit in scopes:
        found = export.count(session=ctx.session, unit=unit, only=only)
        if found == 0:
            replies.append(Reply(t("export.nothing", unit=unit.name)))
        elif found > limit:
            replies.append(Reply(t("export.too_many", unit=unit.name, count=found, limit=limit)))
        else:
            replies.append(_workbook(ctx, unit, only, found))
    return goto(None, *replies)


def _workbook(ctx: Context, unit: Unit, only: export.Filters, found: int) -> Reply:
    target = io.BytesIO()
    workbook.write(
        target,
        export.rows(session=ctx.session, unit=unit, only=only),
        catalogs=ctx.catalogs,
        language=ctx.language,
        zone=ctx.settings.tz,
    )
    day = ctx.now.astimezone(ctx.settings.tz).date().isoformat()
    name = f"sang-kien-{_slug(unit.name)}-{day}.xlsx"
    document = OutDocument(name, target.getvalue())
    return Reply(t("export.sent", unit=unit.name, count=found), documents=(document,))


def _slug(name: str) -> str:
    """Return a unit's name as a file name takes it everywhere: "Xưởng SMT 2" is
    "xuong-smt-2"."""
    return re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-")[:40] or "unit"


CONVERSATION = Conversation(
    name="export", commands={"export": send_export}, menu={"export": t("command.export")}
)
