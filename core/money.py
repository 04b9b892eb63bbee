"""Read and show amounts of VND the way Vietnamese factory workers write them."""

import re
import unicodedata
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_UP, Context, Decimal, localcontext
from functools import cache
from typing import Literal

from core.number_words import to_digits

MAX_VND = 10**15

Reason = Literal[
    "empty", "unreadable", "negative", "zero", "too_large", "range", "no_unit", "ambiguous"
]
# An amount with no unit and no currency below this is asked about: "200" is
# "200 nghìn" or "200 triệu", hardly 200 đ.
BARE_BELOW = 10_000


class MoneyError(ValueError):
    """Raised when a text is not an acceptable amount; `.reason` says why.

    `.options` holds the amounts the text may have meant, lowest first: the low end,
    midpoint and high end of a range, the thousands and millions of a bare number, the
    two readings of "1.500 triệu".
    """

    reason: Reason
    options: tuple[int, ...]

    def __init__(self, reason: Reason, options: tuple[int, ...] = ()) -> None:
        super().__init__(f"not an acceptable VND amount: {reason}")
        self.reason = reason
        self.options = options


_UNITS = {
    **dict.fromkeys(("nghìn", "nghin", "ngàn", "ngan", "k", "ng", "thousand"), 10**3),
    **dict.fromkeys(("ribu", "rb"), 10**3),
    **dict.fromkeys(("triệu", "trieu", "tr", "củ", "cu", "million", "mil"), 10**6),
    **dict.fromkeys(("juta", "jt"), 10**6),
    **dict.fromkeys(("tỷ", "tỉ", "ty", "ti", "tỏi", "b", "bn", "billion", "bil"), 10**9),
    **dict.fromkeys(("miliar", "milyar"), 10**9),
    **dict.fromkeys(("trillion", "triliun"), 10**12),
}
# "m" is a million to an English speaker and a miliar to an Indonesian; in Vietnamese
# it is a metre.
_LANGUAGE_UNITS = {"en": {"m": 10**6, "mn": 10**6}, "id": {"m": 10**9}}
# The thousands separator of a language; Vietnamese writes both ways ("1.5 ty").
_THOUSANDS = {"en": ",", "id": "."}
_HUNDRED = {"trăm", "tram", "hundred", "ratus"}
_HALF = {"rưỡi", "ruoi", "setengah"}
_CURRENCY = {"đ", "₫", "đồng", "dong", "d", "vnd", "vnđ"}
_FOREIGN = {"usd", "$", "đô", "dollar", "dollars", "eur", "euro", "€", "rp", "idr", "rupiah", "%"}
_MINUS = {"âm", "am", "minus"}
_CONNECTORS = {"/", "mỗi", "moi", "một", "mot", "1", "hàng", "hang", "hằng", "per", "a", "every"}
_CONNECTORS |= {"tiap", "setiap"}
# Times per year; None where that depends on working days we do not know.
_PERIODS: dict[str, int | None] = {
    **dict.fromkeys(("năm", "nam", "year", "yr", "annually", "yearly"), 1),
    **dict.fromkeys(("tahun", "thn", "setahun", "tahunan"), 1),
    **dict.fromkeys(("tháng", "thang", "month", "mo", "monthly"), 12),
    **dict.fromkeys(("bulan", "bln", "sebulan", "bulanan"), 12),
    **dict.fromkeys(("ngày", "ngay", "day", "daily", "tuần", "tuan", "week", "weekly"), None),
    **dict.fromkeys(("hari", "minggu", "sehari", "seminggu"), None),
    **dict.fromkeys(("quý", "quy", "quarter", "ca", "giờ", "gio", "hour", "jam"), None),
}
_STANDALONE_PERIODS = {"annually", "yearly", "monthly", "daily", "weekly"}
_STANDALONE_PERIODS |= {"setahun", "tahunan", "sebulan", "bulanan", "sehari", "seminggu"}
_TOLERATED_AFTER = _CONNECTORS | _STANDALONE_PERIODS | {"ạ", "nhé", "nha", "thôi", "ok"}
# Between two amounts: a range ("300-500 triệu") or a choice ("300 hoặc 500").
_BETWEEN = {"-", "–", "—", "~", "đến", "den", "tới", "toi", "to", "until", "sampai", "hingga"}
_BETWEEN |= {"or", "hoặc", "hoac", "atau"}
# "between 1 and 2 billion": "and" joins a range only after its opening word.
_BETWEEN_AND = {"between": "and", "antara": "dan", "giữa": "và", "giua": "va"}

