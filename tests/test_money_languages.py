"""Amounts as speakers of each language write them: units, words, separators, ranges."""

import pytest

from core.money import MoneyError, parse_vnd

COUNTS = [1, 2, 5, 12, 20, 25, 99, 120, 200, 350, 500, 999]
UNITS = {
    "vi": {"nghìn": 10**3, "k": 10**3, "triệu": 10**6, "tr": 10**6, "tỷ": 10**9},
    "en": {"thousand": 10**3, "k": 10**3, "million": 10**6, "m": 10**6, "billion": 10**9},
    "id": {"ribu": 10**3, "rb": 10**3, "juta": 10**6, "jt": 10**6, "miliar": 10**9},
}
CURRENCY = {"vi": ("{} đ", "{} đồng"), "en": ("VND {}", "{} VND"), "id": ("VND {}", "{} VND")}

GENERATED = [
    (lang, form.format(f"{count}{space}{unit}"), count * value)
    for lang, units in UNITS.items()
    for unit, value in units.items()
    for count in COUNTS
    for space in ("", " ")
    for form in ("{}", CURRENCY[lang][count % 2])
]

WRITTEN = [
    # Vietnamese: separators both ways, words with and without diacritics
    ("vi", "1,5 triệu", 1_500_000),
    ("vi", "1.5 triệu", 1_500_000),
    ("vi", "năm trăm triệu", 500_000_000),
    ("vi", "nam tram trieu", 500_000_000),
    ("vi", "một tỷ", 1_000_000_000),
    ("vi", "mot ty", 1_000_000_000),
    ("vi", "nửa tỷ", 500_000_000),
    ("vi", "nua ty", 500_000_000),
    ("vi", "hai trăm nghìn", 200_000),
    ("vi", "một trăm hai mươi triệu", 120_000_000),
    ("vi", "mười lăm triệu", 15_000_000),
    ("vi", "hai mươi lăm triệu", 25_000_000),
    ("vi", "hai mươi mốt triệu", 21_000_000),
    ("vi", "chín mươi chín triệu", 99_000_000),
    ("vi", "năm mươi triệu", 50_000_000),
    ("vi", "một tỷ hai trăm triệu", 1_200_000_000),
    ("vi", "hai tỷ năm trăm triệu", 2_500_000_000),
    ("vi", "một tỷ rưỡi", 1_500_000_000),
    ("vi", "ba triệu rưỡi", 3_500_000),
    ("vi", "hai chục triệu", 20_000_000),
    ("vi", "một trăm linh năm triệu", 105_000_000),
    ("vi", "năm triệu một năm", 5_000_000),
    ("vi", "năm triệu mỗi tháng", 60_000_000),
    ("vi", "khoảng ba trăm triệu", 300_000_000),
    ("vi", "một nghìn tỷ", 10**12),
    ("vi", "bảy trăm nghìn", 700_000),
    ("vi", "một trăm nghìn đồng", 100_000),
    ("vi", "tám trăm ngàn", 800_000),
    # English
    ("en", "1.2 billion", 1_200_000_000),
    ("en", "300 million", 300_000_000),
    ("en", "VND 50m", 50_000_000),
    ("en", "50m VND", 50_000_000),
    ("en", "50 mn", 50_000_000),
    ("en", "2.5m", 2_500_000),
    ("en", "1,500 million", 1_500_000_000),
    ("en", "1.500 million", 1_500_000),
    ("en", "1,500,000", 1_500_000),
    ("en", "VND 1,500,000 per year", 1_500_000),
    ("en", "10 million a month", 120_000_000),
    ("en", "half a billion", 500_000_000),
    ("en", "a million", 1_000_000),
    ("en", "about a billion a year", 1_000_000_000),
    ("en", "one hundred twenty million", 120_000_000),
    ("en", "one hundred and twenty million", 120_000_000),
    ("en", "twenty-five million", 25_000_000),
    ("en", "twenty five million", 25_000_000),
    ("en", "two and a half billion", 2_500_000_000),
    ("en", "three hundred thousand", 300_000),
    ("en", "a hundred million", 100_000_000),
    ("en", "fifteen million VND", 15_000_000),
    ("en", "1 billion 200 million", 1_200_000_000),
    # Indonesian
    ("id", "120 juta", 120_000_000),
    ("id", "200 ribu", 200_000),
    ("id", "2 juta", 2_000_000),
    ("id", "1,5 miliar", 1_500_000_000),
    ("id", "1,5 M", 1_500_000_000),
    ("id", "1.500 juta", 1_500_000_000),
    ("id", "1,500 juta", 1_500_000),
    ("id", "120.000.000", 120_000_000),
    ("id", "VND 120.000.000", 120_000_000),
    ("id", "seratus juta", 100_000_000),
    ("id", "lima ratus ribu", 500_000),
    ("id", "dua puluh lima juta", 25_000_000),
    ("id", "satu miliar", 1_000_000_000),
    ("id", "setengah miliar", 500_000_000),
    ("id", "satu setengah juta", 1_500_000),
    ("id", "sejuta", 1_000_000),
    ("id", "seribu", 1_000),
    ("id", "dua belas juta", 12_000_000),
    ("id", "sebelas juta", 11_000_000),
    ("id", "sepuluh juta", 10_000_000),
    ("id", "seratus dua puluh juta", 120_000_000),
    ("id", "120 juta per tahun", 120_000_000),
    ("id", "10 juta per bulan", 120_000_000),
    ("id", "10 juta sebulan", 120_000_000),
    ("id", "tiga ratus juta setahun", 300_000_000),
    ("id", "sekitar 2 miliar", 2_000_000_000),
    ("id", "2 juta 500 ribu", 2_500_000),
    ("id", "milyar", None),
]


