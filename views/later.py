"""Documents made as their queued message is sent (`core.messages.LaterDocument`).

A workbook of up to CHAT_EXPORT_MAX_ROWS rows takes seconds, a certificate a third of
one. Drawn inside the transaction of the update that asks for them, they held up every
chat of its group (on SQLite every write of the process) that long. Queued as a kind and
its parameters, they are made from a read-only session when the message goes out, in
the language it is sent in. A certificate whose initiative is gone is left out; a
workbook the member may no longer export makes the message the refusal.
"""

import io
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from core.codec import reply_from_json, reply_to_json
from core.errors import Refused
from core.messages import OutDocument
from core.settings import Settings
from locales import Catalogs
from services import export
from storage.db import reading
from storage.models import Author, Initiative, Member, Unit
from storage.outbox import Due
from views import certificate, workbook

logger = logging.getLogger(__name__)
# A maker returns the document, None when there is none to make any more (the message
# goes without it), or refuses (the refusal replaces the message's text).
Maker = Callable[[Session, Catalogs, Settings, dict[str, Any], str], OutDocument | None]


def _certificate(
    session: Session, catalogs: Catalogs, settings: Settings, params: dict[str, Any], _: str
) -> OutDocument | None:
    """An author's certificate, in the author's language (`views.certificate`); none if
    the initiative or the author is gone (the approval notice still goes)."""
    initiative = session.get(Initiative, params["initiative"])
    author = session.get(Author, params["author"])
    council = session.get(Unit, params["council"])
    member = session.get(Member, author.member_id) if author and author.member_id else None
    if initiative is None or author is None or council is None or member is None:
        return None
    return certificate.for_author(
        initiative=initiative,
        council=council,
        author=author,
        member=member,
        catalogs=catalogs,
        zone=settings.tz,
    )


def _export(
    session: Session,
    catalogs: Catalogs,
    settings: Settings,
    params: dict[str, Any],
    language: str,
) -> OutDocument:
    """A unit's workbook for /export, if the member may still export it."""
    member = session.get(Member, params["member"])
    unit = session.get(Unit, params["unit"])
    if (
        member is None
        or unit is None
        or not export.may_export(session=session, member=member, unit=unit)
    ):
        raise Refused("export.not_allowed")
    target = io.BytesIO()
    only = export.Filters(campaign_id=params.get("campaign"))
    workbook.write(
        target,
        export.rows(session=session, unit=unit, only=only),
        catalogs=catalogs,
        language=language,
        zone=settings.tz,
    )
    return OutDocument(str(params["name"]), target.getvalue())


MAKERS: dict[str, Maker] = {"certificate": _certificate, "export": _export}


def made(
    *,
    session: Session,
    catalogs: Catalogs,
    settings: Settings,
    content: dict[str, Any],
    language: str,
) -> dict[str, Any]:
    """Return a queued message's content with its later documents made and along (as
    the codec carries documents), or with a maker's refusal as its text."""
    if not content.get("later"):
        return content
    reply = reply_from_json(content)
    documents = list(reply.documents)
    text = reply.text
    for later in reply.later:
        make = MAKERS.get(later.kind)
        if make is None:  # queued by another version of the bot: sent without it
            logger.error("no maker for a %s document; the message goes without it", later.kind)
            continue
        try:
            document = make(session, catalogs, settings, later.params, language)
        except Refused as refusal:
            logger.info("a %s document was not made: %s", later.kind, refusal.text.key)
            text = refusal.text
            continue
        if document is not None:
            documents.append(document)
    made_reply = replace(reply, text=text, documents=tuple(documents), later=())
    return reply_to_json(made_reply, max_bytes=None)


def maker(engine: Engine, catalogs: Catalogs, settings: Settings) -> Callable[[Due], Due]:
    """Return what makes a due message's later documents before it is sent, from a
    read-only session (the write lock stays free); the outbox sender has it run in the
    leader's worker processes (`bot.leader.preparing`)."""

    def make(item: Due) -> Due:
        with reading(engine) as session:
            content = made(
                session=session,
                catalogs=catalogs,
                settings=settings,
                content=item.content,
                language=item.language,
            )
        return replace(item, content=content)

    return make
