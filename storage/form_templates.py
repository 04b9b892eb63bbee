"""Queries on the organizations' own application form templates."""

from collections.abc import Sequence

from sqlmodel import Session, col, select

from storage.models import FormTemplate


def templates_of(*, session: Session, unit_ids: Sequence[int]) -> Sequence[FormTemplate]:
    """Return the templates kept for any of these units."""
    query = select(FormTemplate).where(col(FormTemplate.unit_id).in_(list(unit_ids)))
    return session.exec(query).all()


def template_of(*, session: Session, unit_id: int) -> FormTemplate | None:
    """Return the template kept for exactly this unit."""
    return session.get(FormTemplate, unit_id)
