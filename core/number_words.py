"""Numbers written in words ("năm trăm", "dua puluh lima", "one hundred") as digits.

The money reader works on digits and unit words; this module turns a run of number
words below a thousand into one token of digits first, so "năm trăm triệu" reads as
"500 triệu" and "satu setengah juta" as "1,5 juta". The thousand, million and billion
words stay words: they are units to the money reader. A run is replaced only when it is
surely a number: it has two words or more ("hai mươi") or a unit follows it ("ba
triệu"), so "năm" alone stays the word for a year and "một năm" means "a year".
"""

from dataclasses import dataclass

_VI_DIGITS = {
    **dict.fromkeys(("không", "khong"), 0),
    **dict.fromkeys(("một", "mot"), 1),
    "hai": 2,
    "ba": 3,
    **dict.fromkeys(("bốn", "bon"), 4),
    **dict.fromkeys(("năm", "nam"), 5),
    **dict.fromkeys(("sáu", "sau"), 6),
    **dict.fromkeys(("bảy", "bẩy", "bay"), 7),
    **dict.fromkeys(("tám", "tam"), 8),
    **dict.fromkeys(("chín", "chin"), 9),
}
# Spellings of a last digit that only follow "mươi" or "mười": 21, 24, 25.
_VI_LAST = {"mốt": 1, "tư": 4, "tu": 4, "lăm": 5, "lam": 5, "nhăm": 5}
_ID_DIGITS = {
    "nol": 0,
    "satu": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
}
_EN_DIGITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_EN_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}


@dataclass(frozen=True)
class Words:
    """One language's number words, by the role each plays in a number."""

    digits: dict[str, int]  # a value below 20 that stands alone
    last: dict[str, int]  # a last digit that only follows a ten
    tens: dict[str, int]  # a ten, alone ("mười", "sepuluh", "twenty")
    teen: frozenset[str]  # adds ten to the digit before it ("belas")
    times_ten: frozenset[str]  # multiplies the digit before it by ten ("mươi", "puluh")
    hundred: frozenset[str]  # multiplies what is before it by a hundred
    half: frozenset[str]  # a half ("nửa", "setengah", "half")
    filler: frozenset[str]  # inside a number, means nothing ("linh", "and")
    one: frozenset[str]  # "a" before a hundred or a unit
    joined: dict[str, tuple[str, str]]  # one word for "one" and a unit: "seribu"


WORDS = {
    "vi": Words(
        digits=_VI_DIGITS,
        last=_VI_LAST,
        tens=dict.fromkeys(("mười", "muoi"), 10),
        teen=frozenset(),
        times_ten=frozenset(("mươi", "muoi", "chục", "chuc")),
        hundred=frozenset(("trăm", "tram")),
        half=frozenset(("nửa", "nua")),
        filler=frozenset(("linh", "lẻ", "le")),
        one=frozenset(),
        joined={},
    ),
    "id": Words(
        digits={**_ID_DIGITS, "sebelas": 11},
        last={},
        tens={"sepuluh": 10},
        teen=frozenset(("belas",)),
        times_ten=frozenset(("puluh",)),
        hundred=frozenset(("ratus",)),
        half=frozenset(("setengah",)),
        filler=frozenset(),
        one=frozenset(),
        joined={
            "seratus": ("satu", "ratus"),
            "seribu": ("satu", "ribu"),
            "sejuta": ("satu", "juta"),
            "semiliar": ("satu", "miliar"),
            "semilyar": ("satu", "milyar"),
        },
    ),
    "en": Words(
        digits=_EN_DIGITS,
        last={},
        tens=_EN_TENS,
        teen=frozenset(),
        times_ten=frozenset(),
        hundred=frozenset(("hundred",)),
        half=frozenset(("half",)),
        filler=frozenset(("and",)),
        one=frozenset(("a", "an")),
        joined={},
    ),
}


class _Run:
    """A number below a thousand being read word by word; refuses a word that breaks it."""

    def __init__(self, words: Words) -> None:
        self.words = words
        self.hundreds = 0  # the hundreds read so far
        self.rest = 0  # what is below a hundred
        self.state = "start"  # start | digit | ten | hundred | half
        self.half = False
        self.count = 0  # words taken

    def take(self, word: str, after: str) -> bool:
        """Add a word to the number if it fits there; `after` is the word that follows."""
        taken = self._take(word, after)
        self.count += taken
        return taken

    def _take(self, word: str, after: str) -> bool:  # noqa: PLR0911 - one branch per role
        w, state = self.words, self.state
        if state == "half":
            return False
        if word in w.half and state != "start" and self.rest < 10:
            # "satu setengah juta", "one and a half million": a half more
            self.half, self.state = True, "half"
            return True
        if word in w.times_ten and state == "digit" and 0 < self.rest < 10:
            self.rest, self.state = self.rest * 10, "ten"
            return True
        if word in w.teen and state == "digit" and 0 < self.rest < 10:
            self.rest, self.state = self.rest + 10, "ten"
            return True
        if word in w.hundred and state in ("digit", "one") and 0 < self.rest < 10:
            self.hundreds, self.rest, self.state = self.rest * 100, 0, "hundred"
            return True
        if word in w.filler and state == "hundred":
            return True
        if word in w.filler | w.one and state == "digit" and after in w.half | w.one:
            return True  # "one and a half"
        if word == "-" and w.tens is _EN_TENS and state == "ten" and after in w.digits:
            return True  # "twenty-five"
        if word in w.tens and state in ("start", "hundred"):
            self.rest, self.state = w.tens[word], "ten"
            return True
        if word in w.last and state == "ten" and self.rest % 10 == 0:
            self.rest, self.state = self.rest + w.last[word], "digit"
            return True
        return self._digit(word, after)

    def _digit(self, word: str, after: str) -> bool:
        w, state = self.words, self.state
        if word in w.one and state == "start":
            self.rest, self.state = 1, "one"
            return True
        if word not in w.digits:
            return False
        value = w.digits[word]
        if state in ("start", "hundred") or (state == "ten" and self.rest % 10 == 0 < value < 10):
            self.rest, self.state = self.rest + value, "digit"
            return True
        return False

    def value(self) -> str:
        """The number as digits, with a decimal comma for a half ("1,5")."""
        whole = self.hundreds + self.rest
        return f"{whole},5" if self.half else str(whole)


def to_digits(tokens: list[str], lang: str, units: frozenset[str]) -> list[str]:
    """Replace each run of number words by its digits; `units` are the words after a count."""
    words = WORDS.get(lang)
    if words is None:
        return tokens
    tokens = [part for token in tokens for part in _unjoin(token, words)]
    out: list[str] = []
    pos = 0
    while pos < len(tokens):
        if tokens[pos] in words.half and _at(tokens, pos + 1) in words.one | units:
            # "nửa tỷ", "half a billion"
            out.append("0,5")
            pos += 1 + (tokens[pos + 1] in words.one)
            continue
        run = _Run(words)
        end = pos
        while end < len(tokens) and run.take(tokens[end], _at(tokens, end + 1)):
            end += 1
        after = _at(tokens, end)
        if run.count >= 2 or (run.count == 1 and (after in units or after in words.hundred)):
            out.append(run.value())
            pos = end
        else:
            out.append(tokens[pos])
            pos += 1
    return out


def _unjoin(token: str, words: Words) -> list[str]:
    return list(words.joined.get(token, (token,)))


def _at(tokens: list[str], pos: int) -> str:
    return tokens[pos] if pos < len(tokens) else ""
