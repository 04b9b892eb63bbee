"""The statuses of an initiative: the words every layer stores, decides on and shows.

The values are the strings the database column holds; which status may follow which
is a rule of the services (`services.initiatives.TRANSITIONS`), the labels are the
catalogs' `status.<value>`.
"""

from enum import StrEnum


class Status(StrEnum):
    """Where an initiative is in its life, from draft to decision."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    RECOMMENDED = "recommended"
