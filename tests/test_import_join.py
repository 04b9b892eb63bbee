"""Imported people join with their personal code: consent asked as for everyone, then the
unit, name and roles of the union's list; the code is theirs alone."""

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.app import Core
from bot.cli import app
from storage.models import InviteCode, Member, Role, RosterEntry, Unit
from tests.conftest import Clock
from tests.person import Person

UNITS = "Đơn vị\nCông ty A / Xưởng 1\nCông ty A / Xưởng 2\n"
MEMBERS = "Họ và tên,Mã nhân viên,Đơn vị,Vai trò\nTrần Thị Bình,NV002,Xưởng 1,hội đồng\n"


def import_file(core: Core, tmp_path: Path, kind: str, text: str, *extra: str) -> None:
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    result = CliRunner(env={"DATABASE_URL": core.settings.database_url}).invoke(
        app, ["import", kind, str(path), "--json", *extra], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["errors"] == 0


@pytest.fixture
def code(core: Core, tmp_path: Path) -> str:
    """Import the tree and one person; return her personal code."""
    import_file(core, tmp_path, "units", UNITS)
    import_file(core, tmp_path, "members", MEMBERS, "--unit", "Công ty A")
    with Session(core.engine) as session:
        return session.exec(select(RosterEntry.code)).one()


def unit_named(core: Core, name: str) -> int:
    with Session(core.engine) as session:
        return session.exec(select(Unit.id).where(Unit.name == name)).one() or 0


def test_a_personal_code_asks_consent_then_joins_with_the_lists_name_and_roles(
    core: Core, code: str
) -> None:
    person = Person(core.dispatcher, name="binh_99")
    assert person.say(f"/start {code.lower()}") == ["onboarding.ask_language"]
    assert person.say(choice="lang:vi") == ["onboarding.consent_text", "onboarding.ask_consent"]
    assert person.say(choice="consent:yes") == ["onboarding.joined", "help.text"]
    with Session(core.engine) as session:
        member = session.exec(select(Member)).one()
        entry = session.exec(select(RosterEntry)).one()
        held = {r.role for r in session.exec(select(Role).where(Role.member_id == member.id))}
    assert (member.display_name, member.unit_id) == ("Trần Thị Bình", unit_named(core, "Xưởng 1"))
    assert entry.member_id == member.id
    assert held == {"worker", "reviewer"}
    assert person.say("/mydata") == ["privacy.my_data"]  # the list's line about her too
    data = json.loads(person.last.replies[0].documents[0].content)  # type: ignore[union-attr]
    assert [(e["name"], e["employee_id"]) for e in data["member_list_entries"]] == [
        ("Trần Thị Bình", "NV002")
    ]


def test_declining_consent_keeps_nothing_and_leaves_the_code_free(core: Core, code: str) -> None:
    person = Person(core.dispatcher)
    person.say(f"/start {code}")
    person.say(choice="lang:en")
    assert person.say(choice="consent:no") == ["onboarding.declined"]
    with Session(core.engine) as session:
        assert session.exec(select(Member)).all() == []
        assert session.exec(select(RosterEntry)).one().member_id is None


def test_a_used_personal_code_is_refused_to_someone_else(core: Core, code: str) -> None:
    owner = Person(core.dispatcher, user_id="owner")
    owner.say(f"/start {code}")
    owner.say(choice="lang:vi")
    owner.say(choice="consent:yes")
    assert owner.say(f"/start {code}") == ["onboarding.welcome_back"]
    other = Person(core.dispatcher, user_id="other")
    assert other.say(f"/start {code}") == ["onboarding.personal_code_used"]
    with Session(core.engine) as session:
        assert len(session.exec(select(Member)).all()) == 1


def test_after_deleteme_the_list_entry_is_gone_and_its_code_gives_no_roles(
    core: Core, code: str
) -> None:
    owner = Person(core.dispatcher, user_id="owner")
    owner.say(f"/start {code}")
    owner.say(choice="lang:vi")
    owner.say(choice="consent:yes")
    owner.say("/deleteme")
    assert owner.say(choice="erase:yes") == ["privacy.erased"]
    with Session(core.engine) as session:
        assert session.exec(select(RosterEntry)).all() == []  # the name goes with the rest
    finder = Person(core.dispatcher, user_id="finder")  # someone who found the printed card
    assert finder.say(f"/start {code}") == ["onboarding.code_unknown"]
    with Session(core.engine) as session:
        assert session.exec(select(Member)).all() == [] and session.exec(select(Role)).all() == []


def test_a_reimport_moves_a_joined_person_and_gives_their_new_roles(
    core: Core, code: str, tmp_path: Path, clock: Clock
) -> None:
    person = Person(core.dispatcher)
    person.say(f"/start {code}")
    person.say(choice="lang:vi")
    person.say(choice="consent:yes")
    moved = "Họ và tên,Mã nhân viên,Đơn vị,Vai trò\nTrần Thị Bình,NV002,Xưởng 2,lãnh đạo\n"
    import_file(core, tmp_path, "members", moved, "--unit", "Công ty A")
    shop2 = unit_named(core, "Xưởng 2")
    with Session(core.engine) as session:
        member = session.exec(select(Member)).one()
        held = {
            (r.role, r.unit_id)
            for r in session.exec(select(Role).where(Role.member_id == member.id))
        }
    assert member.unit_id == shop2
    assert held == {("worker", shop2), ("leader", shop2)}


def test_a_member_of_another_unit_is_asked_to_move_and_then_holds_the_code(
    core: Core, code: str
) -> None:
    with Session(core.engine) as session:
        shop2 = unit_named(core, "Xưởng 2")
        invite = session.exec(select(InviteCode.code).where(InviteCode.unit_id == shop2)).first()
    person = Person(core.dispatcher)
    person.say(f"/start {invite}")
    person.say(choice="lang:vi")
    assert person.say(choice="consent:yes") == ["onboarding.joined", "help.text"]
    assert person.say(f"/start {code}") == ["onboarding.ask_move"]
    assert person.say(choice="move:yes") == ["onboarding.moved"]
    with Session(core.engine) as session:
        member = session.exec(select(Member)).one()
        entry = session.exec(select(RosterEntry)).one()
        held = {r.role for r in session.exec(select(Role).where(Role.member_id == member.id))}
    assert (member.unit_id, entry.member_id) == (unit_named(core, "Xưởng 1"), member.id)
    assert held == {"worker", "reviewer"}
    assert person.say(f"/start {code}") == ["onboarding.welcome_back"]
