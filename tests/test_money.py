import unicodedata
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import MAX_VND, MoneyError, Reason, format_vnd, parse_vnd


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


VALID = [
    ("200tr", 200_000_000),
    ("200 TR", 200_000_000),
    ("50k", 50_000),
    ("50K", 50_000),
    ("1.5 ty", 1_500_000_000),
    ("1,5 tỷ", 1_500_000_000),
    (nfd("1,5 tỷ"), 1_500_000_000),
    ("1,5 TỶ", 1_500_000_000),
    ("1,5tr", 1_500_000),
    ("10.5 triệu", 10_500_000),
    ("1.25 tỷ", 1_250_000_000),
    ("0,5 tỷ", 500_000_000),
    ("1 tỷ 200 triệu", 1_200_000_000),
    (nfd("1 tỷ 200 triệu"), 1_200_000_000),
    ("1 tỷ 2", 1_200_000_000),
    ("1tỷ2", 1_200_000_000),
    ("1 tỷ 200", 1_200_000_000),
    ("3 triệu 5", 3_500_000),
    ("5k5", 5_500),
    ("1 tỷ 200 triệu 5", 1_200_500_000),
    ("2 triệu 500 nghìn", 2_500_000),
    (nfd("2 triệu 500 nghìn"), 2_500_000),
    ("1 tỷ rưỡi", 1_500_000_000),
    ("3 triệu rưỡi", 3_500_000),
    ("5 trăm nghìn", 500_000),
    ("2 trăm triệu", 200_000_000),
    ("1 ty 5 tram trieu", 1_500_000_000),
    ("1 tỷ 2 trăm", 1_200_000_000),
    ("1 nghìn tỷ", 10**12),
    ("200.000.000 đ", 200_000_000),
    ("2,000,000 VND", 2_000_000),
    ("2.000.000đ", 2_000_000),
    ("2 000 000", 2_000_000),
    ("1 200 triệu", 1_200_000_000),
    ("15.000.000 VNĐ", 15_000_000),
    ("1.200.000.000", 1_200_000_000),
    ("12 triệu đồng", 12_000_000),
    ("12 TRIỆU ĐỒNG", 12_000_000),
    ("1.500,5 triệu", 1_500_500_000),
    ("1,500.5 triệu", 1_500_500_000),
    ("1.500.000,00 đ", 1_500_000),
    ("1,500,000.00 VND", 1_500_000),
    ("1,2345678 nghìn", 1_235),
    ("1,0005 nghìn", 1_001),
    ("khoảng 300 triệu/năm", 300_000_000),
    (nfd("khoảng 300 triệu/năm"), 300_000_000),
    ("~ 2 tỷ", 2_000_000_000),
    ("~200tr/năm", 200_000_000),
    ("tầm 200tr", 200_000_000),
    ("ước tính 50 triệu mỗi năm", 50_000_000),
    ("uoc tinh 50 trieu moi nam", 50_000_000),
    ("5 triệu một năm", 5_000_000),
    ("5 triệu 1 năm", 5_000_000),
    ("about 2 billion", 2_000_000_000),
    ("about 2 billion per year", 2_000_000_000),
    ("3 million a year", 3_000_000),
    ("2 bil annually", 2_000_000_000),
    ("300 củ", 300_000_000),
    ("300 cu", 300_000_000),
    ("3 tỏi", 3_000_000_000),
    ("2 tỉ", 2_000_000_000),
    ("2 ti", 2_000_000_000),
    ("2b", 2_000_000_000),
    ("2 bn", 2_000_000_000),
    ("3 mil", 3_000_000),
    ("500 ngàn", 500_000),
    ("500 ngan", 500_000),
    ("500 nghin", 500_000),
    ("500 ng", 500_000),
    ("5 trieu", 5_000_000),
    ("5 triệu/tháng", 60_000_000),
    ("5 triệu mỗi tháng", 60_000_000),
    ("5 triệu 1 tháng", 60_000_000),
    ("200k/month", 2_400_000),
    ("2 triệu hàng tháng", 24_000_000),
    ("Giá trị làm lợi: 120.000.000 đồng/năm", 120_000_000),
    ("Công ty tiết kiệm được khoảng 2 tỷ ạ", 2_000_000_000),
    ("VND 1,500,000,000", 1_500_000_000),
    ("1.000.000.000.000.000 đ", MAX_VND),
    ("500.000 ạ", 500_000),
    ("5000 đ", 5_000),
    ("1.500 đ", 1_500),
    ("1,500 đồng", 1_500),
    ("VND 200", 200),
    ("200.000", 200_000),
    ("10000", 10_000),
    ("200 triệu - 200 triệu", 200_000_000),
    ("- 5 triệu", 5_000_000),
]

