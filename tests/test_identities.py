"""A member on several messengers: notices follow the one used last, /mydata and /deleteme
cover them all, and the migration that records when each was used."""

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command
from sqlmodel import Session, select

from bot.app import Core
from core.messages import Reply, t
from services import chats, notices
from storage.db import alembic_config, make_engine, transaction, upgrade
from storage.members import USED_WITHIN
from storage.models import (
    ChannelIdentity,
    ConversationState,
    LinkAttempt,
    LinkCode,
    Member,
    OutboxMessage,
)
from storage.types import UTCDateTime
from storage.units import unit_by_id
from tests.conftest import DEMO_CODE, Clock
from tests.person import Person

NOTICE = Reply(t("common.resume"))


def linked(core: Core) -> tuple[Person, Person]:
    """Return a member who joined on Telegram and linked Zalo (one wrong try first)."""
    telegram = Person(core.dispatcher, "t1", channel="telegram")
    telegram.join(DEMO_CODE, language="lang:en")
    telegram.say("/link")
    assert telegram.last is not None
    code = telegram.last.replies[0].text.params["code"]
    zalo = Person(core.dispatcher, "z1", channel="zalo")
    assert zalo.say("/link 1234567") == ["link.code_wrong"]
    assert zalo.say(f"/link {code}")[0] == "link.linked"
    return telegram, zalo


def notified(core: Core, clock: Clock, unit_id: int) -> str:
    """Queue a notice to the member, and one to their unit; return the channel both took."""
    with Session(core.engine) as session:  # never committed
        member = session.exec(select(Member)).one()
        unit = unit_by_id(session=session, unit_id=unit_id)
        assert unit is not None
        assert notices.to_member(session=session, member=member, reply=NOTICE, now=clock())
        assert notices.to_members_in(session=session, unit=unit, reply=NOTICE, now=clock()) == 1
        queued = session.exec(select(OutboxMessage).where(OutboxMessage.created_at == clock()))
        taken = {message.channel for message in queued.all()}
    assert len(taken) == 1, taken
    return taken.pop()


def last_used(core: Core) -> dict[str, datetime | None]:
    with Session(core.engine) as session:
        rows = session.exec(select(ChannelIdentity)).all()
        return {identity.channel: identity.last_used_at for identity in rows}


def test_notices_go_to_the_messenger_used_last_that_reaches_the_person(
    core: Core, unit_id: int, clock: Clock
) -> None:
    start = clock()
    telegram, zalo = linked(core)
    assert last_used(core) == {"telegram": start, "zalo": start}
    assert notified(core, clock, unit_id) == "telegram"  # a tie: the first one
    clock.advance(minutes=6)
    zalo.say("/my")
    assert notified(core, clock, unit_id) == "zalo"
    clock.advance(minutes=2)
    telegram.say("/my")
    assert notified(core, clock, unit_id) == "telegram"
    # Within USED_WITHIN of its last record, a message writes nothing (the hot path).
    clock.advance(minutes=2)
    zalo.say("/my")
    assert last_used(core)["zalo"] == start + timedelta(minutes=6)
    assert notified(core, clock, unit_id) == "telegram"
    clock.advance(seconds=USED_WITHIN.total_seconds())
    zalo.say("/my")
    assert last_used(core)["zalo"] == clock()
    assert notified(core, clock, unit_id) == "zalo"
    with transaction(core.engine) as session:  # blocked there: the other one
        chats.blocked(session=session, channel="zalo", user_id="z1", now=clock())
    assert notified(core, clock, unit_id) == "telegram"
    clock.advance(minutes=10)
    zalo.say("/my")  # blocked, unknown to the bot: still the one it reaches
    assert notified(core, clock, unit_id) == "telegram"


def test_mydata_and_deleteme_cover_every_messenger_of_the_member(
    core: Core, unit_id: int, clock: Clock
) -> None:
    telegram, zalo = linked(core)
    assert telegram.say("/new")[-1] == "wizard.ask_title"  # a state on Telegram
    assert zalo.say("/mydata") == ["privacy.my_data"]
    assert zalo.last is not None
    data = json.loads(zalo.last.replies[0].documents[0].content)
    assert {(i["channel"], i["external_user_id"]) for i in data["identities"]} == {
        ("telegram", "t1"),
        ("zalo", "z1"),
    }
    assert [s["step"] for s in data["conversation_state"] if s["channel"] == "telegram"] == [
        "wizard.title"
    ]
    assert [n["channel"] for n in data["notices"]] == ["telegram"]  # "linked", to Telegram
    (code,) = data["link_codes"]
    assert code["used_at"] is not None and "code_hash" not in code
    assert len(data["failed_link_attempts"]) == 1
    assert "subject_hash" not in data["failed_link_attempts"][0]

    assert zalo.say("/deleteme") == ["privacy.ask_erase"]
    assert zalo.say(choice="erase:yes") == ["privacy.erased"]
    assert telegram.say("/my") == ["common.join_first"]
    with Session(core.engine) as session:
        for model in (Member, ChannelIdentity, LinkCode, LinkAttempt, ConversationState):
            assert session.exec(select(model)).all() == [], model
        assert [m.chat_id for m in session.exec(select(OutboxMessage)).all()] == []


def test_the_migration_records_last_use_from_conversations_and_goes_back(
    database_url: str,
) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "0014")
    engine = make_engine(database_url)
    then = datetime(2026, 11, 24, 8, tzinfo=UTC)
    columns = {
        "unit": ("id", "name", "kind", "path"),
        "member": ("id", "unit_id", "display_name", "language"),
        "channelidentity": ("id", "member_id", "channel", "external_user_id", "chat_id"),
        "conversationstate": ("channel", "chat_id", "user_id"),
    }
    tables = {
        name: sa.table(
            name,
            *(sa.column(c) for c in names),
            sa.column("created_at", UTCDateTime()),
            sa.column("consent_at", UTCDateTime()),
            sa.column("updated_at", UTCDateTime()),
            sa.column("data", sa.JSON()),
        )
        for name, names in columns.items()
    }
    with engine.begin() as connection:
        run = connection.execute
        run(
            tables["unit"]
            .insert()
            .values(id=1, name="X", kind="workshop", path="/1/", created_at=then)
        )
        run(
            tables["member"]
            .insert()
            .values(
                id=1, unit_id=1, display_name="A", language="vi", consent_at=then, created_at=then
            )
        )
        for number, channel in ((1, "telegram"), (2, "zalo")):
            run(
                tables["channelidentity"]
                .insert()
                .values(id=number, member_id=1, channel=channel, external_user_id="u", chat_id="u")
            )
        for chat, hours in (("u", 1), ("-5", 3)):  # the person's private chat and a group
            run(
                tables["conversationstate"]
                .insert()
                .values(
                    channel="telegram",
                    chat_id=chat,
                    user_id="u",
                    data={},
                    updated_at=then + timedelta(hours=hours),
                )
            )
    upgrade(database_url)
    with Session(engine) as session:
        rows = session.exec(select(ChannelIdentity).order_by(ChannelIdentity.id)).all()
        assert [i.last_used_at for i in rows] == [then + timedelta(hours=3), None]
    command.downgrade(config, "0014")
    with engine.connect() as connection:
        assert "linkcode" not in sa.inspect(connection).get_table_names()
    upgrade(database_url)
    engine.dispose()
