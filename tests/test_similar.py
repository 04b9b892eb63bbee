"""The similarity matcher: Vietnamese folding, and a threshold that meets its targets."""

import unicodedata

from bench.similar_quality import (
    TARGET_PRECISION,
    TARGET_RECALL,
    best,
    load_pairs,
    quality,
    sweep,
)
from core.folding import fold, syllables
from core.similar import THRESHOLD, joined, profile, score, similar


def test_accents_case_and_d_fold_away_whatever_the_unicode_form() -> None:
    decomposed = unicodedata.normalize("NFD", "Đồ gá KHUÔN ép")
    assert fold(decomposed) == fold("Đồ gá KHUÔN ép") == "do ga khuon ep"


def test_every_vietnamese_letter_folds_to_its_bare_letter() -> None:
    letters = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ"
    for letter in letters + letters.upper():
        decomposed = unicodedata.normalize("NFD", letter)
        bare = "".join(c for c in decomposed if not unicodedata.combining(c))
        assert fold(letter) == ("d" if letter in "đĐ" else bare.lower()), letter
        assert fold(decomposed) == fold(letter)


def test_abbreviations_are_spelled_out_and_function_words_dropped() -> None:
    assert syllables("CTKT cho máy ép") == ["cai", "tien", "ky", "thuat", "may", "ep"]
    assert syllables("kĩ thuật") == syllables("kỹ thuật")


def test_a_function_word_that_folds_into_a_content_word_is_kept() -> None:
    assert syllables("băng tải của máy khí nén") == ["bang", "tai", "cua", "may", "khi", "nen"]
    assert syllables("và là của") == ["cua"]


def test_typing_without_accents_reads_as_the_accented_title() -> None:
    assert similar(profile("Đồ gá thay khuôn nhanh"), profile("do ga thay khuon nhanh"))
    assert score(profile("Đồ gá"), profile("Đồ gá")) == 1.0
    assert score(profile("Đồ gá"), profile("Bơm nước")) == 0.0


def test_a_profile_of_two_texts_is_theirs_joined() -> None:
    title, solution = "Máy dán nhãn tự động", "Lắp cảm biến cho máy dán nhãn"
    assert joined(profile(title), profile(solution)) == profile(title, solution)


def test_the_same_words_about_another_machine_score_lower() -> None:
    same = score(profile("Tưới nguội tự động máy tiện"), profile("Tưới nguội tự động máy tiện"))
    other = score(profile("Tưới nguội tự động máy tiện"), profile("Tưới nguội tự động máy phay"))
    assert other < THRESHOLD < same


def test_the_pair_set_has_300_pairs_of_every_kind_both_ways() -> None:
    pairs = load_pairs()
    assert len(pairs) >= 300
    kinds = {(p.kind, p.same) for p in pairs}
    assert {k for k, _ in kinds} >= {
        "paraphrase",
        "no_accents",
        "abbreviation",
        "other_machine",
        "unrelated",
    }
    assert {s for _, s in kinds} == {True, False}
    assert len({(p.a, p.b) for p in pairs}) == len(pairs)


def test_the_bots_threshold_is_the_benchmarks_choice_and_meets_the_targets() -> None:
    scored = [(pair, pair.score()) for pair in load_pairs()]
    chosen = best(sweep(scored))
    assert chosen is not None and chosen.threshold == THRESHOLD
    own = quality(scored, THRESHOLD)
    assert own.precision >= TARGET_PRECISION
    assert own.recall >= TARGET_RECALL
