"""Joining with an invite code, consent, language, and the member's data rights."""

import json

import pytest
from sqlmodel import Session, select

from bot.app import Core
from services import roles, units
from storage.db import transaction
from storage.models import (
    Author,
    ChannelIdentity,
    ConsentRefusal,
    ConversationState,
    Initiative,
    Member,
    OutboxMessage,
    Role,
    Unit,
)
from tests.conftest import DEMO_CODE, Clock
from tests.person import Person
from tests.tree import Tree


def count(core: Core, model: type) -> int:
    with Session(core.engine) as session:
        return len(session.exec(select(model)).all())


def test_unknown_code_gets_a_clear_answer_and_no_membership(core: Core, unit_id: int) -> None:
    person = Person(core.dispatcher)
    assert person.say("/start NOSUCHCODE") == ["onboarding.code_unknown"]
    assert person.say("/new") == ["common.join_first"]
    assert count(core, Member) == 0


def test_revoked_code_is_refused(core: Core, unit_id: int, clock: Clock) -> None:
    with transaction(core.engine) as session:
        unit = units.find_unit(session=session, ref=str(unit_id))
        units.revoke_invites(session=session, unit=unit, now=clock())
    assert Person(core.dispatcher).say(f"/start {DEMO_CODE}") == ["onboarding.code_revoked"]
    assert count(core, Member) == 0


def test_code_is_accepted_in_any_case_and_spacing(core: Core, unit_id: int) -> None:
    person = Person(core.dispatcher)
    assert person.say(f"/start {DEMO_CODE.lower()}") == ["onboarding.ask_language"]


def test_consent_creates_member_with_worker_role_and_time(
    core: Core, unit_id: int, clock: Clock
) -> None:
    person = Person(core.dispatcher)
    assert person.say(f"/start {DEMO_CODE}") == ["onboarding.ask_language"]
    assert person.say(choice="lang:en") == ["onboarding.consent_text", "onboarding.ask_consent"]
    assert person.options == ["consent:yes", "consent:no"]
    assert person.say(choice="consent:yes") == ["onboarding.joined", "help.text"]
    with Session(core.engine) as session:
        member = session.exec(select(Member)).one()
        assert (member.display_name, member.language, member.unit_id) == (
            "Nguyễn Văn An",
            "en",
            unit_id,
        )
        assert member.consent_at == clock()
        roles = session.exec(select(Role)).all()
        assert [(r.role, r.unit_id) for r in roles] == [("worker", unit_id)]
    assert person.last is not None and person.last.language == "en"


def test_declining_stores_nothing_but_the_refusal(core: Core, unit_id: int) -> None:
    person = Person(core.dispatcher)
    person.say(f"/start {DEMO_CODE}")
    person.say(choice="lang:vi")
    assert person.say(choice="consent:no") == ["onboarding.declined"]
    assert count(core, Member) == 0
    assert count(core, ChannelIdentity) == 0
    assert count(core, ConversationState) == 0
    with Session(core.engine) as session:
        refusal = session.exec(select(ConsentRefusal)).one()
        assert "u1" not in refusal.subject_hash and len(refusal.subject_hash) == 64


def test_consent_has_no_default_answer_and_the_notice_is_shown_once(
    core: Core, unit_id: int
) -> None:
    person = Person(core.dispatcher)
    person.say(f"/start {DEMO_CODE}")
    assert person.say(choice="lang:vi") == ["onboarding.consent_text", "onboarding.ask_consent"]
    assert person.say("có lẽ") == ["common.pick_option", "onboarding.ask_consent"]
    assert person.say("/done") == ["common.pick_option", "onboarding.ask_consent"]
    assert count(core, Member) == 0


@pytest.mark.parametrize(
    ("language", "typed"),
    [
        ("lang:vi", "đồng ý"),
        ("lang:vi", "Dong y"),
        ("lang:vi", "OK"),
        ("lang:en", "yes"),
        ("lang:en", "I agree"),
        ("lang:id", "setuju"),
        ("lang:id", "Ya"),
    ],
)
def test_consent_typed_in_words_is_an_answer(
    core: Core, unit_id: int, language: str, typed: str
) -> None:
    person = Person(core.dispatcher)
    person.say(f"/start {DEMO_CODE}")
    person.say(choice=language)
    assert person.say(typed) == ["onboarding.joined", "help.text"]
    assert count(core, Member) == 1


def test_declining_in_words_keeps_nothing(core: Core, unit_id: int) -> None:
    person = Person(core.dispatcher)
    person.say(f"/start {DEMO_CODE}")
    person.say(choice="lang:vi")
    assert person.say("không đồng ý") == ["onboarding.declined"]
    assert count(core, Member) == 0


def test_name_is_asked_when_the_channel_has_none(core: Core, unit_id: int) -> None:
    person = Person(core.dispatcher, name="")
    person.say(f"/start {DEMO_CODE}")
    assert person.say(choice="lang:vi") == ["onboarding.ask_name"]
    assert person.say("   ") == ["onboarding.name_empty", "onboarding.ask_name"]
    person.say("Lê Thị Hoa")
    person.say(choice="consent:yes")
    with Session(core.engine) as session:
        assert session.exec(select(Member)).one().display_name == "Lê Thị Hoa"


def test_language_changes_later(core: Core, unit_id: int) -> None:
    person = Person(core.dispatcher)
    person.join(DEMO_CODE)
    assert person.say("/language") == ["language.ask"]
    assert person.say("Bahasa Indonesia") == ["language.changed"]
    assert person.last is not None and person.last.language == "id"
    with Session(core.engine) as session:
        assert session.exec(select(Member)).one().language == "id"