@pytest.mark.parametrize(("lang", "text", "expected"), GENERATED + WRITTEN)
def test_read_in_language(lang: str, text: str, expected: int | None) -> None:
    if expected is None:
        with pytest.raises(MoneyError) as caught:
            parse_vnd(text, lang)
        assert caught.value.reason == "unreadable"
        return
    assert parse_vnd(text, lang) == expected


RANGES = [
    ("vi", "khoảng 300-500 triệu", (300_000_000, 400_000_000, 500_000_000)),
    ("vi", "300 - 500 triệu", (300_000_000, 400_000_000, 500_000_000)),
    ("vi", "từ 300 đến 500 triệu", (300_000_000, 400_000_000, 500_000_000)),
    ("vi", "tu 300 den 500 trieu", (300_000_000, 400_000_000, 500_000_000)),
    ("vi", "300 triệu đến 1 tỷ", (300_000_000, 650_000_000, 1_000_000_000)),
    ("vi", "1-2 tỷ", (1_000_000_000, 1_500_000_000, 2_000_000_000)),
    ("vi", "500-300 triệu", (300_000_000, 400_000_000, 500_000_000)),
    ("vi", "10-20tr/tháng", (120_000_000, 180_000_000, 240_000_000)),
    ("vi", "200 hoặc 300 triệu", (200_000_000, 250_000_000, 300_000_000)),
    ("vi", "giữa 1 và 2 tỷ", (1_000_000_000, 1_500_000_000, 2_000_000_000)),
    ("vi", "ba trăm đến năm trăm triệu", (300_000_000, 400_000_000, 500_000_000)),
    ("en", "300 to 500 million", (300_000_000, 400_000_000, 500_000_000)),
    ("en", "between 1 and 2 billion", (1_000_000_000, 1_500_000_000, 2_000_000_000)),
    ("en", "1 or 2 billion", (1_000_000_000, 1_500_000_000, 2_000_000_000)),
    ("id", "300-500 juta", (300_000_000, 400_000_000, 500_000_000)),
    ("id", "antara 300 dan 500 juta", (300_000_000, 400_000_000, 500_000_000)),
    ("id", "300 sampai 500 juta", (300_000_000, 400_000_000, 500_000_000)),
    ("id", "1 atau 2 miliar", (1_000_000_000, 1_500_000_000, 2_000_000_000)),
    ("vi", "300-500", ()),
]
BARE = [
    ("vi", "200", (200_000, 200_000_000)),
    ("vi", "khoảng 200", (200_000, 200_000_000)),
    ("vi", "5000", (5_000_000, 5_000_000_000)),
    ("vi", "1.500", (1_500_000, 1_500_000_000)),
    ("vi", "1,500", (1_500_000, 1_500_000_000)),
    ("vi", "9999", (9_999_000, 9_999_000_000)),
    ("vi", "hai trăm", (200_000, 200_000_000)),
    ("en", "200", (200_000, 200_000_000)),
    ("en", "about 350", (350_000, 350_000_000)),
    ("id", "200", (200_000, 200_000_000)),
    ("id", "lima ratus", (500_000, 500_000_000)),
]
AMBIGUOUS = [
    ("vi", "1.500 triệu", (1_500_000, 1_500_000_000)),
    ("vi", "1,500 triệu", (1_500_000, 1_500_000_000)),
    ("vi", "2.500 nghìn", (2_500, 2_500_000)),
    ("vi", "khoảng 1.200 tỷ", (1_200_000_000, 1_200_000_000_000)),
]


@pytest.mark.parametrize(
    ("reason", "lang", "text", "options"),
    [("range", *case) for case in RANGES]
    + [("no_unit", *case) for case in BARE]
    + [("ambiguous", *case) for case in AMBIGUOUS],
)
def test_asked_back_with_options(
    reason: str, lang: str, text: str, options: tuple[int, ...]
) -> None:
    with pytest.raises(MoneyError) as caught:
        parse_vnd(text, lang)
    assert (caught.value.reason, caught.value.options) == (reason, options)


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("vi", "2m"),
        ("vi", "năm"),
        ("en", "$50m"),
        ("id", "Rp 120 juta"),
        ("id", "5 juta per hari"),
    ],
)
def test_still_unreadable(lang: str, text: str) -> None:
    with pytest.raises(MoneyError) as caught:
        parse_vnd(text, lang)
    assert caught.value.reason == "unreadable"
