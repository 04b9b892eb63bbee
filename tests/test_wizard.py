"""The /new wizard: answers, re-asks, navigation, drafts that survive, amending later."""

from sqlmodel import Session, select

from bot.app import Core, build
from core.messages import InAttachment, t
from core.settings import Settings
from storage.models import Attachment, Author, ConversationState, Initiative, StatusChange
from tests.conftest import DEMO_CODE, Clock
from tests.person import Person


def member(core: Core, user_id: str = "u1") -> Person:
    person = Person(core.dispatcher, user_id=user_id)
    person.join(DEMO_CODE)
    return person


def the_initiative(core: Core) -> Initiative:
    with Session(core.engine) as session:
        return session.exec(select(Initiative)).one()


def test_five_answers_and_two_taps_submit(core: Core, unit_id: int, clock: Clock) -> None:
    person = member(core)
    assert person.core_answers() == ["wizard.benefit_saved", "wizard.ask_next"]
    assert person.press("next:submit") == ["wizard.submitted", "wizard.complete_later"]
    initiative = the_initiative(core)
    assert initiative.status == "submitted"
    assert initiative.estimated_benefit_vnd == 1_500_000_000
    assert initiative.field == "technical"
    assert initiative.submitted_at == clock()
    with Session(core.engine) as session:
        history = session.exec(select(StatusChange).order_by(StatusChange.id)).all()  # type: ignore[arg-type]
        assert [(h.from_status, h.to_status) for h in history] == [
            (None, "draft"),
            ("draft", "submitted"),
        ]
        assert session.exec(select(ConversationState)).all() == []


def test_every_detail_is_stored(core: Core, unit_id: int) -> None:
    person = member(core)
    person.core_answers()
    assert person.press("next:details") == ["wizard.ask_effects"]
    assert person.say("Giảm 2 giờ mỗi ca") == ["wizard.ask_coauthors"]
    assert person.press("authors:others") == ["wizard.ask_coauthor_line"]
    assert person.say("Trần Thị B 30%") == ["wizard.coauthor_added"]
    assert person.say("Lê Văn C - 20 %") == ["wizard.coauthor_added"]
    assert person.say("/done") == ["wizard.ask_applied"]
    assert person.press("applied:yes") == ["wizard.ask_applied_since"]
    assert person.say("15/03/2026") == ["wizard.ask_conditions"]
    assert person.say("Máy ép có cảm biến vị trí") == ["wizard.ask_participants"]
    assert person.say("Trần Văn Bình - tổ trưởng; Lê Thị Cúc") == ["wizard.ask_attachments"]
    photo = InAttachment("photo", "file-1", "jig.jpg", "image/jpeg", 1234)
    assert person.say(attachments=(photo,)) == ["wizard.attachment_received"]
    assert person.say("/done") == ["wizard.ask_confidential"]
    assert person.press("secret:yes") == ["wizard.summary"]
    initiative_id = the_initiative(core).id
    assert person.options == [
        f"summary:{action}:{initiative_id}" for action in ("submit", "edit", "discard")
    ]
    assert person.say("1") == ["wizard.submitted", "wizard.track_with_my"]
    initiative = the_initiative(core)
    assert initiative.other_effects == "Giảm 2 giờ mỗi ca"
    assert initiative.applied is True and str(initiative.first_applied_on) == "2026-03-15"
    assert initiative.apply_conditions == "Máy ép có cảm biến vị trí"
    assert initiative.apply_participants == "Trần Văn Bình - tổ trưởng; Lê Thị Cúc"
    assert initiative.confidential is True
    with Session(core.engine) as session:
        authors = session.exec(select(Author).order_by(Author.id)).all()  # type: ignore[arg-type]
        assert [(a.name, a.share_percent) for a in authors] == [
            ("Nguyễn Văn An", 50),
            ("Trần Thị B", 30),
            ("Lê Văn C", 20),
        ]
        assert session.exec(select(Attachment)).one().file_ref == "file-1"


