"""Lenient matching of what people type: no case, no diacritics (đ is d), single spaces."""

import unicodedata


def fold(text: str) -> str:
    """Fold text for lenient matching: "Đợt thi đua 95 ngày!" and "dot thi dua 95 ngay"
    fold alike."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.strip(" .!?)\t").split())
