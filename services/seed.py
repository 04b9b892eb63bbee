"""Load a unit tree from YAML; loading the same file twice adds nothing."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from sqlmodel import Session

from core.errors import Refused
from services import units
from storage.models import Unit
from storage.units import child_named


@dataclass(frozen=True)
class Seeded:
    """A unit from the file and whether it was created now."""

    unit: Unit
    invite_code: str
    created: bool


def load_tree(*, session: Session, text: str, now: datetime) -> list[Seeded]:
    """Create the units of a YAML tree (`units:` list of name/kind/children)."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise Refused("cli.seed_bad_yaml", error=str(exc).splitlines()[0]) from exc
    if not isinstance(document, dict) or not isinstance(document.get("units"), list):
        raise Refused("cli.seed_no_units")
    seeded: list[Seeded] = []
    for node in document["units"]:
        _load(session=session, node=node, parent=None, now=now, out=seeded)
    return seeded


def _load(
    *, session: Session, node: Any, parent: Unit | None, now: datetime, out: list[Seeded]
) -> None:
    if not isinstance(node, dict) or not isinstance(node.get("name"), str):
        raise Refused("cli.seed_bad_node", node=str(node)[:80])
    name = " ".join(node["name"].split())
    kind = str(node.get("kind", "enterprise"))
    parent_id = parent.id if parent else None
    unit = child_named(session=session, name=name, parent_id=parent_id)
    created = unit is None
    if unit is None:
        unit = units.add_unit(session=session, name=name, kind=kind, parent=parent, now=now)
        if node.get("invite_code"):
            units.revoke_invites(session=session, unit=unit, now=now)
            units.issue_invite(session=session, unit=unit, now=now, code=str(node["invite_code"]))
    invite = units.current_invite(session=session, unit=unit, now=now)
    out.append(Seeded(unit, invite.code, created))
    for child in node.get("children") or []:
        _load(session=session, node=child, parent=unit, now=now, out=out)
