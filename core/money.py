"""Read and show amounts of VND the way Vietnamese factory workers write them."""

import re
import unicodedata
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Literal

MAX_VND = 10**15

Reason = Literal["empty", "unreadable", "negative", "zero", "too_large"]


class MoneyError(ValueError):
    """Raised when a text is not an acceptable amount; `.reason` says why."""

    reason: Reason

    def __init__(self, reason: Reason) -> None:
        super().__init__(f"not an acceptable VND amount: {reason}")
        self.reason = reason


_UNITS = {
    **dict.fromkeys(("nghìn", "nghin", "ngàn", "ngan", "k", "ng", "thousand"), 10**3),
    **dict.fromkeys(("triệu", "trieu", "tr", "củ", "cu", "million", "mil"), 10**6),
    **dict.fromkeys(("tỷ", "tỉ", "ty", "ti", "tỏi", "b", "bn", "billion", "bil"), 10**9),
    "trillion": 10**12,
}
_HUNDRED = {"trăm", "tram", "hundred"}
_HALF = {"rưỡi", "ruoi"}
_CURRENCY = {"đ", "₫", "đồng", "dong", "d", "vnd", "vnđ"}
_FOREIGN = {"usd", "$", "đô", "dollar", "dollars", "eur", "euro", "€", "rp", "idr", "rupiah", "%"}
_MINUS = {"âm", "am"}
_CONNECTORS = {"/", "mỗi", "moi", "một", "mot", "1", "hàng", "hang", "hằng", "per", "a", "every"}
# Times per year; None where that depends on working days we do not know.
_PERIODS: dict[str, int | None] = {
    **dict.fromkeys(("năm", "nam", "year", "yr", "annually", "yearly"), 1),
    **dict.fromkeys(("tháng", "thang", "month", "mo", "monthly"), 12),
    **dict.fromkeys(("ngày", "ngay", "day", "daily", "tuần", "tuan", "week", "weekly"), None),
    **dict.fromkeys(("quý", "quy", "quarter", "ca", "giờ", "gio", "hour"), None),
}
_STANDALONE_PERIODS = {"annually", "yearly", "monthly", "daily", "weekly"}
_TOLERATED_AFTER = _CONNECTORS | _STANDALONE_PERIODS | {"ạ", "nhé", "nha", "thôi", "ok"}

_TOKEN = re.compile(
    r"[0-9]+(?:(?:[.,]|[ \u00a0\u202f](?=[0-9]{3}(?![0-9])))[0-9]+)*"  # digits with separators
    r"|[^\W\d_]+"  # a word
    r"|\S"  # any other sign
)
_GROUPED = {sep: re.compile(rf"[0-9]{{1,3}}(?:\{sep}[0-9]{{3}})+") for sep in ".,"}
_SPACED = re.compile(r"[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+")
_SINGLE_GROUP = re.compile(r"[1-9][0-9]{0,2}[.,][0-9]{3}")
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


def _unreadable() -> MoneyError:
    return MoneyError("unreadable")


def _at(tokens: list[str], pos: int) -> str:
    return tokens[pos] if pos < len(tokens) else ""


def _is_num(token: str) -> bool:
    return token[0] in "0123456789"


def _number(raw: str) -> Decimal:
    """Read one run of digits and separators ("1.500.000", "1,5", "2 000 000", "1.500,5")."""
    if raw.isdigit() or _SPACED.fullmatch(raw):
        return Decimal(re.sub("[^0-9]", "", raw))
    seps = [c for c in raw if c not in "0123456789"]
    if not set(seps) <= {".", ","}:
        raise _unreadable()
    last = seps[-1]
    if len(set(seps)) == 2:
        head, _, fraction = raw.rpartition(last)
        if seps.count(last) != 1 or not _GROUPED[seps[0]].fullmatch(head):
            raise _unreadable()
        return Decimal(f"{head.replace(seps[0], '')}.{fraction}")
    if _GROUPED[last].fullmatch(raw) and raw[0] != "0":
        return Decimal(raw.replace(last, ""))
    if len(seps) > 1:
        raise _unreadable()
    return Decimal(raw.replace(last, "."))


def _count(tokens: list[str], pos: int) -> tuple[Decimal, int, int]:
    """Read a number with an optional "trăm"; return it, its digit count and the next index."""
    raw = tokens[pos]
    if _at(tokens, pos + 1) in _HUNDRED:
        if len(raw) != 1 or raw == "0":
            raise _unreadable()
        return Decimal(raw) * 100, 3, pos + 2
    return _number(raw), len(raw) if raw.isdigit() else 0, pos + 1


def _unit(tokens: list[str], pos: int) -> tuple[int, int]:
    """Read an optional unit word ("nghìn tỷ" is 10^12); return it (0 if none) and next index."""
    unit = _UNITS.get(_at(tokens, pos), 0)
    if unit == 10**3 and _UNITS.get(_at(tokens, pos + 1)) == 10**9:
        return 10**12, pos + 2
    return unit, pos + (unit > 0)


