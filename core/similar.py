"""How alike two initiatives read, from 0 to 1, and when that counts as "similar".

The score is a weighted Dice overlap of their syllables and of their syllable pairs (a
pair catches a two-syllable word, "khuôn ép", that its syllables alone do not). Two
texts that each name a machine, and no machine in common, are different work however
many words they share ("thay khuôn nhanh máy ép" and "thay khuôn nhanh máy dập").
`THRESHOLD` is chosen from the labelled pairs in tests/data/similar_pairs.yaml by
bench/similar_quality.py; tests/test_similar.py holds it to its targets.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from core.folding import syllables

THRESHOLD = 0.425  # bench/similar_quality.py: best F1 meeting both targets
PAIR_WEIGHT = 1.0
OTHER_MACHINE = 0.5  # what a score keeps when the two name different machines
# The syllables that name a kind of equipment; the syllable after one names which.
EQUIPMENT = frozenset({"may", "robot", "lo", "xe", "chuyen", "bon", "quat", "bom"})


@dataclass(frozen=True)
class Profile:
    """What the score compares: an initiative's syllables, pairs and machines."""

    syllables: frozenset[str]
    pairs: frozenset[str]
    machines: frozenset[str]


def profile(*texts: str | None) -> Profile:
    """Return the profile of an initiative's texts (title, solution...)."""
    words: list[list[str]] = [syllables(text) for text in texts if text]
    flat = frozenset(w for part in words for w in part)
    pairs = frozenset(f"{a} {b}" for part in words for a, b in zip(part, part[1:], strict=False))
    machines = frozenset(
        f"{a} {b}"
        for part in words
        for a, b in zip(part, part[1:], strict=False)
        if a in EQUIPMENT
    )
    return Profile(flat, pairs, machines)


def joined(*profiles: Profile) -> Profile:
    """Return the profile of several texts from theirs (`profile(a, b)` is
    `joined(profile(a), profile(b))`: nothing is paired across two texts)."""
    return Profile(
        frozenset().union(*(p.syllables for p in profiles)),
        frozenset().union(*(p.pairs for p in profiles)),
        frozenset().union(*(p.machines for p in profiles)),
    )


def _dice(a: Iterable[str], b: Iterable[str]) -> tuple[int, int]:
    left, right = set(a), set(b)
    return 2 * len(left & right), len(left) + len(right)


def score(a: Profile, b: Profile) -> float:
    """Return how alike two profiles are, 0 (nothing shared) to 1 (the same words)."""
    shared, total = _dice(a.syllables, b.syllables)
    shared_pairs, total_pairs = _dice(a.pairs, b.pairs)
    denominator = total + PAIR_WEIGHT * total_pairs
    if not denominator:
        return 0.0
    value = (shared + PAIR_WEIGHT * shared_pairs) / denominator
    if a.machines and b.machines and not a.machines & b.machines:
        value *= OTHER_MACHINE
    return value


def similar(a: Profile, b: Profile) -> bool:
    """Tell whether two initiatives are alike enough to show one beside the other."""
    return score(a, b) >= THRESHOLD