_TOKEN = re.compile(
    r"[0-9]+(?:(?:[.,]|[ \u00a0\u202f](?=[0-9]{3}(?![0-9])))[0-9]+)*"  # digits with separators
    r"|[^\W\d_]+"  # a word
    r"|\S"  # any other sign
)
# A minus glued to a digit, with no digit just before it: "-5", not "200-300".
_GLUED_MINUS = re.compile(r"(?<![0-9])(?<![0-9] )[-−–](?=[0-9])")
_GROUPED = {sep: re.compile(rf"[0-9]{{1,3}}(?:\{sep}[0-9]{{3}})+") for sep in ".,"}
_SPACED = re.compile(r"[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+")
_SINGLE_GROUP = re.compile(r"[1-9][0-9]{0,2}[.,][0-9]{3}")
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


class _Ambiguous(Exception):
    """ "1.500 triệu" in Vietnamese: 1500 or 1.5 triệu; read it both ways to ask."""


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


class _Reader:
    """Reads one amount from tokens, with one language's units and thousands separator."""

    def __init__(self, tokens: list[str], lang: str, thousands: str | None) -> None:
        self.tokens = tokens
        self.units = _units(lang)
        self.thousands = thousands

    def at(self, pos: int) -> str:
        return _at(self.tokens, pos)

    def count(self, pos: int) -> tuple[Decimal, int, int]:
        """Read a number with an optional "trăm"; return it, its digit count, the next index."""
        raw = self.tokens[pos]
        if self.at(pos + 1) in _HUNDRED:
            if len(raw) != 1 or raw == "0":
                raise _unreadable()
            return Decimal(raw) * 100, 3, pos + 2
        return _number(raw), len(raw) if raw.isdigit() else 0, pos + 1

    def unit(self, pos: int) -> tuple[int, int]:
        """Read an optional unit word ("nghìn tỷ" is 10^12); return it (0 if none), next index."""
        unit = self.units.get(self.at(pos), 0)
        if unit == 10**3 and self.units.get(self.at(pos + 1)) == 10**9:
            return 10**12, pos + 2
        return unit, pos + (unit > 0)

    def single_group(self, raw: str) -> Decimal:
        """ "1.500" before a unit: thousands or a decimal, by the language's separator."""
        if self.thousands is None:
            raise _Ambiguous
        sep = raw[-4]
        return Decimal(raw.replace(sep, "" if sep == self.thousands else "."))

    def amount(self, pos: int) -> tuple[Decimal, int, bool]:
        """Read "1 tỷ 200 triệu", "1tỷ2", "5 trăm nghìn"...; return value, next index, has unit."""
        total, prev_unit, exact = Decimal(0), 0, True
        while pos < len(self.tokens) and _is_num(self.tokens[pos]):
            raw = self.tokens[pos]
            if prev_unit and raw == "1" and self.at(pos + 1) in _PERIODS:
                break  # "5 triệu 1 năm" is five million a year
            if not exact:
                raise _unreadable()  # "1,5 tỷ 200 triệu"
            count, digits, pos = self.count(pos)
            unit, pos = self.unit(pos)
            if not unit:
                if prev_unit:
                    # "1 tỷ 2" and "1 tỷ 200" both mean 1.2 tỷ; "1 tỷ 25" is 1.25 or 1.025.
                    scale = {1: 100, 3: 1}.get(digits)
                    if scale is None:
                        raise _unreadable()
                    total += count * scale * (prev_unit // 1000)
                else:
                    total = count
                break
            if _SINGLE_GROUP.fullmatch(raw):
                count = self.single_group(raw)
            if prev_unit and (unit >= prev_unit or count * unit >= prev_unit):
                raise _unreadable()
            total, prev_unit = total + count * unit, unit
            exact = count == count.to_integral_value()
            if self.at(pos) in _HALF and exact:
                total, pos = total + unit // 2, pos + 1
                break
        if self.at(pos) in self.units.keys() | _HUNDRED | _HALF:
            raise _unreadable()
        if not prev_unit and total != total.to_integral_value():
            raise _unreadable()  # "1.5" alone is not a sum of VND
        return total, pos, bool(prev_unit)

    def suffix(self, pos: int, has_unit: bool) -> tuple[int, int]:
        """Skip currency markers and read a per-period suffix; return next index, multiplier."""
        while self.at(pos) in _CURRENCY:
            pos += 1
        word = self.at(pos)
        if word in _PERIODS.keys() - _STANDALONE_PERIODS:
            raise _unreadable()  # "5 năm" is five years, "1 tỷ 2 năm" is 1 tỷ in two years
        if not has_unit and word.isalpha() and word not in _TOLERATED_AFTER:
            raise _unreadable()  # "2m", "5 kg", "5 người": not clearly money
        if word in _CONNECTORS and self.at(pos + 1) in _PERIODS:
            pos += 1
        elif word not in _STANDALONE_PERIODS:
            return pos, 1
        months = _PERIODS[self.tokens[pos]]
        if months is None:
            raise _unreadable()
        return pos + 1, months

    def read(self) -> tuple[Decimal, bool]:
        """The amount (negative if it says so) and whether a unit or currency was written."""
        start = next((i for i, token in enumerate(self.tokens) if _is_num(token)), None)
        if start is None:
            raise _unreadable()
        with localcontext(_EXACT):
            value, pos, has_unit = self.amount(start)
            pos, multiplier = self.suffix(pos, has_unit)
            if any(_is_num(token) for token in self.tokens[pos:]):
                raise _unreadable()
            value *= multiplier
            if start > 0 and self.tokens[start - 1] in _MINUS:
                value = -value
        return value, has_unit or any(token in _CURRENCY for token in self.tokens)

    def unit_at(self) -> int | None:
        """Where the first unit word is, if any."""
        return next((i for i, token in enumerate(self.tokens) if token in self.units), None)


@cache
def _units(lang: str) -> dict[str, int]:
    """The unit words read in a language: every language's, and its own "m"."""
    return _UNITS | _LANGUAGE_UNITS.get(lang, {})


def _tokens(text: str, lang: str) -> list[str]:
    text = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())
    tokens = _TOKEN.findall(_GLUED_MINUS.sub(" âm ", text))
    return to_digits(tokens, lang, frozenset(_units(lang)))


