"""/export: the initiatives of the subtrees a member reviews, leads or organizes, as a
workbook sent in chat (`/export CAMPAIGN` for one campaign's), made as it is sent."""

import re

from core.folding import fold
from core.messages import LaterDocument, Reply, t
from handlers.conversation import Context, Conversation, Outcome, end, goto
from handlers.draft import member
from services import export, notices


def send_export(ctx: Context) -> Outcome:
    """Queue a workbook per subtree the member may export; refuse one too large for chat.

    The workbook is made as its message is sent (`views.later`), not in this update's
    transaction: thousands of rows take seconds, which every other chat would wait.
    """
    person = member(ctx)
    scopes = export.chat_scopes(session=ctx.session, member=person)
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
    day = ctx.now.astimezone(ctx.settings.tz).date().isoformat()
    replies = []
    for unit in scopes:
        found = export.count(session=ctx.session, unit=unit, only=only)
        if found == 0:
            replies.append(Reply(t("export.nothing", unit=unit.name)))
        elif found > limit:
            replies.append(Reply(t("export.too_many", unit=unit.name, count=found, limit=limit)))
        else:
            workbook = LaterDocument(
                "export",
                {
                    "member": person.id,
                    "unit": unit.id,
                    "campaign": only.campaign_id,
                    "name": f"sang-kien-{_slug(unit.name)}-{day}.xlsx",
                },
            )
            notices.to_chat(
                session=ctx.session,
                chat=(ctx.incoming.channel, ctx.incoming.chat_id),
                reply=Reply(t("export.sent", unit=unit.name, count=found), later=(workbook,)),
                language=ctx.language,
                now=ctx.now,
                member_id=person.id,
                kind="group" if ctx.incoming.in_group else "private",
            )
            replies.append(Reply(t("export.preparing", unit=unit.name, count=found)))
    return goto(None, *replies)


def _slug(name: str) -> str:
    """Return a unit's name as a file name takes it everywhere: "Xưởng SMT 2" is
    "xuong-smt-2"."""
    return re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-")[:40] or "unit"


CONVERSATION = Conversation(
    name="export", commands={"export": send_export}, menu={"export": t("command.export")}
)