def test_bad_answers_get_a_localized_reask_and_change_nothing(core: Core, unit_id: int) -> None:
    person = member(core)
    person.say("/new")
    assert person.say("Ab") == ["wizard.text_too_short", "wizard.ask_title"]
    assert person.say(attachments=(InAttachment("photo", "x"),)) == [
        "wizard.need_text",
        "wizard.ask_title",
    ]
    assert person.say(unsupported=True) == ["common.unsupported", "wizard.ask_title"]
    assert person.say("/skip") == ["wizard.cannot_skip", "wizard.ask_title"]
    assert person.say("🙂🙂🙂🙂🙂🙂") == ["wizard.title_needs_words", "wizard.ask_title"]
    assert person.say(".....") == ["wizard.title_needs_words", "wizard.ask_title"]
    assert person.say("🙂 ab 🙂") == ["wizard.title_needs_words", "wizard.ask_title"]
    assert the_initiative(core).title is None
    person.say("Máy dán nhãn tự động")
    person.say("Công nhân dán nhãn bằng tay")
    person.say("Lắp cảm biến dán nhãn tự động")
    assert person.say("9") == ["common.pick_option", "wizard.ask_field"]
    assert person.say(choice="field:hacked") == ["common.pick_option", "wizard.ask_field"]
    assert person.say("an toàn, vệ sinh lao động") == ["wizard.ask_benefit"]
    assert person.say("nhiều lắm") == ["wizard.benefit_retry", "wizard.ask_benefit"]
    assert person.say("-5 triệu") == ["wizard.benefit_retry", "wizard.ask_benefit"]
    assert the_initiative(core).estimated_benefit_vnd is None
    assert person.say("/skip") == ["wizard.benefit_skipped", "wizard.ask_next"]
    initiative = the_initiative(core)
    assert (initiative.field, initiative.estimated_benefit_vnd) == ("safety", None)


def test_coauthor_shares_must_leave_the_submitter_a_share(core: Core, unit_id: int) -> None:
    person = member(core)
    person.core_answers()
    person.press("next:details")
    person.say("/skip")
    person.press("authors:others")
    assert person.say("Trần Thị B") == ["wizard.coauthor_format", "wizard.ask_coauthor_line"]
    assert person.say("Trần Thị B 0%") == [
        "wizard.coauthor_share_range",
        "wizard.ask_coauthor_line",
    ]
    assert person.say("Trần Thị B 33,5%") == [
        "wizard.coauthor_whole_percent",
        "wizard.ask_coauthor_line",
    ]
    assert person.say("Trần Thị B 60%") == ["wizard.coauthor_added"]
    assert person.say("Lê Văn C 40%") == [
        "wizard.coauthor_share_total",
        "wizard.ask_coauthor_line",
    ]
    with Session(core.engine) as session:
        shares = [a.share_percent for a in session.exec(select(Author)).all()]
        assert sorted(shares) == [40, 60] and sum(shares) == 100


def test_dates_are_checked(core: Core, unit_id: int, clock: Clock) -> None:
    person = member(core)
    person.core_answers()
    person.press("next:details")
    person.say("/skip")
    person.press("authors:alone")
    person.press("applied:yes")
    assert person.say("hôm qua")[0] == "wizard.date_format"
    assert person.say("31/02/2026")[0] == "wizard.date_invalid"
    assert person.say("01/01/2027")[0] == "wizard.applied_in_future"
    assert person.say("25/11/2026") == ["wizard.ask_conditions"]
    assert person.say("/skip") == ["wizard.ask_participants"]
    assert person.say("/back") == ["wizard.ask_conditions"]
    assert person.say("/skip") == ["wizard.ask_participants"]
    assert person.say("/skip") == ["wizard.ask_attachments"]


def test_back_returns_to_the_previous_question(core: Core, unit_id: int) -> None:
    person = member(core)
    person.say("/new")
    assert person.say("/back") == ["common.no_back", "wizard.ask_title"]
    person.say("Máy dán nhãn tự động")
    assert person.say("/back") == ["wizard.current_answer"]
    assert person.last is not None
    shown = person.last.replies[0].text
    assert shown.params["answer"] == "Máy dán nhãn tự động"
    assert shown.params["question"] == t("wizard.ask_title")  # one message: both in it
    assert person.say("Máy dán nhãn thế hệ 2") == ["wizard.ask_problem"]
    assert the_initiative(core).title == "Máy dán nhãn thế hệ 2"


def test_back_past_a_long_answer_keeps_it_with_one_tap(core: Core, unit_id: int) -> None:
    person = member(core)
    person.say("/new")
    person.say("Máy dán nhãn tự động")
    problem = "Công nhân dán nhãn bằng tay. " * 30
    person.say(problem)
    assert person.say("/back") == ["wizard.current_answer"]
    assert person.last is not None
    shown = str(person.last.replies[0].text.params["answer"])
    assert len(shown) <= 300 and shown.endswith("…")
    assert person.say("/keep") == ["wizard.ask_solution"]
    assert the_initiative(core).problem == problem.strip()
    assert person.say("/back") == ["wizard.current_answer"]
    assert person.say("Giữ nguyên") == ["wizard.ask_solution"]  # the word typed
    assert person.say("/keep") == ["wizard.need_text", "wizard.ask_solution"]  # none yet
    assert person.say("keep") == ["wizard.text_too_short", "wizard.ask_solution"]
    assert the_initiative(core).problem == problem.strip()


