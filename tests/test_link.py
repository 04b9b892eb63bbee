"""One person, two messengers: /link and /link CODE, each refusal, and the guessing limit."""

import pytest
from sqlmodel import Session, select

from bot.app import Core
from services import links
from storage.models import ChannelIdentity, LinkAttempt, LinkCode, Member, OutboxMessage, Role
from tests.conftest import DEMO_CODE, Clock
from tests.person import Person


def code_of(person: Person) -> str:
    """Ask for a link code and return it."""
    assert person.say("/link")[0] == "link.code"
    assert person.last is not None
    return str(person.last.replies[0].text.params["code"])


def members(core: Core) -> list[Member]:
    with Session(core.engine) as session:
        return list(session.exec(select(Member)).all())


def identities(core: Core) -> dict[tuple[str, str], int]:
    """Return each identity's member id by (channel, messenger user)."""
    with Session(core.engine) as session:
        rows = session.exec(select(ChannelIdentity)).all()
        return {(i.channel, i.external_user_id): i.member_id for i in rows}


@pytest.fixture
def telegram(core: Core, unit_id: int) -> Person:
    """A member who joined on Telegram, in English."""
    person = Person(core.dispatcher, user_id="t1", channel="telegram")
    person.join(DEMO_CODE, language="lang:en")
    return person


def test_a_code_joins_another_messenger_to_the_same_member(
    core: Core, telegram: Person, clock: Clock
) -> None:
    code = code_of(telegram)
    assert len(code) == 6 and code.isdigit()
    with Session(core.engine) as session:  # only its hash is stored, with UTC times
        stored = session.exec(select(LinkCode)).one()
        assert stored.code_hash == links.code_hash(code) and code not in stored.code_hash
        assert (stored.created_at, stored.expires_at) == (clock(), clock() + links.VALID_FOR)
    before = members(core)
    zalo = Person(core.dispatcher, user_id="z1", channel="zalo", name="An Zalo")
    assert zalo.say("/new") == ["common.join_first"]
    clock.advance(minutes=9, seconds=59)
    assert zalo.say(f"/link {code[:3]} {code[3:]}") == ["link.linked", "help.text"]
    assert zalo.last is not None and zalo.last.language == "en"  # the member's language
    assert members(core) == before  # same member: name, language, unit, consent time
    assert identities(core) == {("telegram", "t1"): before[0].id, ("zalo", "z1"): before[0].id}
    assert zalo.say("/new") == ["wizard.intro", "wizard.ask_title"]
    with Session(core.engine) as session:
        roles = session.exec(select(Role)).all()
        assert [(r.member_id, r.role) for r in roles] == [(before[0].id, "worker")]
        notice = session.exec(select(OutboxMessage)).one()  # the first messenger is told
        assert (notice.channel, notice.chat_id, notice.content["text"]["$text"]) == (
            "telegram",
            "t1",
            "link.notice_linked",
        )
    # Both see the same initiative: the draft begun on Zalo is continued on Telegram.
    assert zalo.say("Máy dán nhãn tự động") == ["wizard.ask_problem"]
    assert telegram.say("/continue")[-1] == "wizard.ask_problem"


def test_a_code_works_once_and_for_ten_minutes(core: Core, telegram: Person, clock: Clock) -> None:
    code = code_of(telegram)
    assert Person(core.dispatcher, "z1", channel="zalo").say(f"/link {code}")[0] == "link.linked"
    assert Person(core.dispatcher, "c1").say(f"/link {code}") == ["link.code_used"]
    late = code_of(telegram)
    clock.advance(minutes=10)
    assert Person(core.dispatcher, "c1").say(f"/link {late}") == ["link.code_expired"]
    assert len(identities(core)) == 2


def test_a_wrong_code_and_a_new_code_replacing_the_old_are_refused(
    core: Core, telegram: Person
) -> None:
    old = code_of(telegram)
    new = code_of(telegram)
    console = Person(core.dispatcher, "c1")
    wrong = "000000" if new != "000000" else "111111"
    for typed in (wrong, "12345 6", "１２３４５６", old if old != new else wrong):  # 4 of 5
        assert console.say(f"/link {typed}") == ["link.code_wrong"]
    assert console.say(f"/link {new}")[0] == "link.linked"


def test_a_code_typed_in_the_messenger_it_came_from_is_refused_and_stays_valid(
    core: Core, telegram: Person
) -> None:
    code = code_of(telegram)
    assert telegram.say(f"/link {code}") == ["link.same_messenger"]
    other_telegram = Person(core.dispatcher, "t2", channel="telegram")
    assert other_telegram.say(f"/link {code}") == ["link.same_messenger"]
    assert Person(core.dispatcher, "z1", channel="zalo").say(f"/link {code}")[0] == "link.linked"


def test_one_account_per_messenger_and_a_linked_one_again_changes_nothing(
    core: Core, telegram: Person
) -> None:
    zalo = Person(core.dispatcher, "z1", channel="zalo")
    zalo.say(f"/link {code_of(telegram)}")
    assert zalo.say(f"/link {code_of(telegram)}") == ["link.already_linked"]
    second_zalo = Person(core.dispatcher, "z2", channel="zalo")
    code = code_of(telegram)
    assert second_zalo.say(f"/link {code}") == ["link.messenger_taken"]
    assert second_zalo.say("/new") == ["common.join_first"]
    assert len(identities(core)) == 2
    # Refused, not failed: the code is still good for a messenger not linked yet.
    assert Person(core.dispatcher, "c1").say(f"/link {code}")[0] == "link.linked"


