"""Precision and recall of the similarity matcher on the labelled pairs (issue 19).

    python -m bench.similar_quality

Scores every pair of tests/data/similar_pairs.yaml, prints precision and recall at each
threshold, the best threshold (the highest recall whose precision is at least the
target) and how the bot's own `core.similar.THRESHOLD` does, kind by kind.
tests/test_similar.py asserts the same numbers.
"""

import argparse
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from core.similar import THRESHOLD, profile, score

PAIRS = Path(__file__).resolve().parent.parent / "tests" / "data" / "similar_pairs.yaml"
TARGET_PRECISION = 0.8
TARGET_RECALL = 0.7


@dataclass(frozen=True)
class Pair:
    """Two initiatives, whether they are duplicates, and what kind of pair it is."""

    kind: str
    same: bool
    a: str
    b: str

    def score(self) -> float:
        """Return the matcher's score for the pair (title and solution of each side)."""
        return score(profile(*self.a.split(" | ")), profile(*self.b.split(" | ")))


@dataclass(frozen=True)
class Quality:
    """How a threshold does on the pairs."""

    threshold: float
    precision: float
    recall: float
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def f1(self) -> float:
        """Return the harmonic mean of precision and recall."""
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def load_pairs(path: Path = PAIRS) -> list[Pair]:
    """Read the labelled pairs."""
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))["pairs"]
    return [Pair(str(kind), bool(same), str(a), str(b)) for kind, same, a, b in rows]


def quality(scored: list[tuple[Pair, float]], threshold: float) -> Quality:
    """Return precision and recall when pairs scoring `threshold` or more are called alike."""
    tp = sum(1 for pair, s in scored if s >= threshold and pair.same)
    fp = sum(1 for pair, s in scored if s >= threshold and not pair.same)
    fn = sum(1 for pair, s in scored if s < threshold and pair.same)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return Quality(threshold, precision, recall, tp, fp, fn)


def sweep(scored: list[tuple[Pair, float]]) -> list[Quality]:
    """Return the quality at thresholds from 0.20 to 0.80 in steps of 0.025."""
    return [quality(scored, round(0.2 + step * 0.025, 3)) for step in range(25)]


def best(qualities: list[Quality]) -> Quality | None:
    """Return the threshold of best F1 among those that meet both targets."""
    kept = [q for q in qualities if meets(q)]
    return max(kept, key=lambda q: (q.f1, -q.threshold), default=None)


def meets(q: Quality) -> bool:
    """Tell whether a threshold meets the precision and recall targets."""
    return q.precision >= TARGET_PRECISION and q.recall >= TARGET_RECALL


def main() -> None:
    """Print the sweep, the best threshold and the bot's threshold by kind of pair."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list the pairs it gets wrong")
    args = parser.parse_args()
    pairs = load_pairs()
    scored = [(pair, pair.score()) for pair in pairs]
    counts = Counter(pair.same for pair in pairs)
    print(f"{len(pairs)} pairs: {counts[True]} duplicates, {counts[False]} not")
    print("threshold | precision | recall | F1    | tp  | fp  | fn")
    for q in sweep(scored):
        mark = " <- the bot's" if abs(q.threshold - THRESHOLD) < 1e-9 else ""
        print(
            f"    {q.threshold:.3f} |     {q.precision:.3f} |  {q.recall:.3f} | {q.f1:.3f} | "
            f"{q.true_positives:3d} | {q.false_positives:3d} | {q.false_negatives:3d}{mark}"
        )
    chosen = best(sweep(scored))
    if chosen is not None:
        print(
            f"best (F1, both targets met): {chosen.threshold:.3f} (precision "
            f"{chosen.precision:.3f}, recall {chosen.recall:.3f}, F1 {chosen.f1:.3f})"
        )
    own = quality(scored, THRESHOLD)
    print(
        f"the bot's threshold {THRESHOLD}: precision {own.precision:.3f}, "
        f"recall {own.recall:.3f} (targets ≥ {TARGET_PRECISION} at ≥ {TARGET_RECALL})"
    )
    print("kind          | pairs | right at the bot's threshold")
    for kind in dict.fromkeys(pair.kind for pair in pairs):
        mine = [(p, s) for p, s in scored if p.kind == kind]
        right = sum(1 for p, s in mine if (s >= THRESHOLD) == p.same)
        print(f"{kind:13} | {len(mine):5d} | {right:5d} ({right / len(mine):.0%})")
    if args.misses:
        for pair, s in sorted(scored, key=lambda item: item[1]):
            if (s >= THRESHOLD) != pair.same:
                print(f"{s:.3f} {pair.kind}: {pair.a}  ~  {pair.b}")


if __name__ == "__main__":
    main()