def test_cancel_stops_and_keeps_the_draft_for_continue(core: Core, unit_id: int) -> None:
    person = member(core)
    person.say("/new")
    person.say("Máy dán nhãn tự động")
    assert person.say("/cancel") == ["wizard.stopped"]
    assert the_initiative(core).title == "Máy dán nhãn tự động"
    assert person.say("/cancel") == ["common.nothing_to_cancel"]
    assert person.say("/back") == ["common.nothing_to_go_back"]
    assert person.say("/continue") == ["common.resume", "wizard.ask_problem"]


def test_cancel_at_continue_or_afresh_loses_nothing(core: Core, unit_id: int) -> None:
    person = member(core)
    person.say("/new")
    person.say("Đồ gá thay khuôn mới")
    assert person.say("/new") == ["wizard.ask_draft_exists"]
    assert person.say("/cancel") == ["wizard.stopped"]
    assert person.say("/continue") == ["common.resume", "wizard.ask_problem"]
    assert the_initiative(core).title == "Đồ gá thay khuôn mới"


def test_discarding_is_a_confirmed_choice_of_the_summary(core: Core, unit_id: int) -> None:
    person = member(core)
    person.core_answers()
    person.press("next:details")
    person.say("/skip")  # effects
    person.press("authors:alone")
    person.press("applied:no")
    person.say("/done")  # no attachments
    assert person.press("secret:no") == ["wizard.summary"]
    assert person.press("summary:discard") == ["wizard.ask_discard"]
    assert person.press("discard:no") == ["wizard.summary"]
    assert the_initiative(core).title == "Máy dán nhãn tự động"
    person.press("summary:discard")
    assert person.press("discard:yes") == ["wizard.discarded"]
    with Session(core.engine) as session:
        assert session.exec(select(Initiative)).all() == []
        assert session.exec(select(Author)).all() == []


def test_draft_resumes_after_a_restart(
    core: Core, settings: Settings, clock: Clock, unit_id: int
) -> None:
    person = member(core)
    person.say("/new")
    person.say("Máy dán nhãn tự động")
    person.say("Công nhân dán nhãn bằng tay")
    core.engine.dispose()
    restarted = build(settings, clock=clock, migrate=False)
    again = Person(restarted.dispatcher)
    assert again.say("/continue") == ["wizard.ask_solution"]
    assert again.say("Lắp cảm biến dán nhãn tự động") == ["wizard.ask_field"]
    initiative = the_initiative(restarted)
    assert initiative.title == "Máy dán nhãn tự động"
    assert initiative.problem == "Công nhân dán nhãn bằng tay"
    restarted.engine.dispose()


def test_after_a_long_pause_the_question_is_shown_again(
    core: Core, unit_id: int, clock: Clock
) -> None:
    person = member(core)
    person.say("/new")
    clock.advance(hours=5)
    assert person.say("xin chào") == ["common.welcome_back", "wizard.ask_title"]
    assert the_initiative(core).title is None
    assert person.say("Máy dán nhãn tự động") == ["wizard.ask_problem"]


def test_other_commands_keep_the_draft_and_come_back_to_it(core: Core, unit_id: int) -> None:
    person = member(core)
    person.say("/new")
    person.say("Máy dán nhãn tự động")
    assert person.say("/help") == ["help.text", "common.resume", "wizard.ask_problem"]
    assert person.say("/language") == ["language.ask"]
    assert person.say(choice="lang:en") == [
        "language.changed",
        "common.resume",
        "wizard.ask_problem",
    ]
    assert person.say("Công nhân dán nhãn bằng tay") == ["wizard.ask_solution"]


def test_new_with_an_unfinished_draft_offers_to_continue(core: Core, unit_id: int) -> None:
    person = member(core)
    person.say("/new")
    person.say("Máy dán nhãn tự động")
    person.say("/help")
    assert person.say("/new") == ["wizard.ask_draft_exists"]
    assert person.press("draft:continue") == ["wizard.ask_problem"]
    person.say("/new")
    assert person.press("draft:new") == ["wizard.ask_discard"]
    assert person.press("discard:no") == ["wizard.ask_draft_exists"]
    assert person.press("draft:new") == ["wizard.ask_discard"]
    assert person.press("discard:yes") == ["wizard.intro", "wizard.ask_title"]
    assert the_initiative(core).title is None


