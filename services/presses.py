"""A button names the object it acts on; a press counts only on the object open now.

A message's buttons outlive it: a card replaced by a newer one, a question asked again
for another initiative, still shows them. Their values name their object, so a press
on an older message names one that is no longer open, and changes nothing.
"""

import logging

from core.errors import Refused

logger = logging.getLogger(__name__)


def check_open(*, pressed: int | None, opened: object, what: str) -> int:
    """Return the pressed object's id if it is the one open now, else refuse the press."""
    if pressed is None or type(opened) is not int or pressed != opened:
        logger.info("refused a press on %s %s while %s is open", what, pressed, opened)
        raise Refused("common.stale_card")
    return pressed