INVALID = [
    ("", "empty"),
    ("   ", "empty"),
    ("\n\t ", "empty"),
    ("nhiều lắm", "unreadable"),
    ("abc", "unreadable"),
    ("triệu", "unreadable"),
    ("5 triệu 3 tỷ", "unreadable"),
    ("1..5 tỷ", "unreadable"),
    ("5 10 triệu", "unreadable"),
    ("1.5", "unreadable"),
    ("1,5", "unreadable"),
    ("1,25", "unreadable"),
    ("1.5.3", "unreadable"),
    ("1 tỷ 25", "unreadable"),
    ("1 tỷ 2000 triệu", "unreadable"),
    ("1 triệu tỷ", "unreadable"),
    ("1,5 tỷ 200 triệu", "unreadable"),
    ("2m", "unreadable"),
    ("5 kg", "unreadable"),
    ("5 USD", "unreadable"),
    ("$500", "unreadable"),
    ("Rp 5.000", "unreadable"),
    ("5%", "unreadable"),
    ("5 triệu/ngày", "unreadable"),
    ("5 triệu mỗi tuần", "unreadable"),
    ("5 năm", "unreadable"),
    ("1 tỷ 2 năm", "unreadable"),
    ("-5 triệu", "negative"),
    ("âm 5 triệu", "negative"),
    ("-1.000.000 đ", "negative"),
    ("0", "zero"),
    ("0 đ", "zero"),
    ("0 triệu", "zero"),
    ("2.000.000 tỷ", "too_large"),
    ("10000000000000000", "too_large"),
    ("1.000.000.000.000.001 đ", "too_large"),
    ("9" * 5000, "too_large"),
]


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_parse_valid(text: str, expected: int) -> None:
    result = parse_vnd(text)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(("text", "reason"), INVALID)
def test_parse_invalid(text: str, reason: str) -> None:
    with pytest.raises(MoneyError) as caught:
        parse_vnd(text)
    assert caught.value.reason == reason
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("amount", "lang", "expected"),
    [
        (1_500_000_000, "vi", "1.500.000.000 đ"),
        (1_500_000_000, "en", "VND 1,500,000,000"),
        (1_500_000_000, "id", "VND 1.500.000.000"),
        (1_500_000_000, "fr", "VND 1,500,000,000"),
        (1_500_000_000, "vi-VN", "1.500.000.000 đ"),
        (5, "vi", "5 đ"),
        (1_000, "en", "VND 1,000"),
    ],
)
def test_format(amount: int, lang: str, expected: str) -> None:
    assert format_vnd(amount, lang) == expected


def test_format_rejects_non_int() -> None:
    with pytest.raises(TypeError):
        format_vnd(1.5, "vi")  # type: ignore[arg-type]


@given(st.integers(min_value=1, max_value=MAX_VND), st.sampled_from(["vi", "en", "id"]))
def test_format_round_trips(amount: int, lang: str) -> None:
    """Any amount the bot prints in a language reads back the same in that language."""
    assert parse_vnd(format_vnd(amount, lang), lang) == amount
    assert parse_vnd(format_vnd(amount, lang)) == amount


PIECES = [" ", "2 000", "1", "5", "200", "1.500", "1,5", "0", "-", "~", "/", "tỷ", "triệu"]
PIECES += ["nghìn", "k", "trăm", "rưỡi", "đ", "mỗi", "năm", "tháng", "ngày", "âm"]


PIECES += ["năm", "trăm", "mươi", "hai", "nửa", "juta", "setengah", "dua", "puluh", "m"]
PIECES += ["million", "half", "a", "one", "twenty", "đến", "-", "hoặc", "sampai", "ribu"]


@given(
    st.one_of(
        st.text(),
        st.lists(st.sampled_from(PIECES)).map(" ".join),
        st.lists(st.sampled_from(PIECES)).map("".join),
    ),
    st.sampled_from(["vi", "en", "id"]),
)
def test_parse_only_raises_money_error(text: str, lang: str) -> None:
    try:
        result = parse_vnd(text, lang)
    except MoneyError as error:
        assert error.reason in get_args(Reason)
        assert all(1 <= option <= MAX_VND for option in error.options)
    else:
        assert type(result) is int
        assert 1 <= result <= MAX_VND