def test_summary_edit_changes_one_field_and_returns(core: Core, unit_id: int) -> None:
    person = member(core)
    person.core_answers()
    person.press("next:details")
    person.say("/skip")
    person.press("authors:alone")
    person.press("applied:no")
    person.say("/skip")
    person.press("secret:no")
    assert person.press("summary:edit") == ["wizard.ask_edit"]
    assert person.press("edit:benefit") == ["wizard.current_answer"]
    assert person.say("200tr") == ["wizard.benefit_saved", "wizard.summary"]
    assert the_initiative(core).estimated_benefit_vnd == 200_000_000


def test_submitted_initiative_details_can_be_completed_from_my(core: Core, unit_id: int) -> None:
    person = member(core)
    person.core_answers()
    person.press("next:submit")
    assert person.say("/my") == ["my.list"]
    initiative = the_initiative(core)
    assert person.say(choice=f"open:{initiative.id}") == ["wizard.amend"]
    assert person.press("amend:effects") == ["wizard.ask_effects"]
    assert person.say("Giảm phế phẩm 5%") == ["wizard.amend"]
    assert person.press("amend:done") == ["wizard.amend_saved"]
    assert the_initiative(core).other_effects == "Giảm phế phẩm 5%"
    assert the_initiative(core).status == "submitted"


def test_forged_open_button_for_someone_elses_initiative_is_refused(
    core: Core, unit_id: int
) -> None:
    author = member(core, "u1")
    author.core_answers()
    author.press("next:submit")
    other = member(core, "u2")
    other.core_answers()
    other.press("next:submit")
    assert other.say("/my") == ["my.list"]
    theirs = f"open:{the_first_id(core)}"
    assert theirs not in other.options
    assert other.say(choice=theirs) == ["common.pick_option", "my.list"]
    with Session(core.engine) as session:
        first = session.get(Initiative, the_first_id(core))
        assert first is not None and first.other_effects is None


def the_first_id(core: Core) -> int:
    with Session(core.engine) as session:
        return min(i.id or 0 for i in session.exec(select(Initiative)).all())


def test_duplicate_update_id_is_processed_once(core: Core, unit_id: int) -> None:
    person = member(core)
    person.say("/new", update_id="100")
    assert person.say("Máy dán nhãn tự động", update_id="101") == ["wizard.ask_problem"]
    assert person.say("Máy dán nhãn tự động", update_id="101") == []
    assert person.say("Công nhân dán nhãn bằng tay", update_id="102") == ["wizard.ask_solution"]
    assert the_initiative(core).problem == "Công nhân dán nhãn bằng tay"


def test_done_at_a_choice_question_is_no_answer(core: Core, unit_id: int) -> None:
    person = member(core)
    person.core_answers()
    person.press("next:details")
    person.say("/skip")  # effects
    assert person.say("/done") == ["common.pick_option", "wizard.ask_coauthors"]
    assert person.press("authors:alone") == ["wizard.ask_applied"]
    assert person.say("/done") == ["common.pick_option", "wizard.ask_applied"]
    assert person.say("/skip") == ["common.pick_option", "wizard.ask_applied"]
    initiative = the_initiative(core)
    assert (initiative.applied, initiative.first_applied_on) == (None, None)


def test_a_coauthor_named_again_changes_share_and_one_can_be_removed(
    core: Core, unit_id: int
) -> None:
    person = member(core)
    person.core_answers()
    person.press("next:details")
    person.say("/skip")
    person.press("authors:others")
    assert person.say("Trần Thị B 30%") == ["wizard.coauthor_added"]
    assert person.say("Lê Văn C 20%") == ["wizard.coauthor_added"]
    assert person.say("trần  thị b 10%") == ["wizard.coauthor_updated"]
    assert person.say("Lê Văn C 90%") == [
        "wizard.coauthor_share_total",
        "wizard.ask_coauthor_line",
    ]
    assert shares(core) == {"Nguyễn Văn An": 70, "Trần Thị B": 10, "Lê Văn C": 20}
    assert person.say("/remove") == ["wizard.coauthors_list"]
    assert person.say("/remove Phạm D") == ["wizard.coauthor_unknown", "wizard.ask_coauthor_line"]
    assert person.say("/remove 1") == ["wizard.coauthor_removed"]
    assert shares(core) == {"Nguyễn Văn An": 80, "Lê Văn C": 20}
    assert person.say("/remove lê văn c") == ["wizard.coauthor_removed"]
    assert shares(core) == {"Nguyễn Văn An": 100}
    assert person.say("/remove") == ["wizard.coauthors_none"]
    assert person.say("/done") == ["wizard.ask_applied"]


def shares(core: Core) -> dict[str, int]:
    with Session(core.engine) as session:
        return {a.name or "": a.share_percent for a in session.exec(select(Author)).all()}
