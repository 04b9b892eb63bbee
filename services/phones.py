"""Vietnamese phone numbers as people write them, kept in one form: +84 and the number."""

import re
import unicodedata

# Separators people and spreadsheets put in a number: spaces, dots, dashes, brackets.
SEPARATORS = re.compile(r"[\s.\-()/]")
# After the country code or the leading 0: a mobile number is 9 digits starting with
# 3, 5, 7, 8 or 9; a landline 10 digits starting with 2.
NATIONAL = re.compile(r"[35789]\d{8}|2\d{9}", re.ASCII)


def normalize_phone(typed: str) -> str | None:
    """Return a Vietnamese number as +84XXXXXXXXX, or None if it is not one.

    Takes +84, 84, 0084 and 0 prefixes, and a number Excel stored as a number (which
    dropped the leading 0).
    """
    digits = SEPARATORS.sub("", unicodedata.normalize("NFKC", typed))  # "０９…" as "09…"
    if digits.startswith("+84"):
        national = digits[3:]
    elif digits.startswith("0084"):
        national = digits[4:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        national = digits[2:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        national = digits
    national = national.removeprefix("0")  # "+84 (0) 912…"
    if not NATIONAL.fullmatch(national):
        return None
    return f"+84{national}"