def _read(tokens: list[str], lang: str) -> tuple[Decimal, bool]:
    """Read one amount; "1.500 triệu" in Vietnamese raises `ambiguous` with both readings."""
    try:
        return _Reader(tokens, lang, _THOUSANDS.get(lang)).read()
    except _Ambiguous:
        readings = sorted({_whole(_Reader(tokens, lang, sep).read()[0]) for sep in ".,"})
        raise MoneyError("ambiguous", tuple(readings)) from None


def _whole(value: Decimal) -> int:
    """A value in VND, rounded half up, checked against the limits."""
    if value < 0:
        raise MoneyError("negative")
    if value > MAX_VND + 1:
        raise MoneyError("too_large")
    amount = int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP, context=_EXACT))
    if amount == 0:
        raise MoneyError("zero")
    if amount > MAX_VND:
        raise MoneyError("too_large")
    return amount


def _range(tokens: list[str], lang: str) -> tuple[int, int] | None:
    """The two ends of "300-500 triệu" or "từ 1 đến 2 tỷ"; None when the text is no range."""
    numbers = [i for i, token in enumerate(tokens) if _is_num(token)]
    words = _BETWEEN | {and_ for opener, and_ in _BETWEEN_AND.items() if opener in tokens}
    between = next(
        (i for i in range(len(tokens)) if tokens[i] in words and numbers[0] < i < numbers[-1]),
        None,
    )
    if between is None:
        return None
    left, right = tokens[:between], tokens[between + 1 :]
    high, high_has_unit = _read(right, lang)
    low, low_has_unit = _read(left, lang)
    unit_at = _Reader(right, lang, None).unit_at()
    if not low_has_unit and unit_at is not None:
        low, _ = _read(left + right[unit_at:], lang)  # "300-500 triệu": both in triệu
    elif not (low_has_unit or high_has_unit):
        raise MoneyError("range")  # "300-500": in what?
    ends = sorted((_whole(low), _whole(high)))
    return ends[0], ends[1]


def parse_vnd(text: str, lang: str = "vi") -> int:
    """Parse an amount as people write it in a language (vi, en, id) into whole VND.

    Units, number words ("năm trăm triệu", "dua puluh juta", "half a billion") and the
    thousands separator follow the language; unit words of every language are read.
    Fractional VND ("1,2345678 nghìn") is rounded to the nearest VND, halves up.
    A per-month amount ("5 triệu/tháng") is multiplied by 12 to give a yearly one.
    "1 tỷ 2" and "1tỷ2" mean 1.2 tỷ, as said aloud. Words around the amount are ignored.
    Refused, with `MoneyError.options` to offer: a range ("300-500 triệu": low, middle,
    high), a bare small number ("200": in thousands or millions) and, in Vietnamese,
    "1.500 triệu" (1500 or 1.5 triệu). Refused as unreadable: two numbers, foreign
    currencies, "m" in Vietnamese (metres or million?), per-day or per-week amounts.
    "-5" is negative, "- 5" is not.
    """
    if not text.strip():
        raise MoneyError("empty")
    lang = _base(lang)
    tokens = _tokens(text, lang)
    if any(token in _FOREIGN for token in tokens):
        raise _unreadable()
    if not any(_is_num(token) for token in tokens):
        raise _unreadable()
    ends = _range(tokens, lang)
    if ends is not None:
        low, high = ends
        if low == high:
            return low
        raise MoneyError("range", (low, (low + high) // 2, high))
    value, marked = _read(tokens, lang)
    amount = _whole(value)
    if not marked and amount < BARE_BELOW:
        raise MoneyError("no_unit", (amount * 10**3, amount * 10**6))
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
