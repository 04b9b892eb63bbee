"""Recognition levels, and the highest each council may award by the kind of its unit.

A council recognizes at its own level at most: an enterprise's (or a workshop's, a
team's) at grassroots level, one at the zone (the zone union, its management board or
an emulation cluster, the enterprises' direct superior) at the direct superior's
level, a provincial federation of labour or a sector union at provincial / sector
level, the Confederation at national level. A higher level is reached by recommending
the initiative up to a council that may award it.
"""

from core.errors import Refused
from core.messages import Text, t
from storage.models import Unit

LEVELS = ("grassroots", "superior", "provincial", "national")
LEVEL_LABELS: dict[str, Text] = {
    "grassroots": t("level.grassroots"),
    "superior": t("level.superior"),
    "provincial": t("level.provincial"),
    "national": t("level.national"),
}
# The highest level a council may award, by its unit's kind (services.units.KINDS).
CEILINGS: dict[str, str] = {
    "team": "grassroots",
    "workshop": "grassroots",
    "enterprise": "grassroots",
    "cluster": "superior",
    "management_board": "superior",
    "zone_union": "superior",
    "federation": "provincial",
    "sector_union": "provincial",
    "confederation": "national",
}


def ceiling(unit: Unit) -> str:
    """Return the highest level the council of a unit may award (grassroots if unknown)."""
    return CEILINGS.get(unit.kind, LEVELS[0])


def awardable(unit: Unit, reached: str | None) -> tuple[str, ...]:
    """Return the levels the unit's council may award above the one already reached."""
    low = LEVELS.index(reached) + 1 if reached in LEVELS else 0
    return LEVELS[low : LEVELS.index(ceiling(unit)) + 1]


def check(unit: Unit, level: str, reached: str | None) -> None:
    """Refuse a level that is unknown, not above the one reached, or above the council's."""
    if level not in LEVELS or (reached in LEVELS and LEVELS.index(level) <= LEVELS.index(reached)):
        raise Refused("review.level_invalid")
    if level not in awardable(unit, reached):
        highest = ceiling(unit)
        raise Refused("review.level_not_allowed", unit=unit.name, level=LEVEL_LABELS[highest])
