"""Numbers a person types, or a button carries, to name something: an option, a row."""

MAX_ID = 2**31 - 1  # ids are INTEGER columns


def number_in(text: str) -> int | None:
    """Return the whole number `text` is, or None.

    Only decimal digits count ("12", full-width "１２"): "²" and "①" are digits to
    `str.isdigit` but no number to `int`. A number past an INTEGER column names nothing.
    """
    text = text.strip()
    if not text.isdecimal():
        return None
    value = int(text)
    return value if value <= MAX_ID else None
