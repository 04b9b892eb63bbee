"""Vietnamese text folded for matching: "Khuôn ÉP đế" and "khuon ep de" read the same.

Folding is NFC, then accents and case removed (đ → d), then split into syllables (a
Vietnamese word is one to four of them, written apart); common factory abbreviations are
spelled out and a short list of function words is dropped. The search index stores
these syllables, so both databases answer from the same words.
"""

import re
import unicodedata
from functools import cache, lru_cache

_SYLLABLE = re.compile(r"[a-z0-9]+")
# What typists abbreviate on the shop floor, spelled out the way it is written in full.
ABBREVIATIONS: dict[str, str] = {
    "ctkt": "cai tien ky thuat",
    "sk": "sang kien",
    "nsld": "nang suat lao dong",
    "atld": "an toan lao dong",
    "atvsld": "an toan ve sinh lao dong",
    "bhld": "bao ho lao dong",
    "pccc": "phong chay chua chay",
    "kcs": "kiem tra chat luong",
    "qc": "kiem tra chat luong",
    "sx": "san xuat",
    "cn": "cong nhan",
    "tb": "thiet bi",
    "nvl": "nguyen vat lieu",
    "dc": "dong co",
    "bt": "bao tri",
    "vs": "ve sinh",
    "kt": "ky thuat",
}
# Both spellings are correct Vietnamese ("kĩ"/"kỹ", "lí"/"lý"): one is kept.
_SPELLING = {"ki": "ky", "li": "ly", "mi": "my"}
# Function words that carry no subject. A function word that folds into a content word
# is kept: "tai" (tại, băng tải), "khi" (khi, khí nén), "cua" (của, cửa), "voi" (với, vòi),
# "ve" (về, bản vẽ), "de" (để, đế), "ma" (mà, xi mạ), "cung" (cũng, cung cấp), "nham"
# (nhằm, lắp nhầm), "bang" (bằng, băng tải), "do" (đo), "tu" (tủ), "co" (cơ cấu).
_STOP = """va cho cac nhung mot la trong tren thi nay duoc khong nhu theo vao dang se viec
su moi nhieu hon rat lam giup sau truoc"""
STOP_WORDS = frozenset(_STOP.split())


def fold(text: str) -> str:
    """Return the text in lower case without accents ("Đồ gá" → "do ga")."""
    return unicodedata.normalize("NFC", text).lower().translate(_bare())


@cache
def _bare() -> dict[int, str | None]:
    """A translation of every accented letter (Latin, Greek, Cyrillic...) to its bare
    letters, and of combining marks to nothing: one C-level pass instead of a Python
    loop over each character (the search ranks hundreds of texts per query)."""
    table: dict[int, str | None] = {code: None for code in range(0x0300, 0x0370)}
    for code in range(0x00C0, 0x2000):
        decomposed = unicodedata.normalize("NFD", chr(code))
        bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
        if bare != chr(code) and unicodedata.category(chr(code)) != "Mn":
            table[code] = bare
    table[ord("đ")], table[ord("Đ")] = "d", "D"
    return table


def syllables(text: str) -> list[str]:
    """Return the folded syllables that carry meaning, abbreviations spelled out."""
    return [part for syllable in _SYLLABLE.findall(fold(text)) for part in _meaning(syllable)]


@lru_cache(maxsize=1 << 16)
def _meaning(syllable: str) -> tuple[str, ...]:
    """What one folded syllable stands for: itself, its spelling out, or nothing."""
    parts = (_SPELLING.get(p, p) for p in ABBREVIATIONS.get(syllable, syllable).split())
    return tuple(p for p in parts if p not in STOP_WORDS)


def loose(text: str) -> str:
    """Fold what a person typed to compare it with a word or a name: `fold`, single
    spaces, no closing punctuation ("Tôi đồng ý!" and "toi dong y" match)."""
    return " ".join(fold(text).strip(" .!?)\t").split())
