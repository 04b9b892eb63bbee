"""Localized labels of the fixed codes the services use."""

from core.messages import Money, Number, Text, t
from core.money import MoneyError
from core.status import Status

FIELD_LABELS: dict[str, Text] = {
    "technical": t("field.technical"),
    "rationalization": t("field.rationalization"),
    "management": t("field.management"),
    "safety": t("field.safety"),
    "environment": t("field.environment"),
    "quality": t("field.quality"),
    "other": t("field.other"),
}
STATUS_LABELS: dict[str, Text] = {
    Status.DRAFT: t("status.draft"),
    Status.SUBMITTED: t("status.submitted"),
    Status.UNDER_REVIEW: t("status.under_review"),
    Status.CHANGES_REQUESTED: t("status.changes_requested"),
    Status.APPROVED: t("status.approved"),
    Status.REJECTED: t("status.rejected"),
    Status.RECOMMENDED: t("status.recommended"),
}
LANGUAGE_LABELS: dict[str, Text] = {
    "vi": t("language.vi"),
    "en": t("language.en"),
    "id": t("language.id"),
}
MONEY_ERRORS: dict[str, Text] = {
    "empty": t("money.empty"),
    "unreadable": t("money.unreadable"),
    "negative": t("money.negative"),
    "zero": t("money.zero"),
    "too_large": t("money.too_large"),
}


def money_problem(error: MoneyError) -> Text:
    """Why an amount was refused, naming the amounts it may have meant."""
    amounts = [Money(option) for option in error.options]
    if error.reason == "range" and amounts:
        return t("money.range", low=amounts[0], mid=amounts[1], high=amounts[2])
    if error.reason == "range":
        return t("money.range_no_unit")
    if error.reason == "no_unit":
        number = Number(error.options[0] // 1000)
        return t("money.no_unit", thousands=amounts[0], millions=amounts[1], number=number)
    if error.reason == "ambiguous":
        return t("money.ambiguous", low=amounts[0], high=amounts[1])
    return MONEY_ERRORS[error.reason]


WEEKDAY_LABELS: tuple[Text, ...] = (
    t("weekday.mon"),
    t("weekday.tue"),
    t("weekday.wed"),
    t("weekday.thu"),
    t("weekday.fri"),
    t("weekday.sat"),
    t("weekday.sun"),
)
ROLE_LABELS: dict[str, Text] = {
    "worker": t("role.worker"),
    "reviewer": t("role.reviewer"),
    "leader": t("role.leader"),
    "organizer": t("role.organizer"),
    "admin": t("role.admin"),
}
UNIT_KIND_LABELS: dict[str, Text] = {
    "confederation": t("unit_kind.confederation"),
    "federation": t("unit_kind.federation"),
    "sector_union": t("unit_kind.sector_union"),
    "zone_union": t("unit_kind.zone_union"),
    "management_board": t("unit_kind.management_board"),
    "cluster": t("unit_kind.cluster"),
    "enterprise": t("unit_kind.enterprise"),
    "workshop": t("unit_kind.workshop"),
    "team": t("unit_kind.team"),
}
BROADCAST_STATUS_LABELS: dict[str, Text] = {
    "scheduled": t("broadcast.status_scheduled"),
    "sending": t("broadcast.status_sending"),
    "done": t("broadcast.status_done"),
    "cancelled": t("broadcast.status_cancelled"),
}
AUDIENCE_LABELS: dict[str, Text] = {
    "members": t("broadcast.who_members"),
    "groups": t("broadcast.who_groups"),
    "both": t("broadcast.who_both"),
}