def test_a_member_with_something_of_their_own_is_not_swallowed(
    core: Core, telegram: Person
) -> None:
    zalo = Person(core.dispatcher, "z1", channel="zalo")
    zalo.join(DEMO_CODE)
    zalo.say("/new")
    zalo.say("Đồ gá thay khuôn nhanh")  # a draft of their own
    code = code_of(telegram)
    assert zalo.say(f"/link {code}") == ["link.other_member", "wizard.ask_problem"]
    assert len(members(core)) == 2 and len(set(identities(core).values())) == 2
    # The other way round works: the Telegram member has nothing of their own, so the
    # Zalo member's code joins Telegram to the Zalo member.
    assert telegram.say(f"/link {code_of(zalo)}") == ["link.linked", "help.text"]
    assert len(members(core)) == 1
    assert telegram.say("/continue")[-1] == "wizard.ask_problem"  # the Zalo draft


def test_an_empty_member_on_the_other_messenger_is_joined_and_dropped(
    core: Core, telegram: Person
) -> None:
    zalo = Person(core.dispatcher, "z1", channel="zalo")
    zalo.join(DEMO_CODE, language="lang:id")
    assert len(members(core)) == 2
    assert zalo.say(f"/link {code_of(telegram)}") == ["link.linked", "help.text"]
    (member,) = members(core)
    assert member.language == "en" and set(identities(core).values()) == {member.id}
    assert zalo.last is not None and zalo.last.language == "en"
    with Session(core.engine) as session:
        assert [r.member_id for r in session.exec(select(Role)).all()] == [member.id]


def test_a_person_who_has_not_joined_joins_by_linking_even_while_joining(
    core: Core, telegram: Person
) -> None:
    stranger = Person(core.dispatcher, "z1", channel="zalo")
    assert stranger.say("/link") == ["link.how_to_join"]
    stranger.say(f"/start {DEMO_CODE}")  # halfway through joining anew
    assert stranger.say(f"/link {code_of(telegram)}") == ["link.linked", "help.text"]
    assert stranger.say("1") == ["wizard.nothing_to_continue"]  # no joining is resumed
    assert len(members(core)) == 1


def test_wrong_codes_are_limited_per_messenger_user(
    core: Core, telegram: Person, clock: Clock
) -> None:
    guesser = Person(core.dispatcher, "z1", channel="zalo")
    code = code_of(telegram)
    wrong = [f"{n:06d}" for n in range(7) if f"{n:06d}" != code][:5]
    for typed in wrong:
        assert guesser.say(f"/link {typed}") == ["link.code_wrong"]
        clock.advance(minutes=1)
    assert guesser.say(f"/link {code}") == ["link.too_many"]  # even the right one
    assert guesser.last is not None
    assert guesser.last.replies[0].text.params == {"minutes": 5}
    assert Person(core.dispatcher, "z2", channel="zalo").say("/link 999999")[0] != "link.too_many"
    with Session(core.engine) as session:  # kept under a one-way hash only
        hashes = {a.subject_hash for a in session.exec(select(LinkAttempt)).all()}
        assert "z1" not in str(hashes) and links.subject_hash("zalo", "z1") in hashes
    clock.advance(minutes=5)  # the first failure is 10 minutes old now, the code too
    assert guesser.say(f"/link {code_of(telegram)}") == ["link.linked", "help.text"]


def test_many_accounts_guessing_together_are_limited_too(
    core: Core, telegram: Person, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    code = code_of(telegram)
    wrong = (f"{n:06d}" for n in range(1000) if f"{n:06d}" != code)
    for n in range(links.MAX_FAILURES_OF_ALL):  # each account stays under its own limit
        guesser = Person(core.dispatcher, f"z{n}", channel="zalo")
        assert guesser.say(f"/link {next(wrong)}") == ["link.code_wrong"]
    clock.advance(minutes=4)
    late = Person(core.dispatcher, "z-late", channel="zalo")
    assert late.say(f"/link {code}") == ["link.too_many"]  # even the right one
    assert late.last is not None and late.last.replies[0].text.params == {"minutes": 6}
    assert "link codes failed" in caplog.text and "z-late" not in caplog.text
    clock.advance(minutes=6)  # the window has passed
    assert late.say(f"/link {code_of(telegram)}") == ["link.linked", "help.text"]
    assert late.say("/link 999999") == ["link.code_wrong"]
    with Session(core.engine) as session:  # a failure drops everybody's older ones
        assert len(session.exec(select(LinkAttempt)).all()) == 1


def test_typos_on_a_day_many_people_link_do_not_stop_everybody(core: Core, unit_id: int) -> None:
    issued = links.MAX_FAILURES_OF_ALL + 10
    codes = []
    for n in range(issued):  # a factory's linking day: many codes, some typos
        member = Person(core.dispatcher, user_id=f"t{n}", channel="telegram")
        member.join(DEMO_CODE)
        codes.append(code_of(member))
    typo = (f"{n:06d}" for n in range(1000) if f"{n:06d}" not in codes)
    for n in range(links.MAX_FAILURES_OF_ALL + 5):
        assert Person(core.dispatcher, f"z{n}", channel="zalo").say(f"/link {next(typo)}") == [
            "link.code_wrong"
        ]
    assert Person(core.dispatcher, "z-last", channel="zalo").say(f"/link {codes[-1]}") == [
        "link.linked",
        "help.text",
    ]
