"""The unit tree's invite codes, read for every unit at once (`unit list`)."""

from sqlalchemy import event

from bot.app import Core
from services import units
from storage.db import reading, transaction
from storage.units import newest_invite_codes
from tests.conftest import Clock


def test_every_units_newest_active_code_comes_from_one_query(core: Core, clock: Clock) -> None:
    with transaction(core.engine) as session:
        top = units.add_unit(
            session=session, name="A", kind="enterprise", parent=None, now=clock()
        )
        shop = units.add_unit(session=session, name="A1", kind="workshop", parent=top, now=clock())
        closed = units.add_unit(
            session=session, name="A2", kind="workshop", parent=top, now=clock()
        )
        units.issue_invite(session=session, unit=top, now=clock(), code="NEWERCODE234")
        units.revoke_invites(session=session, unit=shop, now=clock())
        units.issue_invite(session=session, unit=shop, now=clock(), code="SHOPCODE2345")
        units.revoke_invites(session=session, unit=closed, now=clock())
        ids = (top.id, shop.id, closed.id)
    statements: list[str] = []
    event.listen(core.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with reading(core.engine) as session:
        codes = newest_invite_codes(session=session)
    assert codes == {ids[0]: "NEWERCODE234", ids[1]: "SHOPCODE2345"}  # A2 has none active
    assert len([s for s in statements if "invitecode" in s.lower()]) == 1
