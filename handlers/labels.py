"""Localized labels of the fixed codes the services use."""

from bot.messages import Text, t

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
    "draft": t("status.draft"),
    "submitted": t("status.submitted"),
    "under_review": t("status.under_review"),
    "changes_requested": t("status.changes_requested"),
    "approved": t("status.approved"),
    "rejected": t("status.rejected"),
    "recommended": t("status.recommended"),
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
WEEKDAY_LABELS: tuple[Text, ...] = (
    t("weekday.mon"),
    t("weekday.tue"),
    t("weekday.wed"),
    t("weekday.thu"),
    t("weekday.fri"),
    t("weekday.sat"),
    t("weekday.sun"),
)
