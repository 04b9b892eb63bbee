"""How a campaign and its progress are shown in chat."""

from datetime import tzinfo

from sqlmodel import Session

from core.messages import Money, Text, t
from services import campaigns
from services.campaigns import Plan
from storage.models import Campaign
from storage.units import unit_by_id
from views.cards import given


def plan_card(plan: Plan, unit_name: str) -> Text:
    """Build the card of a campaign's plan (before it exists, or as it stands)."""
    return t(
        "campaign.card",
        name=plan.name,
        unit=unit_name,
        description=given(plan.description),
        starts=plan.starts_on,
        ends=plan.ends_on,
        target_count=given(plan.target_count),
        target_benefit=given(Money(plan.target_benefit_vnd) if plan.target_benefit_vnd else None),
    )


def campaign_card(*, session: Session, campaign: Campaign, zone: tzinfo) -> Text:
    """Build the card of an existing campaign with its progress and status."""
    unit = unit_by_id(session=session, unit_id=campaign.unit_id)
    plan = campaigns.plan_of(campaign, zone)
    progress = campaigns.progress(session=session, campaign=campaign)
    status = t("campaign.status_closed") if campaign.closed_at else t("campaign.status_open")
    return t(
        "campaign.full_card",
        card=plan_card(plan, unit.name if unit else ""),
        status=status,
        progress=campaigns.progress_text(campaign, progress),
    )