def test_mydata_sends_everything_stored(core: Core, unit_id: int) -> None:
    person = Person(core.dispatcher)
    person.join(DEMO_CODE)
    person.core_answers()
    person.press("next:submit")
    assert person.say("/mydata") == ["privacy.my_data"]
    assert person.last is not None
    document = person.last.replies[0].documents[0]
    data = json.loads(document.content)
    assert data["member"]["display_name"] == "Nguyễn Văn An"
    assert data["identities"][0]["external_user_id"] == "u1"
    assert data["roles"][0]["role"] == "worker"
    assert data["initiatives"][0]["title"] == "Máy dán nhãn tự động"
    assert data["initiatives"][0]["estimated_benefit_vnd"] == 1_500_000_000
    assert [(a["share_percent"], a["is_submitter"]) for a in data["authorships"]] == [(100, True)]
    history = [(c["from_status"], c["to_status"]) for c in data["status_history"]]
    assert history == [(None, "draft"), ("draft", "submitted")]
    assert [n["chat_id"] for n in data["notices"]] == ["u1"]  # "your initiative was received"
    assert data["notices"][0]["content"]["text"]["$text"].startswith("notice.")


def test_a_messenger_name_too_long_to_show_is_asked_for_not_a_dead_end(
    core: Core, unit_id: int
) -> None:
    person = Person(core.dispatcher, name="Nguyễn " * 20)  # Telegram allows 129 characters
    person.say(f"/start {DEMO_CODE}")
    asked = person.say(choice="lang:vi")
    assert "onboarding.name_too_long" not in asked and asked[-1] == "onboarding.ask_name"
    assert person.say("Nguyễn Văn An") == ["onboarding.consent_text", "onboarding.ask_consent"]
    assert person.say(choice="consent:yes")[0] == "onboarding.joined"


def test_deleteme_erases_member_and_anonymizes_authorship(core: Core, unit_id: int) -> None:
    person = Person(core.dispatcher)
    person.join(DEMO_CODE)
    person.core_answers()
    person.press("next:submit")
    person.say("/new")
    person.say("Một bản nháp chưa xong")
    with transaction(core.engine) as session:  # one notice went out, one is still queued
        sent = session.exec(select(OutboxMessage)).one()
        sent.status = "sent"
        session.add(sent)
        session.add(OutboxMessage(**{**sent.model_dump(), "id": None, "status": "queued"}))
    assert person.say("/deleteme") == ["privacy.ask_erase"]
    assert person.say(choice="erase:yes") == ["privacy.erased"]
    with Session(core.engine) as session:
        left = session.exec(select(OutboxMessage)).all()
        assert [(m.status, m.chat_id, m.member_id, m.content) for m in left] == [
            ("sent", "", None, {})
        ]
        assert session.exec(select(Member)).all() == []
        assert session.exec(select(ChannelIdentity)).all() == []
        assert session.exec(select(ConversationState)).all() == []
        initiatives = session.exec(select(Initiative)).all()
        assert [(i.status, i.submitter_id) for i in initiatives] == [("submitted", None)]
        author = session.exec(select(Author)).one()
        assert (author.name, author.member_id, author.share_percent) == (None, None, 100)
    assert person.say("/mydata") == ["privacy.nothing_stored"]


def test_deleteme_keeps_data_unless_confirmed(core: Core, unit_id: int) -> None:
    person = Person(core.dispatcher)
    person.join(DEMO_CODE)
    person.say("/deleteme")
    assert person.say(choice="erase:no") == ["privacy.kept"]
    assert count(core, Member) == 1


def test_a_member_who_sends_another_units_code_is_asked_to_move(
    core: Core, tree: Tree, clock: Clock
) -> None:
    with transaction(core.engine) as session:
        worker = session.get(Member, tree.people["reviewer"])
        assert worker is not None
        b = session.get(Unit, tree.b)
        assert b is not None
        code_b = units.current_invite(session=session, unit=b, now=clock()).code
        zone = session.get(Unit, tree.zone)
        assert zone is not None
        roles.grant(session=session, member=worker, unit=zone, role="organizer", now=clock())
    person = Person(core.dispatcher, "reviewer", channel="telegram")
    assert person.say("/start NOSUCHCODE") == ["onboarding.code_unknown"]
    assert person.say(f"/start {code_b}") == ["onboarding.ask_move"]
    assert person.press("move:no") == ["onboarding.move_declined"]
    assert held(core, tree.people["reviewer"]) == {(tree.a, "reviewer"), (tree.zone, "organizer")}
    assert person.say(f"/start {code_b}") == ["onboarding.ask_move"]
    assert person.press("move:yes") == ["onboarding.moved"]
    # The reviewer role of the old enterprise goes; the zone's, above both, stays.
    assert held(core, tree.people["reviewer"]) == {(tree.b, "worker"), (tree.zone, "organizer")}
    with Session(core.engine) as session:
        moved = session.get(Member, tree.people["reviewer"])
        assert moved is not None and moved.unit_id == tree.b
    assert person.say(f"/start {code_b}") == ["onboarding.welcome_back"]


def held(core: Core, member_id: int) -> set[tuple[int, str]]:
    with Session(core.engine) as session:
        found = session.exec(select(Role).where(Role.member_id == member_id)).all()
        return {(role.unit_id, role.role) for role in found}
