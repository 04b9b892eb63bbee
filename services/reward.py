"""Reward suggestions under the Initiative Charter (Decree 13/2012/ND-CP, article 26).

Where author and investor agreed nothing else: at least `rate_percent` (7%) of the
annual benefit in each of the first three years of application, due within a month
after each year; where the benefit cannot be computed, at least five times the base
wage the organization sets. The amount is split by contribution shares.
"""

import calendar
import math
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from core.errors import Refused
from core.money import MAX_VND
from services.units import path_ids
from storage.models import Author, Initiative, RewardPolicy, Unit
from storage.units import unit_by_id

YEARS = 3
BASE_WAGE_TIMES = 5


@dataclass(frozen=True)
class Suggestion:
    """A suggested reward: per year of application (benefit) or once (base wage)."""

    total_vnd: int | None  # None: no base wage is set and no benefit is known
    per_year: bool
    shares: tuple[tuple[Author, int], ...] = ()
    rate_percent: int = 7
    due: tuple[date, ...] = ()  # per year of application, when its start is known


def due_dates(first_applied: date) -> tuple[date, ...]:
    """Return the last day to pay each year's reward: a month after each year applied."""
    dates = []
    for year in range(1, YEARS + 1):
        months = first_applied.month + 1  # one month after the anniversary
        y, m = first_applied.year + year + (months - 1) // 12, (months - 1) % 12 + 1
        dates.append(date(y, m, min(first_applied.day, calendar.monthrange(y, m)[1])))
    return tuple(dates)


def policy_for(*, session: Session, unit: Unit) -> RewardPolicy:
    """Return the policy of the unit or its nearest ancestor that has one (else the law's)."""
    for unit_id in reversed(path_ids(unit)):
        policy = session.get(RewardPolicy, unit_id)
        if policy is not None:
            return policy
    return RewardPolicy(unit_id=unit.id or 0)


def split(total: int, authors: list[Author]) -> tuple[tuple[Author, int], ...]:
    """Split a whole-đồng amount by shares; the largest remainders get the odd đồng."""
    exact = [(a, total * a.share_percent / 100) for a in authors]
    amounts = [math.floor(x) for _, x in exact]
    order = sorted(range(len(exact)), key=lambda i: exact[i][1] - amounts[i], reverse=True)
    for i in order[: total - sum(amounts)]:
        amounts[i] += 1
    return tuple((a, amount) for (a, _), amount in zip(exact, amounts, strict=True))


def suggest(
    *, session: Session, initiative: Initiative, authors: list[Author], benefit_vnd: int | None
) -> Suggestion:
    """Suggest the reward for an initiative with this verified annual benefit."""
    unit = unit_by_id(session=session, unit_id=initiative.unit_id)
    policy = policy_for(session=session, unit=unit) if unit else RewardPolicy(unit_id=0)
    if benefit_vnd:
        total = math.ceil(benefit_vnd * policy.rate_percent / 100)
        due = due_dates(initiative.first_applied_on) if initiative.first_applied_on else ()
        return Suggestion(total, True, split(total, authors), policy.rate_percent, due)
    if policy.base_wage_vnd:
        total = BASE_WAGE_TIMES * policy.base_wage_vnd
        return Suggestion(total, False, split(total, authors))
    return Suggestion(None, False)


def set_policy(
    *, session: Session, unit: Unit, rate_percent: int | None, base_wage_vnd: int | None
) -> RewardPolicy:
    """Set a unit's reward rate (1-100%) and/or base wage (VND); its subtree follows."""
    policy = session.get(RewardPolicy, unit.id) or RewardPolicy(unit_id=unit.id or 0)
    if rate_percent is not None:
        if not 1 <= rate_percent <= 100:
            raise Refused("cli.reward_rate_invalid")
        policy.rate_percent = rate_percent
    if base_wage_vnd is not None:
        if not 0 < base_wage_vnd <= MAX_VND:
            raise Refused("cli.reward_wage_invalid")
        policy.base_wage_vnd = base_wage_vnd
    session.add(policy)
    session.flush()
    return policy