def _amount(tokens: list[str], pos: int) -> tuple[Decimal, int, bool]:
    """Read "1 tỷ 200 triệu", "1tỷ2", "5 trăm nghìn"...; return value, next index, has unit."""
    total, prev_unit, exact = Decimal(0), 0, True
    while pos < len(tokens) and _is_num(tokens[pos]):
        raw = tokens[pos]
        if prev_unit and raw == "1" and _at(tokens, pos + 1) in _PERIODS:
            break  # "5 triệu 1 năm" is five million a year
        if not exact:
            raise _unreadable()  # "1,5 tỷ 200 triệu"
        count, digits, pos = _count(tokens, pos)
        unit, pos = _unit(tokens, pos)
        if not unit:
            if prev_unit:
                # "1 tỷ 2" and "1 tỷ 200" both mean 1.2 tỷ; "1 tỷ 25" could be 1.25 or 1.025.
                scale = {1: 100, 3: 1}.get(digits)
                if scale is None:
                    raise _unreadable()
                total += count * scale * (prev_unit // 1000)
            else:
                total = count
            break
        if _SINGLE_GROUP.fullmatch(raw):
            raise _unreadable()  # "1.500 triệu": 1500 triệu in vi, 1.5 triệu in en
        if prev_unit and (unit >= prev_unit or count * unit >= prev_unit):
            raise _unreadable()
        total, prev_unit = total + count * unit, unit
        exact = count == count.to_integral_value()
        if _at(tokens, pos) in _HALF and exact:
            total, pos = total + unit // 2, pos + 1
            break
    if _at(tokens, pos) in _UNITS.keys() | _HUNDRED | _HALF:
        raise _unreadable()
    if not prev_unit and total != total.to_integral_value():
        raise _unreadable()  # "1.5" alone is not a sum of VND
    return total, pos, bool(prev_unit)


def _suffix(tokens: list[str], pos: int, has_unit: bool) -> tuple[int, int]:
    """Skip currency markers and read a per-period suffix; return next index and multiplier."""
    while _at(tokens, pos) in _CURRENCY:
        pos += 1
    word = _at(tokens, pos)
    if word in _PERIODS.keys() - _STANDALONE_PERIODS:
        raise _unreadable()  # "5 năm" is five years, "1 tỷ 2 năm" is 1 tỷ in two years
    if not has_unit and word.isalpha() and word not in _TOLERATED_AFTER:
        raise _unreadable()  # "2m", "5 kg", "5 người": not clearly money
    if word in _CONNECTORS and _at(tokens, pos + 1) in _PERIODS:
        pos += 1
    elif word not in _STANDALONE_PERIODS:
        return pos, 1
    months = _PERIODS[tokens[pos]]
    if months is None:
        raise _unreadable()
    return pos + 1, months


def parse_vnd(text: str) -> int:
    """Parse an amount as people write it into an integer number of VND.

    Fractional VND ("1,2345678 nghìn") is rounded to the nearest VND, halves up.
    A per-month amount ("5 triệu/tháng") is multiplied by 12 to give a yearly one.
    "1 tỷ 2" and "1tỷ2" mean 1.2 tỷ, as said aloud. Words around the amount are ignored;
    ranges, two numbers, foreign currencies, "m" (metres or million?), per-day/week amounts
    and "1.500 triệu" (1500 or 1.5 triệu?) are "unreadable". "-5" is negative, "- 5" is not.
    """
    if not text.strip():
        raise MoneyError("empty")
    text = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())
    # A minus glued to a digit reads as the word "âm"; "200-300" then holds two numbers.
    tokens = _TOKEN.findall(re.sub(r"[-−–](?=[0-9])", " âm ", text))
    if any(token in _FOREIGN for token in tokens):
        raise _unreadable()
    start = next((i for i, token in enumerate(tokens) if _is_num(token)), None)
    if start is None:
        raise _unreadable()
    with localcontext(_EXACT):
        value, pos, has_unit = _amount(tokens, start)
        pos, multiplier = _suffix(tokens, pos, has_unit)
        if any(_is_num(token) for token in tokens[pos:]):
            raise _unreadable()
        value *= multiplier
        negative = start > 0 and tokens[start - 1] in _MINUS
        if value > MAX_VND + 1:
            raise MoneyError("negative" if negative else "too_large")
        amount = int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if amount == 0:
        raise MoneyError("zero")
    if negative:
        raise MoneyError("negative")
    if amount > MAX_VND:
        raise MoneyError("too_large")
    return amount


def format_number(value: int, lang: str) -> str:
    """Group an integer's digits the way a language does: 1.500 (vi, id), 1,500 (en)."""
    grouped = f"{value:,}"
    return grouped.replace(",", ".") if _base(lang) in ("vi", "id") else grouped


def format_vnd(amount: int, lang: str) -> str:
    """Format an integer VND amount for display in a language (vi, en, id)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("amount must be an int of VND")
    grouped = format_number(amount, lang)
    return f"{grouped} đ" if _base(lang) == "vi" else f"VND {grouped}"


def _base(lang: str) -> str:
    return lang.casefold().replace("_", "-").split("-")[0]
